"""Files to Documents. Each format has one small module with a `read(data, source) -> Read`; every
failure names the file and the reason. This module is the registry and the one entry point."""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Callable

from .. import strings
from ..types import Document
from . import docx, epub, html, image, markdown, odt, pdf, pptx, sheet, text
from .base import PDFIUM_LOCK, Read, ReadError
from .ocr import PAGE_PROGRESS

READERS: dict[str, Callable[[bytes, str], Read]] = {
    ".txt": text.read,
    ".md": markdown.read,
    ".markdown": markdown.read,
    ".html": html.read,
    ".htm": html.read,
    ".pdf": pdf.read,
    ".docx": docx.read,
    ".png": image.read,
    ".jpg": image.read,
    ".jpeg": image.read,
    ".tif": image.read,
    ".tiff": image.read,
    ".webp": image.read,
    ".pptx": pptx.read,
    ".xlsx": sheet.read_xlsx,
    ".csv": sheet.read_csv,
    ".odt": odt.read,
    ".epub": epub.read,
}
SUPPORTED = tuple(READERS)

__all__ = ["PDFIUM_LOCK", "READERS", "SUPPORTED", "ReadError", "absolute", "discover", "doc_id_for", "load_bytes",
           "parse_document", "read_document"]


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
    if path.suffix.lower() not in READERS:
        raise ReadError(source, strings.reason_unsupported(path.suffix))
    try:
        return path.read_bytes()
    except OSError as err:
        raise ReadError(source, strings.reason_unreadable(err)) from err


def parse_document(data: bytes, path: Path, source: str,
                   pages_read: Callable[[int, int], None] | None = None) -> Document:
    """`pages_read(done, total)` is told of each page OCR reads (seconds each: the indexer shows it)."""
    token = PAGE_PROGRESS.set(pages_read)
    try:
        text, pages, blocks, title, ocr_pages, words = Read(*READERS[path.suffix.lower()](data, source))
    except ReadError:
        raise
    except Exception as err:  # a damaged file can make any parser fail in its own way
        raise ReadError(source, strings.reason_unparsable(err)) from err
    finally:
        PAGE_PROGRESS.reset(token)
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
        ocr_pages=tuple(ocr_pages),
        words=tuple(words),
    )


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
