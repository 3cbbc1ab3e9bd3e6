"""Calibrate the abstention thresholds on data, per direction (question language -> quoted text's language).

    python -m eval.calibrate [XQUAD_DIR] [--out FILE]

The answerer abstains when the best sentence of the top-k passages is less similar to the question
than a threshold; cross-lingual pairs score lower across the board, so each direction gets its own.
For every question this records that support and its direction, over four libraries: XQuAD's Arabic
and English paragraphs, the seed article and its English translation (tests/data/seed-en).

- answerable: XQuAD's questions in both languages over both XQuAD libraries, and the seed set's
  answerable questions over both seed libraries;
- off-topic: XQuAD's questions over the seed libraries, and every seed-set question over XQuAD's;
- in-topic: eval/sets/in-topic-unanswerable.jsonl, questions about the seed article or an XQuAD
  article that it does not answer, over the libraries of their topic;
- natural (`--natural`): the tune split of eval/natural (questions asked the way readers ask, over
  ten short documents in both languages) adds its answerable, in-topic and off-topic questions over
  its own library. Its blind split is never read here.

For each direction it prints how many of each kind a threshold refuses, and suggests the highest
threshold that refuses at most MAX_FALSE_ABSTAIN of the answerable questions, which refuses as many
unanswerable ones as that limit allows. Fast: the indexes are eval's own cached ones (built once,
as `rag eval` builds them), each question is embedded once, and retrieval is replayed in numpy
(eval/offline.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import Sanad, load_settings
from rag.embedders import load_embedder
from rag.text import detect_language

from . import offline, runner
from .runner import load_set
from .natural.build import build as build_natural
from .xquad import DEFAULT_OUT, convert, write

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
SEED_EN = ROOT / "tests" / "data" / "seed-en"
IN_TOPIC = ROOT / "eval" / "sets" / "in-topic-unanswerable.jsonl"
NATURAL = ROOT / "eval" / "natural" / "questions.jsonl"
MAX_FALSE_ABSTAIN = 0.03
DIRECTIONS = ("ar-ar", "en-en", "en-ar", "ar-en")  # question language - quoted sentence's language
THRESHOLDS = np.round(np.arange(0.70, 0.90, 0.0025), 4)


@dataclass
class Scores:
    """Supports by kind ("answerable", "off-topic", "in-topic") and direction."""

    values: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, kind: str, question: str, replayed: offline.Replayed) -> None:
        direction = f"{detect_language(question)}-{replayed.support_language or detect_language(question)}"
        self.values.setdefault((kind, direction), []).append(replayed.support)

    def get(self, kind: str, directions: tuple[str, ...]) -> np.ndarray:
        return np.array([v for d in directions for v in self.values.get((kind, d), [])])


def library(docs: Path) -> offline.Library:
    """eval's own cached index of `docs` (as `rag eval` keeps it), brought up to date, in memory."""
    docs = docs.resolve()  # the index knows documents by path: one reached through a link would be indexed twice
    engine = Sanad(load_settings(index_dir=runner.cache_index_dir(docs)))
    runner._index(engine, docs, owned=True)
    return offline.load_library(engine.settings.index_dir)


def natural_tune() -> list[dict]:
    """The natural set's tune split (never its blind one)."""
    rows = [json.loads(line) for line in NATURAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row.get("split") == "tune"]


