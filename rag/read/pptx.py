"""Slides (.pptx): each slide's title a heading, its text boxes, tables and speaker notes below it;
a slide is a page, so a citation names its slide."""
from __future__ import annotations

import io

from .. import strings
from .base import Read, ReadError, check_zip
from .layout import TextBuilder


def read(data: bytes, source: str) -> Read:
    from pptx import Presentation

    check_zip(data, source, ".pptx")
    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as err:  # not a zip, or a zip without the parts a .pptx needs
        raise ReadError(source, strings.reason_corrupt_docx(err, ".pptx")) from err
    builder = TextBuilder()
    title = (deck.core_properties.title or "").strip()
    starts: list[int] = []
    for slide in deck.slides:
        starts.append(builder.length + (2 if builder.length else 0))
        heading = slide.shapes.title
        if heading is not None and heading.has_text_frame:
            added = builder.add(heading.text_frame.text, "heading", 2)
            if added is not None and not title:
                title = builder.text()[added.start:added.end]
        for shape in _shapes(slide.shapes):
            if heading is not None and shape.shape_id == heading.shape_id:
                continue  # python-pptx hands out a new proxy each time: compare ids
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = [" | ".join(c for c in (" ".join(cell.text.split()) for cell in row.cells) if c)
                        for row in shape.table.rows]
                builder.add("\n".join(rows), "lines")
            elif shape.has_text_frame:
                for paragraph in shape.text_frame.paragraphs:  # a bullet a block: short ones merge into lines
                    builder.add("".join(run.text for run in paragraph.runs) or paragraph.text)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            for paragraph in slide.notes_slide.notes_text_frame.paragraphs:
                builder.add(paragraph.text)
    text = builder.text()
    starts = [min(s, len(text)) for s in starts]
    pages = tuple(zip(starts, starts[1:] + [len(text) + 2]))
    return Read(text, pages, builder.blocks(), title)


def _shapes(shapes):
    """Shapes in reading order (top to bottom, then left to right), groups opened."""
    for shape in sorted(shapes, key=lambda s: ((s.top or 0), (s.left or 0))):
        if shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)
        else:
            yield shape
