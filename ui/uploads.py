"""Uploads into the uploads folder without ever replacing a good copy.

A file is checked (read as the indexer will read it) straight from Gradio's temporary copy, written
under a temporary name beside its final place, and only then linked into place under a name no other
file has: a same-named, different document is kept beside the first as `notes (2).md`, never over it.
A file whose text is already indexed, under any name, is not added again. The caller indexes the
placed files and hands back those the index did not take (discard()).

Until then each new file has a pending mark beside it naming the process that placed it: a chat killed
while indexing leaves the mark, and the next start removes the file it names (recover()).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rag import DocInfo, strings
from rag.index_state import IndexProblem
from rag.read import SUPPORTED, ReadError, load_bytes, parse_document

PENDING = ".pending-"  # a placed file not yet indexed: {"name": ..., "pid": ...}
INCOMING = ".incoming-"  # a file being written, before it has its name
# Neither has a suffix, so no upload (which needs one, SUPPORTED) is ever taken for one of them.
_LEFT_BEHIND = re.compile(rf"(?:{re.escape(PENDING)}[0-9a-f]{{16}}|{re.escape(INCOMING)}(\d+)-\w+)")


@dataclass
class Placed:
    paths: list[Path] = field(default_factory=list)  # to index: new files and identical copies already here
    new: list[Path] = field(default_factory=list)  # the files this upload created (discard() may remove them)
    notes: list[str] = field(default_factory=list)  # one line per file refused or renamed
    refused: int = 0

    def refuse(self, note: str) -> None:
        self.notes.append(note)
        self.refused += 1


def indexed_documents(engine) -> list[DocInfo]:
    try:
        return engine.documents()
    except IndexProblem:
        return []


def accept_uploads(files: list[str], uploads_dir: Path, max_file_mb: float, indexed: list[DocInfo] = (),
                   pages_read: Callable[[int, int], None] | None = None) -> Placed:
    """`indexed`: the index's documents; an upload whose text one of them has is not placed again.
    `pages_read(done, total)`: told of each scanned page OCR reads (the index then finds it cached)."""
    placed = Placed()
    uploads_dir.mkdir(parents=True, exist_ok=True)
    max_bytes = int(max_file_mb * 1_000_000)
    known = {doc.sha256: doc.source for doc in indexed}
    for upload in map(Path, files):
        name = upload.name
        size = upload.stat().st_size
        if upload.suffix.lower() not in SUPPORTED:
            placed.refuse(strings.docs_unsupported(name))
            continue
        if size > max_bytes:
            placed.refuse(strings.docs_too_large(name, size, max_file_mb))
            continue
        try:
            data = load_bytes(upload, name, max_bytes)
            text_sha = parse_document(data, upload, name, pages_read).sha256
        except ReadError as err:
            placed.refuse(f"{name}: {err.reason}")
            continue
        target = uploads_dir / name
        if target.is_file() and target.read_bytes() == data:
            placed.paths.append(target)  # the same file again: the index finds it unchanged
            continue
        if text_sha in known:  # a copy under another name would be a second, identical document
            placed.notes.append(strings.docs_already_here(name, known[text_sha]))
            continue
        final = _place(data, uploads_dir, name)
        known[text_sha] = final.name  # and twice in one upload is once
        if final.name != name:
            placed.notes.append(strings.docs_kept_both(name, final.name))
        placed.paths.append(final)
        placed.new.append(final)
    return placed


def discard(placed: Placed, indexed_paths: set[str]) -> None:
    """Removes the files this upload created that the index did not take: a failed upload leaves nothing."""
    for path in placed.new:
        if os.path.abspath(path) not in indexed_paths:
            path.unlink(missing_ok=True)
        _mark(path).unlink(missing_ok=True)


def recover(uploads_dir: Path, indexed_paths: set[str]) -> list[str]:
    """At the chat's start: removes each file an interrupted upload placed but never indexed, and what
    it was still writing, and says which. Indexing them instead could end this start as the last one
    ended; the user uploads them again. Marks of a process still running (another chat) are its own."""
    notes: list[str] = []
    if not uploads_dir.is_dir():
        return notes
    for mark in sorted(uploads_dir.glob(PENDING + "*")):
        if not _LEFT_BEHIND.fullmatch(mark.name):
            continue
        try:
            record = json.loads(mark.read_text(encoding="utf-8"))
            path, pid = uploads_dir / Path(record["name"]).name, int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            mark.unlink(missing_ok=True)
            continue
        if _alive(pid):
            continue
        if path.is_file() and os.path.abspath(path) not in indexed_paths:
            path.unlink()
            notes.append(strings.upload_interrupted(path.name))
        mark.unlink(missing_ok=True)
    for temporary in uploads_dir.glob(INCOMING + "*"):
        left = _LEFT_BEHIND.fullmatch(temporary.name)
        if left and not _alive(int(left.group(1))):
            temporary.unlink(missing_ok=True)
    return notes


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _mark(path: Path) -> Path:
    return path.with_name(PENDING + hashlib.sha256(path.name.encode()).hexdigest()[:16])


def _numbered(name: str, n: int) -> str:
    """`notes.md`, then `notes (2).md`, …; a long stem is shortened to keep the name within the 255
    bytes a file name may have (a 250-byte name uploaded twice failed with "OSError")."""
    if n == 1:
        return name
    stem, suffix = Path(name).stem, Path(name).suffix
    tail = f" ({n}){suffix}"
    return stem.encode()[:255 - len(tail.encode())].decode(errors="ignore") + tail


def _place(data: bytes, folder: Path, name: str) -> Path:
    """Writes data under a temporary name, then links it to the first free name: link() never replaces
    an existing file, so two uploads of one name at once cannot overwrite each other either. The
    pending mark is written first, under the name it will have, so a kill leaves nothing unmarked."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f"{INCOMING}{os.getpid()}-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        for n in range(1, 10_000):
            final = folder / _numbered(name, n)
            if os.path.lexists(final):
                continue
            mark = _mark(final)
            mark.write_text(json.dumps({"name": final.name, "pid": os.getpid()}), encoding="utf-8")
            try:
                os.link(temporary, final)
                return final
            except FileExistsError:  # taken since the look: its own upload marked it too
                continue
            except OSError:
                mark.unlink(missing_ok=True)
                raise
        raise OSError(f"no free name for {name} in {folder}")
    finally:
        os.unlink(temporary)
