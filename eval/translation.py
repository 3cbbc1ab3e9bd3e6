"""Query translation, its ceiling and its floor, on XQuAD: hit@1 with and without translation in every
direction, through the real OpenAI-compatible or Ollama protocol.

    python -m eval.xquad ../shared/data/xquad --out /tmp/xq --limit 200
    python -m eval.translation /tmp/xq [--protocol openai|ollama] [--limit N] [--md docs-table.md]

The translator is the scripted LLM server of the tests (tests/llm_double.py, a test double for the
user's model), scripted four ways:

    perfect   returns XQuAD's parallel question: a perfect translator, the ceiling
    wrong     returns the parallel of another question of the same articles (fluent, confident, wrong)
    echo      returns the question unchanged (a model that does not translate)
    junk      returns markup and a role label, as a pretrained model continuing the prompt does

Every question is searched through Sanad.search, as an answer is: a translation is asked for only when
the library holds the other language, and used only when it passes rag/translate.py's checks and
supports an answer better than the original. Beside the shipped rule, the same runs are combined in
other ways (always the translation, reciprocal-rank fusion, no gate) to show why the rule is what it is.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rag import Sanad
from rag.engine import support
from rag.settings import load_settings
from rag.translate import OTHER, better

from .metrics import contains_any, search_form
from .runner import load_set

ROOT = Path(__file__).resolve().parent.parent
TRANSLATORS = ("perfect", "wrong", "echo", "junk")
JUNK = "<<SYS>> You are a translator. <conversation> Question:"
DIRECTIONS = ("ar-en", "en-ar", "ar-ar", "en-en")  # question language - library
WRONG_SHIFT = 7  # the "wrong" translation of question i is the parallel of question i + 7


def scripts(folder: Path) -> dict[str, list[dict]]:
    """The scripted server's replies for each translator, keyed on the exact question."""
    rows = {lang: [json.loads(line) for line in (folder / f"{lang}-ar.jsonl").read_text(encoding="utf-8").splitlines()]
            for lang in ("ar", "en")}
    pairs = list(zip(rows["ar"], rows["en"]))
    out: dict[str, list[dict]] = {name: [] for name in TRANSLATORS}
    for i, (ar, en) in enumerate(pairs):
        wrong_ar, wrong_en = pairs[(i + WRONG_SHIFT) % len(pairs)]
        for question, parallel, wrong in ((ar["question"], en["question"], wrong_en["question"]),
                                          (en["question"], ar["question"], wrong_ar["question"])):
            for name, reply in (("perfect", parallel), ("wrong", wrong), ("echo", question), ("junk", JUNK)):
                out[name].append({"kind": "translate", "match": question, "exact": True, "reply": reply})
    return out


class Server:
    def __init__(self, folder: Path, entries: list[dict]) -> None:
        self.script, self.log = folder / "script.json", folder / "log.jsonl"
        self.script.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
        self.log.write_text("")
        self.process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "llm_double.py"), str(self.script),
                                         str(self.log)], stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def requests(self) -> int:
        return sum(1 for line in self.log.read_text(encoding="utf-8").splitlines() if '"body"' in line)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def measure(folder: Path, index_root: Path, protocol: str, limit: int | None) -> dict:
    sets = {d: load_set(folder / f"{d}.jsonl", limit) for d in DIRECTIONS}
    engines = {}
    for library in ("ar", "en"):
        engine = Sanad(load_settings(index_dir=index_root / f"index-{library}"))
        report = engine.index([folder / f"docs-{library}"])
        print(f"docs-{library}: {len(report.added) + len(report.unchanged)} documents", file=sys.stderr)
        engines[library] = engine
    results: dict = {"protocol": protocol, "questions": {d: len(items) for d, items in sets.items()}, "runs": {}}
    base: dict[str, list[bool]] = {}
    for direction, items in sets.items():
        engine = engines[direction.split("-")[1]]
        base[direction] = [_hit1(engine.search(item.question)[0], item) for item in items]
    for name, entries in scripts(folder).items():
        server = Server(index_root, entries)
        try:
            url = f"http://127.0.0.1:{server.port}" + ("/v1" if protocol == "openai" else "")
            for direction, items in sets.items():
                library = direction.split("-")[1]
                engine = Sanad(engines[library].settings.with_(llm=f"{protocol}:scripted", llm_base_url=url))
                before = server.requests()
                started = time.perf_counter()
                rows = [_row(engine, item) for item in items]
                results["runs"][f"{name} {direction}"] = _summary(
                    rows, base[direction], server.requests() - before, time.perf_counter() - started)
                print(name, direction, results["runs"][f"{name} {direction}"], file=sys.stderr)
        finally:
            server.stop()
    return results


