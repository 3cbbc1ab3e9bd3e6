"""Incremental indexing: content hashes decide what is read, chunked and embedded."""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .chunking import chunk_document, chunk_sentences
from .cores import embedding_threads
from .embedders import Embedder
from .index_state import IndexBroken, IndexMissing, IndexProblem, Manifest
from .read import ReadError, absolute, discover, load_bytes, parse_document
from .settings import Settings
from .state import LocalState, State, latest_lexical, lexical_index, open_state
from .store import VectorStore
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
    state = open_state(settings)
    report = IndexReport()
    run = time.time_ns()  # tags every row this run writes; its generation commits them
    with state.lock():
        old_generation, manifest, client = _open_for_write(state, embedder, rebuild)
        # Documents keep the names they were indexed under, wherever this run is started from.
        names = {d["path"]: d["source"] for d in manifest.documents.values()} if manifest else {}
        old_live = manifest.chunk_ids() if manifest and not rebuild else set()
        if rebuild or manifest is None:
            manifest = Manifest(embedder=embedder.name, dim=embedder.dim, collection=f"chunks-{time.time_ns()}")
        store = VectorStore(client, manifest.collection, create=True)
        documents = dict(manifest.documents)

        files = discover(paths, lambda source, reason: report.failed.append(FileFailure(source, reason)), settings.follow_links)
        seen_paths = set()
        new_chunks: list[Chunk] = []
        by_path = {d["path"]: doc_id for doc_id, d in documents.items()}
        for done, (path, source) in enumerate(files):
            if progress:  # files read so far: reading a large PDF is most of a small upload's time
                progress("read", done, len(files))
            seen_paths.add(str(path))
            source = names.get(str(path), source)
            known = documents.get(by_path.get(str(path), ""))
            try:
                data = load_bytes(path, source, int(settings.max_file_mb * 1_000_000))
                file_sha = hashlib.sha256(data).hexdigest()
                if known and known["file_sha256"] == file_sha:
                    report.unchanged.append(source)
                    continue
                # OCR takes seconds a page: a scan reports its pages as a stage of their own.
                doc = parse_document(data, path, source, progress and (lambda done, total: progress("ocr", done, total)))
                chunks = chunk_document(doc, settings.chunk_max_chars, settings.chunk_min_chars, settings.max_chunks_per_document)
            except ReadError as err:
                report.failed.append(FileFailure(err.source, err.reason))
                continue  # a file that turned bad keeps its previous version in the index
            new_chunks.extend(chunks)
            (report.updated if known else report.added).append(source)
            documents[doc.id] = {
                "source": source,
                "path": str(path),
                "sha256": doc.sha256,
                "file_sha256": file_sha,
                "indexed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "run": run,
                "chunks": [{"id": c.id, "start": c.start, "end": c.end, "page": c.page} for c in chunks],
            }

        if progress and files:
            progress("read", len(files), len(files))
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
        with embedder.using_threads(embedding_threads(settings.index_threads) if new_chunks else 1):
            report.chunks_embedded, sentence_starts = _store_vectors(store, embedder, new_chunks, run, progress)
        for doc in documents.values():
            for entry in doc["chunks"]:
                if "sentences" not in entry:
                    # The starts name the sentences' rows ("<chunk id>:<start>"): a reader fetches
                    # them by id, much faster than by their chunk_id metadata in a large collection.
                    entry["starts"] = sentence_starts.get(entry["id"], [])
                    entry["sentences"] = len(entry["starts"])
        manifest.documents = documents
        if progress:
            progress("save", 0, 1)

        live_ids = manifest.chunk_ids()
        # BM25 takes the terms of every chunk it already has from the newest generation kept here
        # (a rebuild tokenises everything again: it is also how a changed tokenizer takes effect).
        previous = None if rebuild else latest_lexical(state.index_dir)[1]
        lexical = lexical_index(sorted(live_ids), store, {c.id: c for c in new_chunks}, previous)
        generation = f"gen-{run}"
        state.commit(generation, manifest, lexical)

        # Only now may anything the old generation used go away. The index is already committed:
        # a failure here leaves unused rows that readers filter out and the next run collects.
        try:
            store.delete_chunks(sorted(old_live - live_ids))
            store.delete_except(live_ids, manifest.sentence_count())
            if rebuild:
                for collection in client.list_collections():
                    name = getattr(collection, "name", collection)
                    if name.startswith("chunks-") and not name.startswith(manifest.collection):
                        client.delete_collection(name)
        except Exception as err:  # Chroma raises many kinds; none of them may undo the commit
            report.notes.append(strings.cleanup_failed(err))
        try:
            # The previous generation stays one more round: a reader may be loading it right now.
            state.prune({generation, old_generation or generation})
        except IndexProblem as err:
            report.notes.append(strings.cleanup_failed(err))
    report.seconds = time.perf_counter() - started
    return report


