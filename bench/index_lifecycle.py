"""Incremental indexing against a full build, measured in one run on one machine.

    python -m bench.index_lifecycle [XQUAD_DIR] [--out FILE]

Writes the 240 Arabic XQuAD paragraphs as 240 documents into a temporary folder, then times:
a full build, a no-op run, a run after changing one document, and a --rebuild. Times are
reported as ratios to the full build, so they compare within the run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from rag import Sanad, load_settings

DEFAULT_XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad"


def write_paragraphs(xquad: Path, folder: Path) -> int:
    data = json.loads((xquad / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    n = 0
    for article in data:
        for paragraph in article["paragraphs"]:
            (folder / f"p{n:03d}.txt").write_text(paragraph["context"].strip(), encoding="utf-8")
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xquad", nargs="?", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs, index_dir = Path(tmp) / "docs", Path(tmp) / "index"
        docs.mkdir()
        n = write_paragraphs(args.xquad, docs)
        engine = Sanad(load_settings(index_dir=index_dir))
        runs = {}

        def timed(name: str, **kwargs) -> None:
            started = time.perf_counter()
            report = engine.index([docs], **kwargs)
            runs[name] = {"seconds": round(time.perf_counter() - started, 2), "embedded": report.chunks_embedded,
                          "added": len(report.added), "updated": len(report.updated),
                          "unchanged": len(report.unchanged)}

        timed("full build")
        timed("no-op")
        first = docs / "p000.txt"
        first.write_text(first.read_text(encoding="utf-8") + "\nجملة أضيفت للاختبار.", encoding="utf-8")
        timed("one document changed")
        timed("rebuild", rebuild=True)
    base = runs["full build"]["seconds"]
    result = {"documents": n, "machine": f"{os.cpu_count()} cores, {platform.machine()}", "runs": runs,
              "ratio_to_full_build": {k: round(v["seconds"] / base, 4) for k, v in runs.items()}}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
