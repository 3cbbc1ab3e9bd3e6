"""Documents to Chunks: a heading stays with its paragraph, chunks end on sentence ends."""
from __future__ import annotations

import hashlib
import re

from .text import sentence_spans
from .types import Chunk, Document, Sentence

MIN_SENTENCE_CHARS = 20  # shorter spans are headings or fragments: neither matchable nor quotable

_MD_HEADING = re.compile(r"^#{1,6}\s")
_ENDS_SENTENCE = re.compile(r"[.!?؟…:;؛،,]['\"»”)\]]*$")


def is_heading(line: str) -> bool:
    """A markdown heading, or a short line that does not end like a sentence (a news subtitle)."""
    line = line.strip()
    if _MD_HEADING.match(line):
        return True
    return 0 < len(line) <= 90 and len(line.split()) <= 12 and not _ENDS_SENTENCE.search(line)


def chunk_document(doc: Document, max_chars: int, min_chars: int) -> list[Chunk]:
    blocks = _blocks(doc.text)
    # Merge a heading into the block after it, and small neighbours into each other.
    units: list[tuple[int, int, str]] = []  # start, end, heading
    pending_heading: tuple[int, str] | None = None
    for start, end in blocks:
        line = doc.text[start:end]
        if is_heading(line) and "\n" not in line:
            if pending_heading is not None:  # two headings in a row: the first one stands alone
                units.append((pending_heading[0], start, pending_heading[1]))
            pending_heading = (start, line.strip().lstrip("#").strip())
            continue
        if pending_heading is not None:
            units.append((pending_heading[0], end, pending_heading[1]))
            pending_heading = None
        else:
            units.append((start, end, ""))
    if pending_heading is not None:
        units.append((pending_heading[0], len(doc.text.rstrip()), pending_heading[1]))

    spans: list[tuple[int, int, str]] = []
    for start, end, heading in units:
        if spans and (end - start < min_chars or spans[-1][1] - spans[-1][0] < min_chars) \
                and end - spans[-1][0] <= max_chars and not heading:
            prev = spans.pop()
            spans.append((prev[0], end, prev[2]))
        elif end - start > max_chars:
            spans.extend((s, e, heading) for s, e in _split_long(doc.text, start, end, max_chars))
        else:
            spans.append((start, end, heading))
    return [_make_chunk(doc, s, e, h) for s, e, h in spans]


def _blocks(text: str) -> list[tuple[int, int]]:
    """Non-empty lines (news text) or blank-line separated paragraphs, as trimmed spans."""
    out = []
    for match in re.finditer(r"[^\n]+(?:\n(?!\s*\n)(?![ \t]*#)[^\n]+)*", text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            out.extend(_split_lines_if_prose(text, start, end))
    return out


def _split_lines_if_prose(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A block whose lines each end a sentence or are headings is several paragraphs, one per line."""
    lines = [(m.start() + start, m.end() + start) for m in re.finditer(r"[^\n]+", text[start:end])]
    if len(lines) > 1 and all(_ENDS_SENTENCE.search(text[s:e].rstrip()) or is_heading(text[s:e]) for s, e in lines):
        return lines
    return [(start, end)]


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    for s, e in sentence_spans(text, start, end, max_chars=max_chars):
        if pieces and e - pieces[-1][0] <= max_chars:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    return pieces


def _make_chunk(doc: Document, start: int, end: int, heading: str) -> Chunk:
    digest = hashlib.sha256(f"{doc.id}:{doc.sha256}:{start}:{end}".encode()).hexdigest()[:24]
    return Chunk(
        id=digest,
        doc_id=doc.id,
        source=doc.source,
        text=doc.text[start:end],
        start=start,
        end=end,
        page=doc.page_at(start),
        heading=heading,
    )


def chunk_sentences(chunk: Chunk) -> list[Sentence]:
    """The sentences of a chunk that are embedded and can be quoted; the whole chunk if none qualifies."""
    spans = [
        (s, e) for s, e in sentence_spans(chunk.text)
        if e - s >= MIN_SENTENCE_CHARS and not (chunk.heading and chunk.text[s:e] == chunk.heading)
    ]
    return [Sentence(chunk.id, s, e) for s, e in spans or [(0, len(chunk.text))]]
