"""Scanned, photographed, slide and spreadsheet copies of the formats library (`python -m eval.formats`).

Each scanned copy starts from the PDF headless Chromium prints (eval.formats.render_pdf_chromium):
every page is rendered to a grayscale image, as a scanner would, and the images are saved as a PDF
with no text layer, so Sanad has to read it by OCR. One copy is turned a little and noised, as a
sheet fed crooked through an old scanner; the photographed copy is a JPEG of each page taken by a
phone (turned, grey paper, sensor noise), and the same photographs again as one multi-page TIFF.
The slides are a title slide and a slide per paragraph; the spreadsheet a row per paragraph under
column headers.

    python -m eval.scanned ../shared/data/xquad --articles 3   # words read back, OCR time and memory
"""
from __future__ import annotations

import argparse
import re
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:  # eval.formats registers these renderers: it is imported from there, not here
    from .formats import Article

PHOTO_ANGLE = 1.5  # degrees: a page photographed by hand is never quite straight
SCAN_ANGLE = 0.7  # a sheet fed crooked
NOISE = 10  # standard deviation of the added noise, in grey levels


def _pages(article: Article, dpi: int) -> list:
    """The Chromium PDF's pages as grayscale images at `dpi`."""
    import pypdfium2 as pdfium

    from .formats import render_pdf_chromium

    with tempfile.TemporaryDirectory() as tmp:
        pdf = render_pdf_chromium(article, Path(tmp) / "page")
        document = pdfium.PdfDocument(str(pdf))
        try:
            return [document[n].render(scale=dpi / 72, grayscale=True).to_pil().copy() for n in range(len(document))]
        finally:
            document.close()


