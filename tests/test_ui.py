"""The web chat over HTTP: the real app, engine and Chroma index of seeds/, driven with gradio_client."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from argparse import Namespace
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Iterator

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from bs4 import BeautifulSoup  # noqa: E402
from conftest import PAKISTAN_PARAGRAPH, ROOT  # noqa: E402

# Small enough that a test can exceed it cheaply, large enough for the seed article (4 KB).
LIMIT_MB = 0.05
# The risks the article names: a security vacuum after the war, resistance to a proxy occupation.
RISK_WORDS = ("فراغ أمني", "مقاومة داخلية")
FACT = ("The Zephyrine lighthouse on Korvel Island was painted green in 1987 by its keeper, Ansel Brandt, "
        "after a storm stripped the old paint. Ships still call it the green lamp.")


@contextmanager
def running_chat(tmp: Path, auth: tuple[str, str] | None = None, also: tuple[Path, ...] = ()) -> Iterator[tuple[str, object]]:
    """The real app on a free port over a fresh index of seeds/ (and `also`); closed (server and all) on exit."""
    from rag import Sanad, load_settings
    from ui.app import build_app, launch

    engine = Sanad(load_settings(index_dir=tmp / "index", uploads_dir=tmp / "uploads", max_file_mb=LIMIT_MB))
    report = engine.index([ROOT / "seeds", *also])
    assert report.added and not report.failed
    demo = build_app(engine)
    try:
        yield launch(demo, port=None, auth=auth, block=False, max_file_mb=LIMIT_MB), engine
    finally:
        demo.close()


@contextmanager
def client_for(url: str, **kwargs):
    from gradio_client import Client

    client = Client(url, verbose=False, **kwargs)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    with running_chat(tmp_path_factory.mktemp("chat")) as served:
        yield served


@pytest.fixture()
def client(chat):
    """A fresh session: its own conversation history."""
    with client_for(chat[0]) as c:
        yield c


def ask(client, question: str, messages: list | None = None) -> list:
    return client.predict(question, messages or [], api_name="/chat")


def last_answer(messages: list) -> BeautifulSoup:
    assert messages[-1]["role"] == "assistant"
    return BeautifulSoup("".join(part["text"] for part in messages[-1]["content"]), "html.parser")


def passages(answer: BeautifulSoup) -> list[str]:
    return [q.get_text() for q in answer.select("details.sanad-sources blockquote.sanad-passage")]


def marked(answer: BeautifulSoup) -> list[str]:
    return [m.get_text() for m in answer.select("blockquote mark")]


def html(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def listed(table: str) -> list[str]:
    """The document names in the Documents table, as shown."""
    return [a.get_text() for a in html(table).select("a.sanad-doc")]


def upload(client, *paths: Path) -> tuple[BeautifulSoup, str]:
    from gradio_client import handle_file

    status, table, _ = client.predict([handle_file(p) for p in paths], api_name="/upload")
    return html(status), table


# Asking -------------------------------------------------------------------------------------------
def test_arabic_question_cites_the_pakistan_paragraph(client):
    messages = ask(client, "لماذا باكستان؟")
    answer = last_answer(messages)
    assert messages[0]["role"] == "user" and "لماذا باكستان؟" in messages[0]["content"][0]["text"]
    assert "[1]" in answer.get_text()
    assert answer.select_one("details.sanad-sources summary").get_text().startswith("المصادر")
    assert passages(answer)[0].startswith(PAKISTAN_PARAGRAPH)
    assert any("حفظ السلام" in m for m in marked(answer))  # the cited sentence is highlighted inside it
    assert all(p.get("dir") == "auto" for p in answer.select("p, blockquote"))


def test_english_question_cites_the_same_paragraph(client):
    answer = last_answer(ask(client, "Why Pakistan?"))
    lead = answer.select("p")[0].get_text()
    assert lead.isascii() and lead.endswith(":")  # English framing around the Arabic quotes
    assert answer.select_one("details.sanad-sources summary").get_text().startswith("Sources")
    assert passages(answer)[0].startswith(PAKISTAN_PARAGRAPH)
    # The document, and the offsets of the passage in it, as the CLI prints them.
    assert re.fullmatch(r"\[1\] gaza-stabilisation-force-pakistan\.ar\.txt · \[\d+:\d+\]",
                        answer.select_one(".sanad-source-name").get_text())


@pytest.mark.parametrize("first, follow_up", [("لماذا باكستان؟", "وما المخاطر؟"),
                                              ("Why Pakistan?", "and the risks?")])
def test_follow_up_is_answered_from_the_conversation(chat, first, follow_up):
    with client_for(chat[0]) as conversation, client_for(chat[0]) as stranger:
        answer = last_answer(ask(conversation, follow_up, ask(conversation, first)))
        alone = last_answer(ask(stranger, follow_up))
    assert any(word in m for m in marked(answer) for word in RISK_WORDS)
    # The same words without the conversation get another answer: the history reached the engine.
    assert marked(answer) != marked(alone)


def test_two_sessions_at_once(chat):
    with client_for(chat[0]) as one, client_for(chat[0]) as two:
        jobs = [one.submit("لماذا باكستان؟", [], api_name="/chat"), two.submit("Why Pakistan?", [], api_name="/chat")]
        answers = [last_answer(job.result(timeout=120)) for job in jobs]
    assert [a.select_one("summary").get_text().split()[0] for a in answers] == ["المصادر", "Sources"]
    assert all(passages(a)[0].startswith(PAKISTAN_PARAGRAPH) for a in answers)


def test_answers_stream(client):
    job = client.submit("لماذا باكستان؟", [], api_name="/chat")
    updates = list(job)  # every intermediate value the generator yielded
    assert len(updates) > 2
    assert "<details" not in updates[0][-1]["content"][0]["text"]  # text first, sources at the end
    assert "<details" in updates[-1][-1]["content"][0]["text"]


# Documents ----------------------------------------------------------------------------------------
def test_uploaded_document_becomes_answerable_and_can_be_removed(chat, client, tmp_path):
    note = tmp_path / "lighthouse-notes.md"
    note.write_text(f"# Lighthouse notes\n\n{FACT}\n", encoding="utf-8")
    status, table = upload(client, note)
    assert "Added 1" in status.get_text()
    sources = listed(table)
    uploaded = next(s for s in sources if s.endswith("lighthouse-notes.md"))
    assert (chat[1].settings.uploads_dir / "lighthouse-notes.md").read_text(encoding="utf-8").endswith(f"{FACT}\n")

    answer = last_answer(ask(client, "Who painted the Zephyrine lighthouse green?"))
    assert any("Ansel Brandt" in p for p in passages(answer))
    assert "lighthouse-notes.md" in answer.select_one(".sanad-source-name").get_text()

    status, table, _ = client.predict(uploaded, api_name="/remove")
    assert "removed 1" in html(status).get_text()
    assert listed(table) == [s for s in sources if s != uploaded]
    answer = last_answer(ask(client, "Who painted the Zephyrine lighthouse green?"))
    assert not any("Ansel Brandt" in p for p in passages(answer))


def test_a_same_named_upload_never_replaces_the_good_copy(chat, client, tmp_path):
    """Issue 8, item 3: a broken file of the same name fails and leaves the good copy and the index as
    they were; a different valid one is kept beside it, and the status says under which name."""
    uploads = chat[1].settings.uploads_dir
    good, broken, other = (tmp_path / d for d in ("good", "broken", "other"))
    for folder in (good, broken, other):
        folder.mkdir()
    (good / "keeper.md").write_text(FACT, encoding="utf-8")
    (broken / "keeper.md").write_bytes(b"\x00\x01\x02binary\x00" * 200)
    (other / "keeper.md").write_text("The Korvel ferry leaves at dawn and returns at dusk.", encoding="utf-8")

    status, table = upload(client, good / "keeper.md")
    before = listed(table)
    status, table = upload(client, broken / "keeper.md")
    assert "keeper.md: binary data" in status.get_text() and "failed 1" in status.get_text()
    assert listed(table) == before
    assert (uploads / "keeper.md").read_text(encoding="utf-8") == FACT
    kept = lambda: sorted(p.name for p in uploads.iterdir() if "keeper" in p.name or p.name.startswith("."))
    assert kept() == ["keeper.md"]  # no temporary or failed file left

    status, table = upload(client, other / "keeper.md")
    lines = [p.get_text() for p in status.select("li p")]
    assert any("both are kept" in line and "keeper (2).md" in line for line in lines)
    assert any("keeper (2).md" in line and "احتُفظ بالاثنين" in line for line in lines)
    assert kept() == ["keeper (2).md", "keeper.md"]
    assert [PurePath(s).name for s in listed(table) if "keeper" in s] == ["keeper (2).md", "keeper.md"]
    assert (uploads / "keeper.md").read_text(encoding="utf-8") == FACT

    status, table = upload(client, good / "keeper.md")  # the same file again is not a third copy
    assert "unchanged 1" in status.get_text() and kept() == ["keeper (2).md", "keeper.md"]
    for source in (s for s in listed(table) if "keeper" in s):
        client.predict(source, api_name="/remove")


def test_status_and_names_from_files_are_plain_text(chat, client, tmp_path):
    """Issue 8, items 4 and 8: a parser error quoting the file's Markdown stays text, with no Python
    repr in it, and a name with a right-to-left override shows the override instead of obeying it."""
    status, _ = upload(client, markdown_content_type_docx(tmp_path / "report.docx"))
    assert not status.select("img, a")
    text = status.get_text()
    assert "report.docx" in text and "![t](http://127.0.0.1:9/docx.png)" in text
    assert "BytesIO" not in text and "object at 0x" not in text

    tricky = tmp_path / "invoice\u202egpj.md"
    tricky.write_text(FACT, encoding="utf-8")
    status, table = upload(client, tricky)
    assert "Added 1" in status.get_text()
    again = tmp_path / "again"
    again.mkdir()
    (again / tricky.name).write_text(FACT + " Twice.", encoding="utf-8")
    status, table = upload(client, again / tricky.name)  # kept beside the first: the note names both
    assert "invoice⟨U+202E⟩gpj.md: another document" in status.get_text() and "\u202e" not in str(status)
    shown = [PurePath(s).name for s in listed(table) if "invoice" in s]
    assert shown == ["invoice⟨U+202E⟩gpj (2).md", "invoice⟨U+202E⟩gpj.md"] and "\u202e" not in table
    answer = last_answer(ask(client, "Who painted the Zephyrine lighthouse green?"))
    name = answer.select_one(".sanad-source-name").get_text()
    assert "invoice⟨U+202E⟩gpj.md" in name and "\u202e" not in name
    for name in ("invoice\u202egpj.md", "invoice\u202egpj (2).md"):
        client.predict(str(chat[1].settings.uploads_dir / name), api_name="/remove")


def markdown_content_type_docx(path: Path) -> Path:
    """A .docx whose main part claims a content type written as Markdown (an image and a link); its
    thumbnail is left out to stay under the test's upload limit."""
    import zipfile

    from make_files import docx

    docx(path, ["Quarterly report."])
    with zipfile.ZipFile(path) as original:
        parts = {item.filename: original.read(item) for item in original.infolist() if "thumbnail" not in item.filename}
    parts["_rels/.rels"] = re.sub(rb"<Relationship [^>]*thumbnail[^>]*/>", b"", parts["_rels/.rels"])
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        main, b"![t](http://127.0.0.1:9/docx.png) [Sign in](https://login.example.invalid/x)")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for name, data in parts.items():
            rewritten.writestr(name, data)
    return path


