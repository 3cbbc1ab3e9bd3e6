"""Images of pages (scans, photos of a page, screenshots): read by OCR, one page per image or per
frame of a multi-page TIFF."""
from __future__ import annotations

from .base import Read
from .layout import TextBuilder
from .ocr import image_frames, open_image, page_blocks, read_images


def read(data: bytes, source: str) -> Read:
    image = open_image(data, source)
    frames = image_frames(image)
    builder = TextBuilder()
    words, starts = [], []
    for number, page in enumerate(read_images(frames, len(frames), source, data)):
        starts.append(builder.length + (2 if builder.length else 0))
        for block in page_blocks(page, number):
            added = builder.add(block.text, block.kind, 2 if block.kind == "heading" else 0, exact=True)
            if added is not None:
                words += block.placed(added.start)
    text = builder.text()
    starts = [min(s, len(text)) for s in starts]
    pages = tuple(zip(starts, starts[1:] + [len(text) + 2]))
    blocks = builder.blocks()
    first = next((b for b in blocks if b.kind == "heading"), None)
    title = text[first.start:first.end] if first is not None and first.start == 0 else ""
    return Read(text, pages, blocks, title, ocr_pages=tuple(range(1, len(pages) + 1)), words=tuple(words))
