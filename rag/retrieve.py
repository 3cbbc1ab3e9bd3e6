"""Dense and lexical retrieval, fused so that each helps only where it can."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import bridge, lexicon
from .embedders import Embedder
from .lexical import LexicalIndex, LexicalResult, has_content, is_word_list
from .settings import Settings
from .store import VectorStore
from .text import detect_language, fold_whitespace, normalize
from .types import Hit, Sentence

RETRIEVERS = ("hybrid", "dense", "bm25")
LIST_LINES = 8  # a passage of this many lines of one or two words is a word list, not an answer


@dataclass
class Retriever:
    """hybrid: passage vectors + sentence vectors + BM25; dense: passage vectors only; bm25: BM25 only."""

    settings: Settings
    embedder: Embedder
    store: VectorStore
    lexical: LexicalIndex  # the store answers for committed chunks only, and BM25 holds nothing else

    def search(self, query: str, k: int, mode: str = "hybrid", query_vector: np.ndarray | None = None) -> list[Hit]:
        if mode not in RETRIEVERS:
            raise ValueError(f"unknown retriever {mode!r}; choose one of {', '.join(RETRIEVERS)}")
        n = self.settings.candidates
        if mode == "bm25":
            result = self.lexical.search(query, n)
            return self._hits(result.ids, dict(zip(result.ids, result.scores)), k, lexical=result.ids)
        vector = query_vector if query_vector is not None else self.embedder.embed_queries([query])[0]
        dense = self.store.query_chunks(vector, n)
        if mode == "dense":
            return self._hits([i for i, _ in dense], dict(dense), k, dense=dense)
        by_sentence = list(dict.fromkeys(i for i, _ in self.store.query_sentences(vector, 3 * n)))
        result = self.lexical.search(query, n)
        candidates = list(dict.fromkeys([i for i, _ in dense] + by_sentence[:n] + result.ids))
        chunks = self.store.get(candidates)
        crossed = self._crossed(query, [chunk.text for chunk in chunks.values()], n)
        if new := [i for i in crossed.ids if i not in chunks]:
            candidates += new
            chunks.update(self.store.get(new))
        passage = self.store.chunk_vectors(candidates)
        passage_sim = {i: float(v @ vector) for i, v in passage.items()}
        sentence_sim: dict[str, float] = {}
        for chunk_id, v in self.store.sentence_vectors(candidates):
            sentence_sim[chunk_id] = max(sentence_sim.get(chunk_id, -1.0), float(v @ vector))
        texts = {i: (chunk.source, f"{chunk.heading}\n{chunk.text}") for i, chunk in chunks.items()}
        lift = self._lift(query, {i: chunk.text for i, chunk in chunks.items()})
        scores = fuse(candidates, {i: v + lift.get(i, 0.0) for i, v in passage_sim.items()},
                      {i: v + lift.get(i, 0.0) for i, v in sentence_sim.items()},
                      dict(zip(result.ids, result.scores)), result.coverage, self.settings)
        for i, share in name_bridge(query, texts, self.settings).items():
            scores[i] += share
        for i, gain in word_bridge(query, crossed, result, texts, self.settings).items():
            scores[i] += gain
        ranked = sorted(scores, key=lambda i: -scores[i])
        return self._hits(ranked, scores, k, dense=dense, lexical=result.ids, passage_sim=passage_sim)

    def _crossed(self, query: str, texts: list[str], n: int) -> LexicalResult:
        """BM25 for the question's words that the candidates in its own language lack, translated into
        the other language (rag/lexicon.py, an optional extra; nothing without it)."""
        words = crossing_query(query, texts, self.settings)
        return self.lexical.search(words, n) if words else LexicalResult([], [], 0.0)

    def _lift(self, query: str, texts: dict[str, str]) -> dict[str, float]:
        """What a passage in another language than the query gains: similarities run lower across
        languages (the gap the abstention floors measure), and without this a question in a bilingual
        library is answered from its own language's documents whatever they say (eval/natural:
        cross-language hit@5 0.20). Nothing changes in a library of one language."""
        share = self.settings.translingual_lift
        if not share or not texts:
            return {}
        language = detect_language(query)
        gap = {other: self.settings.abstain_below - self.settings.abstain_floor(language, other) for other in ("ar", "en")}
        return {i: share * gap[detect_language(text)] for i, text in texts.items()}

    def sentences(self, hits: list[Hit]) -> list[tuple[int, Sentence, np.ndarray]]:
        """The embedded sentences of these hits, as (hit index, sentence, vector), in reading order."""
        position = {hit.chunk.id: i for i, hit in enumerate(hits)}
        found = self.store.sentences_of(list(position))
        return sorted(((position[s.chunk_id], s, v) for s, v in found), key=lambda t: (t[0], t[1].start))

    def _hits(self, ranked: list[str], scores: dict[str, float], k: int, dense: list[tuple[str, float]] = (),
              lexical: list[str] = (), passage_sim: dict[str, float] | None = None) -> list[Hit]:
        """The first k of `ranked` that say something: a passage without a content word (a run of
        numbers or stray letters), a word list, or a copy of a passage ranked above it, only takes a place from a
        real one (a junk file of 40,000 copies of one word hid every other document)."""
        dense_rank = {i: r for r, (i, _) in enumerate(dense, 1)}
        lexical_rank = {i: r for r, i in enumerate(lexical, 1)}
        cosine = passage_sim if passage_sim is not None else dict(dense)
        hits: list[Hit] = []
        seen: set[str] = set()
        chunks: dict = {}
        page = max(2 * k, 10)  # texts are read a page at a time: most questions need only the first
        for n, i in enumerate(ranked):
            if n % page == 0:
                chunks = self.store.get(ranked[n : n + page])
            chunk = chunks.get(i)
            if chunk is None or not has_content(chunk.text) or is_word_list(chunk.text, min_lines=LIST_LINES):
                continue
            key = fold_whitespace(normalize(chunk.text))
            if key in seen:
                continue
            seen.add(key)
            hits.append(Hit(chunk=chunk, score=scores[i], dense_rank=dense_rank.get(i), lexical_rank=lexical_rank.get(i),
                            dense_score=cosine.get(i)))
            if len(hits) == k:
                break
        return hits



def name_bridge(query: str, texts: dict[str, tuple[str, str]], settings: Settings) -> dict[str, float]:
    """What a passage in the other language gains for its document holding the question's names,
    transliterated (rag/bridge.py): BM25's part for a cross-language question, which shares no other
    term with the text (eval/natural: an English question about the Kairouan museum was answered from
    a page about another museum). `texts`: each candidate's document and its heading and text."""
    if not settings.weight_bridge or not texts:
        return {}
    ids = list(texts)
    return {i: settings.weight_bridge * share for i, share in zip(ids, bridge.shares(query, [texts[i] for i in ids]))
            if share}


