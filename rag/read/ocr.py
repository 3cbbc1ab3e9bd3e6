"""OCR: page images (scans, photos, PDF pages without a text layer) read by Tesseract, Arabic and English.

Each page becomes paragraphs (Tesseract's own blocks), and each word keeps its box on the page so the
viewer can mark quoted sentences on the image. Tesseract returns the words of a right-to-left line in
reading order, so Arabic comes out logical without any reordering here.

Language: the "ara" model alone reads Arabic pages best (0.95 of the words of a Chromium page against
0.92 with "ara+eng", whose English model turns some Arabic words into Latin letters), but reads an
English page as nonsense with a low confidence. So a document starts with "ara", and a page read with
a low mean confidence is read again with "ara+eng" (which reads English as well as "eng" alone),
which the next pages then keep until a page comes out almost all Arabic.

OCR is slow (seconds a page), so each page's result is cached on disk by a hash of the page image:
reindexing, and the viewer reading the file again, do not OCR again.
"""
from __future__ import annotations

import contextvars
import hashlib
import io
import json
import logging
import os
import re
import statistics
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .. import strings
from ..types import WordBox
from .base import PDFIUM_LOCK, ReadError
from .layout import strip_controls

log = logging.getLogger(__name__)

DPI = 300  # PDF pages without images are rendered at this resolution for Tesseract
MIN_DPI, MAX_DPI = 150, 400  # a scanned page is rendered at its scan's resolution, within these
MAX_SIDE = 4200  # px: a larger image (a 48 MP photo) is scaled down first; A4 at 300 dpi is 3508
MAX_PIXELS = 120_000_000  # an image that would decode to more is refused, not decoded
LOW_CONFIDENCE = 60  # mean word confidence below which "ara" read a page that is not (only) Arabic
ARABIC_PAGE = 0.9  # share of letters that are Arabic for a page read with "ara+eng" to be an Arabic one
RUNNING_WORDS = 15  # a running header or footer is a line, not a paragraph
COMMA_HEIGHT = 0.15  # of the page's usual line height: a mark at least this tall after an Arabic word is a comma
MARGIN = 0.05  # of the page's height: the band at its top and bottom where running lines are printed
UNSURE_NUMBER = 40  # a number read with less confidence than this in an Arabic line may be Latin
LATIN_CONFIDENCE = 50  # a Latin word read again in an Arabic line replaces garbage only from this confidence
CACHE_VERSION = "6"  # change it when what is cached (or how it is read) changes

_ARABIC = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_LATIN = re.compile("[A-Za-z]")
_SENTENCE_END = re.compile(r"[.!?؟…:;؛]['\"»”’)\]]*$")
_END_MARK = re.compile("(.)[)\\]»\"']*([.,]+)$")  # a word's last letter, a closing bracket or quote, the marks
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u064b-\u0652\u0671-\u06d3]")
# What the Arabic model makes of Latin: brackets, slashes, digits inside a word of letters ("و9", "ل2000"
# and numbers are fine).
_GARBLED = re.compile(r"[\[\]|<>{}©@#*_~\\]|![^\s]|[\u0621-\u064a].*\d|\d.*[\u0621-\u064a]|\d/\D|\D/\d")
_LONG_NUMBER = re.compile(r"\d{7}")  # seven digits and no separator: Latin letters read as digits
_ARABIC_BRACKETED = re.compile(r"^[\[(«\"]*[\u0621-\u064a\u064b-\u0652ـ]+[\])»\"]*[.,،:؛]?[\])»\"]*$")
_PREFIXED_NUMBER = re.compile(r"^[وبلفك]?\d[\d.,:\-–]*[.,،:؛]?$")
_HYPHENATED = re.compile(r"[A-Za-z]-$")
_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # direction marks Tesseract adds to words

# Set by parse_document for the indexer: called with (pages OCR'd, pages to OCR) after each page.
PAGE_PROGRESS: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar(
    "PAGE_PROGRESS", default=None)


@dataclass
class Word:
    text: str
    box: tuple[float, float, float, float]  # left, top, width, height: fractions of the page
    line_end: bool = False  # the last word of its line


@dataclass
class Paragraph:
    words: list[Word]
    heading: bool = False


@dataclass
class Page:
    paragraphs: list[Paragraph] = field(default_factory=list)
    language: str = "ara"


