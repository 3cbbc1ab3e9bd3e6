"""The vector store: two Chroma collections on disk (passages, and the sentences inside them),
written and queried through llama-index.

Every call to Chroma is bounded, whatever the library's size: ids travel in batches and listings
are paged (SQLite refuses a statement with more than 32,766 variables). Every row carries the
`run` that wrote it, so rows of a run that has not committed (still going, or killed) can be
filtered out inside the query itself instead of crowding committed rows out of the top k.
"""
from __future__ import annotations

import os
from pathlib import Path
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .lexical import has_content
from .types import Chunk, Sentence

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

BATCH = 1000  # ids per get/delete/add call
PAGE = 5000  # rows per page when listing a whole collection
OVERFETCH = 10  # rows asked beyond k, for the few stale rows a finished run leaves until its clean-up
REQUERIES = 3  # filtered queries after the plain one, each excluding every text seen before
WIDER = 4  # a plain query this many times wider is tried before the filtered ones
EXACT = 5000  # rows up to which a collection whose graph hides rows is searched exactly


@dataclass(frozen=True)
class Committed:
    """What the committed generation uses: its chunk ids, the runs that wrote their rows, and where
    the chunks' sentences start (so their rows can be read by id), where the manifest has it."""

    ids: frozenset[str]
    runs: tuple[int, ...]
    starts: Mapping[str, Sequence[int]] = field(default_factory=dict)


def open_client(folder: Path, fresh: bool = False):
    """A Chroma client for an index folder.

    Chroma keeps one client per path for the life of a process, and that client goes on serving
    the vectors it first saw after another process writes. `fresh` drops this path's cached
    client (only this path's, unlike SharedSystemClient.clear_system_cache(), which would pull the
    ground from under other indexes open in the same process) so the new one reads the disk.
    """
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if fresh:
        SharedSystemClient._identifier_to_system.pop(str(folder), None)
        SharedSystemClient._identifier_to_refcount.pop(str(folder), None)
    return chromadb.PersistentClient(path=str(folder), settings=chromadb.Settings(anonymized_telemetry=False))


