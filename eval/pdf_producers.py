"""The same articles as PDFs from the tools people print with, and how much of them Sanad reads back.

Producers: Chromium (left-aligned and justified, in several fonts and sizes, and a two-column page),
LibreOffice (.docx and .odt converted with `soffice --headless --convert-to pdf`), fpdf2 with HarfBuzz
shaping, and Typst. Each writes one PDF per article; the reader's text of it is compared with the
article's own text:

- words: the share of the source's words found as words in the text read back (as a multiset; a
  word run together with its neighbour, or split, is lost), in search form (diacritics, tatweel,
  digits and case folded);
- evidence: the share of the questions' evidence sentences found verbatim (the same folding, spaces
  folded) in the text read back.

Neither needs an index, so the whole matrix is cheap; `python -m eval.formats --producers` prints it
and can index a few producers to compare hit@1 and right answers with plain text.
"""
from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .formats import Article

FONT_FILES = {
    "Noto Naskh Arabic": "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
    "Noto Sans Arabic": "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "Amiri": "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf",
    "Noto Serif": "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "Noto Sans": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "DejaVu Sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
}
ARABIC_FONTS = ("Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", "DejaVu Sans")
LATIN_FONTS = ("Noto Serif", "Noto Sans", "DejaVu Sans", "Amiri")
SOFFICE = "soffice"




@dataclass(frozen=True)
class Producer:
    name: str
    kind: str  # chromium, columns, libreoffice-docx, libreoffice-odt, fpdf2, typst
    font: str = ""  # "" means the language's first font
    size: float = 12
    align: str = "justify"  # or "start"

    def font_for(self, language: str) -> str:
        fonts = ARABIC_FONTS if language == "ar" else LATIN_FONTS
        return self.font if self.font in fonts else fonts[0]


def matrix() -> list[Producer]:
    """Every producer and layout measured. Chromium goes through each font of each language at a
    different size in both alignments; the others print in the language's first font."""
    out: list[Producer] = []
    sizes = (10, 11, 12, 14)
    for k, (ar_font, en_font) in enumerate(zip(ARABIC_FONTS, LATIN_FONTS)):
        for align in ("start", "justify"):
            size = sizes[(k + (align == "justify")) % len(sizes)]
            out.append(Producer(f"chromium {align} {ar_font} / {en_font} {size}pt", "chromium",
                                f"{ar_font}|{en_font}", size, align))
    out.append(Producer("chromium two columns 11pt", "columns", "", 11, "justify"))
    out.append(Producer("libreoffice docx 12pt", "libreoffice-docx", "", 12, "justify"))
    out.append(Producer("libreoffice odt 11pt left", "libreoffice-odt", "", 11, "start"))
    out.append(Producer("fpdf2 shaped 11pt", "fpdf2", "", 11, "justify"))
    out.append(Producer("fpdf2 shaped 12pt left", "fpdf2", "", 12, "start"))
    out.append(Producer("typst 11pt", "typst", "", 11, "justify"))
    out.append(Producer("typst 12pt left", "typst", "", 12, "start"))
    return out


def _font(producer: Producer, language: str) -> str:
    if "|" in producer.font:
        return producer.font.split("|")[0 if language == "ar" else 1]
    return producer.font_for(language)


# --- writers ---------------------------------------------------------------------------------------

def _html(doc: Article, producer: Producer) -> str:
    rtl = doc.language == "ar"
    columns = "column-count:2;column-gap:1cm;" if producer.kind == "columns" else ""
    style = (f"body{{font-family:'{_font(producer, doc.language)}';font-size:{producer.size}pt;line-height:1.45;"
             f"text-align:{producer.align};margin:0}} main{{{columns}}} h1{{font-size:{producer.size * 1.6:.0f}pt}}")
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in doc.paragraphs)
    return (f"<!doctype html><html lang='{doc.language}' dir='{'rtl' if rtl else 'ltr'}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(doc.title)}</title><style>{style}</style></head><body>"
            f"<h1>{html.escape(doc.title)}</h1><main>{body}</main></body></html>")


