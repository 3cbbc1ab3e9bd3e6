"""Control characters in text that came from outside: questions, document text, file names.

A NUL ends the string for the embedder's C engine (`Why\x00 Pakistan?` embeds as `Why`), terminal
escape sequences in a passage would drive the user's terminal, and bidi overrides in a file name
make `invoice\u202egpj.md` display as "invoicedm.jpg".
"""
from __future__ import annotations

import re

# C0 and C1 controls except tab and newline, and DEL.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates; the marks (LRM, RLM, ALM) are left alone: they cannot
# reorder a run of text, and Arabic text uses them legitimately.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """The text without control characters (tab and newline stay); \\r\\n and \\r become \\n."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def reveal(text: str) -> str:
    """The text with every control and bidi-override character shown as a visible <U+XXXX>, for
    file names and anything else printed to a terminal or shown as a name."""
    return _BIDI.sub(_codepoint, _CONTROLS.sub(_codepoint, text.replace("\r", "")))


def _codepoint(match: re.Match) -> str:
    return f"<U+{ord(match.group()):04X}>"
