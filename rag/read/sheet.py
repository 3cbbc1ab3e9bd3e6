"""Spreadsheets (.xlsx) and tables (.csv): each row a line that names its columns ("Port: Hallow |
Ships: 42"), so a row quoted alone still says what its numbers are; each sheet a section under its
name. Rows are bounded: beyond MAX_ROWS the rest is left out, and a line in the text says so."""
from __future__ import annotations

import csv
import datetime
import io

from .. import strings
from .base import Read, ReadError, check_zip
from .decode import decode
from .layout import TextBuilder

MAX_ROWS = 20_000  # rows read from one file, all sheets together (~2 MB of text)
MAX_COLUMNS = 60  # cells read from one row
MAX_CELL = 2_000  # characters kept of one cell


def read_xlsx(data: bytes, source: str) -> Read:
    from openpyxl import load_workbook

    check_zip(data, source, ".xlsx")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # not a zip, or not a workbook
        raise ReadError(source, strings.reason_corrupt_docx(err, ".xlsx")) from err
    try:
        builder, left = TextBuilder(), MAX_ROWS
        for sheet in book.worksheets:
            if left <= 0:
                break
            rows = (row[:MAX_COLUMNS] for row in sheet.iter_rows(values_only=True))
            left = _table(builder, sheet.title if len(book.worksheets) > 1 or sheet.title != "Sheet" else "", rows, left)
        title = (book.properties.title or "").strip()
    finally:
        book.close()
    return Read(builder.text(), (), builder.blocks(), title)


def read_csv(data: bytes, source: str) -> Read:
    text = decode(data, source)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:  # one column, or too irregular to tell: commas
        dialect = csv.excel
    builder = TextBuilder()
    rows = (row[:MAX_COLUMNS] for row in csv.reader(io.StringIO(text), dialect))
    try:
        _table(builder, "", rows, MAX_ROWS)
    except csv.Error as err:
        raise ReadError(source, strings.reason_unparsable(err)) from err
    return Read(builder.text(), (), builder.blocks(), "")


def _table(builder: TextBuilder, name: str, rows, left: int) -> int:
    """One sheet into the builder: its name a heading, a line per row. Returns the rows left."""
    header: list[str] | None = None
    lines: list[str] = []
    for row in rows:
        cells = [_cell(value) for value in row]
        if not any(cells):
            continue
        if header is None:
            # The first row names the columns when it is all words (no numbers, no dates).
            if all(isinstance(v, str) or v is None for v in row) and sum(map(bool, cells)) > 1:
                header = cells
                continue
            header = []
        if left <= 0:
            lines.append(strings.reason_too_many_rows(MAX_ROWS))
            break
        left -= 1
        named = [f"{header[i]}: {c}" if i < len(header) and header[i] else c for i, c in enumerate(cells) if c]
        lines.append(" | ".join(named))
    if lines:
        if name:
            builder.add(name, "heading", 2)
        builder.add("\n".join(lines), "lines")
    return left


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    return " ".join(str(value).split())[:MAX_CELL]
