"""Real files of every supported format, made the way users' tools make them."""
from __future__ import annotations

from pathlib import Path

import matplotlib

# DejaVu Sans has Arabic glyphs and ships with matplotlib, so PDF tests need no system fonts.
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    from fpdf import FPDF

    document = FPDF()
    document.add_font("dejavu", fname=str(FONT))
    document.set_font("dejavu", size=12)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 8, text)
    if password:
        document.set_encryption(owner_password=password, user_password=password)
    document.output(str(path))
    return path


def scanned_pdf(path: Path) -> Path:
    """A page with a picture and no text layer, like a scan."""
    from fpdf import FPDF
    from PIL import Image

    image = path.with_suffix(".png")
    Image.new("RGB", (200, 100), "white").save(image)
    document = FPDF()
    document.add_page()
    document.image(str(image), x=10, y=10, w=100)
    document.output(str(path))
    image.unlink()
    return path


def docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx as python_docx

    document = python_docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    _save_with_table(document, path, table)
    return path


# The lighthouse article of issue 9, in English and Arabic: numbers and a Latin name inside Arabic lines.
LIGHTHOUSE_EN = [
    "The Ravensholm lighthouse was built in 1847 by the engineer Margaret Ellery after more than forty ships "
    "had been wrecked on the rocks of the bay. Merchants from the port of Hallow petitioned the crown for a "
    "light, and the construction was funded by a toll of one penny on every ship that entered the harbour "
    "between 1830 and 1845.",
    "The tower stands 38 metres tall and its lamp can be seen from 22 nautical miles away on a clear night. "
    "It was automated in 1978 and the last keeper, Thomas Hale, left the island in the spring of that year.",
]
LIGHTHOUSE_AR = [
    "بُنيت منارة رافنسهولم عام 1847 على يد المهندسة مارغريت إليري بعد أن تحطمت أكثر من أربعين سفينة "
    "على صخور الخليج. وقد طالب تجار ميناء هالو التاج بإقامة منارة، ومُوّل البناء برسمٍ قدره بنس واحد "
    "على كل سفينة دخلت الميناء بين عامي 1830 و1845.",
    "يبلغ ارتفاع البرج 38 متراً ويمكن رؤية مصباحه من مسافة 22 ميلاً بحرياً في الليالي الصافية. "
    "وقد أصبحت المنارة آلية عام 1978 وغادر آخر حراسها، توماس هيل (Thomas Hale)، الجزيرة في ربيع ذلك العام.",
]


def shaped_pdf(path: Path, paragraphs: list[str], rtl: bool = False, title: str | None = None,
               size: int = 12) -> Path:
    """fpdf2 with HarfBuzz shaping (set_text_shaping), justified, a running header and page numbers:
    how fpdf2 is meant to write Arabic."""
    from fpdf import FPDF

    class Paged(FPDF):
        def header(self) -> None:
            self.set_font("dejavu", size=8)
            self.cell(0, 6, title or "Report", align="C", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("dejavu", size=8)
            self.cell(0, 10, f"{self.page_no()}", align="C")

    document = Paged()
    document.add_font("dejavu", fname=str(FONT))
    document.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr",
                              script="arab" if rtl else "latn", language="ara" if rtl else "eng")
    document.add_page()
    if title:
        document.set_font("dejavu", size=18)
        document.multi_cell(0, 10, title, align="R" if rtl else "L", new_x="LMARGIN", new_y="NEXT")
    document.set_font("dejavu", size=size)
    for text in paragraphs:
        document.multi_cell(0, 7, text, align="J", new_x="LMARGIN", new_y="NEXT")
        document.ln(4)
    document.output(str(path))
    return path


def chromium_pdf(path: Path, paragraphs: list[str], rtl: bool = False, title: str = "Report") -> Path:
    """Printed by headless Chromium from an HTML page (its running header with date and title, and footer
    with the page's address and number, included): how browsers and most office tools write PDFs."""
    import html as html_lib

    from eval.formats import chromium_print

    page = path.with_suffix(".html")
    body = "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
    page.write_text(
        f"<!doctype html><html lang='{'ar' if rtl else 'en'}' dir='{'rtl' if rtl else 'ltr'}'><head><meta charset='utf-8'>"
        f"<title>{html_lib.escape(title)}</title><style>body{{font-family:'DejaVu Sans';font-size:12pt;"
        f"text-align:justify;margin:2cm}}</style></head><body><h1>{html_lib.escape(title)}</h1>{body}</body></html>",
        encoding="utf-8")
    chromium_print(page, path)
    page.unlink()
    return path


