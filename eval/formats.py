"""`python -m eval.formats`: the same bilingual library in every file format users bring, scored side by side.

XQuAD's parallel articles (CC-BY-SA 4.0, converted at run time, never stored in the repository) are
rendered as an Arabic and an English copy of each article in each format: plain text, hard-wrapped
.txt, Markdown with headings, an HTML page with navigation, header and footer, a PDF printed by
headless Chromium, an fpdf2 PDF with text shaping, and DOCX. The Arabic questions are asked of the
library, then the English ones (each finds its gold in its own language's copy), and each format is
printed beside plain text: hit@1, hit@5, answer_has_gold, citation precision and the fragment rate
(share of quoted sentences that do not end like a sentence).

    python -m eval.formats ../shared/data/xquad [--articles 6] [--formats plain,pdf-chromium] [--limit N]

`--producers` measures PDFs as people make them instead (eval/pdf_producers.py: Chromium in several
fonts, sizes and alignments and in two columns, LibreOffice, fpdf2, Typst): the share of words and of
evidence sentences read back, and with `--producers-index NAMES` hit@1 and right answers as above.
"""
from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .metrics import answer_has_gold, citation_precision, hit_at
from .runner import CACHE, Item, evaluate, _item
from .scanned import RENDERERS as SCANNED, SUFFIXES as SCANNED_SUFFIXES

