import pytest

from rag.lexical import LexicalIndex, tokenize


def test_tokenizer_normalises_and_stems_both_languages():
    assert set(tokenize("الباكستانية")) & set(tokenize("باكستان"))
    assert set(tokenize("والجيش")) & set(tokenize("الجيش"))
    assert tokenize("armies") == tokenize("army")
    assert tokenize("في من على the of") == []


def test_search_ranks_the_matching_passage_first():
    index = LexicalIndex(["a", "b", "c"], ["الجيش الباكستاني يمتلك خبرة طويلة", "Python is a language", "الأمم المتحدة"])
    result = index.search("لماذا الجيش الباكستاني؟", 3)
    assert result.ids[0] == "a"
    assert result.coverage == 1.0


def test_coverage_is_zero_when_no_query_term_is_in_the_corpus():
    index = LexicalIndex(["a", "b"], ["الجيش الباكستاني يمتلك خبرة طويلة", "الأمم المتحدة"])
    result = index.search("Why Pakistan?", 3)
    assert result.ids == [] and result.coverage == 0.0


def test_partial_coverage_between_zero_and_one():
    index = LexicalIndex(["a", "b"], ["Pakistan army experience", "United Nations"])
    result = index.search("Pakistan zebra", 3)
    assert 0.0 < result.coverage < 1.0 and result.ids == ["a"]


def test_save_and_load_round_trip(tmp_path):
    index = LexicalIndex(["a", "b"], ["الجيش الباكستاني", "Python language"])
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.search("باكستان", 2).ids == index.search("باكستان", 2).ids == ["a"]


def test_a_loaded_index_scores_exactly_as_bm25s_built_it(tmp_path):
    """Readers score from the saved columns with numpy alone (no bm25s import at start-up)."""
    texts = ["Emperor penguins breed in the Antarctic winter.", "Green tea reached Japan in the ninth century.",
             "الجيش الباكستاني يمتلك خبرة طويلة في حفظ السلام", "penguins penguins tea tea tea"]
    index = LexicalIndex(["a", "b", "c", "d"], texts)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    for query in ("penguins winter", "tea Japan penguins", "باكستان السلام", "winter winter tea"):
        built, read = index.search(query, 4), loaded.search(query, 4)
        assert read.ids == built.ids and read.ids
        assert read.scores == pytest.approx(built.scores, rel=1e-6)
        assert read.coverage == built.coverage
