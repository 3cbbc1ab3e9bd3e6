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
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.save(str(path))
    return path