def test_documents_panel_lists_the_index(client):
    status, table, dropdown = client.predict(api_name="/documents")
    cells = [[td.get_text() for td in row.select("td")] for row in html(table).select("tbody tr")]
    assert [row[0] for row in cells] == ["seeds/gaza-stabilisation-force-pakistan.ar.txt"]
    assert int(cells[0][1]) > 0 and cells[0][2].endswith("UTC")
    assert [choice[1] for choice in dropdown["choices"]] == ["seeds/gaza-stabilisation-force-pakistan.ar.txt"]


def test_rebuild_keeps_the_documents_answerable(client):
    status, table, _ = client.predict(api_name="/rebuild")
    assert "Added 1" in html(status).get_text() and len(listed(table)) == 1
    assert passages(last_answer(ask(client, "لماذا باكستان؟")))[0].startswith(PAKISTAN_PARAGRAPH)


def test_upload_over_the_size_limit_is_refused(client, tmp_path):
    from gradio_client import handle_file

    big = tmp_path / "big.txt"
    big.write_text("word " * int(LIMIT_MB * 2**20 / 4), encoding="utf-8")
    with pytest.raises(Exception, match="exceeds the maximum"):
        client.predict([handle_file(big)], api_name="/upload")


def test_accept_uploads_explains_what_it_refuses(tmp_path):
    from ui.uploads import accept_uploads

    files = {"ok.txt": "fine", "big.md": "x" * 2000, "tool.exe": "MZ", "empty.md": ""}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    placed = accept_uploads([str(tmp_path / n) for n in files], tmp_path / "uploads", max_file_mb=0.001)
    assert placed.paths == placed.new == [tmp_path / "uploads" / "ok.txt"] and placed.paths[0].read_text() == "fine"
    assert len(placed.notes) == placed.refused == 3
    assert placed.notes[0].startswith("big.md: too large") and "0.001 MB" in placed.notes[0]
    assert placed.notes[1].startswith("tool.exe: unsupported")
    assert placed.notes[2] == "empty.md: empty file"
    # ok.txt waits to be indexed (its pending mark beside it until discard())
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir() if not p.name.startswith(".pending-")) == ["ok.txt"]


