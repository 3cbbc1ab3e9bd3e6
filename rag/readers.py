"""Files to Documents. Each format has one small reader; every failure names the file and the reason."""
from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import threading
import zipfile
from pathlib import Path
from typing import Callable

from . import strings
from .layout import TextBuilder, infer_headings, markdown_layout, plain_layout, strip_controls
from .text import fold_forms
from .types import Block, Document

# A .docx is a zip of XML. Real documents pack their XML 5-20 times; a bomb packs it hundreds of
# times. Refused before parsing: unpacked beyond these, lxml would hold gigabytes.
DOCX_MAX_UNPACKED = 300_000_000  # bytes, all members together
DOCX_MAX_RATIO = 100  # unpacked / packed, for a member larger than DOCX_RATIO_FLOOR
DOCX_RATIO_FLOOR = 5_000_000
PDF_MAX_UNPACKED = 200_000_000  # bytes of compressed PDF streams, images aside
_STREAM = re.compile(rb"stream\r?\n")

# PDFium is not thread-safe, and the chat reads and renders PDFs (the viewer) while it indexes: every
# use of pypdfium2 in the process holds this lock.
PDFIUM_LOCK = threading.RLock()

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


class ReadError(Exception):
    """A file that cannot become a Document; str() is the one-line reason shown to the user."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def doc_id_for(path: Path) -> str:
    """Stable across runs and working folders: the file's absolute path decides it."""
    return hashlib.sha256(str(absolute(path)).encode("utf-8")).hexdigest()[:16]


def absolute(path: Path) -> Path:
    """The file's one real path: the same folder reached through a symlink is the same documents."""
    return Path(os.path.realpath(path))


def read_document(path: Path, source: str, max_bytes: int) -> Document:
    """Read one file. `source` is the name the index and citations use for it."""
    return parse_document(load_bytes(path, source, max_bytes), path, source)


def load_bytes(path: Path, source: str, max_bytes: int) -> bytes:
    """The file's bytes, after the checks that must come before reading it at all."""
    try:
        info = path.stat()
    except OSError as err:
        raise ReadError(source, strings.reason_unreadable(err)) from err
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device named .txt would block or never end
        raise ReadError(source, strings.REASON_NOT_REGULAR)
    if info.st_size == 0:
        raise ReadError(source, strings.REASON_EMPTY)
    if info.st_size > max_bytes:
        raise ReadError(source, strings.reason_too_large(info.st_size, max_bytes))
    if path.suffix.lower() not in _READERS:
        raise ReadError(source, strings.reason_unsupported(path.suffix))
    try:
        return path.read_bytes()
    except OSError as err:
        raise ReadError(source, strings.reason_unreadable(err)) from err


def parse_document(data: bytes, path: Path, source: str) -> Document:
    try:
        text, pages, blocks, title = _READERS[path.suffix.lower()](data, source)
    except ReadError:
        raise
    except Exception as err:  # a damaged file can make any parser fail in its own way
        raise ReadError(source, strings.reason_unparsable(err)) from err
    if not text.strip():
        raise ReadError(source, strings.REASON_NO_TEXT)
    return Document(
        id=doc_id_for(path),
        source=source,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        pages=pages,
        blocks=tuple(blocks),
        title=title,
    )


Read = tuple[str, tuple[tuple[int, int], ...], list[Block], str]  # text, pages, blocks, title


def _decode(data: bytes, source: str) -> str:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # NUL bytes without a UTF-16 BOM: try UTF-16 by its shape, else it is binary.
        if _looks_utf16(data):
            return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
        raise ReadError(source, strings.REASON_BINARY)
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1256", "windows-1252", "iso-8859-6", "utf_16", "latin_1"]).best()
    if best is None or _control_ratio(str(best)) > 0.05:
        raise ReadError(source, strings.REASON_BINARY)
    return str(best)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0), odd.count(0)) > 0.3 * (len(sample) / 2) and min(even.count(0), odd.count(0)) < 0.05 * (len(sample) / 2)


