"""Follow-up questions: two-turn conversations, scored on the second turn.

    python -m eval.followups [--set eval/sets/followups.jsonl] [--json-out FILE] [--md-out FILE]

Each conversation (eval/sets/followups.jsonl) is a first question and a follow-up that leans on it
("Why Pakistan?" then "and what could go wrong?"), written in both languages for the seed article
and a few XQuAD articles, with the follow-up's gold answers and evidence in both languages. Each is
asked of the Arabic and the English library of its topic (seeds/ and its translation in
tests/data/seed-en; XQuAD's docs-ar and docs-en, converted if needed), so all four directions
occur. The first answer goes into the history as the chat would keep it; the follow-up is scored
as `rag eval` scores a question (hit@k, answer_has_gold), and so is the same follow-up asked on
its own, which says how much the conversation helps.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from rag import Sanad, Turn, load_settings

from . import runner
from .metrics import QuestionRow, summarize
from .runner import Item, score
from .xquad import DEFAULT_OUT, convert, write

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SET = ROOT / "eval" / "sets" / "followups.jsonl"
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
METRICS = ("hit@1", "hit@5", "answer_has_gold", "false_abstain")


def libraries(xquad_dir: Path) -> dict[str, Path]:
    if not (DEFAULT_OUT / "docs-en").is_dir():
        write(convert(xquad_dir), DEFAULT_OUT)
    return {"seed-ar": ROOT / "seeds", "seed-en": ROOT / "tests" / "data" / "seed-en",
            "xquad-ar": DEFAULT_OUT / "docs-ar", "xquad-en": DEFAULT_OUT / "docs-en"}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(conversations: Sequence[dict], docs: dict[str, Path], engine_for=None) -> dict[str, dict[str, list[QuestionRow]]]:
    """Rows per library ("seed-ar", ...) and mode ("conversation", "alone")."""
    engine_for = engine_for or _cached_engine
    out: dict[str, dict[str, list[QuestionRow]]] = {}
    for name, folder in docs.items():
        topic = name.split("-")[0]
        engine = engine_for(folder)
        rows = out.setdefault(name, {"conversation": [], "alone": []})
        for conv in (c for c in conversations if c["library"] == topic):
            item = Item(id=conv["id"], question=conv["question"], answers=tuple(conv["answers"]),
                        evidence=tuple(conv["evidence"]))
            first = engine.ask(conv["first"])
            for mode, history in (("conversation", [Turn(conv["first"], first.text)]), ("alone", [])):
                answer, hits = engine.inspect(item.question, history, depth=runner.DEPTH)
                rows[mode].append(score(item, answer, hits, 0.0))
    return out


def _cached_engine(folder: Path) -> Sanad:
    folder = folder.resolve()  # the index knows documents by path: one reached through a link would be indexed twice
    engine = Sanad(load_settings(index_dir=runner.cache_index_dir(folder)))
    runner._index(engine, folder, owned=True)
    return engine


def table(results: dict[str, dict[str, list[QuestionRow]]]) -> list[str]:
    """Markdown: one line per library and question language, the follow-up in conversation and alone."""
    lines = ["| library | question | n | " + " | ".join(METRICS) + " | hit@1 alone | answer_has_gold alone |",
             "|---|---|---:|" + "---:|" * (len(METRICS) + 2)]
    for name, modes in results.items():
        for lang in ("ar", "en"):
            conv = summarize([r for r in modes["conversation"] if r.language == lang])
            alone = summarize([r for r in modes["alone"] if r.language == lang])
            if not conv["n"]:
                continue
            cells = [_cell(conv[m]) for m in METRICS] + [_cell(alone["hit@1"]), _cell(alone["answer_has_gold"])]
            lines.append(f"| {name} | {lang} | {conv['n']} | " + " | ".join(cells) + " |")
    every = summarize([r for modes in results.values() for r in modes["conversation"]])
    alone = summarize([r for modes in results.values() for r in modes["alone"]])
    lines.append(f"| all | both | {every['n']} | " + " | ".join(_cell(every[m]) for m in METRICS)
                 + f" | {_cell(alone['hit@1'])} | {_cell(alone['answer_has_gold'])} |")
    return lines


def _cell(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.followups", description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--md-out", type=Path)
    args = parser.parse_args(argv)
    results = run(load(args.set), libraries(args.xquad))
    lines = table(results)
    print("\n".join(lines))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(
            {name: {mode: [r.to_json() for r in rows] for mode, rows in modes.items()} for name, modes in results.items()},
            ensure_ascii=False, indent=1), encoding="utf-8")
    if args.md_out:
        args.md_out.parent.mkdir(parents=True, exist_ok=True)
        args.md_out.write_text("# Follow-ups: the second turn\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