def print_chromium(jobs: Sequence[tuple[Article, Producer, Path]]) -> None:
    """All Chromium PDFs through one browser (Playwright driving Debian's chromium): printing is
    ~0.3 s a page that way, against ~1.5 s for a fresh `chromium --print-to-pdf` each."""
    if not jobs:
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            for doc, producer, out in jobs:
                page.set_content(_html(doc, producer), wait_until="load")
                # Chromium's own running header (date, title) and footer (address, page x/y), as printed
                # from the browser's menu.
                page.pdf(path=str(out), format="A4", display_header_footer=True,
                         margin={"top": "2cm", "bottom": "2cm", "left": "2cm", "right": "2cm"})
        finally:
            browser.close()


def write_docx(doc: Article, producer: Producer, out: Path) -> Path:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = docx.Document()
    rtl = doc.language == "ar"
    font = _font(producer, doc.language)
    style = document.styles["Normal"]
    style.font.name, style.font.size = font, Pt(producer.size)
    fonts = style.element.rPr.get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), font)
    size_cs = style.element.rPr.makeelement(qn("w:szCs"), {qn("w:val"): str(int(producer.size * 2))})
    style.element.rPr.append(size_cs)
    heading = document.add_heading(doc.title, level=1)
    for paragraph in [heading] + [document.add_paragraph(p) for p in doc.paragraphs]:
        if rtl:
            properties = paragraph._p.get_or_add_pPr()
            properties.append(properties.makeelement(qn("w:bidi"), {}))
            for run in paragraph.runs:
                run._r.get_or_add_rPr().append(run._r.makeelement(qn("w:rtl"), {}))
        if paragraph is not heading:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY if producer.align == "justify" else None
    document.save(str(out))
    return out


def write_odt(doc: Article, producer: Producer, out: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style, TextProperties
    from odf.text import H, P

    rtl = doc.language == "ar"
    font = _font(producer, doc.language)
    document = OpenDocumentText()
    align = ("justify" if producer.align == "justify" else "end" if rtl else "start")
    body = Style(name="Body", family="paragraph")
    body.addElement(ParagraphProperties(textalign=align, writingmode="rl-tb" if rtl else "lr-tb", marginbottom="0.2cm"))
    body.addElement(TextProperties(fontname=font, fontfamily=font, fontsize=f"{producer.size}pt",
                                   fontfamilycomplex=font, fontsizecomplex=f"{producer.size}pt",
                                   fontfamilyasian=font))
    title = Style(name="Title1", family="paragraph")
    title.addElement(ParagraphProperties(writingmode="rl-tb" if rtl else "lr-tb", marginbottom="0.4cm"))
    title.addElement(TextProperties(fontfamily=font, fontsize=f"{producer.size * 1.6:.0f}pt", fontfamilycomplex=font,
                                    fontsizecomplex=f"{producer.size * 1.6:.0f}pt", fontweight="bold",
                                    fontweightcomplex="bold"))
    document.automaticstyles.addElement(body)
    document.automaticstyles.addElement(title)
    document.text.addElement(H(outlinelevel=1, stylename=title, text=doc.title))
    for paragraph in doc.paragraphs:
        document.text.addElement(P(stylename=body, text=paragraph))
    document.save(str(out))
    return out


def convert_libreoffice(sources: Sequence[Path], folder: Path) -> None:
    """One soffice run converts them all (its start-up is the slow part), with a profile of its own
    so that runs side by side do not share a lock."""
    if not sources:
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(folder), *map(str, sources)], check=True, capture_output=True, timeout=600)


def write_fpdf2(doc: Article, producer: Producer, out: Path) -> Path:
    """fpdf2 with HarfBuzz shaping, as its documentation writes Arabic; page number in the footer."""
    from fpdf import FPDF

    rtl = doc.language == "ar"
    font = _font(producer, doc.language)

    class Paged(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("body", size=8)
            self.cell(0, 10, str(self.page_no()), align="C")

    document = Paged()
    document.add_font("body", fname=FONT_FILES[font])
    # Latin words and digits in an Arabic text: from a font that has them, as a word processor does.
    document.add_font("fallback", fname=FONT_FILES["DejaVu Sans"])
    document.set_fallback_fonts(["fallback"])
    document.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr",
                              script="arab" if rtl else "latn", language="ara" if rtl else "eng")
    document.add_page()
    align = "J" if producer.align == "justify" else ("R" if rtl else "L")
    document.set_font("body", size=producer.size * 1.6)
    document.multi_cell(0, producer.size * 0.9, doc.title, align="R" if rtl else "L", new_x="LMARGIN", new_y="NEXT")
    document.set_font("body", size=producer.size)
    for paragraph in doc.paragraphs:
        document.multi_cell(0, producer.size * 0.55, paragraph, align=align, new_x="LMARGIN", new_y="NEXT")
        document.ln(3)
    document.output(str(out))
    return out