def _control_ratio(text: str) -> float:
    if not text:
        return 1.0
    bad = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / min(len(text), 20000)


def _read_text(data: bytes, source: str) -> Read:
    text = _decode(data, source)
    if _control_ratio(text) > 0.05:
        raise ReadError(source, strings.REASON_BINARY)
    text, blocks = plain_layout(fold_forms(strip_controls(text)))
    first = blocks[0] if blocks and blocks[0].kind == "heading" and blocks[0].level == 1 else None
    title = text[first.start:first.end].lstrip("#").strip() if first else ""
    return text, (), blocks, title


def _read_markdown(data: bytes, source: str) -> Read:
    text = _decode(data, source)
    if _control_ratio(text) > 0.05:
        raise ReadError(source, strings.REASON_BINARY)
    text, blocks, title = markdown_layout(fold_forms(text))
    return text, (), blocks, title


_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "tr", "dt", "dd", "figcaption"]


def _read_html(data: bytes, source: str) -> Read:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, source), "lxml")
    title_tag = soup.find("title")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    root = soup.find("main") or soup.find("article") or soup.body or soup
    builder = TextBuilder()
    lines: list[str] = []  # consecutive list items or table rows: one block, one per line
    for element in root.find_all(_HTML_BLOCKS):
        if element.find(["p", "li", "blockquote", "tr", "pre"]):
            continue  # its children are collected on their own
        name = element.name
        if name in ("li", "tr"):
            cells = element.find_all(["td", "th"]) if name == "tr" else []
            line = " | ".join(" ".join(c.get_text().split()) for c in cells) if cells else " ".join(element.get_text().split())
            if line.strip(" |"):
                lines.append(line)
            if not _next_is_sibling_line(element):
                builder.add("\n".join(lines), "lines")
                lines = []
            continue
        if lines:
            builder.add("\n".join(lines), "lines")
            lines = []
        text = element.get_text()  # no separator: inline tags (<b>) sit inside words
        if name[0] == "h" and name[1:].isdigit():
            builder.add(text, "heading", int(name[1:]))
        else:
            builder.add(text, "lines" if name == "pre" else "paragraph")
    if lines:
        builder.add("\n".join(lines), "lines")
    if not builder.count:
        builder.add(root.get_text(" "))
    text, blocks = builder.text(), builder.blocks()
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    first_h1 = next((b for b in blocks if b.kind == "heading" and b.level == 1), None)
    title = title or (text[first_h1.start:first_h1.end] if first_h1 else "")
    return text, (), blocks, title


def _next_is_sibling_line(element) -> bool:
    following = element.find_next_sibling()
    return following is not None and following.name == element.name


def _read_pdf(data: bytes, source: str) -> Read:
    import pypdfium2 as pdfium

    from .pdf import document_words, read_blocks, resolve_hyphens

    _check_pdf_streams(data, source)
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            if "password" in str(err).lower():
                raise ReadError(source, strings.REASON_ENCRYPTED) from err
            raise ReadError(source, strings.reason_corrupt_pdf(err)) from err
        try:
            blocks, title = read_blocks(document)
        except Exception as err:  # PDFium reports damage page by page
            raise ReadError(source, strings.reason_corrupt_pdf(err)) from err
        finally:
            document.close()
    words = document_words(blocks)
    builder = TextBuilder()
    page_starts: dict[int, int] = {}
    for block in blocks:
        text, removed = resolve_hyphens(block.text, words)
        added = builder.add(text, block.kind, 2 if block.kind == "heading" else 0, exact=True)
        if added is None:
            continue
        for page, offset in block.pages:
            page_starts.setdefault(page, added.start + offset - sum(r < offset for r in removed))
    text = builder.text()
    count = len(page_starts) and max(page_starts) + 1
    starts = [page_starts.get(n) for n in range(count)]
    for n in range(count - 1, -1, -1):  # a page without text starts where the next one does
        if starts[n] is None:
            starts[n] = starts[n + 1] if n + 1 < count else len(text)
    pages = tuple((starts[n], starts[n + 1] if n + 1 < count else len(text) + 2) for n in range(count))
    blocks_out = builder.blocks()
    if not title:
        first = next((b for b in blocks_out if b.kind == "heading"), None)
        title = text[first.start:first.end] if first is not None and first.start == 0 else ""
    return text, pages, blocks_out, title


