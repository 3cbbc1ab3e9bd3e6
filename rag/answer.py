"""Answers from hits. The default answerer quotes the most relevant sentences, with citations; the
LLM answerer writes one with the user's model, and shows only the sentences the passages support."""
from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from . import prompts, strings
from .lexical import tokenize
from .llm import ChatModel, LLMError
from .prompts import defuse_markers
from .settings import Settings
from .text import detect_language, fold_whitespace, normalize
from .types import Answer, Citation, Hit, Language, Sentence, Verification
from .verify import Checker, Composer, Judged, SentenceSplitter

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


class LLMAnswerer:
    """Writes the answer with the user's LLM from the numbered passages, and streams it sentence by
    sentence, each shown only after the check in rag/verify.py. When the model fails, or nothing it
    wrote is supported or in the question's language, the extractive answer is shown instead, after a
    line that says why; when the model says the passages do not answer, it abstains."""

    def __init__(self, settings: Settings, model: ChatModel, sentences: SentenceSource,
                 embed: Callable[[list[str]], np.ndarray], extractive: ExtractiveAnswerer) -> None:
        self.settings, self.model, self.sentences, self.embed = settings, model, sentences, embed
        self.extractive = extractive

    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer:
        *_, answer = self.stream(question, hits, query_vector, avoid)
        return answer

    def stream(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Iterator[str | Answer]:
        language = detect_language(question)
        hits = list(hits)
        fallback = self.extractive.answer(question, hits, query_vector, avoid)
        if fallback.abstained:  # no retrieved sentence reaches the calibrated support: nothing to ask about
            yield fallback
            return
        units = self.sentences(hits)
        checker = Checker(language, hits, units, self.embed, self.settings)
        composer = Composer(hits, units)
        splitter = SentenceSplitter()
        judged: list[Judged] = []
        reply: list[str] = []
        error: LLMError | None = None
        started, first = time.perf_counter(), None
        messages = prompts.answer_messages(question, language, hits, self.settings.answer_sentences + 2)
        try:
            for piece in self.model.answer(messages):
                first = first or time.perf_counter()
                reply.append(piece)
                for sentence, new_line in splitter.feed(piece):
                    judged.append(checker.judge(sentence))
                    if composer.add(judged[-1], new_line):
                        yield composer.text
            for sentence, new_line in splitter.finish():
                judged.append(checker.judge(sentence))
                if composer.add(judged[-1], new_line):
                    yield composer.text
        except LLMError as err:  # a sentence cut off mid-way is never judged, let alone shown
            error = err
        tally = _tally(self.model.name, judged, "".join(reply), error, started, first)
        if composer.text:
            notes = [strings.LLM_DROPPED[language].format(n=tally.dropped)] if tally.dropped else []
            if tally.wrong_language:
                notes.append(strings.LLM_DROPPED_LANGUAGE[language].format(n=tally.wrong_language))
            if error is not None:
                notes.append(strings.LLM_INCOMPLETE[language].format(reason=error.describe(language)))
            text = "\n".join([composer.text, *notes])
            yield Answer(question=question, language=language, text=text, abstained=False,
                         citations=composer.citations(), mode=self.model.name, support=fallback.support,
                         translingual=fallback.translingual, verification=tally)
        elif error is None and tally.refused:
            yield Answer(question=question, language=language, text=strings.ABSTAIN[language], abstained=True,
                         mode=self.model.name, support=fallback.support, translingual=fallback.translingual,
                         verification=tally)
        else:
            if error is not None:
                reason = error.reason
                notice = strings.LLM_UNAVAILABLE[language].format(model=self.model.name,
                                                                 reason=error.describe(language))
            elif tally.wrong_language > tally.dropped:
                reason, notice = "language", strings.LLM_WRONG_LANGUAGE[language]
            else:
                reason, notice = "unsupported", strings.LLM_UNSUPPORTED[language]
            yield replace(fallback, text=f"{notice}\n{fallback.text}", verification=replace(tally, fallback=reason))


def _tally(model: str, judged: list[Judged], reply: str, error: LLMError | None, started: float,
           first: float | None) -> Verification:
    claims = [j for j in judged if j.verdict not in ("filler", "refusal")]
    now = time.perf_counter()
    return Verification(
        model=model,
        language=detect_language(reply) if reply.strip() else None,
        sentences=len(claims),
        supported=sum(bool(j.precise) for j in claims),
        grounded=sum(j.verdict in ("supported", "recited") for j in claims),
        markers=sum(len(j.cited) + j.invalid for j in judged),
        precise=sum(len(j.precise) for j in claims),
        invalid_markers=sum(j.invalid for j in judged),
        recited=sum(j.verdict == "recited" for j in claims),
        dropped=sum(j.verdict == "unsupported" for j in claims),
        wrong_language=sum(j.verdict == "language" for j in claims),
        refused=any(j.verdict == "refusal" for j in judged),
        incomplete=error.reason if error is not None else None,
        first_token_ms=round((first - started) * 1000, 1) if first is not None else None,
        total_ms=round((now - started) * 1000, 1),
    )


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
            highlights=tuple(sorted((s.start, s.end) for j, s, _, _ in picked if j == i)),
        )
        for i, n in numbers.items()
    )
    return Answer(question=question, language=language, text=f"{lead}\n{text}", abstained=False, citations=citations)


def _abstain(question: str, language: Language) -> Answer:
    return Answer(question=question, language=language, text=strings.ABSTAIN[language], abstained=True)