def _typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_typst(doc: Article, producer: Producer, out: Path) -> Path:
    import typst

    rtl = doc.language == "ar"
    font = _font(producer, doc.language)
    source = "\n".join([
        f'#set page(paper: "a4", numbering: "1")',
        f'#set text(font: ({_typst_string(font)}, "DejaVu Sans"), size: {producer.size}pt, lang: "{doc.language}", dir: {"rtl" if rtl else "ltr"})',
        f'#set par(justify: {"true" if producer.align == "justify" else "false"})',
        f"#heading(level: 1)[#{_typst_string(doc.title)}]",
        *(f"#par[#{_typst_string(p)}]\n" for p in doc.paragraphs),
    ])
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "doc.typ").write_text(source, encoding="utf-8")
        out.write_bytes(typst.compile(str(folder / "doc.typ"),
                                      font_paths=sorted({str(Path(f).parent) for f in FONT_FILES.values()})))
    finally:
        shutil.rmtree(folder)
    return out


def render(docs: Sequence[Article], producers: Sequence[Producer], folder: Path) -> dict[tuple[str, str], Path]:
    """Each producer's PDF of each doc under folder/<producer>/, kept when already there.
    Returns {(producer name, doc file stem): pdf}."""
    out: dict[tuple[str, str], Path] = {}
    chromium: list[tuple[Article, Producer, Path]] = []
    office: list[tuple[Path, Path]] = []
    for producer in producers:
        place = folder / re.sub(r"[^A-Za-z0-9]+", "-", producer.name).strip("-")
        place.mkdir(parents=True, exist_ok=True)
        for doc in docs:
            stem = f"{doc.language}-{doc.slug}"
            pdf = place / f"{stem}.pdf"
            out[(producer.name, stem)] = pdf
            if pdf.exists():
                continue
            if producer.kind in ("chromium", "columns"):
                chromium.append((doc, producer, pdf))
            elif producer.kind.startswith("libreoffice"):
                (place / "src").mkdir(exist_ok=True)
                write = write_docx if producer.kind == "libreoffice-docx" else write_odt
                office.append((write(doc, producer, place / "src" / f"{stem}.{producer.kind[-4:].strip('-')}"), place))
            elif producer.kind == "fpdf2":
                write_fpdf2(doc, producer, pdf)
            elif producer.kind == "typst":
                write_typst(doc, producer, pdf)
    print_chromium(chromium)
    for place in dict.fromkeys(p for _, p in office):
        convert_libreoffice([s for s, p in office if p == place], place)
        shutil.rmtree(place / "src", ignore_errors=True)
    return out


# --- measures --------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def folded(text: str) -> str:
    """Search form (diacritics, tatweel, digits, alef forms and case folded), spaces folded."""
    from .metrics import search_form

    return search_form(text)


def word_share(source: str, read: str) -> float:
    """Share of the source's words (a multiset) found as words in the text read back."""
    wanted = Counter(_WORD.findall(folded(source)))
    got = Counter(_WORD.findall(folded(read)))
    total = sum(wanted.values())
    return sum(min(n, got[w]) for w, n in wanted.items()) / total if total else 1.0


def evidence_found(sentences: Iterable[str], read: str) -> tuple[int, int]:
    """How many of the sentences occur verbatim (folded) in the text read back, of how many."""
    haystack = folded(read)
    sentences = [folded(s) for s in sentences]
    return sum(s in haystack for s in sentences), len(sentences)


def reader_text(path: Path) -> str:
    from rag.read import read_document

    return read_document(path, path.name, 10**9).text


@dataclass
class Score:
    producer: str
    language: str
    words: float
    evidence: int
    evidence_total: int
    missed: list[str]  # evidence sentences not read verbatim (for looking at)


