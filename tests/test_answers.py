"""The core job: ask the seed article in both languages, get the right paragraph cited, or an honest abstention."""
import json
import subprocess
import sys

import pytest

from rag import Turn
from rag import load_settings
from rag.retrieve import fuse
from rag.strings import ABSTAIN

from conftest import PAKISTAN_PARAGRAPH, ROOT, SEED


@pytest.mark.parametrize("question, language", [("why Pakistan?", "en"), ("لماذا باكستان؟", "ar")])
def test_why_pakistan_cites_the_pakistan_paragraph(seed_engine, question, language):
    answer = seed_engine.ask(question)
    assert not answer.abstained and answer.language == language
    assert answer.citations[0].text.startswith(PAKISTAN_PARAGRAPH)
    assert "[1]" in answer.text
    # Quotes stay in the document's language; the framing follows the question's.
    assert "حفظ السلام" in answer.text or "الشرعية" in answer.text
    assert answer.text.startswith("From the documents" if language == "en" else "بحسب المستندات")


@pytest.mark.parametrize("question, language", [
    ("Who won the 2022 football World Cup?", "en"),
    ("ما هو سعر برميل النفط اليوم؟", "ar"),
    ("How do I bake sourdough bread?", "en"),
])
def test_abstains_in_the_question_language(seed_engine, question, language):
    answer = seed_engine.ask(question)
    assert answer.abstained and answer.text == ABSTAIN[language] and not answer.citations


def test_citations_point_into_the_document(seed_engine):
    text = SEED.read_text(encoding="utf-8")
    answer = seed_engine.ask("كم عدد الجنود في القوة الدولية المقترحة؟")
    assert "5 آلاف جندي" in answer.text
    for citation in answer.citations:
        assert text[citation.start:citation.end] == citation.text
        for s, e in citation.highlights:
            assert citation.text[s:e] in answer.text
    markers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}


def test_follow_up_retrieves_with_the_conversation(seed_engine):
    first = seed_engine.ask("why Pakistan?")
    bare = seed_engine.retrieve("and what could go wrong?")
    followed = seed_engine.retrieve("and what could go wrong?", [Turn("why Pakistan?", first.text)])
    assert followed != bare
    follow_up = seed_engine.ask("and what could go wrong?", [Turn("why Pakistan?", first.text)])
    assert not follow_up.abstained
    assert any("مقاومة داخلية" in c.text or "فراغ أمني" in c.text for c in follow_up.citations)


def test_empty_and_nonsense_questions(seed_engine):
    assert seed_engine.ask("   ").abstained
    assert seed_engine.ask("؟؟؟ !!!").abstained
    # Gibberish in the documents' language stays under the same-language threshold. (Latin-letter
    # gibberish over this Arabic text scores 0.76-0.78, inside the range of real English questions
    # over Arabic text, so no cross-lingual threshold can refuse it: a known gap, see the README.)
    assert seed_engine.ask("زقفث بلورف وغق").abstained
    long = seed_engine.ask("why Pakistan? " * 500)
    assert long.abstained and "too long" in long.text and not long.citations


def test_fusion_ignores_bm25_when_it_cannot_see_the_query():
    settings = load_settings()
    candidates = ["a", "b", "c"]
    passage = {"a": 0.90, "b": 0.85, "c": 0.80}
    sentence = {"a": 0.92, "b": 0.86, "c": 0.81}
    lexical = {"c": 12.0}
    blind = fuse(candidates, passage, sentence, lexical, coverage=0.0, settings=settings)
    assert sorted(blind, key=blind.get, reverse=True) == ["a", "b", "c"]
    seeing = fuse(candidates, passage, sentence, lexical, coverage=1.0, settings=settings)
    assert seeing["c"] > seeing["b"] and blind["c"] < blind["b"]


def test_fusion_scores_are_normalised_per_query():
    settings = load_settings()
    low = fuse(["a", "b"], {"a": 0.70, "b": 0.60}, {"a": 0.7, "b": 0.6}, {}, 0.0, settings)
    high = fuse(["a", "b"], {"a": 0.95, "b": 0.85}, {"a": 0.95, "b": 0.85}, {}, 0.0, settings)
    assert low == high


def _rag(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_json_shape(seed_engine):
    index_dir = str(seed_engine.settings.index_dir)
    result = _rag("ask", "لماذا باكستان؟", "--json", "--index-dir", index_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"question", "language", "answer", "abstained", "citations"} <= set(data)
    assert data["language"] == "ar" and data["abstained"] is False
    text = SEED.read_text(encoding="utf-8")
    for c in data["citations"]:
        assert {"n", "source", "text", "start", "end", "score"} <= set(c)
        assert isinstance(c["n"], int) and isinstance(c["score"], float)
        assert c["source"].endswith(SEED.name)
        assert text[c["start"]:c["end"]] == c["text"]


def test_cli_ask_without_index_says_how_to_build_one(tmp_path):
    result = _rag("ask", "why?", "--index-dir", str(tmp_path / "none"))
    assert result.returncode == 2 and "rag index" in result.stderr


def test_cli_interactive_loop(seed_engine):
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "-i", "--index-dir", str(seed_engine.settings.index_dir)],
        cwd=ROOT, input="Why Pakistan?\nوما المخاطر؟\n\n", capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[1]") >= 2 and "gaza-stabilisation-force-pakistan" in result.stdout


def test_bracketed_numbers_in_a_document_are_not_citation_markers(fresh_engine, tmp_path):
    (tmp_path / "dam.en.txt").write_text(
        "The valley dam\n\nThe 2023 survey [2] found that most residents of the valley support the new dam. "
        "Critics [3, 4] say that the dam will flood farmland along the river.\n", encoding="utf-8")
    fresh_engine.index([tmp_path / "dam.en.txt"])
    answer = fresh_engine.ask("What did the survey find about the dam?")
    assert not answer.abstained and "survey ［2］ found" in answer.text
    # The only markers left are the answer's own, and each names a citation.
    markers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations} == {1}
