"""`rag eval` end to end: real indexes in temporary folders, the real default embedder, output shape only."""
import json
from pathlib import Path

import pytest

from eval import runner, xquad
from rag.cli import main
from rag.text import detect_language

from conftest import ROOT

XQUAD = Path(__file__).parents[1].parent / "shared/data/xquad"
XQUAD_SLICE = 100  # the first 100 questions come from three articles: a small index, a fixed slice
SUMMARY_KEYS = {"n", "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "answer_has_gold",
                "citation_precision", "abstained", "false_abstain", "latency_ms_p50", "latency_ms_p95"}
ROW_KEYS = {"id", "question", "language", "answerable", "first_relevant_rank", "abstained", "answer_has_gold",
            "top_score", "latency_ms", "answer", "citations"}


def run_eval(*args: str) -> int:
    return main(["eval", *map(str, args)])


def check_run(run: dict, n: int) -> None:
    assert SUMMARY_KEYS <= run["summary"].keys() and run["summary"]["n"] == n
    assert set(run["by_language"]) == {"ar", "en"}
    assert sum(s["n"] for s in run["by_language"].values()) == n
    assert len(run["questions"]) == n
    for row in run["questions"]:
        assert ROW_KEYS <= row.keys()
        assert row["abstained"] == (row["top_score"] is None)
        rank = row["first_relevant_rank"]
        assert rank is None or 1 <= rank <= 10


@pytest.fixture()
def eval_cache(tmp_path, monkeypatch) -> Path:
    """Eval's own index cache (used without --index-dir), moved out of the working tree."""
    monkeypatch.setattr(runner, "CACHE", tmp_path / "cache")
    return tmp_path / "cache"


def test_seed_set_with_baselines(tmp_path, eval_cache, capsys):
    out = tmp_path / "out"
    code = run_eval(ROOT / "eval/sets/seeds.jsonl", "--docs", ROOT / "seeds", "--compare",
                    "--json-out", out / "seeds.json", "--md-out", out / "seeds.md")
    assert code == 0
    printed = capsys.readouterr()
    assert "26/26" in printed.err  # the progress bar
    assert printed.out.split("\n")[0].split() == ["hybrid", "dense", "bm25"]

    result = json.loads((out / "seeds.json").read_text(encoding="utf-8"))
    check_run(result, 26)
    assert set(result["baselines"]) == {"dense", "bm25"}
    for baseline in result["baselines"].values():
        check_run(baseline, 26)
    assert result["by_language"]["ar"]["n"] == result["by_language"]["en"]["n"] == 13
    assert result["config"]["retrievers"] == ["hybrid", "dense", "bm25"]
    unanswerable = [row for row in result["questions"] if not row["answerable"]]
    assert len(unanswerable) == 6 and all(row["answer_has_gold"] is None for row in unanswerable)

    report = (out / "seeds.md").read_text(encoding="utf-8")
    assert "| hit@5 |" in report and "![hit@k" in report
    assert (out / "seeds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(result["config"]["index_dir"]).is_relative_to(eval_cache)


def test_own_index_from_an_older_engine_is_rebuilt(tmp_path, eval_cache):
    generation = runner.cache_index_dir(ROOT / "seeds") / "state" / "gen-1"
    generation.mkdir(parents=True)
    (generation / "manifest.json").write_text('{"format": 0}', encoding="utf-8")
    (generation.parent / "CURRENT").write_text("gen-1", encoding="utf-8")
    assert run_eval(ROOT / "eval/sets/seeds.jsonl", "--docs", ROOT / "seeds", "--limit", "2",
                    "--json-out", tmp_path / "r.json") == 0
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["config"]["index"]["added"] == 1


@pytest.fixture(scope="module")
def xquad_slice(tmp_path_factory) -> Path:
    if not (XQUAD / "xquad.ar.json").exists():
        pytest.skip(f"XQuAD is not at {XQUAD} (the repository's sibling shared/data/xquad)")
    from rag import Sanad, load_settings

    folder = tmp_path_factory.mktemp("xquad")
    xquad.write(xquad.convert(XQUAD, limit=XQUAD_SLICE), folder)
    assert len(Sanad(load_settings(index_dir=folder / "index")).index([folder / "docs"]).added) == 3
    return folder


def test_xquad_conversion(xquad_slice):
    ar, en = ([json.loads(line) for line in (xquad_slice / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()]
              for lang in ("ar", "en"))
    assert len(ar) == len(en) == XQUAD_SLICE
    assert [q["id"] for q in ar] == [q["id"] for q in en]
    assert all(detect_language(q["question"]) == "ar" for q in ar)
    assert all(detect_language(q["question"]) == "en" for q in en)
    assert [q["answers"] for q in ar] == [q["answers"] for q in en]
    corpus = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((xquad_slice / "docs").glob("*.txt")))
    assert len(list((xquad_slice / "docs").glob("*.txt"))) == 3
    for q in ar:
        (evidence,) = q["evidence"]
        assert evidence in corpus and q["answers"][0] in evidence


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_xquad_slice(xquad_slice, lang, tmp_path):
    out = tmp_path / f"{lang}.json"
    # Hybrid only: the seed test covers the baselines, and each retriever costs a query embedding per question.
    assert run_eval(xquad_slice / f"{lang}.jsonl", "--docs", xquad_slice / "docs", "--index-dir", xquad_slice / "index",
                    "--json-out", out) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    check_run(result, XQUAD_SLICE)
    assert result["by_language"][lang]["n"] == XQUAD_SLICE
    # The fixture indexed the documents already: an up-to-date index is reused, nothing re-embedded.
    assert result["config"]["index"]["unchanged"] == 3 and result["config"]["index"]["chunks_embedded"] == 0
    # Loose: a broken relevance judgement (normalisation, offsets) would score near zero.
    assert result["summary"]["hit@10"] > 0.5
