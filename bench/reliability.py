"""Reliability under large and hostile input, measured in one run on one machine.

    python -m bench.reliability [XQUAD_DIR] [--out FILE] [--parts library,hostile,kills]

1. A library past 40,000 sentence rows (XQuAD's Arabic paragraphs, the whole corpus in each of
   many files): a full build, then an update of one file. Past 32,766 rows Chroma's SQLite once
   refused the clean-up after every commit.
2. Each hostile file of issue 8, indexed alone by `rag index` in a child process: outcome, peak
   RSS (the child's own, its VmHWM) and time. A file must index within 1 GB and 60 s, or be
   refused with a reason.
3. `rag index` killed with SIGKILL at three random moments while it adds documents: after each
   kill the index is whole and the answers to a fixed set of questions are those of the previous
   generation (or, if the run had committed, of the new one).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from rag import Sanad, load_settings
from rag.index_state import current_generation, load_manifest

DEFAULT_XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad"
ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds"
RSS_LIMIT_MB, TIME_LIMIT_S = 1024, 60
QUESTIONS = ("Why Pakistan?", "لماذا باكستان؟", "وما المخاطر؟", "كم عدد الجنود في القوة المقترحة؟",
             "What do the United States and its allies fear after the war?")


def _paragraphs(xquad: Path) -> list[str]:
    data = json.loads((xquad / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    return [p["context"].strip() for article in data for p in article["paragraphs"]]


# 1 ------------------------------------------------------------------------------------------------
def large_library(xquad: Path, tmp: Path, min_rows: int) -> dict:
    """Identical text is embedded once, so many copies of one corpus reach 40k rows at the cost of
    embedding it once: what is measured is Chroma's side, where the fault was."""
    paragraphs = _paragraphs(xquad)
    docs, index_dir = tmp / "library", tmp / "library-index"
    docs.mkdir()
    engine = Sanad(load_settings(index_dir=index_dir))
    runs: dict = {}

    def write_copies(first: int, count: int) -> None:
        for n in range(first, first + count):
            # Identical copies: identical text is embedded once, whatever file holds it.
            (docs / f"copy{n:03d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")

    def rows() -> int:
        manifest = load_manifest(index_dir)[1]
        return manifest.sentence_count() + len(manifest.chunk_ids())

    started = time.perf_counter()
    write_copies(0, 1)
    engine.index([docs])
    copies = 1 + -(-(min_rows - rows()) // rows())  # enough copies to pass min_rows
    write_copies(1, copies - 1)
    report = engine.index([docs])
    assert not report.notes, report.notes
    runs["build to 40k+ rows"] = {"seconds": round(time.perf_counter() - started, 1), "files": copies, "rows": rows()}
    target = docs / "copy000.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\nجملة أضيفت لاختبار التحديث في آخر الملف.",
                      encoding="utf-8")
    started = time.perf_counter()
    report = engine.index([docs])
    runs["update one file"] = {"seconds": round(time.perf_counter() - started, 1), "updated": len(report.updated),
                               "notes": report.notes}
    answer = engine.ask("متى أضيفت جملة لاختبار التحديث؟")
    runs["update one file"]["new text answered"] = "لاختبار التحديث" in answer.text
    return runs


