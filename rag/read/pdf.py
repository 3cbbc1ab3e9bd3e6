"""PDF files: text read through PDFium in logical order (pdf_layout), pages as character ranges."""
from __future__ import annotations

import re

from .. import strings
from . import ocr
from .base import PDFIUM_LOCK, Read, ReadError
from .layout import TextBuilder

PDF_MAX_UNPACKED = 200_000_000  # bytes of compressed PDF streams, images aside
_STREAM = re.compile(rb"stream\r?\n")


def read(data: bytes, source: str) -> Read:
    import pypdfium2 as pdfium

    from .pdf_layout import document_words, read_blocks, resolve_hyphens

    _check_pdf_streams(data, source)
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            if "password" in str(err).lower():
                raise ReadError(source, strings.REASON_ENCRYPTED) from err
            raise ReadError(source, strings.reason_corrupt_pdf(err)) from err
        try:
            blocks, title = read_blocks(document)
            scanned = ocr.pdf_pages_without_text(document)
        except Exception as err:  # PDFium reports damage page by page
            raise ReadError(source, strings.reason_corrupt_pdf(err)) from err
        finally:
            document.close()
    words = document_words(blocks)
    if scanned:  # pages without a text layer (scans) are read by OCR, each in its place
        blocks = sorted(blocks + ocr.pdf_blocks(data, scanned, source, required=not blocks),
                        key=lambda block: block.pages[0][0])
    builder = TextBuilder()
    page_starts: dict[int, int] = {}
    boxes = []
    for block in blocks:
        text, removed = resolve_hyphens(block.text, words)
        added = builder.add(text, block.kind, 2 if block.kind == "heading" else 0, exact=True)
        if added is None:
            continue
        if isinstance(block, ocr.OcrBlock):
            boxes += block.placed(added.start)
        for page, offset in block.pages:
            page_starts.setdefault(page, added.start + offset - sum(r < offset for r in removed))
    text = builder.text()
    count = len(page_starts) and max(page_starts) + 1
    starts = [page_starts.get(n) for n in range(count)]
    for n in range(count - 1, -1, -1):  # a page without text starts where the next one does
        if starts[n] is None:
            starts[n] = starts[n + 1] if n + 1 < count else len(text)
    pages = tuple((starts[n], starts[n + 1] if n + 1 < count else len(text) + 2) for n in range(count))
    blocks_out = builder.blocks()
    if not title:
        first = next((b for b in blocks_out if b.kind == "heading"), None)
        title = text[first.start:first.end] if first is not None and first.start == 0 else ""
    return Read(text, pages, blocks_out, title, tuple(n + 1 for n in scanned), tuple(boxes))


def _check_pdf_streams(data: bytes, source: str) -> None:
    """Refuse a PDF whose compressed streams (other than images, which text extraction never decodes)
    unpack to more than PDF_MAX_UNPACKED: PDFium would hold each one whole in memory. Counted by
    unpacking in slices that are thrown away, so the check itself stays small."""
    import zlib

    total = 0
    for match in _STREAM.finditer(data):
        head = data[max(0, match.start() - 1024) : match.start()]
        head = head[head.rfind(b"<<"):]
        if b"/FlateDecode" not in head or b"/Image" in head:
            continue
        inflater = zlib.decompressobj()
        pending = data[match.end() : match.end() + 64_000_000]
        while pending and not inflater.eof:
            try:
                total += len(inflater.decompress(pending, 1 << 20))
            except zlib.error:
                break  # damaged: PDFium will say so
            pending = inflater.unconsumed_tail
            if total > PDF_MAX_UNPACKED:
                raise ReadError(source, strings.reason_pdf_bomb(total))
