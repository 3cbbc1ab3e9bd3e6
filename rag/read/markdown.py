"""Markdown: the text a reader sees, markup removed, headings as blocks."""
from __future__ import annotations

from .. import strings
from ..text import fold_forms
from .base import Read, ReadError
from .decode import control_ratio, decode
from .layout import markdown_layout


def read(data: bytes, source: str) -> Read:
    text = decode(data, source)
    if control_ratio(text) > 0.05:
        raise ReadError(source, strings.REASON_BINARY)
    text, blocks, title = markdown_layout(fold_forms(text))
    return text, (), blocks, title
