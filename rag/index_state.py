"""What is on disk under index/: a committed generation (manifest + lexical index) and the Chroma store.

Layout:
    index/chroma/               Chroma's own files (one collection per full build)
    index/state/CURRENT         name of the committed generation; replaced atomically
    index/state/gen-N/          manifest.json and the BM25 files of generation N
    index/.lock                 held (flock) by the one process that writes

A writer adds vectors first, then commits a new generation by renaming CURRENT into place, then
deletes what the old generation alone used. A reader trusts only the committed manifest, so a
writer killed at any moment leaves the previous generation whole.
"""
from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import strings

FORMAT = 5  # 2: sentence vectors beside passage vectors; 3: gentle Arabic stems in BM25; 4: rows tagged by run;
# 5: documents read as a reader sees them (Markdown rendered, wrapping folded, PDFs in reading order): new offsets
OWN_NAMES = {".lock", "chroma", "state"}


class IndexProblem(Exception):
    """Any problem with the index as a whole; the message says what to run."""


class IndexMissing(IndexProblem):
    pass


class IndexBroken(IndexProblem):
    pass


class IndexLocked(IndexProblem):
    pass


@dataclass
class Manifest:
    embedder: str
    dim: int
    collection: str
    documents: dict[str, dict] = field(default_factory=dict)  # doc id -> {source, path, sha256, file_sha256, indexed_at, run, chunks}
    format: int = FORMAT

    def chunk_ids(self) -> set[str]:
        return {c["id"] for d in self.documents.values() for c in d["chunks"]}

    def runs(self) -> tuple[int, ...]:
        """The indexing runs whose rows this generation uses (one per run that changed a document)."""
        return tuple(sorted({int(d["run"]) for d in self.documents.values()}))

    def sentence_starts(self) -> dict[str, list[int]]:
        """Where each chunk's embedded sentences start, for chunks indexed since this was kept."""
        return {c["id"]: c["starts"] for d in self.documents.values() for c in d["chunks"] if "starts" in c}

    def sentence_count(self) -> int:
        return sum(c["sentences"] for d in self.documents.values() for c in d["chunks"])

    def to_json(self) -> dict:
        return {"format": self.format, "embedder": self.embedder, "dim": self.dim,
                "collection": self.collection, "documents": self.documents}

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}")
        return cls(embedder=data["embedder"], dim=int(data["dim"]), collection=data["collection"],
                   documents=data["documents"])


def state_dir(index_dir: Path) -> Path:
    return index_dir / "state"


def current_generation(index_dir: Path) -> str | None:
    try:
        return (state_dir(index_dir) / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def load_manifest(index_dir: Path) -> tuple[str, Manifest]:
    generation = current_generation(index_dir)
    if generation is None:
        # Only our own names: a first build that died before committing. Anything else is not ours.
        foreign = [p.name for p in index_dir.iterdir() if p.name not in OWN_NAMES] if index_dir.is_dir() else []
        if foreign:
            raise IndexBroken(strings.BROKEN_INDEX.format(path=index_dir, detail="no committed generation"))
        raise IndexMissing(strings.NO_INDEX.format(path=index_dir))
    try:
        data = json.loads((state_dir(index_dir) / generation / "manifest.json").read_text(encoding="utf-8"))
        return generation, Manifest.from_json(data)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise IndexBroken(strings.BROKEN_INDEX.format(path=index_dir, detail=err)) from err


def commit_generation(index_dir: Path, generation: str) -> None:
    """The single atomic step that makes a new generation the index."""
    folder = state_dir(index_dir)
    tmp = folder / "CURRENT.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(generation)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / "CURRENT")
    _fsync_dir(folder)


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WriteLock:
    """An flock on index/.lock: the kernel drops it when the holder dies, so a stale lock never blocks."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / ".lock"
        self._handle = None

    def __enter__(self) -> "WriteLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            handle.close()
            raise IndexLocked(strings.INDEX_LOCKED.format(path=self.path.parent, pid=pid)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        assert self._handle is not None
        self._handle.seek(0)
        self._handle.truncate()
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
