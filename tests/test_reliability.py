"""Reliability faults of issue 8 that live in the index and the CLI: libraries past Chroma's SQL
variable limit, rows of a run that never committed, junk and duplicate passages, control characters
in questions and terminal output, names that survive a rebuild from another folder."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from html import escape
from pathlib import Path

import numpy as np
import pytest

from rag import Sanad, load_settings, strings
from rag.index_state import load_manifest
from rag.store import VectorStore, open_client
from rag.types import Chunk, Sentence

from conftest import PAKISTAN_PARAGRAPH, ROOT

FACTS = {
    "penguins.txt": "Emperor penguins breed during the Antarctic winter and the males keep the eggs warm.",
    "tea.txt": "Green tea was first cultivated in China and reached Japan in the ninth century.",
}
PENGUIN_QUESTION = "When do emperor penguins breed?"


def _docs(folder: Path, files: dict[str, str] = FACTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _rag(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=kwargs.pop("cwd", ROOT), **kwargs)


def test_a_library_past_sqlites_variable_limit_is_cleaned_in_pages(tmp_path):
    """36,000 sentence rows: listing them in one call raised 'too many SQL variables' (SQLite's limit
    is 32,766), after the commit, on every index run. Rows are added straight through Chroma with
    4-dimensional vectors to keep the test quick; delete_except is the real call that failed."""
    client = open_client(tmp_path / "chroma")
    name = "chunks-1"
    cheap = {"hnsw": {"space": "cosine", "ef_construction": 8, "max_neighbors": 4}}
    for collection in (name, f"{name}-sentences"):
        client.get_or_create_collection(collection, embedding_function=None, configuration=cheap)
    store = VectorStore(client, name, create=True)
    chunks, per = 4000, 9
    rng = np.random.default_rng(0)
    raw_chunks = client.get_collection(name, embedding_function=None)
    raw_sentences = client.get_collection(f"{name}-sentences", embedding_function=None)
    for start in range(0, chunks, 1000):
        ids = [f"c{i}" for i in range(start, start + 1000)]
        raw_chunks.add(ids=ids, embeddings=rng.standard_normal((1000, 4)).astype(np.float32),
                       metadatas=[{"run": 1, "text_sha": i} for i in ids])
    for start in range(0, chunks * per, 5000):
        ids = [Sentence(f"c{i // per}", i % per, i % per + 1).id for i in range(start, min(start + 5000, chunks * per))]
        raw_sentences.add(ids=ids, embeddings=rng.standard_normal((len(ids), 4)).astype(np.float32),
                          metadatas=[{"chunk_id": i.rpartition(":")[0], "run": 1, "text_sha": i} for i in ids])
    assert raw_sentences.count() == 36000 > 32766

    live = {f"c{i}" for i in range(0, chunks, 2)}
    store.delete_except(live, sentences=len(live) * per)
    assert raw_chunks.count() == len(live)
    assert raw_sentences.count() == len(live) * per
    assert set(store.sentence_counts(sorted(live))) == live


def test_rows_of_a_run_that_never_committed_cannot_hide_committed_ones(tmp_path):
    """A killed run left 272,822 rows; dense search over-fetched n + 10 and 'Why Pakistan?' got no
    hits. Here 400 uncommitted rows sit right on top of the question's vector."""
    index_dir = tmp_path / "index"
    folder = _docs(tmp_path / "docs")
    engine = Sanad(load_settings(index_dir=index_dir))
    engine.index([folder])
    assert not engine.ask(PENGUIN_QUESTION).abstained

    manifest = load_manifest(index_dir)[1]
    store = VectorStore(open_client(index_dir / "chroma"), manifest.collection)
    vector = engine._current()[0].embedder.embed_queries([PENGUIN_QUESTION])[0]
    rng = np.random.default_rng(1)
    near = vector + 0.01 * rng.standard_normal((400, vector.size)).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    ghosts = [Chunk(id=f"ghost{i}", doc_id="ghost", source="ghost.txt", text=f"Ghost passage {i} about nothing at all.",
                    start=0, end=40) for i in range(400)]
    sentences = [Sentence(c.id, 0, 40) for c in ghosts]
    store.add(ghosts, near, [f"g{i}" for i in range(400)], sentences, near, [f"gs{i}" for i in range(400)], run=99)

    reader = Sanad(load_settings(index_dir=index_dir))
    for mode in ("hybrid", "dense"):
        hits = reader.retrieve(PENGUIN_QUESTION, retriever=mode)
        assert hits and "Antarctic winter" in hits[0].chunk.text
        assert not any(h.chunk.id.startswith("ghost") for h in hits)
    answer = reader.ask(PENGUIN_QUESTION)
    assert not answer.abstained and "Antarctic winter" in answer.text

    # The next run commits and collects what the dead run left.
    (folder / "tea.txt").write_text("Black tea is oxidised longer than green tea.", encoding="utf-8")
    report = engine.index([folder])
    assert report.updated and not report.notes
    live = load_manifest(index_dir)[1].chunk_ids()
    assert store._chunks.count() == len(live)