def _open_for_write(state: State, embedder: Embedder, rebuild: bool):
    try:
        generation, manifest = state.load()
    except IndexMissing:
        generation, manifest = None, None
    except IndexBroken:
        if not rebuild:
            raise
        generation, manifest = None, None
        _set_aside(state)
    if manifest is not None and not rebuild and manifest.embedder != embedder.name:
        raise IndexProblem(strings.EMBEDDER_MISMATCH.format(
            path=state.describe(), built=manifest.embedder, dim=manifest.dim, asked=embedder.name))
    try:
        client = state.client()
    except IndexProblem:
        raise
    except Exception as err:  # Chroma raises many kinds on damaged files
        if not rebuild:
            raise IndexBroken(strings.BROKEN_INDEX.format(path=state.describe(), detail=err)) from err
        _set_aside(state)
        client = state.client()
    return generation, manifest, client


def _set_aside(state: State) -> None:
    """Move a damaged store out of the way rather than delete it: it may hold something the user wants.
    (A server's damaged manifest is simply replaced by the rebuild's.)"""
    if not isinstance(state, LocalState):
        return
    index_dir = state.index_dir
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in ("chroma", "state"):
        if (index_dir / name).exists():
            (index_dir / name).rename(index_dir / f"{name}.broken-{stamp}")


EMBED_BATCH = 16  # texts per forward pass
STORE_BATCH = 64  # chunks embedded and written together: memory stays bounded and a killed run keeps its work


def _store_vectors(store: VectorStore, embedder: Embedder, chunks: list[Chunk], run: int,
                   progress: Progress | None) -> tuple[int, dict[str, list[int]]]:
    """Embed and store the passages and sentences that have no vector yet, a batch of chunks at a
    time. Returns how many texts went through the model, and where each chunk's sentences start."""
    expected = {c.id: chunk_sentences(c) for c in chunks}
    counts = {cid: len(sentences) for cid, sentences in expected.items()}
    stored = store.sentence_counts(list(expected))  # left by a run that died before committing
    complete = [c.id for c in chunks if stored.get(c.id) == counts[c.id]]
    if complete:
        store.adopt(complete, run)
    done_ids = set(complete)
    todo = [c for c in chunks if c.id not in done_ids]
    total = sum(1 + counts[c.id] for c in todo)
    embedded = done = 0
    if progress and total:
        progress("embed", 0, total)
    for part in _batches(todo, STORE_BATCH):
        sentences = [s for c in part for s in expected[c.id]]
        texts = {c.id: c.text for c in part}
        sentence_texts = [texts[s.chunk_id][s.start:s.end] for s in sentences]
        chunk_shas = [_sha(c.text) for c in part]
        sentence_shas = [_sha(t) for t in sentence_texts]
        known = store.vectors_by_text(chunk_shas + sentence_shas)
        unique = sorted({sha: text for sha, text in zip(chunk_shas + sentence_shas, [c.text for c in part] + sentence_texts)
                         if sha not in known}.items())
        rows, batches = len(part) + len(sentences), list(_batches(unique, EMBED_BATCH))
        for i, batch in enumerate(batches, 1):
            vectors = embedder.embed_passages([text for _, text in batch])
            known.update({sha: v for (sha, _), v in zip(batch, vectors)})
            if progress and i < len(batches):  # within a part too: a small document is one part
                progress("embed", done + rows * i // len(batches), total)
        embedded += len(unique)
        store.add(part, np.stack([known[s] for s in chunk_shas]), chunk_shas,
                  sentences, np.stack([known[s] for s in sentence_shas]), sentence_shas, run)
        done += len(part) + len(sentences)
        if progress:
            progress("embed", done, total)
    return embedded, {cid: [s.start for s in sentences] for cid, sentences in expected.items()}


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
