"""The vector store: a Chroma collection on disk, written and queried through llama-index."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .types import Chunk

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def open_client(folder: Path):
    import chromadb

    folder.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(folder), settings=chromadb.Settings(anonymized_telemetry=False))


def forget_cached_clients() -> None:
    """Chroma caches one client per path for the life of a process, and such a client keeps serving
    the vectors it saw first; after another process writes, the cache must go."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


class VectorStore:
    def __init__(self, client, collection_name: str, create: bool = False) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        # embedding_function=None: Chroma's default function would download a model; we always pass vectors.
        if create:
            collection = client.get_or_create_collection(
                collection_name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        else:
            collection = client.get_collection(collection_name, embedding_function=None)
        self.name = collection_name
        self._collection = collection
        self._store = ChromaVectorStore(chroma_collection=collection)

    def count(self) -> int:
        return self._collection.count()

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, text_shas: Sequence[str]) -> None:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for chunk, vector, sha in zip(chunks, vectors, text_shas):
            node = TextNode(
                id_=chunk.id,
                text=chunk.text,
                embedding=vector.tolist(),
                metadata={
                    "doc_id": chunk.doc_id,
                    "source": chunk.source,
                    "start": chunk.start,
                    "end": chunk.end,
                    "page": chunk.page or 0,
                    "heading": chunk.heading,
                    "text_sha": sha,
                },
                start_char_idx=chunk.start,
                end_char_idx=chunk.end,
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.doc_id)
            nodes.append(node)
        for batch in _batches(nodes, 1000):
            self._store.add(batch)

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        k = min(k, self.count())
        if k <= 0:
            return []
        result = self._store.query(VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k))
        # llama-index reports exp(-distance); Chroma's cosine distance is 1 - cosine.
        return [(i, 1.0 + math.log(max(s, 1e-12))) for i, s in zip(result.ids, result.similarities)]

    def get(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for batch in _batches(list(ids), 1000):
            got = self._collection.get(ids=batch, include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                out[cid] = Chunk(
                    id=cid,
                    doc_id=meta["doc_id"],
                    source=meta["source"],
                    text=text,
                    start=int(meta["start"]),
                    end=int(meta["end"]),
                    page=int(meta["page"]) or None,
                    heading=meta.get("heading", ""),
                )
        return out

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for batch in _batches(list(ids), 1000):
            found.update(self._collection.get(ids=batch, include=[])["ids"])
        return found

    def vectors_by_text(self, text_shas: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors already stored for these texts, so identical content is embedded once."""
        out: dict[str, np.ndarray] = {}
        for batch in _batches(sorted(set(text_shas)), 500):
            got = self._collection.get(where={"text_sha": {"$in": batch}}, include=["embeddings", "metadatas"])
            for vector, meta in zip(got["embeddings"], got["metadatas"]):
                out[meta["text_sha"]] = np.asarray(vector, dtype=np.float32)
        return out

    def all_ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def delete(self, ids: Iterable[str]) -> None:
        for batch in _batches(sorted(ids), 1000):
            self._store.delete_nodes(node_ids=batch)


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