def _spoiled(image, angle: float, seed: int):
    """Turned by `angle`, paper a little grey, noise over it."""
    from PIL import Image

    turned = image.rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC)
    pixels = np.asarray(turned, dtype=np.float32) * 0.9 + 12
    pixels += np.random.default_rng(seed).normal(0, NOISE, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _image_pdf(images: list, path: Path, dpi: int) -> Path:
    path = path.with_suffix(".pdf")
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return path


def scanned(dpi: int, spoil: bool = False) -> Callable[[Article, Path], Path]:
    def render(article: Article, path: Path) -> Path:
        images = _pages(article, dpi)
        if spoil:
            images = [_spoiled(image, SCAN_ANGLE if n % 2 else -SCAN_ANGLE, n) for n, image in enumerate(images)]
        return _image_pdf(images, path, dpi)
    return render


def _photos(article: Article) -> list:
    """Each page as a phone photographs it, JPEG-encoded: (bytes, the image as a JPEG reader sees it)."""
    import io

    from PIL import Image

    out = []
    for n, image in enumerate(_pages(article, 200)):
        buffer = io.BytesIO()
        _spoiled(image, PHOTO_ANGLE if n % 2 else -PHOTO_ANGLE, 100 + n).convert("RGB").save(buffer, "JPEG", quality=85)
        out.append((buffer.getvalue(), Image.open(io.BytesIO(buffer.getvalue())).convert("L")))
    return out


def render_photo(article: Article, path: Path) -> Path:
    """A JPEG per page, as a phone takes them: <stem>.jpg, <stem>-2.jpg, ... (each a document of its own)."""
    first = path.with_suffix(".jpg")
    for n, (data, _) in enumerate(_photos(article)):
        (first if n == 0 else path.with_name(f"{path.name}-{n + 1}.jpg")).write_bytes(data)
    return first


def render_photo_tiff(article: Article, path: Path) -> Path:
    """The same photographs (the same pixels, JPEG's losses and all) as the pages of one TIFF: a
    series of photos kept together as one document, as a scanning app or a fax keeps them."""
    pages = [image for _, image in _photos(article)]
    path = path.with_suffix(".tif")
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_lzw", dpi=(200, 200))
    return path


def render_pptx(article: Article, path: Path) -> Path:
    """A title slide, then a slide per paragraph titled with its number, the paragraph as its body."""
    from pptx import Presentation
    from pptx.util import Pt

    path = path.with_suffix(".pptx")
    deck = Presentation()
    title = deck.slides.add_slide(deck.slide_layouts[0])
    title.shapes.title.text = article.title
    label = "الفقرة" if article.language == "ar" else "Part"
    for n, paragraph in enumerate(article.paragraphs, 1):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"{label} {n}"
        body = slide.placeholders[1].text_frame
        body.text = paragraph
        for p in body.paragraphs:
            for run in p.runs:
                run.font.size = Pt(12)
    deck.save(str(path))
    return path


def render_xlsx(article: Article, path: Path) -> Path:
    """A sheet named for the article: a row per paragraph under the headers (number, text)."""
    from openpyxl import Workbook

    path = path.with_suffix(".xlsx")
    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", article.title)[:31]
    sheet.append(["رقم", "النص"] if article.language == "ar" else ["Number", "Text"])
    for n, paragraph in enumerate(article.paragraphs, 1):
        sheet.append([n, paragraph])
    book.save(str(path))
    return path


RENDERERS: dict[str, Callable[[Article, Path], Path]] = {
    "scanned-200": scanned(200),
    "scanned-300": scanned(300),
    "scanned-noisy": scanned(200, spoil=True),
    "photo-jpg": render_photo,
    "photo-tiff": render_photo_tiff,
    "pptx": render_pptx,
    "xlsx": render_xlsx,
}
SUFFIXES = (".jpg", ".tif", ".pptx", ".xlsx")  # of the files these write, beside formats.py's


def scanned_book(xquad_dir: Path, path: Path, pages: int = 50, dpi: int = 200) -> Path:
    """A long Arabic scan: XQuAD's Arabic articles one after another, printed by Chromium, the first
    `pages` pages scanned at `dpi` into an image-only PDF (the 50-page check of issue 20)."""
    from .formats import Article
    from .xquad import _articles

    paragraphs = [p["context"].strip() for a in _articles(xquad_dir / "xquad.ar.json") for p in a["paragraphs"]]
    book = Article("book", "كتاب", "ar", tuple(paragraphs[: pages * 5]))  # ~4 paragraphs fill a page
    return _image_pdf(_pages(book, dpi)[:pages], path, dpi)


# --- what OCR reads back ------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def words_read_back(source: str, text: str) -> float:
    """Share of the source's words the text has (each as often), spelled as search folds them
    (tashkeel, alef forms and digits folded)."""
    from rag.text import normalize

    wanted, got = Counter(_WORD.findall(normalize(source))), Counter(_WORD.findall(normalize(text)))
    return sum((wanted & got).values()) / max(1, sum(wanted.values()))


def evidence_found(evidence: str, text: str, share: float = 0.8) -> bool:
    """Whether the text holds at least `share` of the evidence sentence's words (each as often): a
    scanned copy's sentence with a misread letter or comma is still that sentence."""
    wanted = Counter(_WORD.findall(evidence))
    return sum((wanted & Counter(_WORD.findall(text))).values()) >= share * sum(wanted.values())


def fuzzy_hits(xquad_dir: Path, articles: int, work: Path, formats: list[str]) -> str:
    """hit@1 and hit@5 of each format's index (built by eval.formats), relevance judged as the
    formats table judges it (the evidence sentence whole) and by evidence_found: OCR misreads one
    letter of a 30-word sentence and the strict check calls its passage irrelevant."""
    from rag import Sanad, load_settings

    from .formats import load_library
    from .metrics import search_form
    from .runner import _item

    _, ar, en = load_library(xquad_dir, articles)
    lines = ["| format | ar hit@1 strict / fuzzy | ar hit@5 fuzzy | en hit@1 strict / fuzzy | en hit@5 fuzzy |",
             "|---|---:|---:|---:|---:|"]
    for fmt in formats:
        engine = Sanad(load_settings(index_dir=work / fmt / "index"))
        cells = [fmt]
        for rows in (ar, en):
            strict, first, five = [], [], []
            for item in map(_item, rows):
                _, hits = engine.inspect(item.question, top_k=5)
                texts = [search_form(h.chunk.text) for h in hits]
                evidence = item.evidence_forms[0]
                strict.append(bool(texts) and evidence in texts[0])
                found = [evidence_found(evidence, t) for t in texts]
                first.append(bool(found) and found[0])
                five.append(any(found))
            cells += [f"{np.mean(strict):.3f} / {np.mean(first):.3f}", f"{np.mean(five):.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def measure(library: list[Article], folder: Path) -> dict:
    """Words read back, seconds per page and peak memory for one scanned format, per language, every
    page read afresh (run in a process of its own, so the peaks are OCR's: this process and the
    largest Tesseract it ran)."""
    from rag.read import read_document

    out: dict = {}
    for language in ("ar", "en"):
        recalls, seconds, pages = [], 0.0, 0
        for article in (a for a in library if a.language == language):
            files = [f for f in sorted(folder.glob(f"{language}-{article.slug}*")) if f.suffix in (".pdf", ".jpg", ".tif")]
            text = ""
            for path in files:
                started = time.perf_counter()
                document = read_document(path, path.name, 10**9)
                seconds += time.perf_counter() - started
                pages += len(document.ocr_pages)
                text += "\n" + document.text
            recalls.append(words_read_back(article.title + "\n" + "\n".join(article.paragraphs), text))
        out[language] = {"words_read_back": round(float(np.mean(recalls)), 4), "pages": pages,
                         "seconds_per_page": round(seconds / max(1, pages), 2)}
    out["peak_mb"] = {"sanad": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "tesseract": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}
    return out


def main(argv: list[str] | None = None) -> int:
    import json
    import os
    import shutil
    import subprocess
    import sys

    from .formats import load_library, render_library
    from .runner import CACHE

    parser = argparse.ArgumentParser(prog="python -m eval.scanned", description=__doc__.split("\n\n")[0])
    parser.add_argument("xquad_dir", type=Path, nargs="?", default=Path("../shared/data/xquad"))
    parser.add_argument("--articles", type=int, default=6)
    parser.add_argument("--formats", default="scanned-200,scanned-300,scanned-noisy,photo-jpg,photo-tiff")
    parser.add_argument("--work", type=Path, default=CACHE / "formats")
    parser.add_argument("--measure-one", help=argparse.SUPPRESS)  # the child process that measures a format
    parser.add_argument("--book", type=Path, help="only write the 50-page Arabic scan to this PDF")
    parser.add_argument("--fuzzy", action="store_true",
                        help="only hit@k of the formats' indexes (built by eval.formats), strict and fuzzy")
    args = parser.parse_args(argv)
    if args.fuzzy:
        print(fuzzy_hits(args.xquad_dir, args.articles, args.work, ["plain", *args.formats.split(",")]))
        return 0
    if args.book:
        print(scanned_book(args.xquad_dir, args.book))
        return 0
    library, _, _ = load_library(args.xquad_dir, args.articles)
    if args.measure_one:
        print(json.dumps(measure(library, args.work / args.measure_one / "docs")))
        return 0
    # The results land in a cache of their own, which `python -m eval.formats` then reads with
    # SANAD_OCR_CACHE pointing at it: the pages are read once, here, with OCR timed.
    cache = args.work / "ocr-cache"
    shutil.rmtree(cache, ignore_errors=True)
    print("| format | ar words read back | en words read back | ar s/page | en s/page | pages | peak MB (Sanad / Tesseract) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for fmt in args.formats.split(","):
        render_library(library, fmt, args.work / fmt / "docs")
        done = subprocess.run([sys.executable, "-m", "eval.scanned", str(args.xquad_dir), "--articles", str(args.articles),
                               "--work", str(args.work), "--measure-one", fmt],
                              capture_output=True, text=True, check=True, env={**os.environ, "SANAD_OCR_CACHE": str(cache)})
        m = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {fmt} | {m['ar']['words_read_back']:.3f} | {m['en']['words_read_back']:.3f} | "
              f"{m['ar']['seconds_per_page']:.1f} | {m['en']['seconds_per_page']:.1f} | "
              f"{m['ar']['pages'] + m['en']['pages']} | {m['peak_mb']['sanad']} / {m['peak_mb']['tesseract']} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
