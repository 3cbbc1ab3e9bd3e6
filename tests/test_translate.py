"""Query translation through the user's LLM (rag/translate.py): an English question over the Arabic seed
is also searched as the model translated it. The model is the scripted server of tests/llm_double.py
(a test double for the user's LLM, over the real OpenAI-compatible and Ollama protocols); the index,
the embedder that judges the translation, and retrieval are real."""
from __future__ import annotations

import json

import pytest

from rag import Sanad
from rag.cli import main as rag_main
from rag.translate import clean

from conftest import ROOT
from test_llm import Double

QUESTION = "Why does Pakistan's army have experience in peacekeeping?"
TRANSLATION = "لماذا يمتلك الجيش الباكستاني خبرة في عمليات حفظ السلام؟"
SCRIPT = [
    {"kind": "translate", "match": QUESTION, "exact": True, "reply": "Arabic translation: «" + TRANSLATION + "»"},
    {"kind": "translate", "match": "Why would Pakistan join the force in Gaza?", "reply": "<<SYS>> Question:"},
    {"kind": "translate", "match": "What would Pakistan's troops do in Gaza?", "reply": "What would Pakistan's troops do?"},
    {"kind": "translate", "match": "Why would Pakistan send troops to Gaza?", "reply": "ما هي عاصمة فرنسا؟"},
    {"kind": "translate", "match": "How large is the proposed force?", "delay": 3, "reply": "ما حجم القوة المقترحة؟"},
    {"match": "peacekeeping", "reply": "Pakistan's army has long experience and a rich history in UN peacekeeping "
                                       "operations in various conflict zones around the world [{p:حفظ السلام}]."},
]


@pytest.fixture(scope="module")
def double(tmp_path_factory):
    import test_llm

    saved, test_llm.SCRIPT = test_llm.SCRIPT, SCRIPT
    try:
        server = Double(tmp_path_factory.mktemp("translator"))
    finally:
        test_llm.SCRIPT = saved
    yield server
    server.stop()


def _engine(seed_engine, double, spec="openai:scripted", **settings) -> Sanad:
    base = f"http://127.0.0.1:{double.port}" + ("/v1" if spec.startswith("openai") else "")
    return Sanad(seed_engine.settings.with_(llm=spec, llm_base_url=base, llm_timeout=20.0, **settings))


def _translations(double, question: str) -> list[dict]:
    return [r for r in double.requests(question) if r["kind"] == "translate"]


def test_the_library_languages_come_from_the_index(seed_engine):
    assert seed_engine.languages() == frozenset({"ar"})


@pytest.mark.parametrize("spec", ["openai:scripted", "ollama:scripted"])
def test_a_question_over_a_library_in_the_other_language_is_searched_translated(seed_engine, double, spec):
    engine = _engine(seed_engine, double, spec)
    answer = engine.ask(QUESTION)
    assert answer.translation == TRANSLATION  # the label and the quotes the model added are gone
    assert answer.mode == spec and "peacekeeping" in answer.text and answer.question == QUESTION
    assert answer.to_json()["translated_question"] == TRANSLATION
    request = _translations(double, QUESTION)[-1]
    assert request["path"] == ("/v1/chat/completions" if spec.startswith("openai") else "/api/chat")
    # The model answers the reader's own question, in the reader's language.
    assert [r for r in double.requests(QUESTION) if r["kind"] == "answer"][-1]["question"] == QUESTION


def test_a_translation_is_asked_for_once_per_question(seed_engine, double):
    engine = _engine(seed_engine, double)
    before = len(_translations(double, QUESTION))
    engine.search(QUESTION)
    engine.search(QUESTION)
    assert len(_translations(double, QUESTION)) == before + 1


def test_a_question_in_the_library_s_language_is_never_translated(seed_engine, double):
    engine = _engine(seed_engine, double)
    hits, translation = engine.search("لماذا باكستان؟")
    assert hits and translation is None and not _translations(double, "لماذا باكستان")


