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
        # An abstention quotes nothing, unless it shows the closest passages (and says so).
        assert row["abstained"] == (row["top_score"] is None) or row["abstained"] and row["closest"]
        assert not row["closest"] or row["abstained"]
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


SETS = ("ar-ar", "en-ar", "ar-en", "en-en", "ar-mixed", "en-mixed")  # question language - library


def read_set(folder: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (folder / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def xquad_slice(tmp_path_factory) -> Path:
    """The first 100 questions in every direction, and each library indexed once (three articles a language)."""
    if not (XQUAD / "xquad.ar.json").exists():
        pytest.skip(f"XQuAD is not at {XQUAD} (the repository's sibling shared/data/xquad)")
    from rag import Sanad, load_settings

    folder = tmp_path_factory.mktemp("xquad")
    xquad.write(xquad.convert(XQUAD, limit=XQUAD_SLICE), folder)
    for library, files in (("ar", 3), ("en", 3), ("mixed", 6)):
        engine = Sanad(load_settings(index_dir=folder / f"index-{library}"))
        assert len(engine.index([folder / f"docs-{library}"]).added) == files
    return folder


def test_xquad_conversion(xquad_slice):
    sets = {name: read_set(xquad_slice, name) for name in SETS}
    ids = [q["id"] for q in sets["ar-ar"]]
    assert len(ids) == XQUAD_SLICE and all([q["id"] for q in rows] == ids for rows in sets.values())
    for name, rows in sets.items():
        lang, library = name.split("-")
        assert all(detect_language(q["question"]) == lang for q in rows), name
        corpus = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((xquad_slice / f"docs-{library}").glob("*.txt")))
        for q in rows:
            # Over one library: its own language's answer and evidence; over the mixed one: both copies.
            assert [detect_language(e) for e in q["evidence"]] == (["ar", "en"] if library == "mixed" else [library])
            assert all(e in corpus for e in q["evidence"]) and q["answers"][0] in q["evidence"][0]
            # Across languages, the gold answer in the reader's language too (what an LLM's answer must hold).
            assert (f"answers_{lang}" in q) == (library not in (lang, "mixed")), name
    assert [q["question"] for q in sets["ar-en"]] == [q["question"] for q in sets["ar-ar"]]
    assert len(list((xquad_slice / "docs-mixed").glob("*.txt"))) == 6
    assert sorted(p.name for p in (xquad_slice / "docs-ar").glob("*.txt")) == \
        sorted(p.name for p in (xquad_slice / "docs-en").glob("*.txt"))


@pytest.mark.slow
@pytest.mark.parametrize("name", SETS)
def test_xquad_slice(xquad_slice, name, tmp_path):
    lang, library = name.split("-")
    out = tmp_path / f"{name}.json"
    # Hybrid only: the seed test covers the baselines, and each retriever costs a query embedding per question.
    assert run_eval(xquad_slice / f"{name}.jsonl", "--docs", xquad_slice / f"docs-{library}",
                    "--index-dir", xquad_slice / f"index-{library}", "--json-out", out) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    check_run(result, XQUAD_SLICE)
    assert result["by_language"][lang]["n"] == XQUAD_SLICE
    # The fixture indexed the documents already: an up-to-date index is reused, nothing re-embedded.
    files = 6 if library == "mixed" else 3
    assert result["config"]["index"]["unchanged"] == files and result["config"]["index"]["chunks_embedded"] == 0
    # Loose: a broken relevance judgement (normalisation, offsets, the wrong language's evidence) would score near zero.
    assert result["summary"]["hit@10"] > 0.5


def test_offline_replay_matches_the_engine(seed_engine):
    """eval/offline.py replays retrieval in numpy for calibration; it must rank and score as the engine does."""
    from eval import offline
    from rag import load_settings

    library = offline.load_library(seed_engine.settings.index_dir)
    settings = load_settings()
    questions = [item.question for item in runner.load_set(ROOT / "eval/sets/seeds.jsonl")]
    vectors = seed_engine._current()[0].embedder.embed_queries(questions)
    for question, vector in zip(questions, vectors):
        answer, hits = seed_engine.inspect(question)
        replayed = offline.search(library, question, vector, settings)
        assert [library.chunk_ids[i] for i in replayed.ranked[: len(hits)]] == [h.chunk.id for h in hits], question
        assert replayed.support == pytest.approx(answer.support, abs=1e-3), question


def test_calibration_picks_the_highest_threshold_within_the_false_abstain_limit():
    from eval import calibrate
    from eval.offline import Replayed

    scores = calibrate.Scores()
    # 100 answerable Arabic questions over English text, supports 0.70 .. 0.898; off-topic ones 0.50 .. 0.698.
    for i in range(100):
        scores.add("answerable", "سؤال؟", Replayed(None, 0.70 + 0.002 * i, "en"))
        scores.add("off-topic", "سؤال؟", Replayed(None, 0.50 + 0.002 * i, "en"))
    suggested, table = calibrate.sweep(scores, ("ar-en",))
    row = next(r for r in table if r["threshold"] == suggested)
    assert row["answerable"] <= calibrate.MAX_FALSE_ABSTAIN
    higher = [r for r in table if r["threshold"] > suggested]
    assert higher and higher[0]["answerable"] > calibrate.MAX_FALSE_ABSTAIN
    assert row["off-topic"] == 1.0 and row["in-topic"] is None
