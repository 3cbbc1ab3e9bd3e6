"""The core job: ask the seed article in both languages, get the right paragraph cited, or an honest abstention."""
import json
import subprocess
import sys

import pytest

from rag import Turn
from rag import Sanad, load_settings
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


# --- issue 18: the sentence that answers; abstention that fits natural questions -----------------

def test_answer_type_cues_read_both_languages():
    from rag.cues import AGE, NUMBER, PRICE, SPEED, WHEN, WHO, WHY, holds, question_type

    assert question_type("Who paid for the construction of the railway?") == WHO
    assert question_type("مَن أسس المكتبة؟") == WHO and question_type("من أين يشترون الطحين؟") != WHO
    assert question_type("When did it open?") == WHEN and question_type("في أي شهر يتوقف الصيد؟") == WHEN
    assert question_type("كم نخلة في الواحة؟") == NUMBER and question_type("How much does it cost?") == PRICE
    assert question_type("لماذا قلّ السمك؟") == WHY and question_type("ما أقدم قطعة فيه؟") is None
    assert holds(NUMBER, "تضم المكتبة اليوم نحو ٢٢ ألف كتاب") and holds(NUMBER, "يبلغ عدد أعضائها مئتين وأربعين صياداً")
    assert holds(WHEN, "تأسست المكتبة عام ١٩٨٧") and not holds(WHEN, "تعمل على رقمنة المخطوطات القديمة")
    assert holds(WHY, "لأن المبنى القديم لم يُرمَّم منذ عقود") and holds(WHY, "because the old bridge is narrow")
    assert holds(WHO, "The project was led by the historian Margaret Ellory.") and not holds(WHO, "the trains run daily.")
    # A price, a speed, an age: any number does not do.
    assert question_type("كم ثمن رغيف الجاودار؟") == PRICE and question_type("What is the festival's budget?") == PRICE
    assert question_type("How many times more did they pay for oil?") == NUMBER  # a count, not a price
    assert question_type("How fast can the railcars go?") == SPEED and question_type("كم كان عمر الطبيب عندما تقاعد؟") == AGE
    assert question_type("Who paid for the bridge?") == WHO
    assert holds(PRICE, "costs £9.50 for adults") and holds(PRICE, "قرابة مليوني جنيه مصري")
    assert not holds(PRICE, "وتقتطع التعاونية خمسة في المئة من ثمن كل صفقة") and not holds(PRICE, "it carried 310,000 passengers")
    assert holds(SPEED, "up to 3600 revolutions per minute") and holds(AGE, "in Super Bowl XXXIII at age 38")
    assert holds(SPEED, "السرعات النموذجية هي 3600 دورة في الدقيقة") and holds(SPEED, "بسرعة ١٢٠ كيلومتراً في الساعة")
    assert holds(AGE, "في السوبر بول 33 في عمر 38") and not holds(AGE, "It was built in 1923.")
    # "charge" and "pay" ask for a price only in a "how much" question (XQuAD's physics and civics
    # questions were refused as prices); a thing's age is read too, not only a person's.
    assert question_type("What is the law named that defines a charge moving through a magnetic field?") != PRICE
    assert question_type("ما الطرف الذي كلفه المجلس الأوروبي بصياغة المسودة؟") != PRICE
    assert question_type("How much do they charge for a ticket?") == PRICE and question_type("ما كلفة الدخول؟") == PRICE
    assert holds(AGE, "fossils from about 515 million years ago") and holds(AGE, "يعود إلى نحو مليون سنة")
    assert not holds(AGE, "it was run by him for thirty-one years")


RAILWAY = """The Harwick Salt Marsh Railway

The Harwick Salt Marsh Railway is a 46-kilometre single-track railway that links the port of Harwick with the market towns of the marsh, and it is the busiest line in the county.

Building began in 1871 and the line opened to passengers in 1874. The county's salt merchants paid for most of its construction, and a loan from the town bank covered the rest.

In 2023 the railway carried 310,000 passengers, its record year. Trains run every hour in summer.
"""


