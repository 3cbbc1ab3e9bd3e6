"""Reliability under large and hostile input, measured in one run on one machine.

    python -m bench.reliability [XQUAD_DIR] [--out FILE] [--parts library,hostile,kills,pages,logins,writers,streams]

1. A library past 40,000 sentence rows (XQuAD's Arabic paragraphs, the whole corpus in each of
   many files): a full build, then an update of one file. Past 32,766 rows Chroma's SQLite once
   refused the clean-up after every commit.
2. Each hostile file of issue 8, indexed alone by `rag index` in a child process: outcome, peak
   RSS (the child's own, its VmHWM) and time. A file must index within 1 GB and 60 s, or be
   refused with a reason.
3. `rag index` killed with SIGKILL at three random moments while it adds documents: after each
   kill the index is whole and the answers to a fixed set of questions are those of the previous
   generation (or, if the run had committed, of the new one).
4. Hostile PDF pages (a 20000 pt square, a strip, inside-out and empty boxes, a page whose image
   unpacks to 1.2 GB) opened in the source viewer by a child process: within 1 GB (the viewer and
   the page's drawing process together) and 20 s, the page shown or the reason said.
5. Failed logins from loopback naming other clients in X-Forwarded-For: refused like direct ones
   unless 127.0.0.1 is named a proxy (issue 21).
6. Two writers at once: the chat's upload while `rag index` holds the index, with the local store
   and with a Chroma server (`chroma run`) when one can be started.
7. LLM replies that never end, repeat 2 million sentences, or send 100 MB without a sentence end
   (bench/llm_streams.py): `rag ask` ends within the answer's total deadline plus a few seconds and 1 GB.
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


# 4 ------------------------------------------------------------------------------------------------
VIEW_LIMIT_S = 20
# The drawing process reports its own VmHWM: ru_maxrss of a child counts the pages of the process
# it was spawned from (vfork), here the viewer's.
VIEWER = """
import json, subprocess, sys, time
from pathlib import Path
from rag import Sanad, load_settings
from ui import pdf_page
from ui.reference import Reference
from ui.viewer import view
drawing = {"peak_kb": 0}
def run(*args, **kwargs):
    done = subprocess.run(*args, **kwargs)
    drawing.update(json.loads(done.stdout.partition(b"\\n")[0] or b"{}"))
    return done
pdf_page.subprocess = type("Subprocess", (), {"run": staticmethod(run), "TimeoutExpired": subprocess.TimeoutExpired})
engine = Sanad(load_settings(index_dir=Path(sys.argv[1])))
source = next(d.source for d in engine.documents() if d.source.endswith(sys.argv[2]))
started = time.perf_counter()
html = view(engine, Reference(source, page=1).encode())
print(json.dumps({"seconds": time.perf_counter() - started, "html_bytes": len(html), "image": "<img" in html,
                  "drawing_peak_kb": drawing["peak_kb"]}))
