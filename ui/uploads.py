"""Uploads into the uploads folder without ever replacing a good copy.

A file is checked (read as the indexer will read it) straight from Gradio's temporary copy, written
under a temporary name beside its final place, and only then linked into place under a name no other
file has: a same-named, different document is kept beside the first as `notes (2).md`, never over it.
The caller indexes the placed files and hands back those the index did not take (discard()).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rag import strings
from rag.read import SUPPORTED, ReadError, load_bytes, parse_document


@dataclass
class Placed:
    paths: list[Path] = field(default_factory=list)  # to index: new files and identical copies already here
    new: list[Path] = field(default_factory=list)  # the files this upload created (discard() may remove them)
    notes: list[str] = field(default_factory=list)  # one line per file refused or renamed
    refused: int = 0

    def refuse(self, note: str) -> None:
        self.notes.append(note)
        self.refused += 1


def accept_uploads(files: list[str], uploads_dir: Path, max_file_mb: float) -> Placed:
    placed = Placed()
    uploads_dir.mkdir(parents=True, exist_ok=True)
    max_bytes = int(max_file_mb * 1_000_000)
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
            parse_document(data, upload, name)
        except ReadError as err:
            placed.refuse(f"{name}: {err.reason}")
            continue
        target = uploads_dir / name
        if target.is_file() and target.read_bytes() == data:
            placed.paths.append(target)  # the same file again: the index finds it unchanged
            continue
        final = _place(data, uploads_dir, name)
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


def _place(data: bytes, folder: Path, name: str) -> Path:
    """Writes data under a temporary name, then links it to the first free name: link() never replaces
    an existing file, so two uploads of one name at once cannot overwrite each other either."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        stem, suffix = Path(name).stem, Path(name).suffix
        for n in range(1, 10_000):
            final = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
            try:
                os.link(temporary, final)
                return final
            except FileExistsError:
                continue
        raise OSError(f"no free name for {name} in {folder}")
    finally:
        os.unlink(temporary)