# Errors -------------------------------------------------------------------------------------------
def test_chat_without_an_index_says_what_to_do(tmp_path):
    from rag import Sanad, load_settings, strings
    from ui.app import build_app, launch

    demo = build_app(Sanad(load_settings(index_dir=tmp_path / "empty")))
    try:
        with client_for(launch(demo, port=None, block=False)) as c:
            answer = last_answer(ask(c, "Why Pakistan?"))
            status, table, _ = c.predict(api_name="/rebuild")
    finally:
        demo.close()
    assert answer.get_text() == strings.CHAT_NO_INDEX["en"]
    assert html(status).get_text() == strings.DOCS_NONE.replace(" · ", "")
    assert html(table).get_text() == strings.DOCS_NONE


def test_unexpected_failure_is_one_line_in_the_chat():
    from rag import strings
    from ui.app import make_chat

    class Broken:
        def stream(self, question, history, llm=None):
            raise RuntimeError("disk on fire\nTraceback (most recent call last): ...")

    final = list(make_chat(Broken())("لماذا باكستان؟", [], []))[-1]
    messages, turns = final
    text = BeautifulSoup(messages[-1]["content"], "html.parser").get_text()
    assert text == strings.CHAT_FAILED["ar"].format(detail="RuntimeError")
    assert turns == []


