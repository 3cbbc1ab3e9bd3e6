"""Documents to Chunks along the reader's layout: a chunk starts at a heading, holds whole blocks,
and ends on a sentence end; its title and headings name it."""
from __future__ import annotations

import hashlib
import re
from typing import Iterator

from .read.layout import is_short_line, plain_layout
from .text import iter_sentence_spans, sentence_spans
from .types import Chunk, Document, Sentence

MIN_SENTENCE_CHARS = 20  # shorter spans are headings or fragments: neither matchable nor quotable
CONTEXT_SEPARATOR = " — "

_MD_HEADING = re.compile(r"^#{1,6}\s")


def is_heading(line: str) -> bool:
    """A markdown heading, or a short line that does not end like a sentence (a news subtitle)."""
    line = line.strip()
    return bool(_MD_HEADING.match(line)) or is_short_line(line)


def chunk_document(doc: Document, max_chars: int, min_chars: int, max_chunks: int | None = None) -> list[Chunk]:
    """Chunks of at most max_chars (a longer sentence stays whole), merged up to min_chars within a
    section; more than max_chunks is a ReadError naming the file."""
    blocks = list(doc.blocks) or plain_layout(doc.text)[1]
    units: list[tuple[int, int, int, str]] = []  # start (own headings included), body start, end, context
    path: list[tuple[int, str]] = []  # the open headings: (level, text)
    pending: int | None = None  # where the headings that open the next unit start
    for block in blocks:
        if block.kind == "heading":
            level = block.level or 2
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, doc.text[block.start:block.end].lstrip("#").strip()))
            pending = block.start if pending is None else pending
            continue
        start = block.start if pending is None else pending
        units.append((start, block.start, block.end, _context(doc.title, [t for _, t in path])))
        pending = None
    if pending is not None:  # headings at the very end: a unit of their own, nothing to quote
        end = blocks[-1].end
        units.append((pending, end, end, _context(doc.title, [t for _, t in path])))

    spans: list[tuple[int, int, int, str]] = []  # start, body, end, context
    for start, body, end, context in units:
        own_heading = body > start
        if (spans and not own_heading and spans[-1][3] == context
                and (end - start < min_chars or spans[-1][2] - spans[-1][0] < min_chars)
                and end - spans[-1][0] <= max_chars):
            prev = spans.pop()
            spans.append((prev[0], prev[1], end, context))
        elif end - start > max_chars:
            for n, (s, e) in enumerate(_split_long(doc.text, start, end, max_chars)):
                spans.append((s, max(s, min(body, e)) if n == 0 else s, e, context))
                _check_count(doc, spans, max_chunks, max_chars)
        else:
            spans.append((start, body, end, context))
        _check_count(doc, spans, max_chunks, max_chars)
    return [_make_chunk(doc, s, e, c, b - s) for s, b, e, c in spans]


def _check_count(doc: Document, spans: list, max_chunks: int | None, max_chars: int) -> None:
    """Refuse as soon as the limit is passed, with an estimate of the whole, before more is held."""
    if max_chunks is not None and len(spans) > max_chunks:
        from . import strings
        from .read import ReadError

        estimate = len(spans) + (len(doc.text) - spans[-1][2]) // max_chars
        raise ReadError(doc.source, strings.reason_too_many_chunks(estimate, max_chunks))


def _context(title: str, headings: list[str]) -> str:
    parts: list[str] = []
    for part in [title.strip(), *headings]:
        if part and (not parts or part != parts[-1]):
            parts.append(part)
    return CONTEXT_SEPARATOR.join(parts)


def _split_long(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    piece: tuple[int, int] | None = None
    for s, e in iter_sentence_spans(text, start, end, max_chars=max_chars):
        if piece is not None and e - piece[0] <= max_chars:
            piece = (piece[0], e)
        else:
            if piece is not None:
                yield piece
            piece = (s, e)
    if piece is not None:
        yield piece


def _make_chunk(doc: Document, start: int, end: int, context: str, body: int) -> Chunk:
    digest = hashlib.sha256(f"{doc.id}:{doc.sha256}:{start}:{end}".encode()).hexdigest()[:24]
    return Chunk(
        id=digest,
        doc_id=doc.id,
        source=doc.source,
        text=doc.text[start:end],
        start=start,
        end=end,
        page=doc.page_at(start),
        heading=context,
        ocr=doc.read_by_ocr(start, end),
        body=body,
    )


def chunk_sentences(chunk: Chunk) -> list[Sentence]:
    """The sentences of a chunk that are embedded and can be quoted (never its heading lines); the
    whole passage if none qualifies."""
    spans = [
        (s, e) for s, e in sentence_spans(chunk.text, chunk.body)
        if e - s >= MIN_SENTENCE_CHARS and not (chunk.heading and chunk.text[s:e] == chunk.heading)
    ]
    whole = (chunk.body, len(chunk.text)) if chunk.body < len(chunk.text) else (0, len(chunk.text))
    return [Sentence(chunk.id, s, e) for s, e in spans or [whole]]
