"""E-books (.epub): the chapters the spine lists, in its order, each read as a web page (html.py);
the book's title from its package file."""
from __future__ import annotations

import io
import posixpath
import zipfile

from .. import strings
from .base import Read, ReadError, check_zip
from .html import read as read_html
from .layout import TextBuilder

MAX_CHAPTER_BYTES = 20_000_000  # one XHTML file; check_zip already bounds the whole book


def read(data: bytes, source: str) -> Read:
    from bs4 import BeautifulSoup

    check_zip(data, source, ".epub")
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        container = BeautifulSoup(book.read("META-INF/container.xml"), "lxml-xml")
        package_path = container.find("rootfile")["full-path"]
        package = BeautifulSoup(book.read(package_path), "lxml-xml")
    except (KeyError, TypeError, zipfile.BadZipFile, OSError) as err:  # a zip, but not an e-book
        raise ReadError(source, strings.reason_corrupt_docx(err, ".epub")) from err
    folder = posixpath.dirname(package_path)
    items = {item.get("id"): item for item in package.find_all("item")}
    builder = TextBuilder()
    for ref in package.find_all("itemref"):
        item = items.get(ref.get("idref"))
        if item is None or "html" not in (item.get("media-type") or ""):
            continue
        name = posixpath.normpath(posixpath.join(folder, item.get("href", "")))
        try:
            info = book.getinfo(name)
        except KeyError:
            continue  # listed but missing: the other chapters still read
        if info.file_size > MAX_CHAPTER_BYTES:
            raise ReadError(source, strings.reason_zip_bomb(name, info.file_size, 0, ".epub"))
        text, _, blocks, _ = read_html(book.read(name), source)[:4]
        for block in blocks:  # the chapter's headings, paragraphs and lines, in the book's text
            builder.add(text[block.start:block.end], block.kind, block.level)
    title_tag = package.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    return Read(builder.text(), (), builder.blocks(), title)