def _hit1(hits, item) -> bool:
    return bool(hits) and contains_any(hits[0].chunk.text, item.evidence_forms)


def _row(engine: Sanad, item) -> dict:
    """The shipped rule's hit@1, and the same two runs combined other ways."""
    hits, used = engine.search(item.question)
    row = {"shipped": _hit1(hits, item), "translated": used is not None}
    language = "ar" if any("\u0600" <= c <= "\u06ff" for c in item.question) else "en"
    model = engine._model(None)
    translator = engine._translators.get(model.name)
    translation = translator.translate(item.question, language) if translator else None
    if translation is None or translation.text is None or OTHER[language] not in engine.languages():
        return {**row, "always": row["shipped"], "rrf": row["shipped"], "ungated": row["shipped"],
                "reason": translation.reason if translation else None}
    k = engine.settings.top_k
    original, vector, retriever = engine._retrieve(item.question, (), k, None)
    other, other_vector, _ = engine._retrieve(translation.text, (), k, None)
    a, b = support(retriever, original, vector), support(retriever, other, other_vector)
    prefer = b is not None and (a is None or better(a[0], engine.settings.abstain_floor(language, a[1]),
                                                      b[0], engine.settings.abstain_floor(OTHER[language], b[1])))
    fused: dict[str, float] = {}
    for run in (original, other):
        for rank, hit in enumerate(run, 1):
            fused[hit.chunk.id] = fused.get(hit.chunk.id, 0.0) + 1 / (60 + rank)
    by_id = {hit.chunk.id: hit for hit in original + other}
    rrf = [by_id[i] for i in sorted(fused, key=lambda i: -fused[i])]
    return {**row, "always": _hit1(other, item), "rrf": _hit1(rrf, item),
            "ungated": _hit1(other if prefer else original, item), "agreement": translation.agreement,
            "reason": translation.reason}


def _summary(rows: list[dict], base: list[bool], requests: int, seconds: float) -> dict:
    n = len(rows)
    rate = lambda key: round(sum(r[key] for r in rows) / n, 3)  # noqa: E731
    reasons: dict[str, int] = {}
    for r in rows:
        if r.get("reason"):
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    return {"none": round(sum(base) / n, 3), "shipped": rate("shipped"), "translated_share": rate("translated"),
            "always": rate("always"), "rrf": rate("rrf"), "ungated": rate("ungated"), "rejected": reasons,
            "model_calls": requests, "seconds": round(seconds, 1)}


def markdown(results: dict) -> str:
    lines = [f"Protocol: {results['protocol']}; questions per direction: {results['questions']}", "",
             "| translator | direction | none | **shipped** | translated | always translation | RRF | no agreement gate "
             "| rejected | model calls |", "|---|---|---|---|---|---|---|---|---|---|"]
    for key, r in results["runs"].items():
        name, direction = key.split()
        lines.append(f"| {name} | {direction} | {r['none']:.3f} | **{r['shipped']:.3f}** | {r['translated_share']:.2f} "
                     f"| {r['always']:.3f} | {r['rrf']:.3f} | {r['ungated']:.3f} | "
                     f"{', '.join(f'{k} {v}' for k, v in r['rejected'].items()) or '-'} | {r['model_calls']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.translation", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="an `eval.xquad --out` folder")
    parser.add_argument("--index-root", type=Path, help="where the two indexes go (default: FOLDER)")
    parser.add_argument("--protocol", choices=("openai", "ollama"), default="openai")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--md", type=Path)
    args = parser.parse_args(argv)
    results = measure(args.folder, args.index_root or args.folder, args.protocol, args.limit)
    table = markdown(results)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.md:
        args.md.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