def crossing_query(query: str, texts: list[str], settings: Settings) -> str:
    """The translations (rag/lexicon.py) of the question's words that none of the candidates `texts`
    in its own language holds, as a BM25 query; "" without the lexicon or its weight."""
    if not settings.weight_lexicon:
        return ""
    language = detect_language(query)
    senses = lexicon.crossing(query, [text for text in texts if detect_language(text) == language])
    return " ".join(dict.fromkeys(word for sense in senses for word in sense))


def word_bridge(query: str, crossed: LexicalResult, own: LexicalResult, texts: dict[str, tuple[str, str]],
                settings: Settings) -> dict[str, float]:
    """What a passage in the other language gains for holding the question's ordinary words, translated
    by the optional lexicon (rag/lexicon.py): BM25 of the translation, against the best BM25 score of
    the question itself (capped at 1). A question its own language's passages answer word for word
    leaves the translation little to add; one they share only a word or two with ("museum") does not.
    Passages in the question's own language gain nothing (BM25 already saw their words)."""
    if not crossed.ids:
        return {}
    language = detect_language(query)
    top = max(own.scores, default=0.0) or max(crossed.scores) or 1.0
    return {i: settings.weight_lexicon * min(1.0, score / top) for i, score in zip(crossed.ids, crossed.scores)
            if i in texts and detect_language(texts[i][1]) != language}


def fuse(candidates: list[str], passage_sim: dict[str, float], sentence_sim: dict[str, float],
         lexical: dict[str, float], coverage: float, settings: Settings) -> dict[str, float]:
    """A weighted sum of min-max normalised passage similarity, best-sentence similarity and BM25.

    BM25's weight is scaled by the query's idf coverage: an English question over Arabic text
    shares almost no terms with it, and plain reciprocal-rank fusion then mixes BM25's noise in at
    full weight (XQuAD en->ar hit@1 0.753 dense -> 0.702 RRF). Similarities are exact for every
    candidate (vectors fetched from the store), so a passage missing from one list is not
    penalised as if it had scored zero.
    """
    def unit(values: dict[str, float]) -> dict[str, float]:
        present = [values[i] for i in candidates if i in values]
        if not present:
            return {}
        low, high = min(present), max(present)
        return {i: (values[i] - low) / (high - low) if high > low else 1.0 for i in candidates if i in values}

    p, s = unit(passage_sim), unit(sentence_sim)
    top = max(lexical.values(), default=0.0) or 1.0
    return {
        i: settings.weight_passage * p.get(i, 0.0) + settings.weight_sentence * s.get(i, 0.0)
        + settings.weight_lexical * coverage * lexical.get(i, 0.0) / top
        for i in candidates
    }
