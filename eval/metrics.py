"""Scoring: which texts hold the evidence, and the retrieval, answer and abstention metrics over question rows.

Everything here is pure: rows in, numbers out, so each metric can be checked on hand-made rows.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from rag.text import fold_whitespace, normalize

KS = (1, 3, 5, 10)
LANGUAGES = ("ar", "en")
_MARKER = re.compile(r"\s*\[\d+\]")
# Invisible format characters (BOM, bidi marks, zero-width spaces): a reader drops a leading BOM that
# the set's copy of the same sentence keeps (XQuAD has some), and that must not make it a miss.
_INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def search_form(text: str) -> str:
    """The form texts are compared in: retrieval's Arabic normalisation, whitespace folded."""
    return fold_whitespace(normalize(_INVISIBLE.sub("", text)))


def contains_any(text: str, needles: Iterable[str]) -> bool:
    """Whether `text` holds one of `needles`; the needles must already be in search form."""
    haystack = search_form(text)
    return any(needle and needle in haystack for needle in needles)


def strip_markers(answer_text: str) -> str:
    """The answer without its [n] citation markers, which could split a quoted phrase."""
    return _MARKER.sub("", answer_text)


@dataclass(frozen=True)
class CitationRow:
    n: int
    source: str
    start: int
    end: int
    score: float
    relevant: bool  # the cited passage holds evidence or a gold answer
    quotes: tuple[str, ...]  # the sentences the answer took from it
    page: int | None = None


@dataclass(frozen=True)
class QuestionRow:
    id: str
    question: str
    language: str
    answerable: bool
    relevant_ranks: tuple[int, ...]  # 1-based ranks of the retrieved chunks that hold evidence
    answer: str
    abstained: bool
    has_gold: bool  # the answer quotes a gold answer (never when it abstained)
    latency_ms: float
    citations: tuple[CitationRow, ...] = ()
    # For calibrating abstention: the top quoted sentence's score (answer.citations[0].score, after the
    # answerer's reranking) and the raw similarity abstention was decided on (answer.support).
    top_score: float | None = None
    support: float | None = None
    translingual: bool = False

    @property
    def first_relevant_rank(self) -> int | None:
        return self.relevant_ranks[0] if self.relevant_ranks else None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "language": self.language,
            "answerable": self.answerable,
            "first_relevant_rank": self.first_relevant_rank,
            "relevant_ranks": list(self.relevant_ranks),
            "abstained": self.abstained,
            "answer_has_gold": self.has_gold if self.answerable else None,
            "top_score": self.top_score,
            "support": self.support,
            "translingual": self.translingual,
            "latency_ms": round(self.latency_ms, 1),
            "answer": self.answer,
            "citations": [{**asdict(c), "quotes": list(c.quotes)} for c in self.citations],
        }


def hit_at(rows: Sequence[QuestionRow], k: int) -> float | None:
    """Share of answerable questions with a relevant chunk in the top k."""
    ranks = _answerable_ranks(rows)
    return _mean([r is not None and r <= k for r in ranks])


def mrr_at(rows: Sequence[QuestionRow], k: int) -> float | None:
    ranks = _answerable_ranks(rows)
    return _mean([1 / r if r is not None and r <= k else 0.0 for r in ranks])


def ndcg(relevant_ranks: Sequence[int], k: int) -> float:
    """Binary-gain nDCG@k of one ranking.

    The ideal ranking puts first every relevant chunk that retrieval returned: the corpus is not
    scanned for others, so with one evidence sentence (the usual case) this is 1 / log2(rank + 1).
    """
    ranks = [r for r in relevant_ranks if r <= k]
    if not ranks:
        return 0.0
    dcg = sum(1 / math.log2(r + 1) for r in ranks)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(relevant_ranks), k) + 1))
    return dcg / ideal


def ndcg_at(rows: Sequence[QuestionRow], k: int) -> float | None:
    return _mean([ndcg(row.relevant_ranks, k) for row in rows if row.answerable])


def answer_has_gold(rows: Sequence[QuestionRow]) -> float | None:
    """Share of answerable questions whose answer holds a gold answer; an abstention counts as a miss."""
    return _mean([row.has_gold for row in rows if row.answerable])


def citation_precision(rows: Sequence[QuestionRow]) -> float | None:
    """Share of the passages cited for answerable questions that hold evidence or a gold answer.

    Unanswerable questions are left out: a citation there is wrong by definition, and `abstained`
    already counts that failure.
    """
    return _mean([c.relevant for row in rows if row.answerable for c in row.citations])


def abstained(rows: Sequence[QuestionRow]) -> float | None:
    """Share of unanswerable questions on which the engine abstained (higher is better)."""
    return _mean([row.abstained for row in rows if not row.answerable])


def false_abstain(rows: Sequence[QuestionRow]) -> float | None:
    """Share of answerable questions on which the engine abstained (lower is better)."""
    return _mean([row.abstained for row in rows if row.answerable])


def summarize(rows: Sequence[QuestionRow]) -> dict[str, float | int | None]:
    latencies = [row.latency_ms for row in rows]
    values: dict[str, float | int | None] = {
        "n": len(rows),
        "n_answerable": sum(row.answerable for row in rows),
    }
    values.update({f"hit@{k}": hit_at(rows, k) for k in KS})
    values["mrr@10"] = mrr_at(rows, 10)
    values["ndcg@10"] = ndcg_at(rows, 10)
    values["answer_has_gold"] = answer_has_gold(rows)
    values["citation_precision"] = citation_precision(rows)
    values["abstained"] = abstained(rows)
    values["false_abstain"] = false_abstain(rows)
    values["latency_ms_p50"] = float(np.percentile(latencies, 50)) if latencies else None
    values["latency_ms_p95"] = float(np.percentile(latencies, 95)) if latencies else None
    return {key: round(v, 1 if key.startswith("latency") else 4) if isinstance(v, float) else v
            for key, v in values.items()}


def _answerable_ranks(rows: Sequence[QuestionRow]) -> list[int | None]:
    return [row.first_relevant_rank for row in rows if row.answerable]


def _mean(values: Sequence[bool | float]) -> float | None:
    """None when there is nothing to average (e.g. `abstained` on a set with no unanswerable questions)."""
    return float(np.mean(values)) if len(values) else None


@dataclass(frozen=True)
class Run:
    """One retriever's pass over a set."""

    retriever: str
    rows: tuple[QuestionRow, ...]

    def summary(self) -> dict[str, float | int | None]:
        return summarize(self.rows)

    def by_language(self) -> dict[str, dict[str, float | int | None]]:
        return {lang: summarize([row for row in self.rows if row.language == lang]) for lang in LANGUAGES}

    def to_json(self) -> dict:
        return {"summary": self.summary(), "by_language": self.by_language(),
                "questions": [row.to_json() for row in self.rows]}