FORMATS = ("plain", "wrapped", "markdown", "html", "pdf-chromium", "pdf-fpdf2", "docx", *SCANNED)
CHROMIUM = "/usr/bin/chromium"
# DejaVu Sans has Arabic glyphs and ships with matplotlib, so no system font is needed.
FONT = Path(__import__("matplotlib").get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
# The English titles of XQuAD's first articles, in Arabic: an Arabic document names itself in Arabic.
ARABIC_TITLES = {
    "Super_Bowl_50": "سوبر بول 50", "Warsaw": "وارسو", "Normans": "النورمان", "Nikola_Tesla": "نيكولا تسلا",
    "Computational_complexity_theory": "نظرية التعقيد الحسابي", "Teacher": "المعلم", "Martin_Luther": "مارتن لوثر",
    "Southern_California": "جنوب كاليفورنيا", "Sky_(United_Kingdom)": "سكاي (المملكة المتحدة)",
    "Victoria_(Australia)": "فيكتوريا (أستراليا)", "Huguenot": "الهوغونوت", "Steam_engine": "المحرك البخاري",
}
# A sentence ends with one of these, possibly followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?؟…:;؛]['\"»”’)\]]*$")


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    language: str
    paragraphs: tuple[str, ...]


def load_library(xquad_dir: Path, articles: int) -> tuple[list[Article], list[dict], list[dict]]:
    """The first `articles` articles in Arabic and English, and the questions of each language.

    Each question's evidence is its paragraph's sentence in that question's own language; the
    gold answers too, so an English question is judged against the English copy.
    """
    from .xquad import _answers, _articles, _evidence

    library: list[Article] = []
    sets: dict[str, list[dict]] = {"ar": [], "en": []}
    for language in ("ar", "en"):
        for article in _articles(xquad_dir / f"xquad.{language}.json")[:articles]:
            slug = article["title"]
            title = ARABIC_TITLES.get(slug, slug.replace("_", " ")) if language == "ar" else slug.replace("_", " ")
            paragraphs = tuple(p["context"].strip() for p in article["paragraphs"])
            library.append(Article(re.sub(r"[^A-Za-z0-9_-]+", "_", slug), title, language, paragraphs))
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    sets[language].append({"id": qa["id"], "question": qa["question"], "answers": _answers(qa),
                                           "evidence": [_evidence(paragraph["context"], qa)], "answerable": True})
    return library, sets["ar"], sets["en"]


# --- renderers: one file per article, the way users' tools write them ---------------------------------

def _emphasised(paragraph: str, number: int) -> str:
    """Markdown inline markup on the paragraph's second word, a link every other paragraph."""
    words = paragraph.split(" ")
    if len(words) > 3 and words[1]:  # (XQuAD has double spaces: no markup on an empty word)
        words[1] = f"**{words[1]}**" if number % 2 else f"[{words[1]}](https://example.org/{number})"
    return " ".join(words)


def render_plain(article: Article, path: Path) -> Path:
    path = path.with_suffix(".txt")
    path.write_text(article.title + "\n\n" + "\n\n".join(article.paragraphs) + "\n", encoding="utf-8")
    return path


def render_wrapped(article: Article, path: Path) -> Path:
    path = path.with_suffix(".txt")
    body = "\n\n".join(textwrap.fill(p, 72, break_long_words=False, break_on_hyphens=False) for p in article.paragraphs)
    path.write_text(article.title + "\n\n" + body + "\n", encoding="utf-8")
    return path


def render_markdown(article: Article, path: Path) -> Path:
    path = path.with_suffix(".md")
    label = "نص المقال" if article.language == "ar" else "The article"
    body = "\n\n".join(textwrap.fill(_emphasised(p, n), 80, break_long_words=False, break_on_hyphens=False)
                       for n, p in enumerate(article.paragraphs))
    path.write_text(f"# {article.title}\n\n## {label}\n\n{body}\n", encoding="utf-8")
    return path


def _html_page(article: Article, chrome: bool) -> str:
    direction = "rtl" if article.language == "ar" else "ltr"
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
    nav = ("<header><a href='/'>Encyclopaedia</a></header><nav><a href='/'>Home</a> | <a href='/a'>Articles</a></nav>"
           if chrome else "")
    footer = "<footer>© 2026 Encyclopaedia · CC-BY-SA</footer>" if chrome else ""
    style = "body{font-family:'DejaVu Sans';font-size:12pt;line-height:1.5;text-align:justify;margin:2cm}"
    return (f"<!doctype html><html lang='{article.language}' dir='{direction}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(article.title)}</title><style>{style}</style></head><body>{nav}"
            f"<main><h1>{html.escape(article.title)}</h1>\n{paragraphs}</main>{footer}</body></html>")


def render_html(article: Article, path: Path) -> Path:
    path = path.with_suffix(".html")
    path.write_text(_html_page(article, chrome=True), encoding="utf-8")
    return path


def render_pdf_chromium(article: Article, path: Path) -> Path:
    """Printed by headless Chromium, with its default running header (date, title) and footer (page x/y)."""
    path = path.with_suffix(".pdf")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(_html_page(article, chrome=False), encoding="utf-8")
        chromium_print(page, path)
    return path


def chromium_print(page: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        f"--print-to-pdf={out}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    if not out.exists():
        raise RuntimeError(f"chromium wrote no PDF for {page}")


def render_pdf_fpdf2(article: Article, path: Path) -> Path:
    """fpdf2 with HarfBuzz shaping (set_text_shaping), justified, the title and page number on every page."""
    from fpdf import FPDF

    path = path.with_suffix(".pdf")
    rtl = article.language == "ar"

    class Paged(FPDF):
        def header(self) -> None:
            self.set_font("dejavu", size=8)
            self.cell(0, 6, article.title, align="C", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("dejavu", size=8)
            self.cell(0, 10, str(self.page_no()), align="C")

    document = Paged()
    document.add_font("dejavu", fname=str(FONT))
    document.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr",
                              script="arab" if rtl else "latn", language="ara" if rtl else "eng")
    document.add_page()
    document.set_font("dejavu", size=16)
    document.multi_cell(0, 10, article.title, align="R" if rtl else "L", new_x="LMARGIN", new_y="NEXT")
    document.set_font("dejavu", size=11)
    for paragraph in article.paragraphs:
        document.multi_cell(0, 6, paragraph, align="J", new_x="LMARGIN", new_y="NEXT")
        document.ln(3)
    document.output(str(path))
    return path


def render_docx(article: Article, path: Path) -> Path:
    import docx

    path = path.with_suffix(".docx")
    document = docx.Document()
    document.add_heading(article.title, level=1)
    for paragraph in article.paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


RENDERERS: dict[str, Callable[[Article, Path], Path]] = {
    "plain": render_plain,
    "wrapped": render_wrapped,
    "markdown": render_markdown,
    "html": render_html,
    "pdf-chromium": render_pdf_chromium,
    "pdf-fpdf2": render_pdf_fpdf2,
    "docx": render_docx,
    **SCANNED,  # scanned and photographed pages (read by OCR), slides, spreadsheets: eval/scanned.py
}


def render_library(library: Sequence[Article], fmt: str, folder: Path,
                   renderer: Callable[[Article, Path], Path] | None = None) -> Path:
    """The library in one format, in `folder`; files already rendered are kept (PDF printing is slow)."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in library:
        stem = folder / f"{article.language}-{article.slug}"
        if not any(stem.with_suffix(s).exists() for s in (".txt", ".md", ".html", ".pdf", ".docx", *SCANNED_SUFFIXES)):
            (renderer or RENDERERS[fmt])(article, stem)
    return folder


# --- scoring --------------------------------------------------------------------------------------

def is_fragment(quote: str) -> bool:
    """A quoted sentence that does not end like a sentence: cut by a line, a page or a chunk edge."""
    return not _SENTENCE_END.search(quote.strip())


def fragment_rate(rows) -> float | None:
    quotes = [q for row in rows for c in row.citations for q in c.quotes]
    return round(sum(map(is_fragment, quotes)) / len(quotes), 4) if quotes else None


def summarize_format(rows) -> dict[str, float | int | None]:
    def r(value):
        return None if value is None else round(value, 4)

    return {"n": len(rows), "hit@1": r(hit_at(rows, 1)), "hit@5": r(hit_at(rows, 5)),
            "answer_has_gold": r(answer_has_gold(rows)), "citation_precision": r(citation_precision(rows)),
            "fragments": fragment_rate(rows)}


def run_format(fmt: str, library: Sequence[Article], sets: dict[str, list[Item]], work: Path,
               retriever: str = "hybrid", renderer: Callable[[Article, Path], Path] | None = None) -> dict:
    """Index the library in one format (an index of its own) and ask each language's questions.
    `renderer` writes a format that is not in RENDERERS (the PDF producers of eval/pdf_producers.py)."""
    from rag import Sanad, load_settings
    from rag.index_state import IndexBroken

    docs = render_library(library, fmt, work / fmt / "docs", renderer)
    engine = Sanad(load_settings(index_dir=work / fmt / "index"))
    try:
        report = engine.index([docs])
    except IndexBroken:  # written by an older engine: this cache is ours to rebuild
        shutil.rmtree(work / fmt / "index")
        report = engine.index([docs])
    for failure in report.failed:
        print(f"failed: {failure.source}: {failure.reason}", file=sys.stderr)
    result = {"format": fmt, "failed": [f.source for f in report.failed]}
    for language, items in sets.items():
        run = evaluate(engine, items, retriever)
        result[language] = summarize_format(run.rows)
        result[f"{language}_rows"] = run.rows
    return result


def table(results: Sequence[dict]) -> str:
    """Markdown: one row per format, each figure beside plain text's (the first result) as a difference."""
    base = results[0]
    metrics = ("hit@1", "hit@5", "answer_has_gold", "citation_precision")
    head = ["format"] + [f"{lang} {m}" for lang in ("ar", "en") for m in metrics] + ["fragments ar / en"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for result in results:
        cells = [result["format"]]
        for lang in ("ar", "en"):
            for metric in metrics:
                value, ref = result[lang][metric], base[lang][metric]
                cell = "–" if value is None else f"{value:.3f}"
                if result is not base and value is not None and ref is not None:
                    cell += f" ({value - ref:+.3f})"
                cells.append(cell)
        cells.append(" / ".join("–" if result[l]["fragments"] is None else f"{result[l]['fragments']:.2f}"
                                for l in ("ar", "en")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pypdf(mode: str) -> Callable[[Path], str]:
    def extract(path: Path) -> str:
        from pypdf import PdfReader

        return "\n".join(page.extract_text(extraction_mode=mode) or "" for page in PdfReader(path).pages)
    return extract


def _pdfium_plain(path: Path) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    return "\n".join(document[n].get_textpage().get_text_bounded() for n in range(len(document)))


def _sanad(path: Path) -> str:
    from rag.read import read_document

    return read_document(path, path.name, 10**9).text


PDF_EXTRACTORS: dict[str, Callable[[Path], str]] = {
    "pypdf (plain)": _pypdf("plain"), "pypdf (layout)": _pypdf("layout"),
    "pypdfium2 (get_text_bounded)": _pdfium_plain, "Sanad (rag/read/pdf_layout.py on pypdfium2)": _sanad,
}


def compare_pdf_readers(library: Sequence[Article], sets: dict[str, list[Item]], work: Path) -> str:
    """Share of evidence sentences found whole (in search form) in each extractor's text of each PDF
    kind: what a question can be answered from at best, without indexing anything."""
    from .metrics import search_form

    lines = ["| PDF | extractor | ar evidence found | en evidence found |", "|---|---|---:|---:|"]
    for fmt in ("pdf-chromium", "pdf-fpdf2"):
        folder = render_library(library, fmt, work / fmt / "docs")
        for name, extract in PDF_EXTRACTORS.items():
            cells = []
            for language in ("ar", "en"):
                corpus = search_form(" ".join(extract(p) for p in sorted(folder.glob(f"{language}-*.pdf"))))
                evidence = [e for item in sets[language] for e in item.evidence_forms[:1]]
                cells.append(f"{sum(e in corpus for e in evidence) / len(evidence):.3f}")
            lines.append(f"| {fmt} | {name} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.formats", description=__doc__.split("\n\n")[0])
    parser.add_argument("xquad_dir", type=Path, nargs="?", default=Path("../shared/data/xquad"),
                        help="the folder holding xquad.ar.json and xquad.en.json")
    parser.add_argument("--articles", type=int, default=6, help="how many parallel articles (default 6)")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, from: {', '.join(FORMATS)}")
    parser.add_argument("--limit", type=int, help="only the first N questions of each language")
    parser.add_argument("--work", type=Path, default=CACHE / "formats", help="rendered files and indexes")
    parser.add_argument("--fresh", action="store_true", help="render the files and build the indexes again")
    parser.add_argument("--compare-pdf", action="store_true",
                        help="only compare PDF text extractors: share of evidence sentences each one reads whole")
    parser.add_argument("--producers", nargs="?", const="", metavar="NAMES",
                        help="only the PDF producer matrix (eval/pdf_producers.py): words and evidence sentences read "
                             "back from each producer's PDFs; NAMES: comma-separated parts of producer names (default all)")
    parser.add_argument("--producers-index", default="", metavar="NAMES",
                        help="with --producers: also index these producers' PDFs and score them against plain text")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--md-out", type=Path)
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format(s): {', '.join(unknown)}")
    if "plain" not in formats:
        formats.insert(0, "plain")  # the reference every other format is read against
    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    library, ar, en = load_library(args.xquad_dir, args.articles)
    sets = {"ar": [_item(row) for row in ar[: args.limit]], "en": [_item(row) for row in en[: args.limit]]}
    if args.producers is not None:
        from .pdf_producers import report

        print(report(library, sets, args.work, args.producers, args.producers_index))
        return 0
    if args.compare_pdf:
        print(compare_pdf_readers(library, sets, args.work))
        return 0
    results = [run_format(fmt, library, sets, args.work) for fmt in sorted(formats, key=FORMATS.index)]
    print(table(results))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        payload = [{k: v for k, v in r.items() if not k.endswith("_rows")} for r in results]
        args.json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.md_out:
        args.md_out.parent.mkdir(parents=True, exist_ok=True)
        args.md_out.write_text(table(results) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
