"""Replies that never end, never stop repeating, or never end a sentence (issue 21.2), each through
`rag ask --llm openai:…` in a child process against the scripted LLM server of the tests (a stand-in
for a misbehaving server the user configured). Each must end within the answer's total deadline plus
a few seconds (beyond what a plain `rag ask` takes to start) and 1 GB, with the quotes or the checked sentences and the reason.

    python -m bench.llm_streams [--out FILE.json]

bench/reliability.py runs these as its "streams" part.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRACE_S, RSS_LIMIT_MB = 5.0, 1024
SENTENCE = ("Pakistan's army has long experience and a rich history in UN peacekeeping operations in various "
            "conflict zones around the world [1]. ")
STREAMS = {
    # name: (question, script entry)
    "endless, a token every 50 ms": ("Why would Pakistan join the force in Gaza?",
                                     {"every": 0.05, "repeat": 10**9, "reply": "word "}),
    "2 million sentences": ("Why is Pakistan's army suited to the force?", {"repeat": 2_000_000, "piece": 400,
                                                                             "reply": SENTENCE}),
    "100 MB, no sentence end": ("Why would Pakistan send troops to Gaza?",
                                {"repeat": 100_000_000, "piece": 65536, "reply": "a"}),
}


def streams(tmp: Path) -> dict[str, dict]:
    from bench.reliability import _watch  # peak RSS of the child, and its time

    from rag import Sanad, load_settings

    deadline = load_settings().llm_total_timeout  # what `rag ask` runs with

    index = tmp / "streams-index"
    Sanad(load_settings(index_dir=index)).index([ROOT / "seeds"])
    script, log = tmp / "streams-script.json", tmp / "streams-log.jsonl"
    entries = [{"match": q, **entry} for q, entry in STREAMS.values()] + [{"match": "Why Pakistan?", "reply": SENTENCE}]
    script.write_text(json.dumps(entries), encoding="utf-8")
    log.touch()
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "llm_double.py"), str(script), str(log)],
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    def ask(question: str) -> list[str]:
        return [sys.executable, "-m", "rag.cli", "ask", question, "--json", "--index-dir", str(index),
                "--llm", "openai:scripted", "--llm-base-url", f"http://127.0.0.1:{port}/v1"]

    out = {}
    try:
        # What `rag ask` takes with a server that answers at once (starting Python, importing the LLM
        # client: 11 s on the loaded machine, loading the embedder, searching): the deadline is
        # counted from the question, not from the process's start.
        _, _, _, _, baseline = _watch(ask("Why Pakistan?"), deadline)
        out["baseline"] = {"seconds": round(baseline, 1), "ok": True}
        for name, (question, _) in STREAMS.items():
            command = ask(question)
            code, stdout, stderr, peak_mb, seconds = _watch(command, deadline + 60)
            try:
                answer = json.loads(stdout)
                check = answer.get("verification") or {}
                outcome = f"{answer['mode']}: {check.get('fallback') or check.get('incomplete')}"
            except (json.JSONDecodeError, KeyError):
                answer, outcome = None, (stderr.strip().splitlines() or ["no output"])[-1]
            ok = (code == 0 and answer is not None and seconds <= baseline + deadline + GRACE_S and peak_mb <= RSS_LIMIT_MB)
            out[name] = {"seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb), "outcome": outcome, "ok": ok,
                         "exit": code, "stderr": stderr.strip()[-300:]}
            print(f"{name:32} {out[name]['seconds']:6} s {out[name]['peak_rss_mb']:5} MB  {'ok ' if ok else 'BAD'} {outcome}",
                  flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = {"date": time.strftime("%Y-%m-%d"), "streams": streams(Path(tmp))}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    ok = all(r["ok"] for r in result["streams"].values())
    print("all within limits" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