def measure(docs: Sequence[Article], evidence: dict[str, list[str]], producers: Sequence[Producer], folder: Path,
            read: Callable[[Path], str] = reader_text) -> list[Score]:
    """Words and evidence of each producer in each language. `evidence` maps a language to the
    evidence sentences of its questions, looked for in all of that language's documents."""
    files = render(docs, producers, folder)
    scores = []
    for producer in producers:
        for language in ("ar", "en"):
            these = [d for d in docs if d.language == language]
            if not these:
                continue
            source = "\n".join(d.title + "\n" + "\n".join(d.paragraphs) for d in these)
            text = "\n".join(read(files[(producer.name, f"{d.language}-{d.slug}")]) for d in these)
            haystack = folded(text)
            sentences = list(dict.fromkeys(evidence.get(language, [])))
            missed = [s for s in sentences if folded(s) not in haystack]
            scores.append(Score(producer.name, language, round(word_share(source, text), 4),
                                len(sentences) - len(missed), len(sentences), missed))
    return scores


def table(scores: Sequence[Score]) -> str:
    rows = {}
    for s in scores:
        rows.setdefault(s.producer, {})[s.language] = s
    lines = ["| producer | ar words | ar evidence verbatim | en words | en evidence verbatim |",
             "|---|---:|---:|---:|---:|"]
    for name, by in rows.items():
        cells = []
        for language in ("ar", "en"):
            s = by.get(language)
            cells += ["–", "–"] if s is None else [f"{s.words:.4f}", f"{s.evidence}/{s.evidence_total}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def docs_from_xquad(xquad_dir: Path, articles: int, paragraphs: int) -> tuple[list[Article], dict[str, list[str]]]:
    """The first `paragraphs` paragraphs of the first `articles` XQuAD articles in both languages, and
    the evidence sentences of their questions by language."""
    from .formats import ARABIC_TITLES
    from .xquad import _articles, _evidence

    docs, evidence = [], {}
    for language in ("ar", "en"):
        for article in _articles(xquad_dir / f"xquad.{language}.json")[:articles]:
            slug = re.sub(r"[^A-Za-z0-9_-]+", "_", article["title"])
            title = (ARABIC_TITLES.get(article["title"], article["title"].replace("_", " ")) if language == "ar"
                     else article["title"].replace("_", " "))
            chosen = article["paragraphs"][:paragraphs]
            docs.append(Article(slug, title, language, tuple(p["context"].strip() for p in chosen)))
            evidence.setdefault(language, []).extend(_evidence(p["context"], qa) for p in chosen for qa in p["qas"])
    return docs, evidence


def selected(names: str) -> list[Producer]:
    """The producers whose names contain one of the comma-separated parts ("" for all)."""
    parts = [p.strip() for p in names.split(",") if p.strip()]
    return [p for p in matrix() if not parts or any(part in p.name for part in parts)]


def renderer(producer: Producer) -> Callable:
    """A renderer for eval.formats: one article to <stem>.pdf by this producer."""
    def render_one(article, stem: Path) -> Path:
        files = render([article], [producer], stem.parent / ".producer")
        pdf = stem.with_suffix(".pdf")
        shutil.move(str(next(iter(files.values()))), pdf)
        shutil.rmtree(stem.parent / ".producer", ignore_errors=True)
        return pdf
    return render_one


def report(library, sets: dict, work: Path, names: str = "", index: str = "") -> str:
    """`python -m eval.formats --producers`: the matrix of words and evidence over the library, and,
    for the producers named in `index`, hit@1 and right answers against plain text."""
    from .formats import run_format, table as formats_table

    evidence = {language: [e for item in items for e in item.evidence[:1]] for language, items in sets.items()}
    scores = measure(library, evidence, selected(names), work / "producers")
    out = [table(scores)]
    chosen = selected(index) if index else []
    if chosen:
        results = [run_format("plain", library, sets, work)]
        for producer in chosen:
            fmt = "pdf-" + re.sub(r"[^A-Za-z0-9]+", "-", producer.name).strip("-")
            result = run_format(fmt, library, sets, work / "producers-index", renderer=renderer(producer))
            results.append({**result, "format": producer.name})
        out.append(formats_table(results))
    return "\n\n".join(out)