def test_the_opening_sentence_does_not_win_for_being_topical(fresh_engine, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harwick.txt").write_text(RAILWAY, encoding="utf-8")
    fresh_engine.index([tmp_path / "docs"])
    for question, fact in [("When did the Harwick railway open, and who paid for it?", "1874"),
                           ("Who paid for building the line?", "salt merchants"),
                           ("How many people used the Harwick trains in their best year?", "310,000")]:
        answer = fresh_engine.ask(question)
        assert not answer.abstained and fact in answer.text, (question, answer.text)
    # With the one-sentence preset the sentence that wins is all there is: the fact, not the opening.
    brief = Sanad(load_settings("brief", index_dir=fresh_engine.settings.index_dir))
    for question, fact in [("When did the Harwick railway open?", "1874"),
                           ("Who paid for the construction of the railway?", "salt merchants")]:
        answer = brief.ask(question)
        assert fact in answer.text and "46-kilometre" not in answer.text, (question, answer.text)


def test_a_price_the_library_does_not_give_gets_the_closest_passages(fresh_engine, tmp_path):
    from rag.strings import CLOSEST_LEAD

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harwick.txt").write_text(RAILWAY, encoding="utf-8")
    fresh_engine.index([tmp_path / "docs"])
    # On the library's topic, but it gives no fare and no speed: its numbers are years and passengers.
    for question in ("How much does a ticket on the Harwick railway cost?", "How fast do the Harwick trains go?"):
        answer = fresh_engine.ask(question)
        assert answer.abstained and answer.closest and answer.citations, (question, answer.text)
        assert answer.text.startswith(CLOSEST_LEAD["en"])
    assert not fresh_engine.ask("How many passengers did the Harwick railway carry in 2023?").abstained
    # Once the library states the fare, the same question is answered with it.
    (tmp_path / "docs" / "fares.txt").write_text(
        "Harwick Salt Marsh Railway fares\n\nA return ticket on the Harwick railway costs £7.40 for adults, "
        "and children under five travel free.\n", encoding="utf-8")
    fresh_engine.index([tmp_path / "docs"])
    answer = fresh_engine.ask("How much does a ticket on the Harwick railway cost?")
    assert not answer.abstained and "£7.40" in answer.text, answer.text


def test_a_price_only_another_document_states_is_not_the_answer(fresh_engine, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harwick.txt").write_text(RAILWAY, encoding="utf-8")
    (tmp_path / "docs" / "museum.txt").write_text(
        "Harwick Marsh Museum\n\nThe museum tells the story of the salt marsh and its people. "
        "Entry costs £5 for adults and is free for children.\n", encoding="utf-8")
    fresh_engine.index([tmp_path / "docs"])
    # The railway gives no fare: the museum's entry price, lifted only by the price cue, is no answer.
    answer = fresh_engine.ask("What does a seat on the marsh trains cost?")
    assert answer.abstained and answer.closest, answer.text
    answer = fresh_engine.ask("How much does entry to the marsh museum cost?")
    assert not answer.abstained and "£5" in answer.text, answer.text


def test_a_question_a_hair_under_the_floor_is_answered(seed_engine):
    # Refused at 0.817 against 0.8225, although the article states the force's tasks.
    answer = seed_engine.ask("ما هي مهمة القوة؟")
    assert not answer.abstained and "ضبط الأمن الداخلي" in answer.text


def test_closest_passages_say_plainly_that_none_answers(seed_engine):
    from rag.strings import CLOSEST_LEAD

    answers = [seed_engine.ask(q) for q in ("كم يبلغ عدد سكان باكستان؟", "What is the population of Pakistan?",
                                             "Who is the prime minister of Pakistan?")]
    closest = [a for a in answers if a.closest]
    assert closest, [a.support for a in answers]
    for answer in closest:
        assert answer.abstained and answer.citations
        assert answer.text.startswith(CLOSEST_LEAD[answer.language])
        assert answer.to_json()["closest"] is True and answer.to_json()["abstained"] is True
    # Far from anything in the library: a plain refusal, nothing quoted.
    off = seed_engine.ask("How do I bake sourdough bread?")
    assert off.abstained and not off.closest and not off.citations


# --- issue 21.4: a word list made of the document's own words never answers ----------------------

def test_a_word_list_of_the_documents_own_words_is_never_quoted(fresh_engine, tmp_path):
    import random
    import re

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    english = (ROOT / "tests" / "data" / "seed-en" / "gaza-stabilisation-force-pakistan.en.txt").read_text(encoding="utf-8")
    words = re.findall(r"\w+", SEED.read_text(encoding="utf-8") + english)
    rng = random.Random(21)
    lines = [rng.choice(words) for _ in range(3138)]
    (docs / "words.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(fresh_engine.index([docs]).added) == 2
    for question in ("Why Pakistan?", "لماذا باكستان؟"):
        answer = fresh_engine.ask(question)
        assert not answer.abstained, question
        assert all(c.source.endswith(SEED.name) for c in answer.citations), (question, answer.text)


# --- issue 18: a name bridges the languages ------------------------------------------------------

GLASS_MUSEUM = """Halden Glass Museum

The Halden Glass Museum shows three centuries of glass blowing in the northern valleys.

The museum is open from Tuesday to Sunday, from ten in the morning until five in the afternoon, and closes in February for repairs. Entry costs £6 for adults.

Its oldest piece is a green bottle made in 1731 by a workshop near the river.
"""
MOSAIC_MUSEUM = """متحف الفسيفساء في مادبا

متحف الفسيفساء متحف صغير يعرض لوحات من الفسيفساء وجدت في كنائس مادبا وبيوتها القديمة.

يفتح المتحف من الثلاثاء إلى الأحد، ويغلق يوم الاثنين. ثمن التذكرة ثلاثة دنانير.

أقدم لوحة في المتحف ترجع إلى القرن السادس، وتصور خريطة للمدن القريبة.
"""


def test_transliterated_names_share_a_skeleton():
    from rag.bridge import names, skeleton

    for latin, arabic in [("Madaba", "مادبا"), ("Kairouan", "القيروان"), ("Northgate", "نورثغيت"), ("Nablus", "نابلس"),
                          ("Irbid", "إربد"), ("Nandakumar", "ناندكومار")]:
        assert skeleton(latin) in names(f"زرنا {arabic} أمس"), (latin, arabic)
    assert skeleton("Halden") != skeleton("مادبا")
    # Only what may be a name: an English question's capitalised words, three consonants or more.
    assert names("Which day is the Madaba museum closed?") == {skeleton("Madaba")}
    assert names("where is it?") == frozenset()


def test_a_question_naming_a_document_in_the_other_language_is_answered_from_it(fresh_engine, tmp_path):
    # Two museums, both open Tuesday to Sunday; the question names the Arabic one in English. Without
    # the name the English page wins (its sentence is in the reader's language and says "closes").
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "glass.txt").write_text(GLASS_MUSEUM, encoding="utf-8")
    (docs / "mosaic.txt").write_text(MOSAIC_MUSEUM, encoding="utf-8")
    fresh_engine.index([docs])
    answer = fresh_engine.ask("Which day is the Madaba museum closed?")
    assert not answer.abstained and answer.citations[0].source.endswith("mosaic.txt"), answer.text
    assert "الاثنين" in answer.text
    # The English museum's own question is still answered from its page.
    answer = fresh_engine.ask("When is the Halden museum closed?")
    assert answer.citations[0].source.endswith("glass.txt") and "February" in answer.text, answer.text


def test_library_calibration_bounds_and_storage(tmp_path):
    from rag.calibration import PROBES_AR, PROBES_EN, Calibration, load, save

    assert len(PROBES_EN) == len(PROBES_AR) >= 30
    calibration = Calibration(typical={"en": -0.01, "ar": -0.2}, embedder="e5-small-q4", probes=80)
    # The floor is what a typical off-topic question reaches here, within [lowest, 0].
    assert calibration.off_topic_floor("en", -0.03) == -0.01
    assert calibration.off_topic_floor("ar", -0.03) == -0.03
    assert Calibration(typical={"en": 0.04}, embedder="x", probes=1).off_topic_floor("en", -0.03) == 0.0
    save(tmp_path, calibration)
    assert load(tmp_path, "e5-small-q4") == calibration
    assert load(tmp_path, "st:another-model") is None  # measured with another embedder: measure again
    (tmp_path / "probes.json").write_text("{not json", encoding="utf-8")
    assert load(tmp_path, "e5-small-q4") is None