class Tesseract:
    """Reads page images in turn, carrying the language choice from page to page."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.language = "ara"
        _check_installed(source)

    def read(self, image) -> Page:
        """`image`: a PIL image of one page."""
        image = _prepared(image)
        key = hashlib.sha256(f"{CACHE_VERSION}:{self.language}:{image.size}:".encode() + image.tobytes()).hexdigest()
        page = _cached(key)
        if page is None:
            page = self._recognise(image)
            _store(key, page)
        self.language = page.language
        return page

    def _recognise(self, image) -> Page:
        page, confidences = _tesseract(image, self.language, self.source)
        if self.language == "ara" and _mean(confidences) < LOW_CONFIDENCE:
            page, confidences = _tesseract(image, "ara+eng", self.source)
        elif self.language == "ara+eng" and _arabic_share(page) >= ARABIC_PAGE:
            page, confidences = _tesseract(image, "ara", self.source)
        if page.language == "ara":
            _latin_read_again(image, page, confidences, self.source)
        return page


@dataclass
class OcrBlock:
    """A paragraph of an OCR'd page, shaped like pdf_layout.Block, with its words' places in its text."""

    text: str
    kind: str
    pages: list[tuple[int, int]]  # (0-based page, offset in text where that page's part begins)
    words: list[tuple[int, int, tuple[float, float, float, float], int]]  # (start, end, box, 0-based page)

    def placed(self, at: int) -> list[WordBox]:
        """The words as WordBoxes, once the block's text starts at offset `at` of the document."""
        return [WordBox(at + start, at + end, page + 1, *box) for start, end, box, page in self.words]


def page_blocks(page: Page, number: int) -> list[OcrBlock]:
    """The page's paragraphs as blocks: the lines of a paragraph joined, a word broken by a hyphen
    at a line's end joined again."""
    blocks = []
    for paragraph in _joined(page.paragraphs):
        text, words = "", []
        for i, word in enumerate(paragraph.words):
            nxt = paragraph.words[i + 1] if i + 1 < len(paragraph.words) else None
            start = len(text)
            if word.line_end and nxt is not None and _HYPHENATED.search(word.text) and nxt.text[:1].islower():
                text += word.text[:-1]
                words.append((start, len(text), word.box, number))
                continue
            text += word.text
            words.append((start, len(text), word.box, number))
            if nxt is not None:
                text += " "
        if text:
            blocks.append(OcrBlock(text, "heading" if paragraph.heading else "paragraph", [(number, 0)], words))
    return blocks


def read_images(images: Iterable, count: int, source: str, data: bytes) -> list[Page]:
    """OCR each image (a callable that returns it, so only one page is in memory at a time), reporting
    progress as it goes. A page is also cached under the file's hash and its number: reading the file
    again (the viewer does) then neither renders nor hashes its pages."""
    reader = Tesseract(source)
    report = PAGE_PROGRESS.get()
    file_key = hashlib.sha256(data).hexdigest()
    pages = []
    for done, make in enumerate(images, 1):
        alias = hashlib.sha256(f"{CACHE_VERSION}:{file_key}:{done}:{reader.language}".encode()).hexdigest()
        page = _cached(alias)
        if page is None:
            page = reader.read(make())
            _store(alias, page)
        reader.language = page.language
        pages.append(page)
        if report:
            report(done, count)
    return pages


def pdf_pages_without_text(document) -> list[int]:
    """0-based numbers of the pages that have no text layer at all (a caller holds PDFIUM_LOCK)."""
    blank = []
    for index in range(len(document)):
        page = document[index]
        textpage = page.get_textpage()
        try:
            if not textpage.get_text_range().strip():
                blank.append(index)
        finally:
            textpage.close()
            page.close()
    return blank


def pdf_blocks(data: bytes, numbers: list[int], source: str, required: bool) -> list[OcrBlock]:
    """The blocks of the given 0-based pages of a PDF, read by OCR. Without Tesseract, a PDF that has
    other text is read without these pages (`required` False: logged), one that has none is refused.
    PDFium is held only while a page renders: the viewer may draw pages while a long scan is read."""
    import pypdfium2 as pdfium

    try:
        _check_installed(source)
    except ReadError as err:
        if required:
            raise
        log.warning("%s: %d page(s) without a text layer not read: %s", source, len(numbers), err.reason)
        return []
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
    try:
        def render(number: int):
            def make():
                with PDFIUM_LOCK:
                    page = document[number]
                    try:
                        width, height = page.get_size()
                        scale = min(_scan_scale(page), MAX_SIDE / max(width, height, 1))
                        return page.render(scale=scale, grayscale=True).to_pil().copy()  # own memory, not PDFium's
                    finally:
                        page.close()
            return make

        pages = read_images([render(n) for n in numbers], len(numbers), source, data)
    finally:
        with PDFIUM_LOCK:
            document.close()
    return document_blocks(pages, numbers)


