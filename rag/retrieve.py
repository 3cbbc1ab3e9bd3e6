"""Dense and lexical retrieval, fused so that each helps only where it can."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .embedders import Embedder
from .lexical import LexicalIndex
from .settings import Settings
from .store import VectorStore
from .types import Hit

RETRIEVERS = ("hybrid", "dense", "bm25")


@dataclass
class Retriever:
    settings: Settings
    embedder: Embedder
    store: VectorStore
    lexical: LexicalIndex
    live_ids: set[str]  # the committed generation's chunks; anything else in Chroma is not yet (or no longer) indexed

    def search(self, query: str, k: int, mode: str = "hybrid", query_vector: np.ndarray | None = None) -> list[Hit]:
        if mode not in RETRIEVERS:
            raise ValueError(f"unknown retriever {mode!r}; choose one of {', '.join(RETRIEVERS)}")
        n = self.settings.candidates
        dense: list[tuple[str, float]] = []
        if mode != "bm25":
            vector = query_vector if query_vector is not None else self.embedder.embed_queries([query])[0]
            # Over-fetch: ids that a crashed writer left behind are filtered out here.
            dense = [(i, s) for i, s in self.store.query(vector, n + 10) if i in self.live_ids][:n]
        lexical_ids: list[str] = []
        weight = 0.0
        if mode != "dense":
            result = self.lexical.search(query, n)
            lexical_ids, weight = result.ids, result.coverage
        if mode == "bm25":
            weight = 1.0
        scores = _fuse(dense, lexical_ids, weight, self.settings.rrf_k)
        best = sorted(scores, key=lambda i: -scores[i])[:k]
        chunks = self.store.get(best)
        dense_rank = {i: r for r, (i, _) in enumerate(dense, 1)}
        dense_score = dict(dense)
        lexical_rank = {i: r for r, i in enumerate(lexical_ids, 1)}
        return [
            Hit(chunk=chunks[i], score=scores[i], dense_rank=dense_rank.get(i), lexical_rank=lexical_rank.get(i),
                dense_score=dense_score.get(i))
            for i in best
            if i in chunks
        ]


def _fuse(dense: list[tuple[str, float]], lexical: list[str], lexical_weight: float, k: int) -> dict[str, float]:
    """Reciprocal-rank fusion with the lexical list weighted by how much of the query BM25 could see.

    An English question over Arabic text shares almost no terms with it; plain RRF then mixes
    BM25's noise in at full weight and loses to dense alone (XQuAD en->ar hit@1 0.753 -> 0.702).
    Weighting by the query's idf coverage keeps BM25 at full strength for same-language questions
    and silent for cross-lingual ones.
    """
    scores: dict[str, float] = {}
    for rank, (cid, _) in enumerate(dense, 1):
        scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    for rank, cid in enumerate(lexical, 1):
        scores[cid] = scores.get(cid, 0.0) + lexical_weight / (k + rank)
    return scores
