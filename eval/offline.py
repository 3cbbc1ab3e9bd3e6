"""Retrieval replayed in numpy over an index's stored vectors: thousands of questions in seconds.

`rag eval` asks every question through the engine, which is what users get but costs a Chroma
round trip per signal per question. Calibrating abstention and comparing fusion settings need
the same ranking many times over, so this loads a committed index once (passage and sentence
vectors, chunk texts, the BM25 index), embeds each question once, and replays the engine's
search: the same candidate pools (exact cosine instead of HNSW, which at this size finds the same
neighbours), the same `rag.retrieve.fuse`, and the answerer's support (the best cosine among the
sentences of the top-k hits) and direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.index_state import load_manifest, state_dir
from rag.lexical import LexicalIndex, LexicalResult
from rag.retrieve import crossing_query, fuse, name_bridge, word_bridge
from rag.settings import Settings
from rag.store import VectorStore, open_client
from rag.text import detect_language

from .metrics import search_form


@dataclass
class Library:
    """Everything a committed index holds, in memory."""

    chunk_ids: list[str]
    texts: list[str]
    sources: list[str]
    vectors: np.ndarray  # (chunks, dim)
    sentence_chunk: np.ndarray  # (sentences,) index into chunk_ids
    sentence_vectors: np.ndarray  # (sentences, dim)
    lexical: LexicalIndex
    embedder: str  # the name of the embedder that built the index: questions must be embedded by it too

    @cached_property
    def languages(self) -> np.ndarray:
        return np.array([detect_language(t) for t in self.texts])

    @cached_property
    def forms(self) -> list[str]:
        return [search_form(t) for t in self.texts]

    @cached_property
    def position(self) -> dict[str, int]:
        return {cid: i for i, cid in enumerate(self.chunk_ids)}


def load_library(index_dir: Path) -> Library:
    generation, manifest = load_manifest(index_dir)
    store = VectorStore(open_client(index_dir / "chroma", fresh=True), manifest.collection)
    ids = sorted(manifest.chunk_ids())
    chunks = store.get(ids)
    vectors = store.chunk_vectors(ids)
    position = {cid: i for i, cid in enumerate(ids)}
    sentences = store.sentences_of(ids)
    return Library(
        chunk_ids=ids,
        texts=[chunks[i].text for i in ids],
        sources=[chunks[i].source for i in ids],
        vectors=np.stack([vectors[i] for i in ids]),
        sentence_chunk=np.array([position[s.chunk_id] for s, _ in sentences]),
        sentence_vectors=np.stack([v for _, v in sentences]),
        lexical=LexicalIndex.load(state_dir(index_dir) / generation),
        embedder=manifest.embedder,
    )


@dataclass(frozen=True)
class Replayed:
    ranked: np.ndarray  # chunk positions, best first (up to `depth`)
    support: float  # best cosine among the sentences of the top-k hits
    support_language: str  # the language of that sentence's passage


def search(library: Library, question: str, vector: np.ndarray, settings: Settings, depth: int = 10,
           exclude: np.ndarray | None = None) -> Replayed:
    """Retriever.search(mode="hybrid") over the in-memory library. `exclude`: a boolean mask of
    chunks to treat as absent (for asking a question of the library without its own article)."""
    n = settings.candidates
    passage = library.vectors @ vector
    sentence = library.sentence_vectors @ vector
    if exclude is not None:
        passage = np.where(exclude, -np.inf, passage)
        sentence = np.where(exclude[library.sentence_chunk], -np.inf, sentence)
    dense = list(np.argsort(-passage)[:n])
    by_sentence = list(dict.fromkeys(library.sentence_chunk[np.argsort(-sentence)[: 3 * n]]))[:n]
    result = library.lexical.search(question, n + (0 if exclude is None else int(exclude.sum())))
    lexical = {library.position[i]: s for i, s in zip(result.ids, result.scores)
               if exclude is None or not exclude[library.position[i]]}
    lexical = dict(list(lexical.items())[:n])
    candidates = list(dict.fromkeys(dense + by_sentence + list(lexical)))
    # As Retriever._crossed: the question's words its own-language candidates lack, translated by the
    # optional lexicon and searched by BM25 (nothing without it).
    words = crossing_query(question, [library.texts[c] for c in candidates], settings)
    crossed = library.lexical.search(words, n + (0 if exclude is None else int(exclude.sum()))) if words else None
    across = {} if crossed is None else {library.position[i]: s for i, s in zip(crossed.ids, crossed.scores)
                                         if exclude is None or not exclude[library.position[i]]}
    across = dict(list(across.items())[:n])
    candidates += [c for c in across if c not in candidates]
    per_chunk = np.full(len(library.chunk_ids), -np.inf)
    np.maximum.at(per_chunk, library.sentence_chunk, sentence)
    ids = library.chunk_ids
    # As Retriever._lift: a passage in the other language gains the floors' gap.
    language = detect_language(question)
    lift = {c: settings.translingual_lift * (settings.abstain_below - settings.abstain_floor(language, library.languages[c]))
            for c in candidates}
    scores = fuse([ids[c] for c in candidates], {ids[c]: float(passage[c]) + lift[c] for c in candidates},
                  {ids[c]: float(per_chunk[c]) + lift[c] for c in candidates if np.isfinite(per_chunk[c])},
                  {ids[c]: s for c, s in lexical.items()}, result.coverage, settings)
    # As Retriever.search: a passage in the other language gains for its document holding the question's names.
    for i, share in name_bridge(question, {ids[c]: (library.sources[c], library.texts[c]) for c in candidates},
                                settings).items():
        scores[i] += share
    for i, gain in word_bridge(question, LexicalResult([ids[c] for c in across], list(across.values()), 0.0),
                               LexicalResult([ids[c] for c in lexical], list(lexical.values()), result.coverage),
                               {ids[c]: (library.sources[c], library.texts[c]) for c in candidates}, settings).items():
        scores[i] += gain
    ranked = np.array(sorted(candidates, key=lambda c: -scores[ids[c]])[:depth])
    top = ranked[: settings.top_k]
    in_top = np.isin(library.sentence_chunk, top)
    if not in_top.any():
        return Replayed(ranked, 0.0, "")
    best = int(np.argmax(np.where(in_top, sentence, -np.inf)))
    return Replayed(ranked, float(sentence[best]), str(library.languages[library.sentence_chunk[best]]))


def relevant(library: Library, evidence: Sequence[str]) -> np.ndarray:
    """Which chunks hold one of the evidence strings (in search form), as in eval.runner.score."""
    forms = [search_form(e) for e in evidence]
    return np.array([any(f and f in text for f in forms) for text in library.forms])