def _save_with_table(document, path: Path, table: list[list[str]] | None) -> None:
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.save(str(path))


def styled_docx(path: Path, title: str, sections: list[tuple[str, list[str]]], items: list[str] = (),
                table: list[list[str]] | None = None) -> Path:
    """A .docx as Word writes one: Title and Heading styles, a bulleted list, a table."""
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading(title, level=0)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    for item in items:
        document.add_paragraph(item, style="List Bullet")
    _save_with_table(document, path, table)
    return path


# Fonts from Debian's fonts-noto-core, as a scanner would see them printed.
NOTO_NASKH = Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf")
NOTO_SANS = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
NOTO_SANS_ARABIC = Path("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf")  # Chromium's Arabic


def page_image(path: Path, paragraphs: list[str], rtl: bool = False, title: str | None = None,
               dpi: int = 150, width_cm: float = 15.0, header: str | None = None, footer: str | None = None,
               height_cm: float | None = None, font_path: Path | None = None) -> Path:
    """A short printed page as a scanner sees it: black text on white, 12 pt at `dpi`, the title
    larger; lines shaped by Raqm (Arabic joined, right to left), each paragraph wrapped to the width.
    With `height_cm`, a whole sheet: `header` printed near its top edge with the text right under it,
    as a browser prints a page, and `footer` near its bottom edge.
    Saved in the format the suffix names (.png, .jpg, .tif, .webp)."""
    from PIL import Image, ImageDraw, ImageFont

    px = dpi / 72
    face = str(font_path or (NOTO_NASKH if rtl else NOTO_SANS))
    font, big = ImageFont.truetype(face, round(12 * px)), ImageFont.truetype(face, round(20 * px))
    width, margin = round(width_cm / 2.54 * dpi), round(0.8 / 2.54 * dpi)
    direction = "rtl" if rtl else "ltr"
    lines: list[tuple[str, object, int]] = []  # (text, font, space before)
    if header:
        lines.append((header, font, 0))
    if title:
        lines.append((title, big, 0))
    for paragraph in paragraphs:
        line, gap = "", round(10 * px) if lines else 0
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if line and font.getlength(trial, direction=direction) > width - 2 * margin:
                lines.append((line, font, gap))
                line, gap = word, 0
            else:
                line = trial
        lines.append((line, font, gap))
    height = margin * 2 + sum(round(f.size * 1.6) + gap for _, f, gap in lines)
    if height_cm:
        height = round(height_cm / 2.54 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    if footer:
        x = width - margin - font.getlength(footer, direction=direction) if rtl else margin
        draw.text((x, height - margin // 2 - font.size), footer, font=font, fill=0, direction=direction)
    y = margin // 2 if header and height_cm else margin  # a browser prints its header near the edge
    for text, f, gap in lines:
        y += gap
        x = width - margin - f.getlength(text, direction=direction) if rtl else margin
        draw.text((x, y), text, font=f, fill=0, direction=direction)
        y += round(f.size * 1.6)
    image.save(path, dpi=(dpi, dpi))
    return path


def mixed_line_image(path: Path, lines: list[list[str]], dpi: int = 200, width_cm: float = 16.0) -> Path:
    """Arabic lines with Latin words in them, as a browser prints them (Chromium falls back to a Latin
    face; PIL does not, so each run is drawn in its own face): each line a list of runs, right to left,
    Arabic in Chromium's Noto Sans Arabic, a run with Latin letters in Noto Sans."""
    from PIL import Image, ImageDraw, ImageFont

    px = dpi / 72
    arabic = ImageFont.truetype(str(NOTO_SANS_ARABIC), round(12 * px))
    latin = ImageFont.truetype(str(NOTO_SANS), round(12 * px))
    width, margin, pitch = round(width_cm / 2.54 * dpi), round(0.8 / 2.54 * dpi), round(12 * px * 1.8)
    image = Image.new("L", (width, margin * 2 + pitch * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for n, runs in enumerate(lines):
        x, y = width - margin, margin + n * pitch
        for run in runs:
            is_latin = any("a" <= c.lower() <= "z" for c in run)
            font = latin if is_latin else arabic
            direction = "ltr" if is_latin else "rtl"
            x -= font.getlength(run, direction=direction)
            draw.text((x, y), run, font=font, fill=0, direction=direction)
            x -= font.getlength(" ", direction="rtl")
    image.save(path, dpi=(dpi, dpi))
    return path


def image_pdf(path: Path, images: list[Path], dpi: int = 150) -> Path:
    """An image-only PDF, a page per image at its size: what a scanner writes, without any text layer."""
    from fpdf import FPDF
    from PIL import Image

    document = FPDF(unit="pt")
    for image in images:
        with Image.open(image) as opened:
            w, h = opened.size
        document.add_page(format=(w * 72 / dpi, h * 72 / dpi))
        document.image(str(image), x=0, y=0, w=w * 72 / dpi, h=h * 72 / dpi)
    document.output(str(path))
    return path


def photographed(path: Path, page: Path, angle: float = 1.5, noise: int = 12, seed: int = 0) -> Path:
    """A page as a phone photographs it: turned by `angle` degrees, grey paper, sensor noise, saved as
    a JPEG (or whatever the suffix names)."""
    import numpy as np
    from PIL import Image

    with Image.open(page) as opened:
        turned = opened.convert("L").rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC)
    pixels = np.asarray(turned, dtype=np.float32) * 0.9 + 12  # paper is never white
    pixels += np.random.default_rng(seed).normal(0, noise, pixels.shape)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB").save(path, quality=85)
    return path


def pptx(path: Path, title: str, slides: list[tuple[str, list[str], str]]) -> Path:
    """A deck: a title slide, then (title, bullet paragraphs, speaker notes) per slide."""
    from pptx import Presentation

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = title
    for heading, paragraphs, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = paragraphs[0]
        for text in paragraphs[1:]:
            body.add_paragraph().text = text
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path


def xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook, a sheet per name, rows as given (the first usually the column headers)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(str(path))
    return path


def csv_file(path: Path, rows: list[list], delimiter: str = ",") -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, delimiter=delimiter).writerows(rows)
    return path


def odt(path: Path, title: str, paragraphs: list[str], items: list[str] = ()) -> Path:
    """An OpenDocument text as odfpy writes one: a level-1 heading, paragraphs, a list."""
    from odf.opendocument import OpenDocumentText
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=title))
    for text in paragraphs:
        document.text.addElement(P(text=text))
    if items:
        listing = List()
        for item in items:
            entry = ListItem()
            entry.addElement(P(text=item))
            listing.addElement(entry)
        document.text.addElement(listing)
    document.save(str(path))
    return path


def epub(path: Path, title: str, chapters: list[tuple[str, list[str]]], language: str = "en") -> Path:
    """An EPUB 3 written by hand as e-book tools write it: a package file, a spine, XHTML chapters."""
    import html as html_lib
    import zipfile

    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml",
                      '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                      '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                      '</rootfiles></container>')
        items, refs = [], []
        for n, (heading, paragraphs) in enumerate(chapters, 1):
            body = "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
            book.writestr(f"OEBPS/text/ch{n}.xhtml",
                          f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
                          f'xml:lang="{language}"><head><title>{html_lib.escape(heading)}</title></head>'
                          f'<body><h2>{html_lib.escape(heading)}</h2>{body}</body></html>')
            items.append(f'<item id="ch{n}" href="text/ch{n}.xhtml" media-type="application/xhtml+xml"/>')
            refs.append(f'<itemref idref="ch{n}"/>')
        book.writestr("OEBPS/content.opf",
                      '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
                      'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
                      f'<dc:identifier id="id">sanad-test</dc:identifier><dc:title>{html_lib.escape(title)}</dc:title>'
                      f'<dc:language>{language}</dc:language></metadata><manifest>{"".join(items)}</manifest>'
                      f'<spine>{"".join(refs)}</spine></package>')
    return path
