"""Answers from hits: the default answerer quotes the most relevant sentences, with citations.
(The LLM answerer, rag/llm_answer.py, falls back to this one.)"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from . import prompts, strings
from .lexical import tokenize
from .prompts import defuse_markers
from .settings import Settings
from .text import detect_language, fold_whitespace, normalize
from .types import Answer, Citation, Hit, Language, Sentence

SAME_PASSAGE_WITHIN = 0.06  # do not pad an answer with sentences far below the best one

SentenceSource = Callable[[list[Hit]], list[tuple[int, Sentence, np.ndarray]]]


class Answerer(Protocol):
    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer: ...

    def stream(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Iterator[str | Answer]:
        """The answer text as it grows (each a longer prefix of the last), then the finished Answer."""
        ...


class ExtractiveAnswerer:
    """Quotes the sentences most relevant to the question, penalising redundancy (maximal marginal
    relevance). Sentence vectors come from the index, so answering embeds nothing."""

    def __init__(self, settings: Settings, sentences: SentenceSource) -> None:
        self.settings = settings
        self.sentences = sentences

    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer:
        """`avoid`: sentences already quoted earlier in the conversation, so a follow-up says something new."""
        language = detect_language(question)
        units = self.sentences(list(hits)) if hits else []
        if not units:
            return _abstain(question, language)
        texts = [hits[i].chunk.text[s.start:s.end] for i, s, _ in units]
        vectors = np.stack([v for _, _, v in units])
        relevance = vectors @ query_vector
        best = int(np.argmax(relevance))
        support, translingual = round(float(relevance[best]), 4), detect_language(texts[best]) != language
        floor = self.settings.abstain_floor(language, detect_language(texts[best]))
        if support < floor:
            return replace(_abstain(question, language), support=support, translingual=translingual)
        relevance = relevance + 0.05 * _term_overlap(question, texts)
        # A sentence from a higher-ranked passage wins a near tie: fusion saw evidence the sentence alone hides.
        relevance = relevance - 0.01 * np.array([i for i, _, _ in units])
        if avoid:
            relevance = relevance - 0.1 * np.array([t in avoid for t in texts])
        # The same sentence in two documents (an article as .txt and as .pdf) is quoted once, from the
        # higher-ranked passage.
        first: dict[str, int] = {}
        for n, text in enumerate(texts):
            if first.setdefault(fold_whitespace(normalize(text)), n) != n:
                relevance[n] = -np.inf
        passages = np.array([i for i, _, _ in units])
        chosen = _mmr(relevance, vectors, passages, self.settings.answer_sentences, self.settings.mmr_lambda,
                      self.settings.cite_other_within)
        picked = [(units[i][0], units[i][1], texts[i], float(relevance[i])) for i in chosen]
        return replace(_compose(question, language, hits, picked), support=support, translingual=translingual)

    def stream(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Iterator[str | Answer]:
        """The finished answer replayed a few words at a time: quoting is instant, the chat still
        shows the same growing text it shows for a generated answer."""
        answer = self.answer(question, hits, query_vector, avoid)
        words = re.split(r"(\s+)", answer.text)
        for end in range(2, len(words) + 2, 6):
            yield "".join(words[:end])
        yield answer


def _mmr(relevance: np.ndarray, vectors: np.ndarray, passages: np.ndarray, count: int, lam: float,
         other_passage_within: float) -> list[int]:
    chosen: list[int] = [int(np.argmax(relevance))]
    best = relevance[chosen[0]]
    # Padding: more sentences from a passage already cited cost nothing in honesty; another passage
    # is cited only when its sentence is nearly as relevant as the best one (eval: XQuAD citation
    # precision 0.69 -> 0.89 for answer_has_gold 0.87 -> 0.86 at 0.02).
    while len(chosen) < min(count, len(relevance)):
        similarity = (vectors @ vectors[chosen].T).max(axis=1)
        score = lam * relevance - (1 - lam) * similarity
        cited = np.isin(passages, passages[chosen])
        score[chosen] = -np.inf
        score[relevance < best - SAME_PASSAGE_WITHIN] = -np.inf
        score[~cited & (relevance < best - other_passage_within)] = -np.inf
        pick = int(np.argmax(score))
        if not np.isfinite(score[pick]):
            break
        chosen.append(pick)
    return chosen


def _term_overlap(question: str, texts: list[str]) -> np.ndarray:
    terms = set(tokenize(question))
    if not terms:
        return np.zeros(len(texts))
    return np.array([len(terms & set(tokenize(t))) / len(terms) for t in texts])


def _compose(question: str, language: Language, hits: Sequence[Hit],
             picked: list[tuple[int, Sentence, str, float]]) -> Answer:
    numbers: dict[int, int] = {}  # hit index -> citation number; the most relevant passage is [1]
    for hit_index, _, _, _ in picked:
        numbers.setdefault(hit_index, len(numbers) + 1)
    # Within a passage, quote in reading order so the sentences follow each other as written.
    in_order = sorted(picked, key=lambda p: (numbers[p[0]], p[1].start))
    # A bracketed number in the document itself ("see [2]") must not pass for a citation marker.
    text = " ".join(f"{defuse_markers(t)} [{numbers[i]}]" for i, _, t, _ in in_order)
    doc_language = detect_language(text)
    lead = strings.ANSWER_LEAD[language] if doc_language == language else strings.ANSWER_LEAD_QUOTED_IN[language][doc_language]
    citations = tuple(
        Citation(
            n=n,
            source=hits[i].chunk.source,
            text=hits[i].chunk.text,
            start=hits[i].chunk.start,
            end=hits[i].chunk.end,
            score=round(max(score for j, _, _, score in picked if j == i), 4),
            page=hits[i].chunk.page,
            ocr=hits[i].chunk.ocr,
            highlights=tuple(sorted((s.start, s.end) for j, s, _, _ in picked if j == i)),
        )
        for i, n in numbers.items()
    )
    return Answer(question=question, language=language, text=f"{lead}\n{text}", abstained=False, citations=citations)


def _abstain(question: str, language: Language) -> Answer:
    return Answer(question=question, language=language, text=strings.ABSTAIN[language], abstained=True)
