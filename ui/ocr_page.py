"""A page that OCR read (a scanned PDF page, an image), with the boxes of the quoted sentences on it.

Unlike a text PDF, where the viewer looks for a sentence's words in the page's text layer, OCR kept
each word's box with its offsets in the document text, so a sentence's boxes are exactly its words.
"""
from __future__ import annotations

import io
from pathlib import Path

from rag import Document, strings
from rag.read import ocr
from rag.types import WordBox
from ui.pdf_page import MAX_PNG_BYTES, PageImage, PageNotShown, render_page

SHOWN_SIDE = 1600  # pixels along the longer side of an image shown in the viewer
PAD = 0.002  # fraction of the page around each box


def shows(document: Document, page: int) -> bool:
    """Whether the viewer draws this page from OCR's boxes."""
    return page in document.ocr_pages


def page_image(path: Path, page: int, document: Document, spans: tuple[tuple[int, int], ...]) -> PageImage:
    """The page's image, with a box over each line of each quoted sentence (`spans`: offsets into the
    document text) that lies on it."""
    image = render_page(path, page, []) if path.suffix.lower() == ".pdf" else _draw_image(path, page)
    start, end = document.pages[page - 1] if page <= len(document.pages) else (0, len(document.text))
    on_page = [(a, b) for a, b in spans if a < end and b > start]
    words = [w for w in document.words if w.page == page]
    image.boxes, image.located = [], 0
    for a, b in on_page:
        found = [w for w in words if w.start < b and w.end > a]
        image.located += bool(found)
        image.boxes += _line_boxes(found)
    return image


def _line_boxes(words: list[WordBox]) -> list[tuple[float, float, float, float]]:
    """Words in text order joined into one box per stretch of a line."""
    boxes: list[list[float]] = []  # left, top, right, bottom
    for w in words:
        left, top, right, bottom = w.left, w.top, w.left + w.width, w.top + w.height
        if boxes:
            last = boxes[-1]
            overlap = min(last[3], bottom) - max(last[1], top)
            if overlap > 0.5 * min(last[3] - last[1], bottom - top):  # the same line
                last[:] = [min(last[0], left), min(last[1], top), max(last[2], right), max(last[3], bottom)]
                continue
        boxes.append([left, top, right, bottom])
    return [(l - PAD, t - PAD, r - l + 2 * PAD, b - t + 2 * PAD) for l, t, r, b in boxes]


def _draw_image(path: Path, page: int) -> PageImage:
    """An image file (frame `page` of a TIFF) as a PNG small enough to send inline."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.seek(min(page, getattr(image, "n_frames", 1)) - 1)
            if image.width * image.height > ocr.MAX_PIXELS:  # the reader refused it too (any frame)
                raise PageNotShown(strings.VIEWER_PAGE_TOO_HEAVY)
            image.draft("RGB", (SHOWN_SIDE, SHOWN_SIDE))  # a JPEG decodes at a fraction of its size
            shown = ImageOps.exif_transpose(image).convert("RGB")  # as OCR saw it: boxes fit
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as err:
        raise PageNotShown(strings.VIEWER_PAGE_FAILED.format(detail=str(err)[:200])) from err
    side = SHOWN_SIDE
    for _ in range(3):  # a photo compresses badly as PNG: show it smaller
        shown.thumbnail((side, side))
        out = io.BytesIO()
        shown.save(out, format="PNG")
        if out.tell() <= MAX_PNG_BYTES:
            return PageImage(out.getvalue(), shown.width, shown.height)
        side = int(side * 0.7)
    raise PageNotShown(strings.VIEWER_PAGE_TOO_HEAVY)
