"""Eval metrics on hand-made rows whose right answers are known."""
import json
import math

import pytest

from eval.metrics import (
    CitationRow,
    QuestionRow,
    abstained,
    answer_has_gold,
    citation_precision,
    contains_any,
    false_abstain,
    hit_at,
    mrr_at,
    ndcg,
    ndcg_at,
    search_form,
    strip_markers,
    summarize,
)
from eval.runner import Item, load_set, score
from rag import Answer, Chunk, Citation, Hit


def cite(relevant: bool) -> CitationRow:
    return CitationRow(n=1, source="a.txt", start=0, end=10, score=0.9, relevant=relevant, quotes=("q",))


def row(ranks=(), answerable=True, abstain=False, gold=False, citations=(), latency=10.0, language="ar") -> QuestionRow:
    return QuestionRow(id="q", question="?", language=language, answerable=answerable, relevant_ranks=tuple(ranks),
                       answer="", abstained=abstain, has_gold=gold, latency_ms=latency, citations=tuple(citations))


# First relevant ranks 1, 3, 7 and a miss; the unanswerable row must not count.
RANKED = [row([1]), row([3]), row([7, 9]), row([]), row([], answerable=False)]


@pytest.mark.parametrize("k, expected", [(1, 0.25), (3, 0.5), (5, 0.5), (10, 0.75)])
def test_hit_at_k_counts_answerable_questions_only(k, expected):
    assert hit_at(RANKED, k) == expected


def test_mrr_uses_the_first_relevant_rank_within_k():
    assert mrr_at(RANKED, 10) == pytest.approx((1 + 1 / 3 + 1 / 7 + 0) / 4)
    assert mrr_at(RANKED, 5) == pytest.approx((1 + 1 / 3) / 4)


def test_ndcg_of_one_ranking():
    assert ndcg([1], 10) == 1.0
    assert ndcg([3], 10) == pytest.approx(0.5)  # 1 / log2(4)
    assert ndcg([2, 3], 10) == pytest.approx((1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3)))
    assert ndcg([1, 2], 10) == 1.0
    assert ndcg([], 10) == 0.0
    assert ndcg([11], 10) == 0.0


def test_ndcg_at_averages_over_answerable_questions():
    ranks_7_and_9 = (1 / 3 + 1 / math.log2(10)) / (1 + 1 / math.log2(3))
    assert ndcg_at(RANKED, 10) == pytest.approx((1 + 0.5 + ranks_7_and_9 + 0) / 4)


def test_abstention_rates_split_by_answerability():
    rows = [row(answerable=False, abstain=True), row(answerable=False), row(abstain=True), row(), row(), row()]
    assert abstained(rows) == 0.5
    assert false_abstain(rows) == 0.25


def test_rates_with_nothing_to_average_are_none():
    assert abstained([row()]) is None
    assert hit_at([row(answerable=False)], 1) is None
    assert citation_precision([row(citations=[cite(True)], answerable=False)]) is None


def test_citation_precision_counts_passages_of_answerable_questions():
    rows = [row(citations=[cite(True), cite(False)]), row(citations=[cite(True)]),
            row(answerable=False, citations=[cite(False)])]
    assert citation_precision(rows) == pytest.approx(2 / 3)


def test_answer_has_gold_is_over_answerable_questions():
    rows = [row(gold=True), row(gold=False), row(abstain=True), row(gold=True), row(answerable=False)]
    assert answer_has_gold(rows) == 0.5


def test_summary_holds_every_metric():
    rows = [row([1], latency=10), row([2], latency=20), row([], latency=30), row(answerable=False, latency=40)]
    summary = summarize(rows)
    assert summary["n"] == 4 and summary["n_answerable"] == 3
    assert summary["hit@1"] == round(1 / 3, 4) and summary["hit@3"] == round(2 / 3, 4)
    assert summary["latency_ms_p50"] == 25.0
    assert {"hit@5", "hit@10", "mrr@10", "ndcg@10", "answer_has_gold", "citation_precision", "abstained",
            "false_abstain", "latency_ms_p95"} <= summary.keys()


def test_matching_ignores_arabic_spelling_and_whitespace():
    needles = [search_form("إلى المدرسة")]
    assert contains_any("ذهب الولد الى  المدرسه\nصباحاً", needles)
    assert contains_any("ذهبَ إلى المدرسةِ", needles)
    assert not contains_any("ذهب إلى البيت", needles)
    assert contains_any("Scored 308 POINTS", [search_form("٣٠٨ points")])
    assert contains_any("في الماضي، كان", [search_form("\ufeff\u200fفي الماضي،\u200b كان")])


def test_strip_markers_rejoins_quotes():
    assert strip_markers("From the documents:\nfirst [1] second [2]") == "From the documents:\nfirst second"


def chunk(n: int, text: str) -> Chunk:
    return Chunk(id=f"c{n}", doc_id="d", source="a.txt", text=text, start=100 * n, end=100 * n + len(text))


def test_score_judges_chunks_by_evidence_and_citations_by_evidence_or_answer():
    item = Item(id="x", question="كم عدد الجنود؟", answers=("5 آلاف جندي",), evidence=("قوامها نحو 5 آلاف جندي",))
    evidence = chunk(1, "قوة قوامُها نحو 5 آلاف  جندي.")
    answer_only = chunk(2, "أرسلت 5 آلاف جندي.")
    other = chunk(3, "لا شيء هنا.")
    hits = [Hit(other, 0.9), Hit(evidence, 0.8), Hit(answer_only, 0.7)]
    citations = tuple(Citation(n=n, source="a.txt", text=c.text, start=c.start, end=c.end, score=s,
                               highlights=((0, len(c.text)),))
                      for n, c, s in [(1, answer_only, 0.91), (2, other, 0.85)])
    answer = Answer(question=item.question, language="ar", text="بحسب المستندات:\nأرسلت 5 آلاف جندي. [1]",
                    abstained=False, citations=citations, support=0.88)
    result = score(item, answer, hits, latency_ms=12.0)
    assert result.relevant_ranks == (2,)  # the answer alone does not make a chunk relevant
    assert result.has_gold and result.top_score == 0.91 and result.support == 0.88
    assert [c.relevant for c in result.citations] == [True, False]
    assert result.citations[0].quotes == ("أرسلت 5 آلاف جندي.",)


def test_abstained_answer_has_no_gold():
    item = Item(id="x", question="why?", answers=("I couldn't",), evidence=("e",))
    answer = Answer(question="why?", language="en", text="I couldn't find this in the documents.", abstained=True)
    result = score(item, answer, [], latency_ms=1.0)
    assert not result.has_gold and result.top_score is None and result.relevant_ranks == ()


def test_load_set_defaults_and_errors(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "q?", "answers": ["x"], "evidence": ["x y"]}) + "\n\n"
                    + json.dumps({"id": "b", "question": "q2?", "answerable": False}) + "\n", encoding="utf-8")
    items = load_set(path)
    assert [i.answerable for i in items] == [True, False] and items[1].answers == ()
    assert len(load_set(path, limit=1)) == 1
    path.write_text('{"id": "a", "question": "q?", "evidence": ["e"]}\n{"id": "a"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"set.jsonl:2"):
        load_set(path)
    path.write_text('{"id": "a", "question": "q?"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="no evidence"):
        load_set(path)
