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


TEXTS = ["Emperor penguins breed in the Antarctic winter.", "Green tea reached Japan in the ninth century.",
         "الجيش الباكستاني يمتلك خبرة طويلة في حفظ السلام", "penguins penguins tea tea tea", "1234 5678",
         "قوات حفظ السلام الدولية في غزة", "The army of Pakistan keeps the peace in Gaza."]


def test_every_score_is_the_one_bm25s_computes():
    """Sanad builds the columns itself (to reuse each chunk's terms); each (chunk, term) score must be
    bm25s' own, to the bit, so that retrieval is what it was."""
    import bm25s

    index = LexicalIndex([str(i) for i in range(len(TEXTS))], TEXTS)
    reference = bm25s.BM25()
    reference.index([tokenize(t) or [""] for t in TEXTS], show_progress=False)
    theirs, ours = reference.scores, index._bm25
    compared = 0
    for term, column in reference.vocab_dict.items():
        if column + 1 >= len(theirs["indptr"]):
            continue  # bm25s' empty token, past its last column
        a, b = theirs["indptr"][column], theirs["indptr"][column + 1]
        mine = ours.vocab[term]
        c, d = ours.indptr[mine], ours.indptr[mine + 1]
        assert dict(zip(theirs["indices"][a:b].tolist(), theirs["data"][a:b].tolist())) == \
            dict(zip(ours.indices[c:d].tolist(), ours.data[c:d].tolist())), term
        compared += 1
    assert compared == len(ours.vocab) > 20


def test_a_new_build_tokenises_only_the_chunks_it_has_not_seen(tmp_path):
    ids = [str(i) for i in range(len(TEXTS))]
    LexicalIndex(ids, TEXTS).save(tmp_path / "gen-1")
    previous = LexicalIndex.load(tmp_path / "gen-1")
    assert previous.has_terms()
    texts = dict(zip(ids, TEXTS)) | {"new": "Penguins drink green tea in Pakistan."}
    asked: list[list[str]] = []

    def texts_of(wanted):
        asked.append(list(wanted))
        return {i: texts[i] for i in wanted}

    now = ids[2:] + ["new"]  # two chunks gone, one added
    updated = LexicalIndex.build(now, texts_of, previous)
    assert asked == [["new"]]
    full = LexicalIndex(now, [texts[i] for i in now])
    for query in ("penguins tea", "باكستان السلام", "Pakistan peace Gaza", "century"):
        a, b = updated.search(query, 5), full.search(query, 5)
        assert (a.ids, a.scores, a.coverage) == (b.ids, b.scores, b.coverage)
        assert "0" not in a.ids and "1" not in a.ids
    assert "ninth" not in " ".join(updated._bm25.vocab)  # the gone chunk's own terms left the vocabulary


def test_scores_do_not_depend_on_how_many_rows_are_scored_at_a_time(monkeypatch):
    """The columns are filled a block of rows at a time; a block boundary inside a chunk, or a term
    spread over many blocks, must give the same columns, each listing its chunks in order."""
    import numpy as np

    from rag import lexical

    ids = [str(i) for i in range(len(TEXTS))]
    whole = LexicalIndex(ids, TEXTS)._bm25
    monkeypatch.setattr(lexical, "BLOCK", 3)
    blocks = LexicalIndex(ids, TEXTS)._bm25
    assert len(whole.data) > 10 * 3
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(whole, name), getattr(blocks, name)), name
    for column in range(len(blocks.indptr) - 1):
        rows = blocks.indices[blocks.indptr[column] : blocks.indptr[column + 1]]
        assert (np.diff(rows) > 0).all()
