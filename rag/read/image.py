"""Images of pages (scans, photos of a page, screenshots): read by OCR, one page per image or per
frame of a multi-page TIFF (read as a scanned PDF is: running lines dropped, a paragraph running on
over a page break)."""
from __future__ import annotations

from .base import Read
from .layout import TextBuilder
from .ocr import document_blocks, image_frames, open_image, read_images


def read(data: bytes, source: str) -> Read:
    image = open_image(data, source)
    frames = image_frames(image)
    pages = read_images(frames, len(frames), source, data)
    builder = TextBuilder()
    words, page_starts = [], {}
    for block in document_blocks(pages, list(range(len(pages)))):
        added = builder.add(block.text, block.kind, 2 if block.kind == "heading" else 0, exact=True)
        if added is None:
            continue
        words += block.placed(added.start)
        for page, offset in block.pages:
            page_starts.setdefault(page, added.start + offset)
    text = builder.text()
    starts = [page_starts.get(n) for n in range(len(pages))]
    for n in range(len(pages) - 1, -1, -1):  # a page without text starts where the next one does
        if starts[n] is None:
            starts[n] = starts[n + 1] if n + 1 < len(pages) else len(text)
    ends = starts[1:] + [len(text) + 2]
    blocks = builder.blocks()
    first = next((b for b in blocks if b.kind == "heading"), None)
    title = text[first.start:first.end] if first is not None and first.start == 0 else ""
    return Read(text, tuple(zip(starts, ends)), blocks, title, ocr_pages=tuple(range(1, len(pages) + 1)),
                words=tuple(words))