# 2 ------------------------------------------------------------------------------------------------
def hostile_files(folder: Path) -> dict[str, str]:
    """The files of issue 8 (and a few more kinds of bad input), made here; name -> what it is."""
    folder.mkdir()
    made: dict[str, str] = {}

    def doc_of(name: str, paragraphs, what: str) -> None:
        _docx(folder / name, (b"<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % p.encode() for p in paragraphs))
        made[name] = what

    doc_of("zz-270k-paragraphs.docx", ("zz" for _ in range(270_000)), "28 KB: 270,000 paragraphs 'zz'")
    doc_of("zz-2.8m-paragraphs.docx", ("zz" for _ in range(2_800_000)), "291 KB: 2,800,000 paragraphs 'zz'")
    (folder / "word-list-40k.txt").write_text("\n".join(f"word{i % 10}" for i in range(40_000)), encoding="utf-8")
    made["word-list-40k.txt"] = "40,000-line word list"
    (folder / "one-line-20mb.txt").write_text("a" * 20_000_000, encoding="utf-8")
    made["one-line-20mb.txt"] = "20 MB without a space or line break"
    for size_gb, name in ((1, "bomb-1gb.docx"), (2, "bomb-2gb.docx")):
        _docx_bomb(folder / name, size_gb)
        made[name] = f"zip bomb: document.xml of {size_gb} GB"
    (folder / "binary.txt").write_bytes(random.Random(1).randbytes(200_000))
    made["binary.txt"] = "random bytes named .txt"
    (folder / "empty.md").write_bytes(b"")
    made["empty.md"] = "empty file"
    (folder / "truncated.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n" * 3)
    made["truncated.pdf"] = "truncated PDF"
    (folder / "flate-bomb.pdf").write_bytes(_pdf_flate_bomb())
    made["flate-bomb.pdf"] = "PDF page stream inflating to 1 GB"
    (folder / "deep.html").write_text("<div>" * 100_000 + "deep" + "</div>" * 100_000, encoding="utf-8")
    made["deep.html"] = "HTML nested 100,000 deep"
    with open(folder / "huge.txt", "wb") as handle:  # sparse: the size check must refuse it unread
        handle.truncate(60_000_000)
    made["huge.txt"] = "60 MB, over the size limit"
    (folder / "latin1.txt").write_bytes("Café crème, à la française. Noël à Genève.".encode("latin-1") * 50)
    made["latin1.txt"] = "Latin-1 text without a BOM"
    return made


def _docx(path: Path, body) -> None:
    """A real .docx (python-docx's own template) whose document.xml holds `body`, streamed: python-docx
    itself takes minutes to add 270,000 paragraphs one by one."""
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, source.read(item))
        with out.open("word/document.xml", "w", force_zip64=True) as handle:
            handle.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
                         b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            for part in body:
                handle.write(part)
            handle.write(b"</w:body></w:document>")


def _docx_bomb(path: Path, size_gb: int) -> None:
    """A .docx whose document.xml inflates to size_gb GB of one repeated paragraph."""
    chunk = b"<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>" * 10_000
    _docx(path, (chunk for _ in range(size_gb * 2**30 // len(chunk))))


def _pdf_flate_bomb() -> bytes:
    import zlib

    stream = zlib.compress(b"0 0 m " * (2**30 // 6), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    return _pdf(objects)


def page_pdf(pages: list[tuple[tuple[float, float, float, float], str]]) -> bytes:
    """A PDF of one line of Helvetica text a page, each page with the MediaBox given (any numbers:
    a 20000 pt square, a strip, an empty or inside-out box); a few hundred bytes."""
    fonts = len(pages) * 2 + 3
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(len(pages))),
                                                             len(pages))]
    for n, (box, text) in enumerate(pages):
        content = b"BT /F1 24 Tf 72 72 Td (%s) Tj ET" % text.encode("latin-1")
        objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >> >> >>"
                    % (" ".join(f"{v:g}" for v in box).encode(), 4 + 2 * n, fonts),
                    b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf(objects)


def _pdf(objects: list[bytes]) -> bytes:
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def index_alone(path: Path, index_dir: Path, give_up_s: float = 3 * TIME_LIMIT_S) -> dict:
    """`rag index PATH` in a child process: its outcome, its own peak RSS and its time."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(path), "--index-dir", str(index_dir)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed, peak_kb = False, 0
    while True:
        # The child's own peak since exec (VmHWM): ru_maxrss would also count the parent's pages that
        # the fork copied before the exec, and this parent holds an embedder and a 40k-row library.
        peak_kb = max(peak_kb, _vm_hwm_kb(child.pid))
        pid, status = os.waitpid(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - started > give_up_s:
            child.kill()
            killed = True
            pid, status = os.waitpid(child.pid, 0)
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    out, err = child.stdout.read(), child.stderr.read()
    failed = [line.split(": ", 2)[-1] for line in err.splitlines() if line.startswith("failed:")]
    if killed:
        outcome = f"still running after {give_up_s:.0f} s (killed)"
    elif failed:
        outcome = failed[0] if failed[0].startswith("refused") else "refused: " + failed[0]
    elif os.waitstatus_to_exitcode(status) == 0:
        outcome = "indexed: " + out.strip().splitlines()[-1]
    else:
        outcome = f"exit {os.waitstatus_to_exitcode(status)}: " + (err.strip().splitlines() or ["?"])[-1]
    peak_mb = peak_kb / 1024
    ok = not killed and peak_mb <= RSS_LIMIT_MB and (seconds <= TIME_LIMIT_S or outcome.startswith("refused"))
    return {"outcome": outcome[:160], "peak_rss_mb": round(peak_mb), "seconds": round(seconds, 1), "ok": ok}


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# 3 ------------------------------------------------------------------------------------------------
def kills(xquad: Path, tmp: Path, times: int = 3) -> list[dict]:
    docs, index_dir = tmp / "kill-docs", tmp / "kill-index"
    docs.mkdir()
    for source in SEED.glob("*.txt"):
        (docs / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    engine = Sanad(load_settings(index_dir=index_dir))
    engine.index([docs])
    paragraphs = _paragraphs(xquad)
    rng = random.Random(8)
    results = []
    for attempt in range(times):
        before_generation = current_generation(index_dir)
        before = [Sanad(load_settings(index_dir=index_dir)).ask(q).to_json() for q in QUESTIONS]
        for n in range(20):  # twenty new documents for the run to be busy with
            (docs / f"x{attempt}-{n:02d}.txt").write_text(paragraphs[attempt * 20 + n], encoding="utf-8")
        delay = rng.uniform(2.0, 25.0)
        log = tmp / f"kill-{attempt}.log"
        with open(log, "w") as handle:
            child = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(docs), "--index-dir", str(index_dir)],
                                     cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
        time.sleep(delay)
        finished = child.poll() is not None
        if not finished:
            child.send_signal(signal.SIGKILL)
        child.wait()
        committed = current_generation(index_dir) != before_generation
        after = [Sanad(load_settings(index_dir=index_dir)).ask(q).to_json() for q in QUESTIONS]
        row = {"kill_after_s": round(delay, 1), "run_had_finished": finished, "new_generation": committed,
               "answers_unchanged": after == before}
        if finished:
            row["run_said"] = (log.read_text().strip().splitlines() or [""])[-1][:200]
        resumed = engine.index([docs])  # the next run completes the job
        row["next_run"] = f"added {len(resumed.added)}, embedded {resumed.chunks_embedded}"
        # A run that finished must have committed; one that was killed leaves the old answers.
        row["ok"] = committed if finished else (after == before or committed)
        results.append(row)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xquad", nargs="?", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rows", type=int, default=40_000, help="sentence and passage rows for part 1")
    parser.add_argument("--parts", default="library,hostile,kills", help="which parts to run (library is the slowest)")
    args = parser.parse_args()
    result: dict = {"machine": f"{os.cpu_count()} cores, {platform.machine()}",
                    "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        parts = args.parts.split(",")
        if "library" in parts:
            result["library"] = large_library(args.xquad, tmp, args.rows)
            print(json.dumps(result["library"], ensure_ascii=False), flush=True)
        made = hostile_files(tmp / "hostile") if "hostile" in parts else {}
        result["hostile"] = {}
        for name, what in made.items():
            row = {"file": what, **index_alone(tmp / "hostile" / name, tmp / f"index-{name}")}
            result["hostile"][name] = row
            print(f"{name:24} {row['peak_rss_mb']:6} MB {row['seconds']:7} s  {'ok ' if row['ok'] else 'BAD'} "
                  f"{row['outcome']}", flush=True)
        result["kills"] = kills(args.xquad, tmp) if "kills" in parts else []
        for row in result["kills"]:
            print(json.dumps(row), flush=True)
    ok = all(r["ok"] for r in result["hostile"].values()) and all(r["ok"] for r in result["kills"])
    result["all_ok"] = ok
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print("all within limits" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