def test_copies_and_passages_without_words_do_not_crowd_out_the_answer(tmp_path):
    """One junk file of thousands of lines hid every other document ('Why Pakistan?' abstained)."""
    folder = _docs(tmp_path / "docs")
    (folder / "codes.txt").write_text("\n\n".join(f"word{i % 7} {i % 5}" for i in range(600)), encoding="utf-8")
    for n in range(40):  # the same passage under forty names, close to the question
        (folder / f"copy{n:02d}.txt").write_text("Emperor penguins are described in the next chapter of this book.",
                                                 encoding="utf-8")
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    engine.index([folder])
    for mode in ("hybrid", "dense", "bm25"):
        hits = engine.retrieve(PENGUIN_QUESTION, top_k=5, retriever=mode)
        texts = [h.chunk.text for h in hits]
        assert any("Antarctic winter" in t for t in texts), (mode, texts)
        assert sum("next chapter" in t for t in texts) <= 1, mode
        assert not any(t.startswith("word") for t in texts), mode
    assert not engine.ask(PENGUIN_QUESTION).abstained


def test_a_nul_in_the_question_does_not_cut_it_short(seed_engine):
    clean = seed_engine.ask("Why Pakistan?")
    assert not clean.abstained and PAKISTAN_PARAGRAPH in clean.citations[0].text
    dirty = seed_engine.ask("Why\x00 Pakistan?\x07")
    assert dirty.question == "Why Pakistan?"
    assert dirty.text == clean.text


