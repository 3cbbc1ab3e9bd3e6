"""Word documents (.docx): headings by style, list paragraphs and table rows as lines."""
from __future__ import annotations

import io
import re

from .. import strings
from .base import Read, ReadError, check_zip
from .layout import TextBuilder, infer_headings


def read(data: bytes, source: str) -> Read:
    import docx

    check_zip(data, source)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # not a zip, or a zip without the parts a .docx needs
        raise ReadError(source, strings.reason_corrupt_docx(err)) from err
    from docx.table import Table

    names = {style.style_id: style.name or "" for style in document.styles}
    builder = TextBuilder()
    title = (document.core_properties.title or "").strip()
    lines: list[str] = []  # consecutive list paragraphs
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            if lines:
                builder.add("\n".join(lines), "lines")
                lines = []
            rows = []
            for row in item.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                if any(cells):
                    rows.append(" | ".join(dict.fromkeys(c for c in cells if c)))  # merged cells repeat
            builder.add("\n".join(rows), "lines")
            continue
        style = names.get(item._p.style or "", "")  # python-docx's item.style searches the styles each time
        level = _docx_heading_level(style)
        if style.startswith("List") or item._p.pPr is not None and item._p.pPr.numPr is not None:
            lines.append(item.text)
            continue
        if lines:
            builder.add("\n".join(lines), "lines")
            lines = []
        if level:
            block = builder.add(item.text, "heading", level)
            if block is not None and level == 1 and not title:
                title = builder.text()[block.start:block.end]
        else:
            builder.add(item.text, "lines" if "\n" in item.text.strip() else "paragraph")
    if lines:
        builder.add("\n".join(lines), "lines")
    text = builder.text()
    return text, (), infer_headings(text, builder.blocks()), title


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0