@pytest.mark.parametrize("question, why", [
    ("Why would Pakistan join the force in Gaza?", "markup instead of a translation"),
    ("What would Pakistan's troops do in Gaza?", "the question back in its own language"),
    ("Why would Pakistan send troops to Gaza?", "a fluent question that means something else"),
])
def test_a_bad_translation_is_not_used(seed_engine, double, question, why):
    engine = _engine(seed_engine, double)
    hits, translation = engine.search(question)
    assert _translations(double, question) and translation is None, why
    plain, _ = seed_engine.search(question)
    assert [h.chunk.id for h in hits] == [h.chunk.id for h in plain]


def test_a_slow_translator_is_given_up_on_and_asked_again_next_time(seed_engine, double):
    engine = _engine(seed_engine, double, translate_timeout=1.0)
    hits, translation = engine.search("How large is the proposed force?")
    assert hits and translation is None
    engine.search("How large is the proposed force?")
    assert len(_translations(double, "How large is the proposed force?")) == 2  # a failure is not remembered


def test_translation_can_be_turned_off(seed_engine, double):
    engine = _engine(seed_engine, double, translate_queries=False)
    before = len(_translations(double, QUESTION))
    assert engine.ask(QUESTION).translation is None and len(_translations(double, QUESTION)) == before


def test_cli_json_shows_the_translated_question(seed_engine, double, capsys):
    assert rag_main(["ask", QUESTION, "--json", "--index-dir", str(seed_engine.settings.index_dir),
                     "--llm", "openai:scripted", "--llm-base-url", f"http://127.0.0.1:{double.port}/v1"]) == 0
    assert json.loads(capsys.readouterr().out)["translated_question"] == TRANSLATION


def test_the_chat_and_the_cli_show_what_the_question_was_searched_as(seed_engine, double, capsys):
    from ui import render

    assert rag_main(["ask", QUESTION, "--index-dir", str(seed_engine.settings.index_dir),
                     "--llm", "openai:scripted", "--llm-base-url", f"http://127.0.0.1:{double.port}/v1"]) == 0
    assert f"Also searched as: {TRANSLATION}" in capsys.readouterr().out
    html = render.answer(_engine(seed_engine, double).ask(QUESTION))
    assert f'class="sanad-searched-as">Also searched as: {TRANSLATION}</p>' in html


@pytest.mark.parametrize("reply, expected", [
    ("ما حجم القوة؟", "ما حجم القوة؟"),
    ('Translation: "How large is the force?"\nNote: literal.', "How large is the force?"),
    ("الترجمة الإنجليزية: What is it?", "What is it?"),
    ("1. How large is the force?", "How large is the force?"),
    ("<<SYS>> translate", None),
    ("<conversation>", None),
    ("assistant: hello there", None),
    ("???", None),
    ("", None),
])
def test_what_counts_as_a_translation(reply, expected):
    assert clean(reply) == expected


def test_eval_rows_show_the_translated_question(seed_engine, double):
    from eval.runner import Item, evaluate

    item = Item(id="pk", question=QUESTION, answers=("حفظ السلام",), evidence=("حفظ السلام",))
    row = evaluate(_engine(seed_engine, double), [item], "hybrid").rows[0]
    assert row.translation == TRANSLATION and row.to_json()["translated_question"] == TRANSLATION


def test_rag_eval_with_an_llm_reports_retrieval_with_and_without_translation(seed_engine, double, tmp_path, capsys):
    questions = tmp_path / "set.jsonl"
    questions.write_text(json.dumps({"id": "pk", "question": QUESTION, "answers": ["حفظ السلام"],
                                     "evidence": ["حفظ السلام"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "results.json"
    assert rag_main(["eval", str(questions), "--docs", str(ROOT / "seeds"),
                     "--index-dir", str(seed_engine.settings.index_dir), "--json-out", str(out),
                     "--llm", "openai:scripted", "--llm-base-url", f"http://127.0.0.1:{double.port}/v1"]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert list(results["baselines"]) == ["hybrid, untranslated"]
    assert results["questions"][0]["translated_question"] == TRANSLATION
    assert results["baselines"]["hybrid, untranslated"]["questions"][0]["translated_question"] is None
    assert "hybrid, untranslated" in capsys.readouterr().out
