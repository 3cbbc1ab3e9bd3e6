"""The natural-question set (eval/natural): its shape, and a small slice of it answered for real.

The whole set runs with `rag eval eval/natural/questions.jsonl --docs "$(python -m eval.natural.build)"`
(docs/natural.md); here two of its ten documents are indexed, as plain wrapped text and Markdown, and
a few of their questions asked in both languages.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from eval.metrics import QuestionRow, by_kind, search_form
from eval.natural.build import FORMATS, QUESTIONS, SOURCES, build
from eval.runner import load_set, score
from rag import Sanad, load_settings
from rag.text import detect_language

ROWS = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_is_as_documented():
    kinds = Counter(row["kind"] for row in ROWS)
    assert len(ROWS) >= 120 and len(FORMATS) == 10
    unanswerable = kinds["in-topic"] + kinds["off-topic"]
    across = kinds["cross-language"] + sum(
        1 for row in ROWS if row["kind"] == "in-topic" and detect_language(row["question"]) != row["doc"][:2])
    assert unanswerable >= 0.2 * len(ROWS) and across >= 0.3 * len(ROWS)
    # The blind third is fixed by position, so nobody picks which questions are hidden.
    assert [row["split"] for row in ROWS] == ["blind" if n % 3 == 0 else "tune" for n in range(1, len(ROWS) + 1)]
    assert {fmt for fmt in FORMATS.values()} >= {"wrapped", "markdown", "html", "docx", "pdf-chromium"}


def test_gold_and_evidence_are_in_their_documents():
    for row in ROWS:
        if not row["answerable"]:
            continue
        text = search_form((SOURCES / f"{row['doc']}.txt").read_text(encoding="utf-8"))
        other = "ar" if row["doc"].startswith("en") else "en"
        assert row[f"answers_{other}"], row["id"]  # the reader of the other language's form
        for needle in row["evidence"] + row["answers"]:
            assert search_form(needle) in text, (row["id"], needle)


def test_sources_are_short_documents():
    for source in SOURCES.glob("*.txt"):
        assert 280 <= len(source.read_text(encoding="utf-8").split()) <= 700, source.name


@pytest.fixture(scope="module")
def slice_engine(tmp_path_factory):
    docs = build(tmp_path_factory.mktemp("natural-docs"), only=("en-railway", "ar-fishers"))
    engine = Sanad(load_settings(index_dir=tmp_path_factory.mktemp("natural-index")))
    assert len(engine.index([docs]).added) == 2
    return engine


# Tune-split questions only: the blind third is scored, never looked at.
SLICE = ("nat-001", "nat-002", "nat-004", "nat-007", "nat-008", "nat-067", "nat-068", "nat-070", "nat-073",
         "nat-074", "nat-113", "nat-115")


def test_a_slice_is_answered_right(slice_engine):
    items = [item for item in load_set(QUESTIONS) if item.id in SLICE]
    assert len(items) == len(SLICE) and all(item.split == "tune" for item in items)
    rows: list[QuestionRow] = []
    for item in items:
        answer, hits = slice_engine.inspect(item.question)
        rows.append(score(item, answer, hits, 0.0))
    wrong = [(row.id, row.question, row.answer[:160]) for row in rows if row.answerable and not row.right]
    assert len(wrong) <= 4, "\n".join(map(str, wrong))
    kinds = by_kind(rows)["all"]
    assert kinds["off-topic"]["abstained"] == 1.0
    assert kinds["cross-language"]["n"] >= 3


def test_calibration_reads_only_the_tune_split():
    from eval.calibrate import natural_tune

    rows = natural_tune()
    all_rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert rows and {row["split"] for row in rows} == {"tune"}
    assert len(rows) == sum(row["split"] == "tune" for row in all_rows) < len(all_rows)
    assert {row["kind"] for row in rows} == {"same-language", "cross-language", "in-topic", "off-topic"}
