"""What every reader shares: the error that names the file, the shape a reader returns, and the
checks that come before a parser sees untrusted bytes."""
from __future__ import annotations

import io
import re
import threading
import zipfile
from typing import NamedTuple

from .. import strings
from ..types import Block, WordBox

# A zip (.docx and the other Office and e-book formats) is refused before parsing when it would unpack
# to more than these: real documents pack their XML 5-20 times; a bomb packs it hundreds of times.
ZIP_MAX_UNPACKED = 300_000_000  # bytes, all members together
ZIP_MAX_RATIO = 100  # unpacked / packed, for a member larger than ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 5_000_000

# PDFium is not thread-safe, and the chat reads and renders PDFs (the viewer) while it indexes: every
# use of pypdfium2 in the process holds this lock.
PDFIUM_LOCK = threading.RLock()


class ReadError(Exception):
    """A file that cannot become a Document; str() is the one-line reason shown to the user."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class Read(NamedTuple):
    """What every reader returns from (bytes, source name). A reader may return a plain 4-tuple."""

    text: str
    pages: tuple[tuple[int, int], ...]  # char ranges, one per page (PDF, images)
    blocks: list[Block]
    title: str
    ocr_pages: tuple[int, ...] = ()  # 1-based pages read by OCR, and the words it read on them
    words: tuple[WordBox, ...] = ()


def check_zip(data: bytes, source: str, kind: str = ".docx") -> None:
    """Refuse a zip bomb by what the archive says it unpacks to, before anything is unpacked.
    `kind`: the format, as the user knows it (".xlsx"), for the message."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ReadError(source, strings.reason_corrupt_docx(err, kind)) from err
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > ZIP_MAX_UNPACKED or (member.file_size > ZIP_RATIO_FLOOR and ratio > ZIP_MAX_RATIO):
            raise ReadError(source, strings.reason_zip_bomb(member.filename, total, ratio, kind))