def document_blocks(pages: list[Page], numbers: list[int]) -> list[OcrBlock]:
    """The blocks of a document's OCR'd pages (0-based `numbers`, in order): running lines dropped,
    and a paragraph that does not end a sentence runs on over the page break into the next page's
    first paragraph, as the text-layer reader joins them (a sentence cut in two is found by neither
    half). Words keep their own page."""
    _strip_running(pages)
    blocks: list[OcrBlock] = []
    for number, page in zip(numbers, pages):
        here = page_blocks(page, number)
        last = blocks[-1] if blocks else None
        if (last is not None and here and last.pages[-1][0] == number - 1 and last.kind == here[0].kind == "paragraph"
                and not _SENTENCE_END.search(last.text)
                and not _band_box(last.words[-1][2]) and not _band_box(here[0].words[0][2])):
            first, offset = here.pop(0), len(last.text) + 1
            last.text += " " + first.text
            last.pages.append((number, offset))
            last.words += [(start + offset, end + offset, box, page) for start, end, box, page in first.words]
        blocks += here
    return blocks


def _strip_running(pages: list[Page]) -> None:
    """Drop running headers and footers: a page's first or last paragraph, a line's worth of words,
    that (numbers aside) is also the first or last paragraph of another page (a printed date and
    title, "page 2 of 9"); and any line in the page's outer MARGIN when two or more pages have one
    there. Pages that repeat whole keep their text."""
    def key(paragraph: Paragraph) -> str:
        return re.sub(r"\d+", "#", " ".join(w.text for w in paragraph.words))

    def edges(page: Page) -> list[Paragraph]:
        ends = page.paragraphs[:1] + page.paragraphs[-1:] if len(page.paragraphs) > 1 else []
        return [p for p in ends if len(p.words) <= RUNNING_WORDS]

    seen = Counter(key(p) for page in pages for p in edges(page))
    for page in pages:
        running = [p for p in edges(page) if seen[key(p)] > 1]
        page.paragraphs = [p for p in page.paragraphs if not any(p is r for r in running)]
    # Line by line: Tesseract puts a header into the paragraph below it when the body starts right
    # under it, and OCR garbles a running line (a file address read as Arabic) differently page by
    # page, so a line in the same outer margin of two or more pages is one too.
    bands = Counter(band for page in pages for band in {_band(line) for p in page.paragraphs for line in _lines(p)} if band)
    for page in pages:
        kept = []
        for paragraph in page.paragraphs:
            words = [w for line in _lines(paragraph) if bands[_band(line)] < 2 or not _band(line) for w in line]
            if words:
                kept.append(Paragraph(words, paragraph.heading))
        page.paragraphs = kept


def _lines(paragraph: Paragraph) -> list[list[Word]]:
    lines: list[list[Word]] = [[]]
    for word in paragraph.words:
        lines[-1].append(word)
        if word.line_end:
            lines.append([])
    return [line for line in lines if line]


def _band(words: list[Word]) -> str:
    """"top" or "bottom" for a line's worth of words in the page's outer MARGIN (where printers put
    running lines), else ""."""
    if len(words) > RUNNING_WORDS or not words:
        return ""
    bands = {_band_box(w.box) for w in words}
    return bands.pop() if len(bands) == 1 else ""


def _band_box(box: tuple[float, float, float, float]) -> str:
    if box[1] + box[3] < MARGIN:
        return "top"
    return "bottom" if box[1] > 1 - MARGIN else ""


def _scan_scale(page) -> float:
    """The scale that renders the page's largest image at its own resolution. Resampling a scan
    blurs its letters: an Arabic page scanned at 200 dpi read back 0.98 of its words rendered at 200
    dpi and 0.69 at 300. A page without images (text drawn as outlines) is rendered at DPI."""
    import pypdfium2.raw as pdfium_c

    best, scale = 0.0, DPI / 72
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = image.get_bounds()
        width_px, _ = image.get_px_size()
        if (right - left) * (top - bottom) > best and right - left > 1:
            best, scale = (right - left) * (top - bottom), width_px / (right - left)
    return min(max(scale, MIN_DPI / 72), MAX_DPI / 72)


