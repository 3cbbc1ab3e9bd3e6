"""Incremental indexing: content hashes decide what is read, chunked and embedded."""
from __future__ import annotations

import hashlib
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .chunking import chunk_document, chunk_sentences
from .embedders import Embedder
from .index_state import (
    IndexBroken,
    IndexMissing,
    IndexProblem,
    Manifest,
    WriteLock,
    commit_generation,
    current_generation,
    load_manifest,
    state_dir,
    write_json,
)
from .lexical import LexicalIndex
from .readers import ReadError, absolute, discover, load_bytes, parse_document
from .settings import Settings
from .store import VectorStore, open_client
from . import strings
from .types import Chunk, FileFailure, IndexReport

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def index_paths(
    settings: Settings,
    embedder: Embedder,
    paths: list[Path],
    rebuild: bool = False,
    progress: Progress | None = None,
    remove: Sequence[str] = (),
) -> IndexReport:
    """Bring the index in line with `paths` (files and folders); `remove` names sources to drop.

    Documents that vanished from an indexed folder are dropped too; documents indexed from
    elsewhere are left alone.
    """
    started = time.perf_counter()
    index_dir = settings.index_dir
    report = IndexReport()
    with WriteLock(index_dir):
        old_generation, manifest, client = _open_for_write(index_dir, embedder, rebuild)
        if rebuild or manifest is None:
            manifest = Manifest(embedder=embedder.name, dim=embedder.dim, collection=f"chunks-{time.time_ns()}")
        store = VectorStore(client, manifest.collection, create=True)
        documents = dict(manifest.documents)

        files = discover(paths, lambda source, reason: report.failed.append(FileFailure(source, reason)))
        seen_paths = set()
        new_chunks: list[Chunk] = []
        by_path = {d["path"]: doc_id for doc_id, d in documents.items()}
        for done, (path, source) in enumerate(files, 1):
            if progress:
                progress("read", done, len(files))
            seen_paths.add(str(path))
            known = documents.get(by_path.get(str(path), ""))
            try:
                data = load_bytes(path, source, int(settings.max_file_mb * 1_000_000))
                file_sha = hashlib.sha256(data).hexdigest()
                if known and known["file_sha256"] == file_sha:
                    report.unchanged.append(source)
                    continue
                doc = parse_document(data, path, source)
            except ReadError as err:
                report.failed.append(FileFailure(err.source, err.reason))
                continue  # a file that turned bad keeps its previous version in the index
            chunks = chunk_document(doc, settings.chunk_max_chars, settings.chunk_min_chars)
            new_chunks.extend(chunks)
            (report.updated if known else report.added).append(source)
            documents[doc.id] = {
                "source": source,
                "path": str(path),
                "sha256": doc.sha256,
                "file_sha256": file_sha,
                "indexed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "chunks": [{"id": c.id, "start": c.start, "end": c.end, "page": c.page} for c in chunks],
            }

        roots = [str(absolute(p)).rstrip("/") + "/" for p in paths if p.is_dir()]
        for doc_id, doc in list(documents.items()):
            vanished = doc["path"] not in seen_paths and any(doc["path"].startswith(r) for r in roots)
            if vanished or doc["source"] in remove or doc["path"] in remove:
                report.removed.append(doc["source"])
                del documents[doc_id]

        if not documents and (rebuild or old_generation is None):
            # Nothing could be indexed: leave the previous index, if any, exactly as it was.
            if rebuild:
                for name in (manifest.collection, f"{manifest.collection}-sentences"):
                    client.delete_collection(name)
            report.seconds = time.perf_counter() - started
            return report
        if old_generation is not None and not (report.added or report.updated or report.removed):
            report.seconds = time.perf_counter() - started
            return report  # nothing changed: no embedding, no new generation
        report.chunks_embedded = _store_vectors(store, embedder, new_chunks, progress)
        manifest.documents = documents

        live_ids = manifest.chunk_ids()
        texts = {c.id: c.text for c in new_chunks}
        missing = [cid for cid in live_ids if cid not in texts]
        texts.update({cid: chunk.text for cid, chunk in store.get(missing).items()})
        ordered = sorted(live_ids)
        lexical = LexicalIndex(ordered, [texts[i] for i in ordered])

        generation = f"gen-{time.time_ns()}"
        folder = state_dir(index_dir) / generation
        lexical.save(folder)
        write_json(folder / "manifest.json", manifest.to_json())
        commit_generation(index_dir, generation)

        # Only now may anything the old generation used go away.
        store.delete_except(live_ids)
        if rebuild:
            for collection in client.list_collections():
                name = getattr(collection, "name", collection)
                if not name.startswith(manifest.collection):
                    client.delete_collection(name)
        # The previous generation stays one more round: a reader may be loading it right now.
        for old in state_dir(index_dir).glob("gen-*"):
            if old.name not in (generation, old_generation):
                shutil.rmtree(old, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _open_for_write(index_dir: Path, embedder: Embedder, rebuild: bool):
    try:
        generation, manifest = load_manifest(index_dir)
    except IndexMissing:
        generation, manifest = None, None
    except IndexBroken:
        if not rebuild:
            raise
        generation, manifest = None, None
        _set_aside(index_dir)
    if manifest is not None and not rebuild and manifest.embedder != embedder.name:
        raise IndexProblem(strings.EMBEDDER_MISMATCH.format(
            path=index_dir, built=manifest.embedder, dim=manifest.dim, asked=embedder.name))
    try:
        client = open_client(index_dir / "chroma")
    except Exception as err:  # Chroma raises many kinds on damaged files
        if not rebuild:
            raise IndexBroken(strings.BROKEN_INDEX.format(path=index_dir, detail=err)) from err
        _set_aside(index_dir)
        client = open_client(index_dir / "chroma")
    return generation, manifest, client


def _set_aside(index_dir: Path) -> None:
    """Move a damaged store out of the way rather than delete it: it may hold something the user wants."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in ("chroma", "state"):
        if (index_dir / name).exists():
            (index_dir / name).rename(index_dir / f"{name}.broken-{stamp}")


def _store_vectors(store: VectorStore, embedder: Embedder, chunks: list[Chunk], progress: Progress | None) -> int:
    """Embed the passages and sentences that have no vector yet; returns how many texts went through the model."""
    if not chunks:
        return 0
    expected = {c.id: chunk_sentences(c) for c in chunks}
    stored = store.sentence_counts(list(expected))  # left by a run that died before committing
    todo = [c for c in chunks if stored.get(c.id) != len(expected[c.id])]
    sentences = [s for c in todo for s in expected[c.id]]
    texts = {c.id: c.text for c in todo}
    sentence_texts = [texts[s.chunk_id][s.start:s.end] for s in sentences]
    chunk_shas = [_sha(c.text) for c in todo]
    sentence_shas = [_sha(t) for t in sentence_texts]
    known = store.vectors_by_text(chunk_shas + sentence_shas)
    unique = sorted({sha: text for sha, text in zip(chunk_shas + sentence_shas, [c.text for c in todo] + sentence_texts)
                     if sha not in known}.items())
    batch = 16
    for i in range(0, len(unique), batch):
        part = unique[i : i + batch]
        vectors = embedder.embed_passages([text for _, text in part])
        known.update({sha: v for (sha, _), v in zip(part, vectors)})
        if progress:
            progress("embed", min(i + batch, len(unique)), len(unique))
    if todo:
        store.add(todo, np.stack([known[s] for s in chunk_shas]), chunk_shas,
                  sentences, np.stack([known[s] for s in sentence_shas]), sentence_shas)
    return len(unique)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
