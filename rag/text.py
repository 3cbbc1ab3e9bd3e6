"""Arabic-aware text handling: normalisation, language detection and sentence spans."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterator

from .types import Language

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile("[A-Za-z]")


def fold_forms(text: str) -> str:
    """Presentation forms (U+FB50–U+FDFF, U+FE70–U+FEFF) to plain letters, without other changes.

    NFKC would also rewrite digits and ligatures elsewhere; limiting it to the presentation-form
    blocks keeps offsets of ordinary text stable for citations.
    """
    if not re.search("[\ufb50-\ufdff\ufe70-\ufefe]", text):
        return text
    return re.sub("[\ufb50-\ufdff\ufe70-\ufefe]+", lambda m: unicodedata.normalize("NFKC", m.group()), text)


def normalize(text: str) -> str:
    """Search form: one spelling per word, so that أ/إ/ا, ى/ي, ة/ه, tashkeel and case do not matter."""
    text = fold_forms(text).translate(_DIGITS)
    text = _TASHKEEL.sub("", text).replace(_TATWEEL, "")
    return text.translate(_ALEF).casefold()


def fold_whitespace(text: str) -> str:
    return " ".join(text.split())


def detect_language(text: str) -> Language:
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return "ar" if arabic >= latin and arabic > 0 else "en"


# A sentence ends at . ! ? ؟ … when followed by space or the end, and at every line break. The
# Arabic semicolon and comma (؛ ،) join clauses of one sentence: they split only over-long ones. A period after a lone capital ("U.S.") or between
# digits ("3.5") is not an end.
_SENTENCE_END = re.compile(r"(?<![A-Z]\.[A-Z])(?<!\b[A-Z])[.!?؟…]+[\"'»”)\]]*(?=\s|$)|\n+")
_CLAUSE_END = re.compile(r"[؛،,;:](?=\s)")


def sentence_spans(text: str, start: int = 0, end: int | None = None, max_chars: int = 400) -> list[tuple[int, int]]:
    """Spans (absolute offsets, whitespace trimmed) of the sentences of text[start:end].

    A sentence longer than max_chars is cut further at Arabic or Latin commas so that no
    single unit swamps a chunk or an extractive answer.
    """
    return list(iter_sentence_spans(text, start, end, max_chars))


def iter_sentence_spans(text: str, start: int = 0, end: int | None = None, max_chars: int = 400) -> Iterator[tuple[int, int]]:
    """sentence_spans, one at a time: a word list of a million lines is never a million spans at once."""
    end = len(text) if end is None else end
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans: list[tuple[int, int]] = []
        _add_trimmed(text, pos, match.end(), spans, max_chars)
        yield from spans
        pos = match.end()
    spans = []
    _add_trimmed(text, pos, end, spans, max_chars)
    yield from spans


def _add_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]], max_chars: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return
    if end - start <= max_chars:
        spans.append((start, end))
        return
    pos = start
    for match in _CLAUSE_END.finditer(text, start, end):
        if match.end() - pos >= max_chars // 2:
            _add_bounded(text, pos, match.end(), spans, max_chars)
            pos = match.end()
            while pos < end and text[pos].isspace():
                pos += 1
    if pos < end:
        _add_bounded(text, pos, end, spans, max_chars)


def _add_bounded(text: str, start: int, end: int, spans: list[tuple[int, int]], max_chars: int) -> None:
    """Text with no sentence or clause end for too long (a 20 MB line, a table dumped as one line)
    is cut at the last space within max_chars, or at max_chars where there is none, so that no
    chunk, vector or quote grows with the file."""
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        spans.append((start, end))
