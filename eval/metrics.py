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
from rag.types import Verification

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
    # Answers written by an LLM: the check's findings (None: extractive, or the LLM was not asked), and
    # whether the answer holds a gold answer in the question's own language (None: the set has none).
    verification: Verification | None = None
    has_reader_gold: bool | None = None
    # The gold fact in the answer, in the document's language or the reader's (never when it abstained);
    # whether an abstention showed the closest passages; the set's kind and split, if it gives them.
    right: bool = False
    closest: bool = False
    kind: str | None = None
    split: str | None = None
    translation: str | None = None  # the question as the LLM translated it, when retrieval used it

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
            "answer_has_reader_gold": self.has_reader_gold,
            "right_answer": self.right if self.answerable else None,
            "closest": self.closest,
            "kind": self.kind,
            "split": self.split,
            "translated_question": self.translation,
            "verification": asdict(self.verification) if self.verification is not None else None,
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


def answer_has_reader_gold(rows: Sequence[QuestionRow]) -> float | None:
    """Share of answerable questions whose answer holds a gold answer in the question's language (an
    English reader of an Arabic library needs the English answer); over questions that have one."""
    return _mean([bool(row.has_reader_gold) for row in rows if row.answerable and row.has_reader_gold is not None])


def right_answer(rows: Sequence[QuestionRow]) -> float | None:
    """Share of answerable questions whose answer holds the gold fact, in the document's language or
    the reader's; an abstention (closest passages included) counts as a miss."""
    return _mean([row.right for row in rows if row.answerable])


KINDS = ("same-language", "cross-language", "in-topic", "off-topic")


def by_kind(rows: Sequence[QuestionRow]) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """For sets that mark kinds: split ("tune", "blind", "all") -> kind (and kind/question language for
    the answerable ones) -> n, right_answer, false_abstain (answerable) or abstained (unanswerable),
    and closest (share of abstentions that showed the closest passages)."""
    splits = {"all": list(rows)}
    for split in sorted({row.split for row in rows if row.split}):
        splits[split] = [row for row in rows if row.split == split]
    result = {}
    for split, chosen in splits.items():
        groups: dict[str, list[QuestionRow]] = {}
        for kind in KINDS:
            of_kind = [row for row in chosen if row.kind == kind]
            if not of_kind:
                continue
            groups[kind] = of_kind
            if kind in ("same-language", "cross-language"):
                for lang in LANGUAGES:
                    groups[f"{kind}/{lang}"] = [row for row in of_kind if row.language == lang]
        result[split] = {name: _kind_summary(group) for name, group in groups.items() if group}
    return result


def _kind_summary(rows: Sequence[QuestionRow]) -> dict[str, float | int | None]:
    abstentions = [row for row in rows if row.abstained]
    values = {"n": len(rows), "right_answer": right_answer(rows), "hit@5": hit_at(rows, 5),
              "false_abstain": false_abstain(rows), "abstained": abstained(rows),
              "closest": _mean([row.closest for row in abstentions]) if abstentions else None}
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


LLM_METRICS = ("llm_answered", "answer_language_rate", "supported_sentence_rate", "citation_recall_llm",
               "citation_precision_llm", "llm_fallback", "llm_refused_unanswerable", "first_token_ms_p50",
               "first_token_ms_p95")


def llm_metrics(rows: Sequence[QuestionRow]) -> dict[str, float | None]:
    """What the citation check found in the LLM's own replies, before it changed anything.

    ALCE-style (Gao et al., 2023), with the embedder as the judge of support (rag/verify.py), pooled
    over all sentences and markers: citation recall is the share of the model's sentences supported
    by a passage they cite; citation precision the share of its markers whose passage alone supports
    their sentence (a marker to no passage counts as wrong); supported sentences are those some
    retrieved passage supports, cited or not."""
    checks = [row.verification for row in rows if row.verification is not None]
    sentences = sum(c.sentences for c in checks)
    markers = sum(c.markers for c in checks)
    replied = [(row.language, row.verification.language) for row in rows
               if row.verification is not None and row.verification.language is not None]
    first_token = [c.first_token_ms for c in checks if c.first_token_ms is not None]
    return {
        "llm_answered": len(checks),
        "answer_language_rate": _mean([asked == got for asked, got in replied]),
        "supported_sentence_rate": sum(c.grounded for c in checks) / sentences if sentences else None,
        "citation_recall_llm": sum(c.supported for c in checks) / sentences if sentences else None,
        "citation_precision_llm": sum(c.precise for c in checks) / markers if markers else None,
        "llm_fallback": _mean([c.fallback is not None for c in checks]),
        "llm_refused_unanswerable": _mean([row.verification.refused for row in rows
                                           if not row.answerable and row.verification is not None]),
        "first_token_ms_p50": float(np.percentile(first_token, 50)) if first_token else None,
        "first_token_ms_p95": float(np.percentile(first_token, 95)) if first_token else None,
    }


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
    values["answer_has_reader_gold"] = answer_has_reader_gold(rows)
    values["right_answer"] = right_answer(rows)
    if any(row.verification is not None for row in rows):
        values.update(llm_metrics(rows))
    values["latency_ms_p50"] = float(np.percentile(latencies, 50)) if latencies else None
    values["latency_ms_p95"] = float(np.percentile(latencies, 95)) if latencies else None
    return {key: round(v, 1 if key.endswith(("_p50", "_p95")) else 4) if isinstance(v, float) else v
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
        data = {"summary": self.summary(), "by_language": self.by_language()}
        if any(row.kind for row in self.rows):
            data["by_kind"] = by_kind(self.rows)
        return {**data, "questions": [row.to_json() for row in self.rows]}
