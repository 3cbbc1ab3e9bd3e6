"""OpenDocument text (.odt, LibreOffice's own): headings by outline level, paragraphs, list items and
table rows as lines, in the order the body holds them."""
from __future__ import annotations

import io

from .. import strings
from .base import Read, ReadError, check_zip
from .layout import TextBuilder, infer_headings


def read(data: bytes, source: str) -> Read:
    from odf import teletype
    from odf.namespaces import DCNS, TABLENS, TEXTNS
    from odf.opendocument import load

    check_zip(data, source, ".odt")
    try:
        document = load(io.BytesIO(data))
    except Exception as err:  # not a zip, or not an OpenDocument
        raise ReadError(source, strings.reason_corrupt_docx(err, ".odt")) from err
    builder = TextBuilder()
    title = ""
    for node in document.meta.childNodes:
        if node.qname == (DCNS, "title"):
            title = " ".join(teletype.extractText(node).split())

    def walk(parent) -> None:
        nonlocal title
        for node in parent.childNodes:
            name = getattr(node, "qname", None)
            if name == (TEXTNS, "h"):
                level = int(node.getAttrNS(TEXTNS, "outline-level") or 1)
                added = builder.add(teletype.extractText(node), "heading", level)
                if added is not None and level == 1 and not title:
                    title = builder.text()[added.start:added.end]
            elif name == (TEXTNS, "p"):
                builder.add(teletype.extractText(node))
            elif name == (TEXTNS, "list"):
                items = [teletype.extractText(p) for p in _all(node, (TEXTNS, "p"))]
                builder.add("\n".join(items), "lines")
            elif name == (TABLENS, "table"):
                rows = []
                for row in _all(node, (TABLENS, "table-row")):
                    cells = [" ".join(teletype.extractText(c).split()) for c in row.childNodes
                             if getattr(c, "qname", None) == (TABLENS, "table-cell")]
                    if any(cells):
                        rows.append(" | ".join(c for c in cells if c))
                builder.add("\n".join(rows), "lines")
            elif name == (TEXTNS, "section"):
                walk(node)

    walk(document.text)
    text = builder.text()
    return Read(text, (), infer_headings(text, builder.blocks()), title)


def _all(node, qname):
    """Descendants with this name, in document order."""
    for child in node.childNodes:
        if getattr(child, "qname", None) == qname:
            yield child
        else:
            yield from _all(child, qname)
