"""Answers from hits. The default answerer quotes the most relevant sentences, with citations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from . import strings
from .embedders import Embedder
from .lexical import tokenize
from .settings import Settings
from .text import detect_language, sentence_spans
from .types import Answer, Citation, Hit, Language

MIN_SENTENCE_CHARS = 20  # shorter spans are headings or fragments, not quotable answers


class Answerer(Protocol):
    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer: ...


@dataclass(frozen=True)
class _Sentence:
    hit_index: int
    start: int  # inside the chunk text
    end: int
    text: str


class ExtractiveAnswerer:
    """Picks sentences by relevance to the question, penalising redundancy (maximal marginal relevance)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder

    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer:
        """`avoid`: sentences already quoted earlier in the conversation, so a follow-up says something new."""
        language = detect_language(question)
        if not hits:
            return _abstain(question, language)
        sentences = [
            _Sentence(i, s, e, hit.chunk.text[s:e])
            for i, hit in enumerate(hits)
            for s, e in sentence_spans(hit.chunk.text)
            if e - s >= MIN_SENTENCE_CHARS and not (hit.chunk.heading and hit.chunk.text[s:e] == hit.chunk.heading)
        ] or [_Sentence(i, 0, len(h.chunk.text), h.chunk.text) for i, h in enumerate(hits)]
        vectors = self.embedder.embed_passages([s.text for s in sentences])
        relevance = vectors @ query_vector
        if relevance.max() < self.settings.abstain_below:
            return _abstain(question, language)
        relevance = relevance + 0.05 * _term_overlap(question, [s.text for s in sentences])
        # A sentence from a higher-ranked passage wins a near tie: fusion saw evidence the sentence alone hides.
        relevance = relevance - 0.01 * np.array([s.hit_index for s in sentences])
        if avoid:
            repeated = np.array([s.text in avoid for s in sentences])
            relevance = np.where(repeated, relevance - 0.1, relevance)
        chosen = _mmr(relevance, vectors, self.settings.answer_sentences, self.settings.mmr_lambda)
        return _compose(question, language, hits, [sentences[i] for i in chosen], [float(relevance[i]) for i in chosen])


def _mmr(relevance: np.ndarray, vectors: np.ndarray, count: int, lam: float) -> list[int]:
    chosen: list[int] = [int(np.argmax(relevance))]
    floor = relevance[chosen[0]] - 0.06  # do not pad the answer with sentences far below the best
    while len(chosen) < min(count, len(relevance)):
        similarity = (vectors @ vectors[chosen].T).max(axis=1)
        score = lam * relevance - (1 - lam) * similarity
        score[chosen] = -np.inf
        score[relevance < floor] = -np.inf
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        chosen.append(best)
    return chosen


def _term_overlap(question: str, texts: list[str]) -> np.ndarray:
    terms = set(tokenize(question))
    if not terms:
        return np.zeros(len(texts))
    return np.array([len(terms & set(tokenize(t))) / len(terms) for t in texts])


def _compose(question: str, language: Language, hits: Sequence[Hit], chosen: list[_Sentence],
             scores: list[float]) -> Answer:
    numbers: dict[int, int] = {}  # hit index -> citation number; the most relevant passage is [1]
    highlights: dict[int, list[tuple[int, int]]] = {}
    for sentence in chosen:
        numbers.setdefault(sentence.hit_index, len(numbers) + 1)
        highlights.setdefault(sentence.hit_index, []).append((sentence.start, sentence.end))
    # Within a passage, quote in reading order so the sentences follow each other as written.
    in_order = sorted(chosen, key=lambda s: (numbers[s.hit_index], s.start))
    parts = [f"{s.text} [{numbers[s.hit_index]}]" for s in in_order]
    doc_language = detect_language(" ".join(s.text for s in chosen))
    lead = (strings.ANSWER_LEAD if doc_language == language else strings.ANSWER_LEAD_TRANSLINGUAL)[language]
    citations = tuple(
        Citation(
            n=n,
            source=hits[i].chunk.source,
            text=hits[i].chunk.text,
            start=hits[i].chunk.start,
            end=hits[i].chunk.end,
            score=round(max(sc for s, sc in zip(chosen, scores) if s.hit_index == i), 4),
            page=hits[i].chunk.page,
            highlights=tuple(sorted(highlights[i])),
        )
        for i, n in numbers.items()
    )
    return Answer(question=question, language=language, text=lead + "\n" + " ".join(parts), abstained=False,
                  citations=citations)


def _abstain(question: str, language: Language) -> Answer:
    return Answer(question=question, language=language, text=strings.ABSTAIN[language], abstained=True)