class _Collection:
    """One Chroma collection, written through llama-index's ChromaVectorStore and read directly:
    importing llama-index costs about 1.3 s of CPU, more than the rest of `rag ask` together."""

    def __init__(self, client, name: str, create: bool) -> None:
        # embedding_function=None: Chroma's default function would download a model; we always pass vectors.
        if create:
            self.raw = client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        else:
            self.raw = client.get_collection(name, embedding_function=None)

    @cached_property
    def llama(self):
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.raw)

    def add(self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict],
            parents: Sequence[str]) -> None:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for node_id, text, vector, metadata, parent in zip(ids, texts, vectors, metadatas, parents):
            node = TextNode(id_=node_id, text=text, embedding=vector.tolist(), metadata=metadata)
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=parent)
            nodes.append(node)
        for batch in _batches(nodes, BATCH):
            # Replace rather than add: a run that died before committing may have left these ids.
            self.raw.delete(ids=[n.node_id for n in batch])
            self.llama.add(batch)

    def query(self, vector: np.ndarray, k: int, keep: Callable[[str, dict], bool],
              runs: Sequence[int]) -> list[tuple[str, float, dict]]:
        """The k nearest rows that `keep` accepts, one per distinct text, and none without content.

        The plain query over-fetches a little, and a wider one follows if that was not enough. When
        rows it must pass over fill even that (rows of a run that is still writing or was killed,
        passages without a content word, thousands of copies of one text), the query is repeated
        inside Chroma restricted to committed runs and content, and excluding the texts already
        seen, so such rows can never hide the ones that answer.
        """
        # No count() first (a call as dear as the query at 10,000 rows): Chroma returns fewer rows
        # than asked from a smaller collection; only then is the collection counted, once.
        count = cache(self.raw.count)
        asked = k + OVERFETCH
        rows = self._query(vector, asked)
        kept: list[tuple[str, float, dict]] = []
        seen: set[str] = set()
        _take(rows, keep, kept, seen)
        if len(kept) < k and not _exhausted(rows, asked, count):
            # A few copies among the rows (a sentence found in two documents) only need the next
            # rows: a plain query four times as wide (36 ms at 300,000 rows) nearly always has
            # them, where a filtered query takes seconds at that size.
            asked *= WIDER
            rows = self._query(vector, asked)
            kept, seen = [], set()
            _take(rows, keep, kept, seen)
        for _ in range(REQUERIES):
            if len(kept) >= k or _exhausted(rows, asked, count):
                break
            where: list[dict] = [{"content": True}, {"text_sha": {"$nin": sorted(seen)}}]
            if runs:
                where.append({"run": {"$in": list(runs)}})
            rows = self._query(vector, asked, where={"$and": where})
            _take(rows, keep, kept, seen)
        if len(kept) < k and len(rows) < asked and not _exhausted(rows, asked, count) and count() <= EXACT:
            # The graph walled rows off from every query: a small collection is searched exactly.
            kept, seen = [], set()
            _take(self._exact(vector, count()), keep, kept, seen)
        return sorted(kept, key=lambda row: -row[1])[:k]

    def _exact(self, vector: np.ndarray, count: int) -> list[tuple[str, float, dict]]:
        rows = []
        for offset in range(0, count, PAGE):
            got = self.raw.get(include=["embeddings", "metadatas"], limit=PAGE, offset=offset)
            sims = np.asarray(got["embeddings"], dtype=np.float32) @ vector if got["ids"] else []
            rows.extend((i, float(sim), meta) for i, sim, meta in zip(got["ids"], sims, got["metadatas"]))
        return sorted(rows, key=lambda row: -row[1])

    def _query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float, dict]]:
        result = self.raw.query(query_embeddings=[vector.tolist()], n_results=k, where=where,
                                include=["metadatas", "distances"])
        # Chroma's cosine distance is 1 - cosine.
        return [(i, 1.0 - d, meta) for i, d, meta in zip(result["ids"][0], result["distances"][0], result["metadatas"][0])]

    def ids(self) -> Iterable[str]:
        """Every row id, a page at a time."""
        offset = 0
        while True:
            page = self.raw.get(include=[], limit=PAGE, offset=offset)["ids"]
            yield from page
            if len(page) < PAGE:
                return
            offset += PAGE

    def count(self) -> int:
        return self.raw.count()

    def get(self, include: list[str], ids: Sequence[str] | None = None, where: dict | None = None) -> dict:
        if ids is not None and not ids:
            return {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        return self.raw.get(ids=list(ids) if ids is not None else None, where=where, include=include)

    def delete(self, ids: Iterable[str]) -> None:
        for batch in _batches(sorted(ids), BATCH):
            self.llama.delete_nodes(node_ids=batch)

    def set_run(self, ids: Sequence[str], run: int) -> None:
        for batch in _batches(list(ids), BATCH):
            got = self.raw.get(ids=batch, include=["metadatas"])
            self.raw.update(ids=got["ids"], metadatas=[{**meta, "run": run} for meta in got["metadatas"]])


class VectorStore:
    """`committed`: what readers may see; None for a writer, which sees every row."""

    def __init__(self, client, collection_name: str, create: bool = False, committed: Committed | None = None) -> None:
        self.name = collection_name
        self.committed = committed
        self._chunks = _Collection(client, collection_name, create)
        self._sentences = _Collection(client, f"{collection_name}-sentences", create)

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, text_shas: Sequence[str],
            sentences: Sequence[Sentence], sentence_vectors: np.ndarray, sentence_shas: Sequence[str],
            run: int) -> None:
        self._chunks.add(
            [c.id for c in chunks], [c.text for c in chunks], vectors,
            [{"doc_id": c.doc_id, "source": c.source, "start": c.start, "end": c.end, "page": c.page or 0,
              "heading": c.heading, "text_sha": sha, "run": run, "content": has_content(c.text),
              "ocr": c.ocr}
             for c, sha in zip(chunks, text_shas)],
            [c.doc_id for c in chunks],
        )
        texts = {c.id: c.text for c in chunks}
        sentence_texts = [texts[s.chunk_id][s.start:s.end] for s in sentences]
        self._sentences.add(
            [s.id for s in sentences], sentence_texts, sentence_vectors,
            [{"chunk_id": s.chunk_id, "start": s.start, "end": s.end, "text_sha": sha, "run": run,
              "content": has_content(text)} for s, sha, text in zip(sentences, sentence_shas, sentence_texts)],
            [s.chunk_id for s in sentences],
        )

    def adopt(self, chunk_ids: Sequence[str], run: int) -> None:
        """Claim for `run` the complete rows a killed run left, so they are committed with it."""
        self._chunks.set_run(chunk_ids, run)
        for batch in _batches(list(chunk_ids), 500):
            got = self._sentences.get([], where={"chunk_id": {"$in": batch}})
            self._sentences.set_run(got["ids"], run)

    def query_chunks(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of committed chunks, best first."""
        live, runs = self._live()
        return [(i, score) for i, score, _ in self._chunks.query(vector, k, lambda i, _: live is None or i in live, runs)]

    def query_sentences(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity of its sentence) of committed chunks, best sentence first."""
        live, runs = self._live()
        rows = self._sentences.query(vector, k, lambda _, meta: live is None or meta["chunk_id"] in live, runs)
        return [(meta["chunk_id"], score) for _, score, meta in rows]

    def _live(self) -> tuple[frozenset[str] | None, tuple[int, ...]]:
        return (self.committed.ids, self.committed.runs) if self.committed else (None, ())

    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        got = self._chunks.get(["embeddings"], ids=ids)
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> list[tuple[str, np.ndarray]]:
        """(chunk id, vector) of every embedded sentence of these chunks. Vectors alone: Chroma takes
        longer to hand over the rows' metadata than their vectors, and a sentence's id names its chunk."""
        return [(i.rpartition(":")[0], np.asarray(v, dtype=np.float32))
                for got in self._sentence_rows(chunk_ids, ["embeddings"]) for i, v in zip(got["ids"], got["embeddings"])]

    def sentences_of(self, chunk_ids: Sequence[str]) -> list[tuple[Sentence, np.ndarray]]:
        return [(Sentence(meta["chunk_id"], int(meta["start"]), int(meta["end"])), np.asarray(vector, dtype=np.float32))
                for got in self._sentence_rows(chunk_ids, ["embeddings", "metadatas"])
                for vector, meta in zip(got["embeddings"], got["metadatas"])]

    def _sentence_rows(self, chunk_ids: Sequence[str], include: list[str]) -> Iterable[dict]:
        """The sentence rows of these chunks: by id where the manifest says where their sentences
        start (3 ms instead of 40 at 300,000 rows), by their chunk_id metadata otherwise."""
        starts = self.committed.starts if self.committed else {}
        known = [f"{c}:{start}" for c in chunk_ids if c in starts for start in starts[c]]
        for batch in _batches(known, BATCH):
            yield self._sentences.get(include, ids=batch)
        for batch in _batches([c for c in chunk_ids if c not in starts], 500):
            yield self._sentences.get(include, where={"chunk_id": {"$in": batch}})

    def get(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for batch in _batches(list(ids), BATCH):
            got = self._chunks.get(["documents", "metadatas"], ids=batch)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                out[cid] = Chunk(id=cid, doc_id=meta["doc_id"], source=meta["source"], text=text,
                                 start=int(meta["start"]), end=int(meta["end"]), page=int(meta["page"]) or None,
                                 heading=meta.get("heading", ""), ocr=bool(meta.get("ocr", False)))
        return out

    def sentence_counts(self, chunk_ids: Sequence[str]) -> dict[str, int]:
        """How many sentence vectors each chunk has stored; sentences are written after their chunk,
        so a complete count means a run that died later left this chunk whole."""
        counts: dict[str, int] = {}
        for batch in _batches(list(chunk_ids), 500):
            got = self._sentences.get(["metadatas"], where={"chunk_id": {"$in": batch}})
            for meta in got["metadatas"]:
                counts[meta["chunk_id"]] = counts.get(meta["chunk_id"], 0) + 1
        return counts

    def vectors_by_text(self, text_shas: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors already stored for these texts (passages or sentences), so identical content is embedded once."""
        out: dict[str, np.ndarray] = {}
        for collection in (self._chunks, self._sentences):
            for batch in _batches(sorted(set(text_shas) - set(out)), 500):
                # One row per text: a text stored under many documents would otherwise bring back
                # every copy's vector.
                got = collection.get(["metadatas"], where={"text_sha": {"$in": batch}})
                first: dict[str, str] = {}
                for row_id, meta in zip(got["ids"], got["metadatas"]):
                    first.setdefault(meta["text_sha"], row_id)
                rows = collection.get(["embeddings", "metadatas"], ids=list(first.values()))
                for vector, meta in zip(rows["embeddings"], rows["metadatas"]):
                    out[meta["text_sha"]] = np.asarray(vector, dtype=np.float32)
        return out

    def delete_except(self, live_chunk_ids: set[str], sentences: int) -> None:
        """Drop every vector that the committed generation does not use (`sentences`: how many
        sentence rows it uses). Listing a collection is skipped when its count shows nothing stale."""
        if self._chunks.count() > len(live_chunk_ids):
            self._chunks.delete([i for i in self._chunks.ids() if i not in live_chunk_ids])
        if self._sentences.count() > sentences:
            # A sentence's id is "<chunk id>:<start>": no metadata needs reading to find its chunk.
            self._sentences.delete([i for i in self._sentences.ids() if i.rpartition(":")[0] not in live_chunk_ids])

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        """Drop these chunks and their sentences: what an update or removal left behind."""
        self._chunks.delete(chunk_ids)
        for batch in _batches(list(chunk_ids), 500):
            self._sentences.delete(self._sentences.get([], where={"chunk_id": {"$in": batch}})["ids"])


def _exhausted(rows: list, asked: int, count: Callable[[], int]) -> bool:
    """Whether a query that returned fewer rows than asked has seen the whole collection. Not
    always: HNSW's graph can wall off a cluster of identical vectors (forty copies of one text),
    and then only the filtered query, which excludes them, reaches the rows behind them."""
    return len(rows) < asked and len(rows) >= count()


def _take(rows: list[tuple[str, float, dict]], keep: Callable[[str, dict], bool], kept: list, seen: set[str]) -> None:
    """Adds to `kept` the rows of texts not seen before that have content and that `keep` accepts."""
    for row in rows:
        sha = row[2].get("text_sha", row[0])
        if sha not in seen and row[2].get("content", True) and keep(row[0], row[2]):
            kept.append(row)
        seen.add(sha)


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
