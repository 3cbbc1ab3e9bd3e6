"""Calibrate the abstention thresholds on data.

    python -m eval.calibrate [XQUAD_DIR] [--seeds-set eval/sets/seeds.jsonl] [--out FILE]

Answerable questions: XQuAD's Arabic and English questions asked of their own Arabic corpus, and the
answerable seed-set questions. Unanswerable: the same XQuAD questions asked of the seed article (another
topic altogether), and the seed set's unanswerable ones. For each question it records the answer's
`support` (the cosine similarity of the best retrieved sentence); for each threshold it prints how many
answerable questions would be refused and how many unanswerable ones would be, separately for
same-language and cross-language pairs. The suggested threshold is the one with the best balanced
accuracy among those that refuse at most 5 % of answerable questions.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from rag import Sanad, load_settings

from .runner import load_set
from .xquad import convert, write

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
MAX_FALSE_ABSTAIN = 0.05


def supports(engine: Sanad, questions: list[str]) -> list[tuple[float, bool]]:
    """(support, translingual) per question; a question that retrieved nothing counts as support 0."""
    out = []
    for question in questions:
        answer = engine.ask(question)
        out.append((answer.support if answer.support is not None else 0.0, answer.translingual))
    return out


def suggest(positive: np.ndarray, negative: np.ndarray) -> tuple[float, list[dict]]:
    table = []
    for threshold in np.round(np.arange(0.70, 0.90, 0.005), 3):
        false_abstain = float(np.mean(positive < threshold))
        abstain = float(np.mean(negative < threshold))
        table.append({"threshold": float(threshold), "false_abstain": round(false_abstain, 4),
                      "abstain": round(abstain, 4), "balanced_accuracy": round((1 - false_abstain + abstain) / 2, 4)})
    allowed = [row for row in table if row["false_abstain"] <= MAX_FALSE_ABSTAIN]
    best = max(allowed, key=lambda row: row["balanced_accuracy"])
    return best["threshold"], table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("xquad_dir", nargs="?", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--seeds-set", type=Path, default=ROOT / "eval" / "sets" / "seeds.jsonl")
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        converted = convert(args.xquad_dir)
        write(converted, Path(tmp) / "xquad")
        xquad = Sanad(load_settings(index_dir=Path(tmp) / "xquad-index"))
        xquad.index([Path(tmp) / "xquad" / "docs"])
        seeds = Sanad(load_settings(index_dir=Path(tmp) / "seeds-index"))
        seeds.index([args.seeds])
        seed_items = load_set(args.seeds_set)
        questions = [row["question"] for row in converted.ar + converted.en]
        scored = {
            "positive": supports(xquad, questions)
            + supports(seeds, [i.question for i in seed_items if i.answerable]),
            "negative": supports(seeds, questions)
            + supports(seeds, [i.question for i in seed_items if not i.answerable]),
        }
    result = {}
    for pair, translingual in (("same-language", False), ("cross-language", True)):
        positive = np.array([s for s, t in scored["positive"] if t == translingual])
        negative = np.array([s for s, t in scored["negative"] if t == translingual])
        threshold, table = suggest(positive, negative)
        result[pair] = {"answerable": len(positive), "unanswerable": len(negative), "suggested": threshold,
                        "table": table}
        print(f"{pair}: {len(positive)} answerable, {len(negative)} unanswerable; suggested threshold {threshold}")
        for row in table:
            if abs(row["threshold"] - threshold) <= 0.0151:
                print(f"  {row['threshold']:.3f}  false_abstain {row['false_abstain']:.3f}  abstain {row['abstain']:.3f}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
