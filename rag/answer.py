"""Answers from hits: the default answerer quotes the most relevant sentences, with citations.
(The LLM answerer, rag/llm_answer.py, falls back to this one.)"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from . import bridge, strings
from .cues import SPECIFIC, holds, question_type
from .lexical import is_word_list, tokenize
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

    def decision(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray) -> float | None:
        """The margin abstention is decided on (>= 0: answered), or None when the hits hold no
        sentence to quote. What answer() computes first; also what rag/calibration.py measures."""
        scored = self._quotable(question, hits, query_vector)
        if scored is None:
            return None
        units, texts, _, _, _, margin = scored
        overlap = _overlap(question, texts, hits, np.array([i for i, _, _ in units]))
        return _decided(margin, overlap, self.settings)

    def _quotable(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray):
        """The sentences of the hits that may be quoted, as (units, texts, vectors, similarity to the
        question, languages, margin over each one's floor); None when there are none."""
        language = detect_language(question)
        units = self.sentences(list(hits)) if hits else []
        texts = [hits[i].chunk.text[s.start:s.end] for i, s, _ in units]
        # A word list or an index of terms shares the document's words without saying anything:
        # its lines are never quoted (a list of the seed's own words took over "Why Pakistan?").
        keep = [n for n, text in enumerate(texts) if not is_word_list(text)]
        if not keep:
            return None
        units, texts = [units[n] for n in keep], [texts[n] for n in keep]
        vectors = np.stack([v for _, _, v in units])
        similarity = vectors @ query_vector
        languages = [detect_language(t) for t in texts]
        # Each direction (question language -> sentence language) has its own floor: a sentence's
        # margin over its floor compares an Arabic and an English sentence fairly.
        margin = similarity - np.array([self.settings.abstain_floor(language, lang) for lang in languages])
        return units, texts, vectors, similarity, languages, margin

    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer:
        """`avoid`: sentences already quoted earlier in the conversation, so a follow-up says something new."""
        language = detect_language(question)
        scored = self._quotable(question, hits, query_vector)
        if scored is None:
            return _abstain(question, language)
        units, texts, vectors, similarity, languages, margin = scored
        settings = self.settings
        best = int(np.argmax(margin))
        support, translingual = round(float(similarity[best]), 4), languages[best] != language
        passages = np.array([i for i, _, _ in units])
        kind = question_type(question)
        # Across languages only a name can be shared: a sentence of the document the question names
        # (transliterated, rag/bridge.py) is on the question's subject, another museum's is not.
        named = np.array(bridge.shares(question, [(h.chunk.source, f"{h.chunk.heading}\n{h.chunk.text}") for h in hits]))[passages]
        evidence, overlap, typed = _evidence(question, kind, texts, units, hits, passages, settings)
        relevance = margin + evidence + settings.answer_bridge_weight * named
        decided = _decided(margin, overlap, settings)
        if avoid:
            relevance = relevance - 0.1 * np.array([t in avoid for t in texts])
        # The same sentence in two documents (an article as .txt and as .pdf) is quoted once, from the
        # higher-ranked passage.
        first: dict[str, int] = {}
        for n, text in enumerate(texts):
            if first.setdefault(fold_whitespace(normalize(text)), n) != n:
                relevance[n] = -np.inf
        relevance, translated = _reader_copy(relevance, vectors, languages, language, named)
        if translated:
            # The library holds this content in both languages: one language per answer, the lead
            # sentence's (a paragraph mixing scripts reads badly, and the other language's sentences
            # mostly say the same again).
            lead_language = languages[int(np.argmax(relevance))]
            relevance[[lang != lead_language for lang in languages]] = -np.inf
        # A price, a speed or an age asked for and the sentence that would lead the answer holds none
        # (any number does not do): the library is on the question's topic but does not say. Nor does
        # it when only another document states one: the answer-type cue may choose among the sentences
        # of the document the question is about, but a festival's budget is no consultation's fee.
        lead = int(np.argmax(relevance))
        about = int(np.argmax(relevance - settings.answer_type_weight * typed))
        unsaid = kind in SPECIFIC and (not typed[lead] or hits[passages[lead]].chunk.source != hits[passages[about]].chunk.source)
        if decided < 0:
            # Closest passages only for a near miss on the library's own topic: the passage shares a
            # term with the question (across languages only a name or a number can be shared); an
            # off-topic question gets a plain refusal.
            on_topic = bool(set(tokenize(question)) & set(tokenize(hits[passages[best]].chunk.text)))
            if not on_topic or decided < -settings.closest_within:
                return replace(_abstain(question, language), support=support, translingual=translingual)
        chosen = _mmr(relevance, vectors, passages, settings.answer_sentences, settings.mmr_lambda,
                      settings.cite_other_within)
        picked = [(units[i][0], units[i][1], texts[i], float(similarity[i])) for i in chosen]
        if decided < 0 or unsaid:
            closest = _compose(question, language, hits, picked, lead=strings.CLOSEST_LEAD[language])
            return replace(closest, abstained=True, closest=True, support=support, translingual=translingual)
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


def _decided(margin: np.ndarray, overlap: np.ndarray, settings: Settings) -> float:
    """The best sentence's margin over its floor. The question's own terms in a sentence are evidence
    the embedder's similarity misses: natural questions a hair under the floor with their terms in
    the sentence are answered."""
    return float(np.max(margin + settings.abstain_term_weight * overlap))


def _evidence(question: str, kind: str | None, texts: list[str], units, hits: Sequence[Hit], passages: np.ndarray,
              settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What, beyond similarity, says a sentence answers: the kind of fact asked for, the question's
    content terms in it (and, at half weight, in the sentences beside it), its passage's rank; a
    document's opening sentence that holds neither loses (it wins on topic alone). Terms of the
    document's title are the topic, not evidence: "how many trees burned in the Irbid garden?"
    is answered by the sentence about the fire, not the one that names the garden. Also returns
    each sentence's share of the question's (non-title) terms, and whether it holds the kind of fact asked."""
    # The title's own names ("The Harwick Salt Marsh Railway") are not the person or place asked for.
    typed = np.array([holds(kind, _untitled(t, hits[passages[n]].chunk.heading)) for n, t in enumerate(texts)],
                     dtype=float)
    overlap = _overlap(question, texts, hits, passages)
    beside = np.zeros(len(texts))
    ordinal = np.zeros(len(texts), dtype=int)  # the sentence's place in its passage
    for n in range(len(texts)):
        near = [m for m in (n - 1, n + 1) if 0 <= m < len(texts) and passages[m] == passages[n]]
        beside[n] = max((overlap[m] for m in near), default=0.0)
        ordinal[n] = ordinal[n - 1] + 1 if n and passages[n - 1] == passages[n] else 0
    # The document's topical opening: the first sentence after its title, restating the title.
    opening = np.array([hits[i].chunk.start == 0 and bool(set(tokenize(hits[i].chunk.heading)) & set(tokenize(texts[n])))
                        for n, (i, _, _) in enumerate(units)]) & (ordinal <= 1)
    bare = opening & ((typed == 0) if kind is not None else (overlap == 0))
    return (settings.answer_type_weight * typed
            + settings.answer_term_weight * (overlap + 0.5 * beside)
            - settings.answer_rank_weight * passages
            - settings.opening_penalty * bare), overlap, typed.astype(bool)


def _overlap(question: str, texts: list[str], hits: Sequence[Hit], passages: np.ndarray) -> np.ndarray:
    """Each sentence's share of the question's content terms, its document title's terms aside."""
    asked = set(tokenize(question))
    overlap = np.zeros(len(texts))
    for n, text in enumerate(texts):
        terms = (asked - set(tokenize(hits[passages[n]].chunk.heading))) or asked  # a title of nothing else asked
        overlap[n] = len(terms & set(tokenize(text))) / len(terms) if terms else 0.0
    return overlap


def _untitled(text: str, heading: str) -> str:
    """The text with the heading's capitalised words lowered, so they do not read as names."""
    for word in set(re.findall(r"[A-Z][a-z]+", heading)):
        text = re.sub(rf"\b{word}\b", word.lower(), text)
    return text


# Sentence vectors this similar across languages, each the other's nearest: a sentence and its
# translation (the seed article and its English translation: pairs 0.855-0.903, the nearest
# other sentence 0.80-0.842).
TRANSLATION_AT = 0.87


def _reader_copy(relevance: np.ndarray, vectors: np.ndarray, languages: list[str],
                 language: str, named: np.ndarray) -> tuple[np.ndarray, bool]:
    """A sentence in another language than the question whose translation is also among the
    candidates gives way to it, passing on its score: the reader gets their own language's copy,
    and never the same content twice (a bilingual library quoted both copies side by side). Also
    says whether any sentence had its translation among the candidates. A sentence whose document
    holds the question's names (`named`, rag/bridge.py) is not the translation of one from a document
    that does not: two museums both open Tuesday to Sunday are two facts, and the question asked
    about one of them."""
    relevance = relevance.copy()
    mine = np.array([lang == language for lang in languages])
    if mine.all() or not mine.any():
        return relevance, False
    others, readers = np.flatnonzero(~mine), np.flatnonzero(mine)
    similar = vectors[others] @ vectors[readers].T
    translated = False
    for row, other in enumerate(others):
        column = int(np.argmax(similar[row]))
        if similar[row, column] < TRANSLATION_AT or int(np.argmax(similar[:, column])) != row:
            continue
        if named[other] > named[readers[column]]:
            continue
        copy, translated = readers[column], True
        if np.isfinite(relevance[other]):
            relevance[copy] = max(relevance[copy], relevance[other])
            relevance[other] = -np.inf
    return relevance, translated


def _compose(question: str, language: Language, hits: Sequence[Hit],
             picked: list[tuple[int, Sentence, str, float]], lead: str | None = None) -> Answer:
    numbers: dict[int, int] = {}  # hit index -> citation number; the most relevant passage is [1]
    for hit_index, _, _, _ in picked:
        numbers.setdefault(hit_index, len(numbers) + 1)
    # Within a passage, quote in reading order so the sentences follow each other as written.
    in_order = sorted(picked, key=lambda p: (numbers[p[0]], p[1].start))
    # A bracketed number in the document itself ("see [2]") must not pass for a citation marker.
    text = " ".join(f"{defuse_markers(t)} [{numbers[i]}]" for i, _, t, _ in in_order)
    doc_language = detect_language(text)
    if lead is None:
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
