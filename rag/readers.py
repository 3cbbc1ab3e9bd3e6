"""Files to Documents. Each format has one small reader; every failure names the file and the reason."""
from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from pathlib import Path
from typing import Callable

from . import strings
from .text import fold_forms, logical_order
from .types import Document

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
    return Path(os.path.abspath(path))


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
        text, pages = _READERS[path.suffix.lower()](data, source)
    except ReadError:
        raise
    except Exception as err:  # a damaged file can make any parser fail in its own way
        raise ReadError(source, strings.reason_unparsable(err)) from err
    text = _clean(text, pages)
    if not text.strip():
        raise ReadError(source, strings.REASON_NO_TEXT)
    return Document(
        id=doc_id_for(path),
        source=source,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        pages=pages,
    )


def _clean(text: str, pages: tuple[tuple[int, int], ...]) -> str:
    """Line endings and presentation forms; paged text (PDF) is cleaned per page by its reader,
    since changing it here would shift the page offsets."""
    if pages:
        return text
    return fold_forms(text.replace("\r\n", "\n").replace("\r", "\n"))


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


def _read_text(data: bytes, source: str) -> tuple[str, tuple]:
    text = _decode(data, source)
    if _control_ratio(text) > 0.05:
        raise ReadError(source, strings.REASON_BINARY)
    return text, ()


def _read_html(data: bytes, source: str) -> tuple[str, tuple]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, source), "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks = []
    for element in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd"]):
        if element.find(["p", "li", "blockquote", "td"]):
            continue  # its children are collected on their own
        line = " ".join(element.get_text().split())  # no separator: inline tags (<b>) sit inside words
        if line:
            blocks.append(line)
    if not blocks:
        blocks = [" ".join(root.get_text(" ").split())]
    return "\n\n".join(blocks), ()


def _read_pdf(data: bytes, source: str) -> tuple[str, tuple]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ReadError(source, strings.REASON_ENCRYPTED)
        texts = ["\n".join(logical_order(line) for line in fold_forms(page.extract_text() or "").split("\n"))
                 for page in reader.pages]
    except ReadError:
        raise
    except Exception as err:  # pypdf fails in many ways on damaged files
        raise ReadError(source, strings.reason_corrupt_pdf(err)) from err
    text, pages, pos = [], [], 0
    for page_text in texts:
        page_text = re.sub(r"[ \t]+\n", "\n", page_text.replace("\r\n", "\n")).strip()
        pages.append((pos, pos + len(page_text) + 2))
        text.append(page_text + "\n\n")
        pos += len(page_text) + 2
    return "".join(text), tuple(pages)


def _read_docx(data: bytes, source: str) -> tuple[str, tuple]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # not a zip, or a zip without the parts a .docx needs
        raise ReadError(source, strings.reason_corrupt_docx(err)) from err
    blocks = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(" | ".join(cells))
    return "\n\n".join(blocks), ()


_READERS: dict[str, Callable[[bytes, str], tuple[str, tuple]]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".markdown": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}


def discover(paths: list[Path], on_error: Callable[[str, str], None]) -> list[tuple[Path, str]]:
    """Files under the given paths, as (absolute path, source name), in a stable order.

    Symlinked folders are followed once; a loop is reported instead of walked forever.
    """
    found: dict[str, Path] = {}
    for root in paths:
        if not root.exists():
            on_error(str(root), strings.REASON_MISSING)
            continue
        if root.is_file():
            found[_source_name(root)] = absolute(root)
            continue
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            stat = os.stat(dirpath)
            if (stat.st_dev, stat.st_ino) in seen:
                on_error(_source_name(Path(dirpath)), strings.REASON_LOOP)
                dirnames[:] = []
                continue
            seen.add((stat.st_dev, stat.st_ino))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or path.suffix.lower() not in SUPPORTED:
                    continue
                try:
                    path.stat()
                except OSError as err:  # a dangling link or a link loop
                    on_error(_source_name(path), strings.reason_unreadable(err))
                    continue
                found[_source_name(path)] = absolute(path)
    return [(path, source) for source, path in sorted(found.items())]


def _source_name(path: Path) -> str:
    """The path as the user would recognise it: relative to the working folder when inside it."""
    try:
        return absolute(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute(path).as_posix()