def _check_pdf_streams(data: bytes, source: str) -> None:
    """Refuse a PDF whose compressed streams (other than images, which text extraction never decodes)
    unpack to more than PDF_MAX_UNPACKED: PDFium would hold each one whole in memory. Counted by
    unpacking in slices that are thrown away, so the check itself stays small."""
    import zlib

    total = 0
    for match in _STREAM.finditer(data):
        head = data[max(0, match.start() - 1024) : match.start()]
        head = head[head.rfind(b"<<"):]
        if b"/FlateDecode" not in head or b"/Image" in head:
            continue
        inflater = zlib.decompressobj()
        pending = data[match.end() : match.end() + 64_000_000]
        while pending and not inflater.eof:
            try:
                total += len(inflater.decompress(pending, 1 << 20))
            except zlib.error:
                break  # damaged: PDFium will say so
            pending = inflater.unconsumed_tail
            if total > PDF_MAX_UNPACKED:
                raise ReadError(source, strings.reason_pdf_bomb(total))


def _read_docx(data: bytes, source: str) -> Read:
    import docx

    _check_zip(data, source)
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


def _check_zip(data: bytes, source: str) -> None:
    """Refuse a zip bomb by what the archive says it unpacks to, before anything is unpacked."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ReadError(source, strings.reason_corrupt_docx(err)) from err
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > DOCX_MAX_UNPACKED or (member.file_size > DOCX_RATIO_FLOOR and ratio > DOCX_MAX_RATIO):
            raise ReadError(source, strings.reason_zip_bomb(member.filename, total, ratio))


_READERS: dict[str, Callable[[bytes, str], Read]] = {
    ".txt": _read_text,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}


def discover(paths: list[Path], on_error: Callable[[str, str], None],
             follow_links: bool = False) -> list[tuple[Path, str]]:
    """Files under the given paths, as (absolute path, source name), in a stable order.

    Symlinks that stay inside the folder are followed once (a loop is reported instead of walked
    forever); those that lead out of it are reported and skipped unless `follow_links`: a link to
    /etc in a shared folder must not put the system's files into answers.
    """
    found: dict[str, Path] = {}
    for root in paths:
        if not root.exists():
            on_error(str(root), strings.REASON_MISSING)
            continue
        if root.is_file():
            found[_source_name(root)] = absolute(root)
            continue
        inside = os.path.realpath(root).rstrip("/") + "/"

        def leaves(path: Path) -> bool:
            if follow_links or not path.is_symlink():
                return False
            if (os.path.realpath(path).rstrip("/") + "/").startswith(inside):
                return False
            on_error(_source_name(path), strings.REASON_LINK_OUTSIDE)
            return True

        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            stat = os.stat(dirpath)
            if (stat.st_dev, stat.st_ino) in seen:
                on_error(_source_name(Path(dirpath)), strings.REASON_LOOP)
                dirnames[:] = []
                continue
            seen.add((stat.st_dev, stat.st_ino))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not leaves(Path(dirpath) / d))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or path.suffix.lower() not in SUPPORTED:
                    continue
                try:
                    path.stat()
                except OSError as err:  # a dangling link or a link loop
                    on_error(_source_name(path), strings.reason_unreadable(err))
                    continue
                if not leaves(path):
                    found[_source_name(path)] = absolute(path)
    # A file reached by two names (a link beside its target) is one document, under its first name.
    first: dict[Path, str] = {}
    for source, path in sorted(found.items()):
        first.setdefault(path, source)
    return sorted(((path, source) for path, source in first.items()), key=lambda pair: pair[1])


def _source_name(path: Path) -> str:
    """The path as the user would recognise it: relative to the working folder when inside it."""
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(os.path.abspath(path)).as_posix()
