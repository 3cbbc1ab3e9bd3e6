"""The vector store: two Chroma collections on disk (passages, and the sentences inside them),
written and queried through llama-index."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .types import Chunk, Sentence

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


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
    """One Chroma collection behind llama-index's ChromaVectorStore."""

    def __init__(self, client, name: str, create: bool) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        # embedding_function=None: Chroma's default function would download a model; we always pass vectors.
        if create:
            self.raw = client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        else:
            self.raw = client.get_collection(name, embedding_function=None)
        self.llama = ChromaVectorStore(chroma_collection=self.raw)

    def add(self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict],
            parents: Sequence[str]) -> None:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for node_id, text, vector, metadata, parent in zip(ids, texts, vectors, metadatas, parents):
            node = TextNode(id_=node_id, text=text, embedding=vector.tolist(), metadata=metadata)
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=parent)
            nodes.append(node)
        for batch in _batches(nodes, 1000):
            # Replace rather than add: a run that died before committing may have left these ids.
            self.raw.delete(ids=[n.node_id for n in batch])
            self.llama.add(batch)

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float, dict]]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        k = min(k, self.raw.count())
        if k <= 0:
            return []
        result = self.llama.query(VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k))
        # llama-index reports exp(-distance); Chroma's cosine distance is 1 - cosine.
        return [(node.node_id, 1.0 + math.log(max(s, 1e-12)), node.metadata)
                for node, s in zip(result.nodes, result.similarities)]

    def get(self, include: list[str], ids: Sequence[str] | None = None, where: dict | None = None) -> dict:
        if ids is not None and not ids:
            return {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        return self.raw.get(ids=list(ids) if ids is not None else None, where=where, include=include)

    def delete(self, ids: Iterable[str]) -> None:
        for batch in _batches(sorted(ids), 1000):
            self.llama.delete_nodes(node_ids=batch)


class VectorStore:
    def __init__(self, client, collection_name: str, create: bool = False) -> None:
        self.name = collection_name
        self._chunks = _Collection(client, collection_name, create)
        self._sentences = _Collection(client, f"{collection_name}-sentences", create)

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, text_shas: Sequence[str],
            sentences: Sequence[Sentence], sentence_vectors: np.ndarray, sentence_shas: Sequence[str]) -> None:
        self._chunks.add(
            [c.id for c in chunks], [c.text for c in chunks], vectors,
            [{"doc_id": c.doc_id, "source": c.source, "start": c.start, "end": c.end, "page": c.page or 0,
              "heading": c.heading, "text_sha": sha} for c, sha in zip(chunks, text_shas)],
            [c.doc_id for c in chunks],
        )
        texts = {c.id: c.text for c in chunks}
        self._sentences.add(
            [s.id for s in sentences], [texts[s.chunk_id][s.start:s.end] for s in sentences], sentence_vectors,
            [{"chunk_id": s.chunk_id, "start": s.start, "end": s.end, "text_sha": sha}
             for s, sha in zip(sentences, sentence_shas)],
            [s.chunk_id for s in sentences],
        )

    def query_chunks(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        return [(i, score) for i, score, _ in self._chunks.query(vector, k)]

    def query_sentences(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity of its sentence), best sentence first."""
        return [(meta["chunk_id"], score) for _, score, meta in self._sentences.query(vector, k)]

    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        got = self._chunks.get(["embeddings"], ids=ids)
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def sentences_of(self, chunk_ids: Sequence[str]) -> list[tuple[Sentence, np.ndarray]]:
        out = []
        for batch in _batches(list(chunk_ids), 500):
            got = self._sentences.get(["embeddings", "metadatas"], where={"chunk_id": {"$in": batch}})
            for vector, meta in zip(got["embeddings"], got["metadatas"]):
                out.append((Sentence(meta["chunk_id"], int(meta["start"]), int(meta["end"])),
                            np.asarray(vector, dtype=np.float32)))
        return out

    def get(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for batch in _batches(list(ids), 1000):
            got = self._chunks.get(["documents", "metadatas"], ids=batch)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                out[cid] = Chunk(id=cid, doc_id=meta["doc_id"], source=meta["source"], text=text,
                                 start=int(meta["start"]), end=int(meta["end"]), page=int(meta["page"]) or None,
                                 heading=meta.get("heading", ""))
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
                got = collection.get(["embeddings", "metadatas"], where={"text_sha": {"$in": batch}})
                for vector, meta in zip(got["embeddings"], got["metadatas"]):
                    out[meta["text_sha"]] = np.asarray(vector, dtype=np.float32)
        return out

    def delete_except(self, live_chunk_ids: set[str]) -> None:
        """Drop every vector that the committed generation does not use."""
        self._chunks.delete(set(self._chunks.get([])["ids"]) - live_chunk_ids)
        got = self._sentences.get(["metadatas"])
        self._sentences.delete(i for i, meta in zip(got["ids"], got["metadatas"]) if meta["chunk_id"] not in live_chunk_ids)


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