"""


def giant_pages(tmp: Path) -> dict[str, dict]:
    """Each hostile page opened in the viewer, as the Documents tab opens it, by a child process: its
    own peak RSS plus that of the page's drawing process, the view's time and the HTML's size. A page
    must show (or say why not) within 1 GB and VIEW_LIMIT_S."""
    folder, index_dir = tmp / "pages", tmp / "pages-index"
    folder.mkdir()
    line = "A page of {} holds one short sentence about lighthouses."
    made = {
        "a4.pdf": ((0, 0, 595, 842), "A4 page (control)"),
        "giant-10000.pdf": ((0, 0, 10000, 10000), "10000 x 10000 pt page"),
        "giant-20000.pdf": ((0, 0, 20000, 20000), "20000 x 20000 pt page (835 bytes in issue 21)"),
        "strip.pdf": ((0, 0, 14400, 10), "14400 x 10 pt strip"),
        "tall.pdf": ((0, 0, 300, 9000), "300 x 9000 pt (1:30)"),
        "inside-out.pdf": ((600, 800, -20, -30), "MediaBox with its corners swapped and negative"),
        "empty-box.pdf": ((0, 0, 0, 0), "MediaBox of zero size"),
    }
    for name, (box, what) in made.items():
        (folder / name).write_bytes(page_pdf([(box, line.format(what.split(" (")[0]))]))
    (folder / "image-bomb.pdf").write_bytes(_image_bomb_pdf(20_000))
    whats = {name: what for name, (_, what) in made.items()}
    whats["image-bomb.pdf"] = "one page with a 20000 x 20000 RGB image (1.2 GB unpacked, 1.2 MB file)"
    report = Sanad(load_settings(index_dir=index_dir)).index([folder])
    assert not report.failed, report.failed
    rows = {}
    for name, what in whats.items():
        code, out, err, peak_mb, seconds = _watch([sys.executable, "-c", VIEWER, str(index_dir), name], 10 * VIEW_LIMIT_S)
        seen = json.loads(out.strip().splitlines()[-1]) if code == 0 else {}
        drawing_mb = seen.get("drawing_peak_kb", 0) / 1024
        row = {"page": what, "view_seconds": round(seen.get("seconds", seconds), 1), "viewer_peak_mb": round(peak_mb),
               "drawing_peak_mb": round(drawing_mb), "html_kb": round(seen.get("html_bytes", 0) / 1024),
               "image": seen.get("image"), "outcome": "shown" if seen.get("image") else (
                   "text only, with the reason" if code == 0 else f"exit {code}: {(err.strip().splitlines() or ['?'])[-1]}")}
        row["ok"] = code == 0 and row["view_seconds"] <= VIEW_LIMIT_S and peak_mb + drawing_mb <= RSS_LIMIT_MB
        rows[name] = row
    return rows


def _image_bomb_pdf(side: int) -> bytes:
    """A page drawing one side x side RGB image of zeros: a megabyte compressed, gigabytes unpacked.
    The reader never decodes images; only drawing the page does."""
    import zlib

    packer = zlib.compressobj(9)
    row = bytes(side * 3)
    stream = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    content = b"q 500 0 0 700 50 50 cm /Im1 Do Q BT /F1 24 Tf 72 760 Td (A page whose picture unpacks to gigabytes.) Tj ET"
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                 b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
                 b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
                 b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                 b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
                 b"/Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(stream)) + stream + b"\nendstream"])


def _watch(command: list[str], give_up_s: float) -> tuple[int, str, str, float, float]:
    """Runs command; its exit code (-9 if given up on), output, own peak RSS in MB and seconds."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while child.poll() is None:
        peak_kb = max(peak_kb, _vm_hwm_kb(child.pid))
        if time.perf_counter() - started > give_up_s:
            child.kill()
        time.sleep(0.05)
    out, err = child.communicate()
    return child.returncode, out, err, peak_kb / 1024, time.perf_counter() - started


# 5 ------------------------------------------------------------------------------------------------
def forwarded_logins(tmp: Path) -> dict:
    """Five failed logins from 127.0.0.1, then five from the same address naming other clients in
    X-Forwarded-For: without a named proxy every one must be refused (429), as a direct one is."""
    import httpx

    from ui.app import build_app, launch
    from ui.login import FREE_FAILURES

    folder = tmp / "login-docs"
    folder.mkdir()
    (folder / "note.txt").write_text("A short note so that the chat has an index.", encoding="utf-8")
    engine = Sanad(load_settings(index_dir=tmp / "login-index"))
    engine.index([folder])
    result = {}
    for label, proxies in (("no proxy named", ()), ("127.0.0.1 named as the proxy", ("127.0.0.1",))):
        demo = build_app(engine)
        url = launch(demo, port=None, auth=("ana", "s3cret"), block=False, trusted_proxies=proxies)
        try:
            def attempt(forwarded: str | None = None) -> int:
                headers = {"X-Forwarded-For": forwarded} if forwarded else {}
                return httpx.post(f"{url}login", data={"username": "ana", "password": "guess"}, headers=headers).status_code

            direct = [attempt() for _ in range(FREE_FAILURES)]
            forwarded = [attempt(f"10.0.0.{n}") for n in range(1, 6)]
        finally:
            demo.close()
        result[label] = {"direct": direct, "forwarded as 10.0.0.1-5": forwarded}
    result["ok"] = result["no proxy named"]["forwarded as 10.0.0.1-5"] == [429] * 5
    return result