def open_image(data: bytes, source: str):
    """The image file, checked before it is decoded: a PIL Image (frames for a multi-page TIFF)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # PIL warns of sizes it still opens: MAX_PIXELS decides here
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as err:
        raise ReadError(source, strings.reason_image_too_large(str(err))) from err
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise ReadError(source, strings.reason_corrupt_image(err)) from err
    try:
        for frame in range(getattr(image, "n_frames", 1)):  # a TIFF's later frame may be the giant one
            image.seek(frame)  # reads the frame's header, not its pixels
            width, height = image.size
            if width * height > MAX_PIXELS:
                page = f" (page {frame + 1})" if frame else ""
                raise ReadError(source, strings.reason_image_too_large(f"{width:,} × {height:,} pixels{page}"))
        image.seek(0)
    except (OSError, ValueError, EOFError) as err:
        raise ReadError(source, strings.reason_corrupt_image(err)) from err
    return image


def image_frames(image) -> list[Callable]:
    """One loader per frame (page) of an opened image."""
    def frame(n: int):
        def make():
            from PIL import ImageOps

            image.seek(n)
            return ImageOps.exif_transpose(image.copy())  # a phone photo is stored sideways, with a tag
        return make

    return [frame(n) for n in range(getattr(image, "n_frames", 1))]


# --- Tesseract -----------------------------------------------------------------------------------

_installed: str | None = None  # "" once checked and fine, else the reason


def _check_installed(source: str) -> None:
    global _installed
    if _installed is None:
        import pytesseract

        try:
            languages = set(pytesseract.get_languages(config=""))
        except (pytesseract.TesseractNotFoundError, OSError):
            _installed = strings.REASON_NO_TESSERACT
        else:
            missing = [f"tesseract-ocr-{code}" for code in ("ara", "eng") if code not in languages]
            _installed = strings.reason_no_tesseract_language(missing) if missing else ""
    if _installed:
        raise ReadError(source, _installed)


def _prepared(image):
    """Grayscale, and no larger than Tesseract needs."""
    image = image.convert("L")
    if max(image.size) > MAX_SIDE:
        factor = MAX_SIDE / max(image.size)
        image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))))
    return image


def _tesseract(image, language: str, source: str) -> tuple[Page, list[float]]:
    """The page as Tesseract reads it in `language`, and each word's confidence (0-100, -1 unknown)."""
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract's own threads only slow a busy machine
    try:
        data = pytesseract.image_to_data(image, lang=language, config="--psm 3",
                                         output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError as err:
        raise ReadError(source, strings.REASON_NO_TESSERACT) from err
    except (pytesseract.TesseractError, RuntimeError, OSError) as err:
        raise ReadError(source, strings.reason_ocr_failed(err)) from err
    width, height = image.size
    lines: dict[tuple[int, int, int], list[tuple[Word, float, int]]] = {}
    for i, raw in enumerate(data["text"]):
        text = " ".join(_MARKS.sub("", strip_controls(raw)).split())
        if not text:
            continue
        box = (data["left"][i] / width, data["top"][i] / height, data["width"][i] / width, data["height"][i] / height)
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append((Word(text, box), float(data["conf"][i]), data["height"][i]))
    heights = [max(h for _, _, h in line) for line in lines.values()]
    usual = statistics.median(heights) if heights else 0
    for line in lines.values():
        for word, _, _ in line:
            word.text = _arabic_comma(word, image, usual, language == "ara")
    page = Page(language=language)
    confidences = [conf for line in lines.values() for _, conf, _ in line]
    last = None
    for (block, par, _), line in lines.items():
        words = [w for w, _, _ in line]
        words[-1].line_end = True
        if (block, par) != last:
            page.paragraphs.append(Paragraph([]))
            last = (block, par)
        page.paragraphs[-1].words += words
    # A paragraph of one short line in letters much taller than the page's usual ones is a heading.
    tall = {(b, p) for (b, p, _), line in lines.items() if max(h for _, _, h in line) >= 1.4 * usual}
    line_counts = Counter((b, p) for b, p, _ in lines)  # in order of first appearance, as the paragraphs
    for paragraph, (key, count) in zip(page.paragraphs, line_counts.items()):
        paragraph.heading = key in tall and count == 1 and len(paragraph.words) <= 12
    return page, confidences


def _latin_read_again(image, page: Page, confidences: list[float], source: str) -> None:
    """Latin inside Arabic text ("(WSE)", "Panthers", a Latin motto) comes out of the Arabic model as
    garbage mixing letters, digits and brackets ("(5]2/لا)", "5/]عط86م"). Each text line with such a
    word is read again alone with "ara+eng", and a run of Latin words from that reading takes the
    place of what lies under it, when a garbled word does. About a second a line, and only lines that
    need it: reading every Arabic page with "ara+eng" too would double its time, and as a whole page
    "ara+eng" reads Arabic words worse (some come out in Latin letters)."""
    words = [w for p in page.paragraphs for w in p.words]
    garbled = {id(w) for w, conf in zip(words, confidences) if _garbled(w.text, conf)}
    for paragraph in page.paragraphs:
        lines = _lines(paragraph)
        if any(not _band(line) and any(id(w) in garbled for w in line) for line in lines):
            paragraph.words = [w for line in lines for w in (
                line if _band(line) or not any(id(w) in garbled for w in line)
                else _line_again(image, line, garbled, source))]


def _garbled(text: str, confidence: float) -> bool:
    """Whether a word the Arabic model read looks like Latin it could not read: brackets or digits
    among letters, or a number it was very unsure of ("Panthers" read as "5615", confidence 34).
    Arabic in brackets ("[بحاجة لمصدر]") and a year it was only fairly unsure of are not."""
    if _ARABIC_BRACKETED.match(text) or (_PREFIXED_NUMBER.match(text) and confidence >= UNSURE_NUMBER
                                         and not _LONG_NUMBER.search(text)):
        return False
    if _GARBLED.search(text) or _LONG_NUMBER.search(text):
        return True
    return 0 <= confidence < UNSURE_NUMBER and not _ARABIC.search(text) and bool(re.search(r"\d", text))


def _line_again(image, line: list[Word], garbled: set[int], source: str) -> list[Word]:
    import pytesseract

    left = min(w.box[0] for w in line) * image.width
    top = min(w.box[1] for w in line) * image.height
    right = max(w.box[0] + w.box[2] for w in line) * image.width
    bottom = max(w.box[1] + w.box[3] for w in line) * image.height
    pad = (bottom - top) / 4
    box = tuple(round(v) for v in (max(0, left - pad), max(0, top - pad), min(image.width, right + pad),
                                   min(image.height, bottom + pad)))
    try:
        data = pytesseract.image_to_data(image.crop(box), lang="ara+eng", config="--psm 7",
                                         output_type=pytesseract.Output.DICT)
    except (pytesseract.TesseractError, RuntimeError, OSError) as err:
        log.warning("%s: a line with Latin in it not read again: %s", source, err)
        return line
    runs: list[list[Word]] = [[]]
    for i, raw in enumerate(data["text"]):
        text = " ".join(_MARKS.sub("", strip_controls(raw)).split())
        if len(_LATIN.findall(text)) >= 2 and float(data["conf"][i]) >= LATIN_CONFIDENCE:
            runs[-1].append(Word(text, ((box[0] + data["left"][i]) / image.width, (box[1] + data["top"][i]) / image.height,
                                        data["width"][i] / image.width, data["height"][i] / image.height)))
        elif text and runs[-1]:
            runs.append([])
    words = list(line)
    for run in (r for r in runs if r):
        start, end = min(w.box[0] for w in run), max(w.box[0] + w.box[2] for w in run)
        under = [i for i, w in enumerate(words) if start <= w.box[0] + w.box[2] / 2 <= end]
        if any(id(words[i]) in garbled for i in under):
            words = words[:under[0]] + run + [w for i, w in enumerate(words[under[0]:], under[0]) if i not in under]
    for word in words:
        word.line_end = False
    words[-1].line_end = True
    return words


def _arabic_comma(word: Word, image, usual: float, arabic_page: bool) -> str:
    """The word with the Arabic comma its end has. Tesseract's Arabic model has no "،" (nor "٪"): it
    reads the comma as "," and often as "." (67 of the 237 marks read as "." on the formats library's
    Arabic scans and photos were commas: a sentence cut in two). Told apart by the mark itself, the
    word's leftmost glyph: a comma stands about twice as tall as a full stop (0.16-0.23 of the line's
    height against 0.10-0.14 on those pages; 55 of the 67 commas found, no full stop taken for one)."""
    match = _END_MARK.search(word.text)
    if match is None or not (_ARABIC_LETTER.match(match.group(1)) or (arabic_page and match.group(1).isdigit())):
        return word.text
    if match.group(2) == "," or _mark_height(word, image) >= COMMA_HEIGHT * usual:
        return word.text[:match.start(2)] + "،"
    return word.text


def _mark_height(word: Word, image) -> float:
    """Pixel height of the leftmost glyph inside the word's box (a right-to-left word's final mark),
    0 when it is not a glyph of its own (joined to a letter, or no ink)."""
    import numpy as np

    left, top, width, height = word.box
    box = (round(left * image.width), round(top * image.height),
           round((left + width) * image.width), round((top + height) * image.height))
    pixels = np.asarray(image.crop(box), dtype=np.float32)
    if pixels.size == 0:
        return 0.0
    ink = pixels < (pixels.min() + pixels.max()) / 2
    columns = np.flatnonzero(ink.any(axis=0))
    if not len(columns):
        return 0.0
    end = columns[0]
    while end < ink.shape[1] and ink[:, end].any():
        end += 1
    if end - columns[0] > ink.shape[0] / 3:  # wider than a mark: a letter
        return 0.0
    rows = np.flatnonzero(ink[:, columns[0]:end].any(axis=1))
    return float(rows[-1] - rows[0] + 1)


def _joined(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """Tesseract starts a new paragraph where a ragged right-to-left line looks like a paragraph's end:
    a paragraph that does not end a sentence runs on into the next (unless either is a heading). A
    line in the page's outer margin (a header or footer left on a page of its own, where it cannot be
    told from its repeats) stands apart: Tesseract puts a header into the paragraph below it when the
    body starts right under it, and it rarely ends like a sentence."""
    out: list[Paragraph] = []
    for paragraph in _margins_apart(paragraphs):
        last = out[-1] if out else None
        if (last is not None and not last.heading and not paragraph.heading and last.words
                and not _band(_lines(last)[-1]) and not _band(_lines(paragraph)[0])
                and not _SENTENCE_END.search(last.words[-1].text)):
            out[-1] = Paragraph(last.words + paragraph.words)
        else:
            out.append(paragraph)
    return out


def _margins_apart(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """Each paragraph with its first line in the top margin, or its last line in the bottom one, split
    off as a paragraph of its own."""
    out = []
    for paragraph in paragraphs:
        lines = _lines(paragraph)
        head = lines[:1] if len(lines) > 1 and _band(lines[0]) == "top" else []
        foot = lines[-1:] if len(lines) > len(head) + 1 and _band(lines[-1]) == "bottom" else []
        body = lines[len(head):len(lines) - len(foot)]
        out += [Paragraph(line) for line in head]
        out.append(Paragraph([w for line in body for w in line], paragraph.heading))
        out += [Paragraph(line) for line in foot]
    return [p for p in out if p.words]


def _mean(confidences: list[float]) -> float:
    values = [c for c in confidences if c >= 0]
    return statistics.mean(values) if values else 100.0


def _arabic_share(page: Page) -> float:
    text = " ".join(w.text for p in page.paragraphs for w in p.words)
    arabic, latin = len(_ARABIC.findall(text)), len(_LATIN.findall(text))
    return arabic / (arabic + latin) if arabic + latin else 0.0


# --- cache ---------------------------------------------------------------------------------------

def cache_dir() -> Path:
    """$SANAD_OCR_CACHE, else sanad/ocr in the user's cache folder."""
    if folder := os.environ.get("SANAD_OCR_CACHE"):
        return Path(folder)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sanad" / "ocr"


def _cached(key: str) -> Page | None:
    path = cache_dir() / key[:2] / f"{key}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Page([Paragraph([Word(t, tuple(b), bool(e)) for t, b, e in p["words"]], p["heading"])
                     for p in raw["paragraphs"]], raw["language"])
    except (OSError, ValueError, KeyError, TypeError):  # absent, or damaged: OCR again
        return None


def _store(key: str, page: Page) -> None:
    path = cache_dir() / key[:2] / f"{key}.json"
    raw = {"language": page.language,
           "paragraphs": [{"heading": p.heading, "words": [[w.text, [round(x, 5) for x in w.box], int(w.line_end)]
                                                       for w in p.words]}
                          for p in page.paragraphs]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)
    except OSError as err:  # a read-only home: OCR works, only again next time
        log.warning("cannot cache OCR in %s: %s", path.parent, err)