def score_all(xquad_dir: Path, seeds: Path, seeds_set: Path, natural: bool = False) -> Scores:
    converted = convert(xquad_dir)
    write(converted, DEFAULT_OUT)
    settings = load_settings()
    libraries = {"xquad-ar": DEFAULT_OUT / "docs-ar", "xquad-en": DEFAULT_OUT / "docs-en",
                 "seed-ar": seeds, "seed-en": SEED_EN}
    natural_rows = natural_tune() if natural else []
    if natural:
        libraries["natural"] = build_natural()
    loaded = {name: library(docs) for name, docs in libraries.items()}
    embedder = load_embedder(loaded["seed-ar"].embedder, threads=settings.torch_threads)

    xquad = [(row["question"], row["id"]) for lang in ("ar", "en") for row in converted.sets[f"{lang}-{lang}"]]
    seed_items = load_set(seeds_set)
    in_topic = [json.loads(line) for line in IN_TOPIC.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = list(dict.fromkeys([q for q, _ in xquad] + [i.question for i in seed_items] + [r["question"] for r in in_topic]
                               + [r["question"] for r in natural_rows]))
    print(f"embedding {len(texts)} questions", file=sys.stderr)
    vectors = dict(zip(texts, embedder.embed_queries(texts)))

    scores = Scores()

    def ask(kind: str, question: str, name: str) -> None:
        scores.add(kind, question, offline.search(loaded[name], question, vectors[question], settings))

    for question, _ in xquad:
        for lang in ("ar", "en"):
            ask("answerable", question, f"xquad-{lang}")
            ask("off-topic", question, f"seed-{lang}")
    for item in seed_items:
        for lang in ("ar", "en"):
            ask("answerable" if item.answerable else "off-topic", item.question, f"seed-{lang}")
            ask("off-topic", item.question, f"xquad-{lang}")
    for row in in_topic:
        for lang in ("ar", "en"):
            ask("in-topic", row["question"], f"{'seed' if row['topic'] == 'seed' else 'xquad'}-{lang}")
    for row in natural_rows:
        kind = "answerable" if row["answerable"] else row["kind"]
        ask(kind, row["question"], "natural")
    return scores


def sweep(scores: Scores, directions: tuple[str, ...]) -> tuple[float, list[dict]]:
    """The table over THRESHOLDS, and the highest threshold within the false-abstain limit in every
    one of `directions` (two same-language directions share a threshold)."""
    table = []
    for threshold in THRESHOLDS:
        row = {"threshold": float(threshold)}
        for kind in ("answerable", "off-topic", "in-topic"):
            values = scores.get(kind, directions)
            row[kind] = round(float(np.mean(values < threshold)), 4) if len(values) else None
        row["worst_false_abstain"] = max(float(np.mean(v < threshold)) for d in directions
                                         if len(v := scores.get("answerable", (d,))))
        table.append(row)
    allowed = [row for row in table if row["worst_false_abstain"] <= MAX_FALSE_ABSTAIN]
    return (allowed[-1]["threshold"] if allowed else float(THRESHOLDS[0])), table


GROUPS = {"same-language": ("ar-ar", "en-en"), "en-ar": ("en-ar",), "ar-en": ("ar-en",)}


def report(scores: Scores) -> dict:
    result = {}
    for group, directions in GROUPS.items():
        suggested, table = sweep(scores, directions)
        counts = {kind: len(scores.get(kind, directions)) for kind in ("answerable", "off-topic", "in-topic")}
        at = next(row for row in table if row["threshold"] == suggested)
        result[group] = {"directions": list(directions), "counts": counts, "suggested": suggested, "at_suggested": at,
                         "per_direction": {d: _rates(scores, d, suggested) for d in directions}, "table": table}
        print(f"{group}: {counts['answerable']} answerable, {counts['off-topic']} off-topic, "
              f"{counts['in-topic']} in-topic; suggested threshold {suggested}")
        for row in table:
            if abs(row["threshold"] - suggested) <= 0.0101:
                print(f"  {row['threshold']:.4f}  false abstain {row['answerable']:.3f}  "
                      f"off-topic abstain {_fmt(row['off-topic'])}  in-topic abstain {_fmt(row['in-topic'])}")
    return result


def _rates(scores: Scores, direction: str, threshold: float) -> dict:
    out = {}
    for kind in ("answerable", "off-topic", "in-topic"):
        values = scores.get(kind, (direction,))
        out[kind] = {"n": len(values), "abstained": round(float(np.mean(values < threshold)), 4) if len(values) else None}
    return out


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("xquad_dir", nargs="?", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--seeds-set", type=Path, default=ROOT / "eval" / "sets" / "seeds.jsonl")
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--natural", action="store_true", help="add eval/natural's tune split (docs/natural.md)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = report(score_all(args.xquad_dir, args.seeds, args.seeds_set, natural=args.natural))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