# Serving ------------------------------------------------------------------------------------------
def test_other_addresses_need_a_login(monkeypatch, capsys):
    from ui.app import run_from_cli
    from ui.login import chat_auth

    assert chat_auth("127.0.0.1", None) is None
    assert chat_auth("0.0.0.0", "ana:s3cret:x") == ("ana", "s3cret:x")
    assert chat_auth("0.0.0.0", " ana :s3cret") == ("ana", "s3cret")  # Gradio strips the name it is sent
    for malformed in ("ana", "  :  ", "ana:  ", " :s3cret", ":"):
        with pytest.raises(ValueError, match="user:password"):
            chat_auth("0.0.0.0", malformed)
    monkeypatch.delenv("SANAD_AUTH", raising=False)
    assert run_from_cli(object(), Namespace(host="0.0.0.0", port=7860)) == 2
    assert "SANAD_AUTH=user:password" in capsys.readouterr().err


def test_rag_chat_refuses_an_open_address_without_a_login(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SANAD_AUTH"}
    done = subprocess.run([sys.executable, "-m", "rag.cli", "chat", "--host", "0.0.0.0", "--index-dir", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "SANAD_AUTH" in done.stderr and "Traceback" not in done.stderr


def test_login_is_enforced_when_given(tmp_path):
    with running_chat(tmp_path, auth=("ana", "s3cret")) as (url, _):
        with pytest.raises(Exception):
            with client_for(url):
                pass
        with client_for(url, auth=("ana", "s3cret")) as c:
            assert passages(last_answer(ask(c, "Why Pakistan?")))[0].startswith(PAKISTAN_PARAGRAPH)


def test_document_text_is_escaped_and_cited_sentences_marked():
    from rag import Answer, Citation
    from ui import render

    text = "Intro <script>alert(1)</script> & more.\n\nThe <b>cited</b> sentence."
    cited = text.index("The <b>")
    citation = Citation(n=1, source="docs/a&b.html", text=text, start=0, end=len(text), score=1.0, page=3,
                        highlights=((cited, len(text)),))
    html = render.answer(Answer(question="q", language="en", text="From the documents:\nThe cited sentence. [1]",
                                abstained=False, citations=(citation,)))
    soup = BeautifulSoup(html, "html.parser")
    assert "<script>" not in html and "<b>" not in html and "\n" not in html
    assert [m.get_text() for m in soup.select("mark")] == ["The <b>cited</b> sentence."]
    assert soup.select_one(".sanad-source-name").get_text() == f"[1] a&b.html · p. 3 · [0:{len(text)}]"


# Source viewer ------------------------------------------------------------------------------------
def cite_reference(answer: BeautifulSoup, n: int = 1) -> str:
    """The reference that citation [n] of an answer hands the viewer (what ui/viewer.js sends)."""
    link = next(a for a in answer.select("a.sanad-cite") if a.get_text() == f"[{n}]")
    return link["href"].split("?", 1)[1]


def test_a_citation_opens_its_passage_in_the_viewer(client):
    answer = last_answer(ask(client, "لماذا باكستان؟"))
    quoted = marked(answer)
    source_link = answer.select_one("a.sanad-source-name")
    assert source_link["href"].split("?", 1)[1] == cite_reference(answer)  # [1] and its Sources entry agree
    viewer = html(client.predict(cite_reference(answer), api_name="/source"))
    title = viewer.select_one(".sanad-viewer-title").get_text()
    assert title.startswith("gaza-stabilisation-force-pakistan.ar.txt") and re.search(r"\[\d+:\d+\]$", title)
    assert [m.get_text() for m in viewer.select(".sanad-doc mark")] == quoted  # the quoted sentences, marked
    lines = [p.get_text() for p in viewer.select(".sanad-doc p")]
    first = next(i for i, p in enumerate(viewer.select(".sanad-doc p")) if "sanad-scroll-to" in p.get("class", []))
    assert lines[first].startswith(PAKISTAN_PARAGRAPH)
    assert first >= 1 and len(lines) > first + 2  # the paragraphs before and after are there to read
    assert not viewer.select(".sanad-page")  # a text file has no page view


def test_the_viewer_shows_any_indexed_document_and_nothing_else(client):
    status, table, _ = client.predict(api_name="/documents")
    link = html(table).select_one("a.sanad-doc")
    viewer = html(client.predict(link["href"].split("?", 1)[1], api_name="/source"))
    assert viewer.select(".sanad-doc p")[0].get_text().startswith("كشفت تقارير")  # from the document's start
    for reference in ("src=%2Fetc%2Fpasswd", "src=seeds%2Fnope.txt&s=0&e=5", "garbage", ""):
        viewer = html(client.predict(reference, api_name="/source"))
        assert viewer.select_one(".sanad-notice").get_text().startswith("Cannot show")
        assert not viewer.select(".sanad-doc")


def test_engine_document_is_the_indexed_text_or_says_why_not(tmp_path):
    from rag import Sanad, load_settings, strings
    from rag.read import ReadError

    note = tmp_path / "docs" / "note.md"
    note.parent.mkdir()
    note.write_text(FACT, encoding="utf-8")
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    engine.index([note.parent])
    source = engine.documents()[0].source
    assert engine.document(source).text == FACT
    note.write_text(FACT.replace("green", "blue"), encoding="utf-8")
    with pytest.raises(ReadError, match=re.escape(strings.REASON_CHANGED_SINCE_INDEXING)):
        engine.document(source)
    note.unlink()
    with pytest.raises(ReadError, match=re.escape(strings.REASON_GONE_SINCE_INDEXING)):
        engine.document(source)
    with pytest.raises(ReadError, match=re.escape(strings.REASON_NOT_INDEXED)):
        engine.document("elsewhere/other.md")


# Login and port -----------------------------------------------------------------------------------
def test_failed_logins_are_limited_per_address(tmp_path):
    """Issue 8, item 11: after five wrong passwords an address must wait, even with the right one;
    another address is not held up by it."""
    import httpx

    from ui.login import FREE_FAILURES

    with running_chat(tmp_path, auth=("ana", "s3cret")) as (url, _):
        def attempt(password: str, address: str = "127.0.0.1") -> httpx.Response:
            with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as http:
                return http.post(f"{url}login", data={"username": "ana", "password": password})

        assert [attempt("guess").status_code for _ in range(FREE_FAILURES)] == [400] * FREE_FAILURES
        refused = attempt("s3cret")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 10
        assert "Too many failed logins" in refused.json()["detail"]
        assert attempt("guess", "127.0.0.2").status_code == 400
        assert attempt("s3cret", "127.0.0.2").status_code == 200


def test_a_busy_port_is_one_line_naming_another(tmp_path, capsys):
    import socket

    from rag.cli import main

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code = main(["chat", "--port", str(port), "--index-dir", str(tmp_path)])  # what `rag chat` runs
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"port {port} is already in use" in lines[0]
    assert re.search(r"rag chat --port \d+$", lines[0]) and "Traceback" not in err


def test_the_viewer_shows_a_window_of_a_long_document():
    """A citation deep in a long document, even one without line breaks, shows the passage with some
    context either side and says how much more there is, rather than sending the whole file."""
    from rag import Document
    from ui.reference import Reference
    from ui.viewer import CONTEXT, _text_view

    text = "word " * 200_000  # 1 MB on one line
    page = html(_text_view(Document(id="d", source="s.txt", text=text, sha256=""), Reference("s.txt", 500_000, 500_100, ((500_000, 500_050),))))
    shown = "".join(p.get_text() for p in page.select("p:not(.sanad-more p)"))
    assert len(shown) <= 100 + 2 * CONTEXT + 2 and page.select_one("mark").get_text() == text[500_000:500_050]
    more = [div.get_text() for div in page.select(".sanad-more")]
    assert len(more) == 2 and more[0].startswith(f"… {500_000 - CONTEXT} more characters")


# Issue 23 -------------------------------------------------------------------------------------------
def test_a_line_that_changes_language_is_cut_into_runs_of_one_direction():
    from ui.render import direction_runs, partial_answer

    mixed = ("إذا ما نجحت واشنطن في تمرير هذه الخطة. [1] Choosing Pakistan did not come out of nowhere. [2] "
             "With the destruction of Gaza, a vacuum is feared. [3]")
    assert direction_runs(mixed) == ["إذا ما نجحت واشنطن في تمرير هذه الخطة. [1]",
                                     "Choosing Pakistan did not come out of nowhere. [2] With the destruction of Gaza, a vacuum is feared. [3]"]
    # Initials, brackets and numbers do not end a run: "(U.S. Army)" stays inside its Arabic sentence.
    assert direction_runs("قال الجيش الأمريكي (U.S. Army. Europe) إن القوة جاهزة. 2022.") == [
        "قال الجيش الأمريكي (U.S. Army. Europe) إن القوة جاهزة. 2022."]
    assert direction_runs("Hello. World! [1]") == ["Hello. World! [1]"]
    assert len(BeautifulSoup(partial_answer(mixed), "html.parser").select("p[dir=auto]")) == 2


def test_the_upload_status_names_each_file(tmp_path):
    from rag import IndexReport
    from ui.app import _removing, _report, _upload_started

    report = IndexReport(added=["uploads/harbour.pdf"], unchanged=["uploads/keepers.docx"])
    lines = _report(report, ["bundle.zip: unsupported file type · نوع ملف غير مدعوم: bundle.zip"], refused=1, uploaded=True)
    assert lines[0].startswith("Added 1, updated 0, removed 0, unchanged 1, failed 1.")
    assert "harbour.pdf: indexed · فُهرس الملف harbour.pdf" in lines
    assert any(line.startswith("keepers.docx: already indexed") for line in lines)
    assert BeautifulSoup(_removing("uploads/keepers.docx"), "html.parser").get_text() == "Removing keepers.docx…جارٍ حذف keepers.docx…"
    started = BeautifulSoup(_upload_started([str(tmp_path / "harbour.pdf"), str(tmp_path / "keepers.docx")]), "html.parser")
    assert [p.get_text() for p in started.select("p")] == ["Indexing harbour.pdf, keepers.docx…",
                                                          "جارٍ فهرسة harbour.pdf, keepers.docx…"]


def test_rag_eval_names_a_missing_set(tmp_path, capsys):
    from rag.cli import main

    assert main(["eval", str(tmp_path / "nope.jsonl"), "--docs", str(ROOT / "seeds")]) == 2
    err = capsys.readouterr().err
    assert "nope.jsonl does not exist" in err and "unexpected error" not in err
    (tmp_path / "set.jsonl").write_text("", encoding="utf-8")
    assert main(["eval", str(tmp_path / "set.jsonl"), "--docs", str(tmp_path / "missing")]) == 2
    assert "--docs folder" in capsys.readouterr().err


def test_a_busy_port_is_reported_before_the_chat_loads(tmp_path):
    """`rag chat` checks the port before it loads the engine and Gradio: in a fresh process, neither is
    imported by the time it says the port is taken."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        probe = ("import sys; from rag.cli import main; code = main(['chat', '--port', '%d', '--index-dir', %r]); "
                 "print(sorted(m for m in ('gradio', 'chromadb', 'rag.engine') if m in sys.modules)); sys.exit(code)")
        done = subprocess.run([sys.executable, "-c", probe % (port, str(tmp_path))], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"port {port} is already in use" in done.stderr
    assert done.stdout.strip() == "[]"


def test_piped_questions_each_get_their_own_line(seed_engine):
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "-i", "--index-dir", str(seed_engine.settings.index_dir)],
                          cwd=ROOT, input="لماذا باكستان؟\n", capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    assert "» لماذا باكستان؟" in lines  # the question, as a terminal would have echoed it
    answer = lines[lines.index("» لماذا باكستان؟") + 1]
    assert answer.startswith("بحسب المستندات")  # the answer starts a line of its own
