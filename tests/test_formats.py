"""The formats evaluation (eval/formats.py): fragments counted right on hand-made answers, and a small
fixed slice run end to end for the shape of its output. No thresholds: figures depend on the machine."""
from pathlib import Path

import pytest

from eval import formats
from eval.metrics import CitationRow, QuestionRow

XQUAD = Path(__file__).parents[1].parent / "shared/data/xquad"


def row(*quotes: str) -> QuestionRow:
    citation = CitationRow(n=1, source="a.txt", start=0, end=10, score=0.9, relevant=True, quotes=quotes)
    return QuestionRow(id="q", question="?", language="en", answerable=True, relevant_ranks=(1,), answer="",
                       abstained=False, has_gold=True, latency_ms=1.0, citations=(citation,))


@pytest.mark.parametrize("quote, fragment", [
    ("The tower stands 38 metres tall.", False),
    ("هل بنيت المنارة عام 1847؟", False),
    ("He said: «it stands».", False),
    ("It was built in 1847 by the engineer Margaret Ellery after", True),  # cut by a visual line
    ("بعد أن تحطمت أكثر من", True),
    ("# Lighthouses of the Northern Coast", True),  # a heading quoted as a sentence
])
def test_fragment_is_a_quote_that_does_not_end_like_a_sentence(quote, fragment):
    assert formats.is_fragment(quote) is fragment


def test_fragment_rate_counts_quotes_not_answers():
    rows = [row("A whole sentence.", "a fragment of one"), row("Another whole one!"), row()]
    assert formats.fragment_rate(rows) == pytest.approx(1 / 3, abs=1e-4)
    assert formats.fragment_rate([row()]) is None


def test_renderers_write_what_the_readers_read_back(tmp_path):
    """Every format but the Chromium PDF (tested in test_documents) renders one article the readers read whole."""
    from rag.read import read_document

    article = formats.Article("Test", "The lighthouse", "en", (
        "The Ravensholm lighthouse was built in 1847 by the engineer Margaret Ellery after forty ships were "
        "wrecked on the rocks of the bay and the merchants of the port petitioned the crown for a light.",
        "The tower stands 38 metres tall and its lamp can be seen from 22 nautical miles away."))
    for name in ("plain", "wrapped", "markdown", "html", "pdf-fpdf2", "docx"):
        path = formats.RENDERERS[name](article, tmp_path / name)
        doc = read_document(path, path.name, 10**8)
        for paragraph in article.paragraphs:
            assert paragraph in doc.text, name
        assert doc.title == "The lighthouse", name


@pytest.mark.slow
def test_formats_slice_prints_one_row_per_format(tmp_path, capsys):
    if not (XQUAD / "xquad.ar.json").exists():
        pytest.skip(f"XQuAD is not at {XQUAD} (the repository's sibling shared/data/xquad)")
    out = tmp_path / "formats.json"
    assert formats.main([str(XQUAD), "--articles", "1", "--limit", "4", "--formats", "plain,markdown",
                         "--work", str(tmp_path / "work"), "--json-out", str(out)]) == 0
    table = capsys.readouterr().out.strip().splitlines()
    assert table[0].startswith("| format | ar hit@1 |") and table[0].endswith("fragments ar / en |")
    assert [line.split("|")[1].strip() for line in table[2:]] == ["plain", "markdown"]
    import json

    results = json.loads(out.read_text(encoding="utf-8"))
    for result in results:
        for language in ("ar", "en"):
            figures = result[language]
            assert figures["n"] == 4
            for metric in ("hit@1", "hit@5", "answer_has_gold", "citation_precision", "fragments"):
                assert figures[metric] is None or 0.0 <= figures[metric] <= 1.0