def test_the_terminal_never_gets_raw_control_or_bidi_characters(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    name = "invoice\u202egpj.md"
    (folder / name).write_text("Emperor penguins breed during the Antarctic winter.\x1b]0;owned\x07\x1b[2J "
                               "The males keep the eggs warm.", encoding="utf-8")
    index = _rag("index", str(folder), "--index-dir", str(tmp_path / "index"))
    assert index.returncode == 0, index.stderr
    result = _rag("ask", PENGUIN_QUESTION, "--index-dir", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    assert "Antarctic winter" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    assert "invoice<U+202E>gpj.md" in result.stdout


def test_interactive_json_prints_only_json_lines(seed_engine):
    result = _rag("ask", "-i", "--json", "--index-dir", str(seed_engine.settings.index_dir),
                  input="Why Pakistan?\nand what could go wrong?\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first, second = map(json.loads, lines)
    assert first["question"] == "Why Pakistan?" and second["question"] == "and what could go wrong?"


def test_rebuild_from_another_folder_keeps_the_names_documents_were_indexed_under(tmp_path, monkeypatch):
    _docs(tmp_path / "docs")
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    monkeypatch.chdir(tmp_path)
    engine.index([Path("docs")])
    names = {d.source for d in engine.documents()}
    assert names == {"docs/penguins.txt", "docs/tea.txt"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert len(engine.rebuild().added) == 2
    assert {d.source for d in engine.documents()} == names
    (tmp_path / "docs" / "tea.txt").write_text("Black tea is oxidised longer than green tea.", encoding="utf-8")
    assert engine.index([tmp_path / "docs"]).updated == ["docs/tea.txt"]
    assert {d.source for d in engine.documents()} == names


def test_a_clean_up_failure_after_the_commit_is_a_note_not_a_crash(tmp_path, monkeypatch):
    folder = _docs(tmp_path / "docs")
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    engine.index([folder])

    def refuse(self, *args, **kwargs):  # what Chroma raised past 32k rows
        raise RuntimeError("too many SQL variables")

    monkeypatch.setattr(VectorStore, "delete_except", refuse)
    (folder / "tea.txt").write_text("Black tea is oxidised longer than green tea.", encoding="utf-8")
    report = engine.index([folder])
    assert report.updated and report.notes and "too many SQL variables" in report.notes[0]
    assert "oxidised" in engine.retrieve("Why is black tea stronger?")[0].chunk.text
    monkeypatch.undo()
    (folder / "tea.txt").write_text("White tea is the least processed tea.", encoding="utf-8")
    assert not engine.index([folder]).notes


def test_text_without_any_break_is_cut_into_bounded_chunks():
    """A 20 MB line with no space became one 20 MB chunk, and its run never finished."""
    from rag.chunking import chunk_document
    from rag.read import parse_document

    for data in (b"a" * 300_000, ("word " * 60_000).encode()):
        doc = parse_document(data, Path("line.txt"), "line.txt")
        chunks = chunk_document(doc, 1200, 200)
        assert len(chunks) >= len(data) // 1200
        assert max(len(c.text) for c in chunks) <= 1200
        assert all(doc.text[c.start:c.end] == c.text for c in chunks)


def test_the_same_sentence_in_two_documents_is_quoted_once(tmp_path):
    text = ("Emperor penguins breed during the Antarctic winter. The males keep the eggs warm on their feet "
            "for about two months while the females feed at sea.")
    folder = _docs(tmp_path / "docs", {"penguins.txt": text, "penguins-copy.md": "# Penguins\n\n" + text})
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    engine.index([folder])
    answer = engine.ask(PENGUIN_QUESTION)
    assert not answer.abstained
    body = answer.text.split("\n", 1)[1]
    assert body.count("Antarctic winter") == 1


def test_a_folder_reached_through_a_symlink_is_the_same_documents(tmp_path):
    folder = _docs(tmp_path / "docs")
    (tmp_path / "alias").symlink_to(folder, target_is_directory=True)
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    assert len(engine.index([folder]).added) == 2
    again = engine.index([tmp_path / "alias"])
    assert len(again.unchanged) == 2 and not again.added and not again.removed
    assert len(engine.documents()) == 2


# The source viewer (issue 21, items 1 and 6) --------------------------------------------------------
GIANT = "A giant page holds one short sentence about lighthouses."
SECOND = "The second page tells of the keeper and his green lamp."
STRIP = "A strip of paper fourteen thousand points long."


@pytest.fixture(scope="module")
def pdf_engine(tmp_path_factory):
    """An index of PDFs whose page boxes are what a hostile file may say."""
    from bench.reliability import page_pdf

    folder = tmp_path_factory.mktemp("pdfs")
    (folder / "giant.pdf").write_bytes(page_pdf([((0, 0, 20000, 20000), GIANT), ((0, 0, 595, 842), SECOND)]))
    (folder / "strip.pdf").write_bytes(page_pdf([((0, 0, 14400, 10), STRIP)]))
    (folder / "inside-out.pdf").write_bytes(page_pdf([((600, 800, -20, -30), "An inside out box of a page.")]))
    (folder / "notes.txt").write_text("Plain notes have no pages at all.", encoding="utf-8")
    engine = Sanad(load_settings(index_dir=tmp_path_factory.mktemp("pdf-index")))
    report = engine.index([folder])
    assert len(report.added) == 4, report
    return engine


def _view(engine, name: str, **fields) -> str:
    from ui.reference import Reference
    from ui.viewer import view

    source = next(d.source for d in engine.documents() if d.source.endswith(name))
    return view(engine, Reference(source, **fields).encode())


def _image(html: str):
    import base64
    import io

    from PIL import Image

    found = re.search(r'<img src="data:image/png;base64,([^"]+)" width="(\d+)" height="(\d+)"', html)
    if not found:
        return None
    png = base64.b64decode(found.group(1))
    image = Image.open(io.BytesIO(png))
    assert image.size == (int(found.group(2)), int(found.group(3)))
    return image, len(png)


def test_a_giant_page_is_drawn_small_with_its_sentence_boxed(pdf_engine):
    """An 835-byte PDF of 20000 x 20000 pt became a 32000 x 32000 PNG (198 s, 7.1 GB, 4.6 MB of HTML)."""
    from ui import pdf_page

    document = pdf_engine.document(next(d.source for d in pdf_engine.documents() if d.source.endswith("giant.pdf")))
    start = document.text.index(GIANT)
    html = _view(pdf_engine, "giant.pdf", start=start, end=start + len(GIANT),
                 highlights=((start, start + len(GIANT)),), page=1)
    image, size = _image(html)
    width, height = image.size
    assert width * height <= pdf_page.MAX_PIXELS and max(width, height) <= pdf_page.MAX_SIDE
    assert width == height  # scaled down, not cropped
    assert size <= pdf_page.MAX_PNG_BYTES and len(html) < 2 * pdf_page.MAX_PNG_BYTES
    assert html.count('class="sanad-box"') == 1 and GIANT in html


def test_a_page_that_cannot_be_drawn_shows_its_text_and_says_why(pdf_engine, monkeypatch):
    from ui import pdf_page

    strip = _view(pdf_engine, "strip.pdf")
    assert _image(strip) is None and 'data-view="text"' in strip
    assert escape(strings.VIEWER_PAGE_STRIP.split(" · ")[0]) in strip and STRIP in strip
    inside_out = _view(pdf_engine, "inside-out.pdf")
    assert _image(inside_out) is not None  # PDFium puts the corners in order: a 620 x 830 pt page
    monkeypatch.setattr(pdf_page, "RENDER_TIMEOUT_S", 0.001)  # the drawing process is killed
    slow = _view(pdf_engine, "giant.pdf")
    assert _image(slow) is None and escape(strings.viewer_page_slow(0.001).split(" · ")[0]) in slow and GIANT in slow


def test_page_numbers_from_the_browser_are_checked(pdf_engine):
    """p=-1 raised IndexError; p=0 drew page 1 titled "p. 0"."""
    for page in (-1, 0):
        html = _view(pdf_engine, "giant.pdf", page=page)
        assert "sanad-notice" in html and _image(html) is None
    second = _view(pdf_engine, "giant.pdf", page=2)
    assert "p. 2" in second and _image(second)[0].size == (952, 1348)  # A4 at the usual scale
    beyond = _view(pdf_engine, "giant.pdf", page=99)
    assert "p. 99" not in beyond and "p. " not in beyond.split("</p>")[0] and _image(beyond)[0].size == (2000, 2000)
    notes = _view(pdf_engine, "notes.txt", page=3)
    assert "p. 3" not in notes and "Plain notes" in notes


# The chat's login behind a proxy (issue 21, item 3) ------------------------------------------------
@contextmanager
def _chat(tmp_path: Path, **launch_args):
    """The real chat app, served on a free port over a small index."""
    from ui.app import build_app, launch

    engine = Sanad(load_settings(index_dir=tmp_path / "index", uploads_dir=tmp_path / "uploads"))
    engine.index([_docs(tmp_path / "docs")])
    demo = build_app(engine)
    try:
        yield launch(demo, port=None, block=False, **launch_args)
    finally:
        demo.close()


def _login(url: str, password: str, address: str = "127.0.0.1", forwarded: str | None = None) -> int:
    import httpx

    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as http:
        return http.post(f"{url}login", data={"username": "ana", "password": password}, headers=headers).status_code


def test_a_forwarded_address_counts_only_from_a_named_proxy(tmp_path):
    """After five failures from 127.0.0.1, `X-Forwarded-For: 10.0.0.N` made every attempt a new client."""
    from ui.login import FREE_FAILURES

    with _chat(tmp_path / "direct", auth=("ana", "s3cret")) as url:
        assert [_login(url, "guess") for _ in range(FREE_FAILURES)] == [400] * FREE_FAILURES
        assert [_login(url, "s3cret", forwarded=f"10.0.0.{n}") for n in range(1, 6)] == [429] * 5
    with _chat(tmp_path / "proxied", auth=("ana", "s3cret"), trusted_proxies=("127.0.0.1",)) as url:
        # Behind the named proxy its clients are told apart ...
        assert [_login(url, "guess", forwarded="10.0.0.1") for _ in range(FREE_FAILURES)] == [400] * FREE_FAILURES
        assert _login(url, "s3cret", forwarded="10.0.0.1") == 429
        assert _login(url, "s3cret", forwarded="10.0.0.2") == 200
        # ... but any other address is itself, whatever it forwards.
        tries = [_login(url, "guess", "127.0.0.2", forwarded=f"10.0.1.{n}") for n in range(FREE_FAILURES + 1)]
        assert tries == [400] * FREE_FAILURES + [429]
        # An IPv6 client holds a whole /64: its addresses are one client.
        tries = [_login(url, "guess", forwarded=f"2001:db8::{n:x}") for n in range(1, FREE_FAILURES + 2)]
        assert tries == [400] * FREE_FAILURES + [429]
        assert _login(url, "s3cret", forwarded="2001:db8:0:1::1") == 200


def test_the_login_limit_remembers_a_bounded_number_of_addresses(monkeypatch):
    import time

    from ui import login

    monkeypatch.setattr(login, "TRACKED", 3)
    throttle = login.LoginThrottle(app=None)
    now = time.monotonic()
    throttle.failures = {f"10.0.0.{n}": login._Failures(count=n, until=now + n - 4 if n >= 5 else 0) for n in range(1, 9)}
    throttle._forget()  # 1-5 are not locked out (any more); of 6, 7, 8 none is dropped
    assert sorted(throttle.failures) == ["10.0.0.6", "10.0.0.7", "10.0.0.8"]
    throttle.failures |= {"10.0.0.9": login._Failures(count=9, until=now + 60)}
    throttle._forget()
    assert sorted(throttle.failures) == ["10.0.0.7", "10.0.0.8", "10.0.0.9"]


def test_trusted_proxies_come_from_the_environment_and_are_checked(monkeypatch):
    from ui.login import trust_proxies

    monkeypatch.setenv("SANAD_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.0/8 ,")
    assert load_settings().trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    with pytest.raises(ValueError, match="'proxy.example' is not an IP address or network"):
        trust_proxies(("proxy.example",))
    trust_proxies(())
    assert os.environ["FORWARDED_ALLOW_IPS"] == ""  # uvicorn's default would trust loopback


# Uploads (issue 21, items 7 and 8) ------------------------------------------------------------------
def test_content_already_indexed_is_not_uploaded_again_under_another_name(tmp_path):
    from ui.uploads import accept_uploads, indexed_documents

    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    engine.index([_docs(tmp_path / "docs")])
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "birds.txt").write_bytes((tmp_path / "docs" / "penguins.txt").read_bytes())
    (incoming / "new.txt").write_text("Basalt columns form when thick lava cools slowly.", encoding="utf-8")
    (incoming / "new-copy.txt").write_bytes((incoming / "new.txt").read_bytes())
    uploads = tmp_path / "uploads"
    placed = accept_uploads([str(incoming / n) for n in ("birds.txt", "new.txt", "new-copy.txt")], uploads, 1.0,
                            indexed_documents(engine))
    assert [p.name for p in placed.paths] == ["new.txt"] and not placed.refused
    penguins = next(d.source for d in engine.documents() if d.source.endswith("penguins.txt"))
    assert placed.notes == [strings.docs_already_here("birds.txt", penguins),
                            strings.docs_already_here("new-copy.txt", "new.txt")]
    assert "birds.txt" in placed.notes[0].split(" · ")[1] and "penguins.txt" in placed.notes[0].split(" · ")[1]
    assert sorted(p.name for p in uploads.iterdir() if not p.name.startswith(".")) == ["new.txt"]


UPLOADER = """
import sys
from pathlib import Path
from rag import Sanad, load_settings
from ui.uploads import accept_uploads, indexed_documents
engine = Sanad(load_settings(index_dir=Path(sys.argv[1]), uploads_dir=Path(sys.argv[2])))
placed = accept_uploads([sys.argv[3]], engine.settings.uploads_dir, 50.0, indexed_documents(engine))
print("placed", flush=True)
engine.index(placed.paths)  # as the chat's upload does; killed meanwhile
"""


def test_an_upload_killed_while_indexing_is_removed_when_the_chat_starts(tmp_path, capsys):
    """A chat killed while indexing an upload left the file in uploads/, neither indexed nor listed."""
    import socket
    import time
    from argparse import Namespace

    from ui.app import run_from_cli

    index_dir, uploads = tmp_path / "index", tmp_path / "uploads"
    engine = Sanad(load_settings(index_dir=index_dir, uploads_dir=uploads))
    engine.index([_docs(tmp_path / "docs")])
    big = tmp_path / "long-report.txt"
    big.write_text("\n\n".join(f"Paragraph {i} of the long report describes survey station {i * 7} in detail."
                               for i in range(3000)), encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", UPLOADER, str(index_dir), str(uploads), str(big)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "placed"
    time.sleep(0.5)
    child.kill()
    child.wait()
    assert (uploads / "long-report.txt").is_file()
    assert "long-report.txt" not in {Path(d.source).name for d in engine.documents()}

    decoy = uploads / ".pending-0123456789abcdef.txt"  # a user's file that only looks like a mark
    decoy.write_text("Hidden notes.", encoding="utf-8")
    with socket.socket() as holder:  # the chat starts, clears up, then finds its port taken and stops
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        code = run_from_cli(engine, Namespace(host="127.0.0.1", port=holder.getsockname()[1]))
    assert code == 2
    assert strings.upload_interrupted("long-report.txt") in capsys.readouterr().err
    assert list(uploads.iterdir()) == [decoy]  # the file, its mark and any temporary are gone


def test_a_reference_with_thousands_of_marks_marks_only_a_few_in_its_passage(pdf_engine):
    """Every mark was looked for in every piece of every line: 6,000 took 2.4 s, a megabyte minutes."""
    from ui.viewer import MAX_HIGHLIGHTS

    source = next(d.source for d in pdf_engine.documents() if d.source.endswith("giant.pdf"))
    start = pdf_engine.document(source).text.index(GIANT)
    marks = tuple((start + i % 50, start + i % 50 + 1 + i % 3) for i in range(20_000)) + ((0, 1), (start, 10**9))
    html = _view(pdf_engine, "giant.pdf", start=start, end=start + len(GIANT), highlights=marks)
    assert 0 < html.count("<mark>") <= MAX_HIGHLIGHTS


def test_a_long_name_uploaded_twice_is_kept_beside_the_first_under_a_shorter_one(tmp_path):
    from ui.uploads import accept_uploads

    name = ("تقرير-" * 40).encode()[:250].decode(errors="ignore") + ".txt"  # 254 of the 255 bytes a name may have
    uploads = tmp_path / "uploads"
    for n, text in enumerate(("The first report.", "The second report, not the first.")):
        source = tmp_path / f"in{n}" / name
        source.parent.mkdir()
        source.write_text(text, encoding="utf-8")
        placed = accept_uploads([str(source)], uploads, 1.0)
        assert not placed.refused and len(placed.new) == 1, placed.notes
    files = sorted(p for p in uploads.iterdir() if not p.name.startswith("."))
    assert len(files) == 2 and any(p.name.endswith(" (2).txt") for p in files)
    assert {p.read_text(encoding="utf-8") for p in files} == {"The first report.", "The second report, not the first."}