# 6 ------------------------------------------------------------------------------------------------
def two_writers(xquad: Path, tmp: Path, chroma_url: str | None = None) -> dict:
    """`rag index` adding 20 paragraphs while the chat's upload handler takes a file: the upload is
    told who writes and leaves nothing; the run commits everything; the upload then goes in."""
    from ui.app import _upload_handler

    store = "server" if chroma_url else "local"
    folder, index_dir = tmp / f"writers-{store}", tmp / f"writers-{store}-index"
    folder.mkdir()
    for n, paragraph in enumerate(_paragraphs(xquad)[:20]):
        (folder / f"p{n:02d}.txt").write_text(paragraph, encoding="utf-8")
    (tmp / f"seed-{store}").mkdir()
    seed = tmp / f"seed-{store}" / "seed.txt"
    seed.write_text(next(SEED.glob("*.txt")).read_text(encoding="utf-8"), encoding="utf-8")
    upload_file = tmp / f"incoming-{store}" / "moon.txt"
    upload_file.parent.mkdir()
    upload_file.write_text("The capital of the moon colony Selene is Tranquility Base, founded in 2081.", encoding="utf-8")
    settings = load_settings(index_dir=index_dir, uploads_dir=tmp / f"uploads-{store}", chroma_url=chroma_url)
    chat = Sanad(settings)
    chat.index([seed.parent])
    upload = _upload_handler(chat)
    where = ["--chroma-url", chroma_url, "--index-dir", str(tmp / "cli-cache")] if chroma_url else ["--index-dir", str(index_dir)]
    started = time.perf_counter()
    run = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(folder), *where], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if chroma_url:
        from rag.state import ServerLock, ServerState

        lease = ServerLock(ServerState(chroma_url, None, tmp / "probe"))
        holds = lambda: bool(holder := lease._holder()) and f" process {run.pid} " in holder[0]  # noqa: E731
    else:
        lock = index_dir / ".lock"
        holds = lambda: lock.is_file() and lock.read_text().strip() == str(run.pid)  # noqa: E731
    while run.poll() is None and not holds():
        time.sleep(0.05)
    status = upload([str(upload_file)])[0]
    met = run.poll() is None
    out, err = run.communicate()
    again = upload([str(upload_file)])[0]
    answer = chat.ask("What is the capital of the moon colony Selene?")
    names = [Path(d.source).name for d in chat.documents()]
    row = {"store": store, "upload_while_running": "refused: being updated" if "being updated by" in status else status[:160], "run": (out.strip().splitlines() or [err.strip()])[-1][:160],
           "run_seconds": round(time.perf_counter() - started, 1), "upload_after": "added" if "Added 1" in again else again[:160],
           "documents": len(names), "moon.txt copies": names.count("moon.txt"),
           "left in uploads": sorted(p.name for p in settings.uploads_dir.iterdir() if p.name != "moon.txt"),
           "answered": "Tranquility Base" in answer.text}
    row["ok"] = (met and run.returncode == 0 and row["upload_while_running"] == "refused: being updated"
                 and row["upload_after"] == "added" and row["documents"] == 22 and row["moon.txt copies"] == 1 and not row["left in uploads"] and row["answered"])
    return row


def _chroma_server(path: Path):
    """`chroma run` on a free port (the installed chromadb's own server), or None without one."""
    import shutil
    import socket

    import httpx

    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(chroma).exists():
        return None, None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    return None, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xquad", nargs="?", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rows", type=int, default=40_000, help="sentence and passage rows for part 1")
    parser.add_argument("--parts", default="library,hostile,kills,pages,logins,writers,streams",
                        help="which parts to run (library is the slowest)")
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
        result["pages"] = giant_pages(tmp) if "pages" in parts else {}
        for name, row in result["pages"].items():
            print(f"{name:18} {row['viewer_peak_mb']:5} + {row['drawing_peak_mb']:4} MB {row['view_seconds']:6} s "
                  f"{row['html_kb']:6} KB  {'ok ' if row['ok'] else 'BAD'} {row['outcome']}", flush=True)
        result["logins"] = forwarded_logins(tmp) if "logins" in parts else {"ok": True}
        print(json.dumps(result["logins"]), flush=True)
        result["writers"] = []
        if "writers" in parts:
            result["writers"].append(two_writers(args.xquad, tmp))
            server, url = _chroma_server(tmp / "chroma-server")
            if server:
                try:
                    result["writers"].append(two_writers(args.xquad, tmp, url))
                finally:
                    server.terminate()
                    server.wait()
        for row in result["writers"]:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        if "streams" in parts:
            from bench.llm_streams import streams

            result["streams"] = streams(tmp)  # prints its own rows
    ok = (all(r["ok"] for r in result["hostile"].values()) and all(r["ok"] for r in result["kills"])
          and all(r["ok"] for r in result["pages"].values()) and result["logins"]["ok"]
          and all(r["ok"] for r in result["writers"]) and all(r["ok"] for r in result.get("streams", {}).values()))
    result["all_ok"] = ok
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print("all within limits" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
