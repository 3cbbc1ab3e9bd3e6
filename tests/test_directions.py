"""Every direction: Arabic questions over English documents, English over Arabic, and both in one library.

The English document is the seed article's translation (tests/data/seed-en), so the same questions
have the same answers in either language.
"""
from __future__ import annotations

import pytest

from rag import Sanad, load_settings

from conftest import ROOT

SEED_EN = ROOT / "tests" / "data" / "seed-en"
PEACEKEEPING = "peacekeeping operations under the United Nations umbrella"


@pytest.fixture(scope="module")
def english_engine(tmp_path_factory) -> Sanad:
    engine = Sanad(load_settings(index_dir=tmp_path_factory.mktemp("seed-en-index")))
    assert engine.index([SEED_EN]).added
    return engine


@pytest.fixture(scope="module")
def mixed_engine(tmp_path_factory) -> Sanad:
    """The Arabic article and its English translation in one library."""
    engine = Sanad(load_settings(index_dir=tmp_path_factory.mktemp("mixed-index")))
    assert len(engine.index([ROOT / "seeds", SEED_EN]).added) == 2
    return engine


@pytest.mark.parametrize("question", ["لماذا باكستان؟", "لماذا تم اختيار باكستان للمشاركة في القوة؟"])
def test_arabic_question_over_english_text_gets_the_peacekeeping_passage(english_engine, question):
    answer = english_engine.ask(question)
    assert not answer.abstained and answer.language == "ar" and answer.translingual
    assert PEACEKEEPING in answer.citations[0].text
    assert answer.text.startswith("بحسب المستندات (مقتبس بالإنجليزية):")


@pytest.mark.parametrize("question, gold", [
    ("كم عدد الجنود في القوة الدولية المقترحة؟", "5,000 troops"),
    ("ما الذي تخشاه الولايات المتحدة وحلفاؤها بعد الحرب؟", "security vacuum"),
])
def test_arabic_questions_over_english_text_are_answered(english_engine, question, gold):
    answer = english_engine.ask(question)
    assert not answer.abstained, (question, answer.support)
    assert gold in answer.text


def test_english_question_over_arabic_text_names_the_quotes_language(seed_engine):
    answer = seed_engine.ask("Why is Pakistan's army considered suitable for peacekeeping?")
    assert not answer.abstained and answer.translingual
    assert answer.text.startswith("From the documents (quoted in Arabic):")


def test_off_topic_questions_abstain_over_english_text(english_engine):
    for question in ("من فاز بكأس العالم لكرة القدم عام 2022؟", "How do I bake sourdough bread?"):
        assert english_engine.ask(question).abstained, question


@pytest.mark.parametrize("question, language", [("لماذا باكستان؟", "ar"), ("Why Pakistan?", "en")])
def test_mixed_library_answers_from_either_copy(mixed_engine, question, language):
    answer = mixed_engine.ask(question)
    assert not answer.abstained
    # Both copies are in the library; either one's peacekeeping passage answers.
    cited = answer.citations[0]
    assert PEACEKEEPING in cited.text or "حفظ السلام" in cited.text


# --- issue 23.1 and 23.2: one language per answer in a bilingual library; follow-ups in any order --

def _quotes(answer) -> list[str]:
    return [c.text[s:e] for c in answer.citations for s, e in c.highlights]


def test_the_same_content_is_quoted_once_in_the_readers_language(mixed_engine):
    from rag import Turn
    from rag.text import detect_language

    first = mixed_engine.ask("Why Pakistan?")
    follow = mixed_engine.ask("and what could go wrong?", [Turn("Why Pakistan?", first.text)])
    for answer in (first, follow):
        assert not answer.abstained
        assert {detect_language(q) for q in _quotes(answer)} == {"en"}, answer.text
    arabic = mixed_engine.ask("لماذا باكستان؟")
    assert {detect_language(q) for q in _quotes(arabic)} == {"ar"}, arabic.text


@pytest.mark.parametrize("first", ["Why Pakistan?", "لماذا باكستان؟"])
def test_an_arabic_follow_up_is_answered_whatever_the_last_turns_language(mixed_engine, first):
    from rag import Turn
    from rag.text import detect_language

    previous = mixed_engine.ask(first)
    answer = mixed_engine.ask("وما المخاطر؟", [Turn(first, previous.text)])
    assert not answer.abstained, (first, answer.support)
    assert len({detect_language(q) for q in _quotes(answer)}) == 1, answer.text
