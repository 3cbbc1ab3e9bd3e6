from rag.chunking import chunk_document, is_heading
from rag.read import read_document

from conftest import SEED


def test_seed_chunks_keep_headings_with_their_paragraphs():
    doc = read_document(SEED, "seeds/x.txt", 10**7)
    chunks = chunk_document(doc, max_chars=1200, min_chars=200)
    assert len(chunks) == 5
    pakistan = [c for c in chunks if c.heading == "الأهمية الاستراتيجية للدور الباكستاني"]
    assert len(pakistan) == 1
    assert pakistan[0].text.startswith("الأهمية الاستراتيجية للدور الباكستاني\nاختيار باكستان")
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert chunk.source == "seeds/x.txt"


def test_long_paragraph_splits_on_sentence_ends(tmp_path):
    sentence = "هذه جملة عربية طويلة نسبياً عن موضوع ما في التقرير. "
    path = tmp_path / "long.txt"
    path.write_text("# Title\n\n" + sentence * 40, encoding="utf-8")
    doc = read_document(path, "long.txt", 10**7)
    chunks = chunk_document(doc, max_chars=500, min_chars=100)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 500
        assert chunk.text.endswith(".")
        assert doc.text[chunk.start:chunk.end] == chunk.text
    assert chunks[0].heading == "Title"


def test_heading_detection():
    assert is_heading("## Results")
    assert is_heading("التأثيرات المتوقعة محلياً وإقليمياً")
    assert not is_heading("This is a sentence.")
    assert not is_heading("هل هذا سؤال؟")


def test_small_paragraphs_merge(tmp_path):
    path = tmp_path / "short.md"
    path.write_text("One short line.\n\nAnother short line.\n\nA third one.", encoding="utf-8")
    doc = read_document(path, "short.md", 10**7)
    chunks = chunk_document(doc, max_chars=1200, min_chars=200)
    assert len(chunks) == 1 and chunks[0].text == doc.text.strip()
