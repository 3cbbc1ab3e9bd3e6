"""Plain text (.txt): characters and offsets kept; wrapped lines rejoined by the layout."""
from __future__ import annotations

from .. import strings
from ..text import fold_forms
from .base import Read, ReadError
from .decode import control_ratio, decode
from .layout import plain_layout, strip_controls


def read(data: bytes, source: str) -> Read:
    text = decode(data, source)
    if control_ratio(text) > 0.05:
        raise ReadError(source, strings.REASON_BINARY)
    text, blocks = plain_layout(fold_forms(strip_controls(text)))
    first = blocks[0] if blocks and blocks[0].kind == "heading" and blocks[0].level == 1 else None
    title = text[first.start:first.end].lstrip("#").strip() if first else ""
    return text, (), blocks, title
