"""The web chat over HTTP: the real app, engine and Chroma index of seeds/, driven with gradio_client."""
from __future__ import annotations

import os
import subprocess
import sys
from argparse import Namespace
from contextlib import contextmanager
from pathlib import Path
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
def running_chat(tmp: Path, auth: tuple[str, str] | None = None) -> Iterator[tuple[str, object]]:
    """The real app on a free port over a fresh index of seeds/; closed (server and all) on exit."""
    from rag import Sanad, load_settings
    from ui.app import build_app, launch

    engine = Sanad(load_settings(index_dir=tmp / "index", uploads_dir=tmp / "uploads", max_file_mb=LIMIT_MB))
    assert engine.index([ROOT / "seeds"]).added
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
    assert answer.select_one(".sanad-source-name").get_text().endswith("gaza-stabilisation-force-pakistan.ar.txt")


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
    from gradio_client import handle_file

    note = tmp_path / "lighthouse-notes.md"
    note.write_text(f"# Lighthouse notes\n\n{FACT}\n", encoding="utf-8")
    status, table, _ = client.predict([handle_file(note)], api_name="/upload")
    assert "Added 1" in status
    sources = [row[0] for row in table["data"]]
    uploaded = next(s for s in sources if s.endswith("lighthouse-notes.md"))
    assert (chat[1].settings.uploads_dir / "lighthouse-notes.md").read_text(encoding="utf-8").endswith(f"{FACT}\n")

    answer = last_answer(ask(client, "Who painted the Zephyrine lighthouse green?"))
    assert any("Ansel Brandt" in p for p in passages(answer))
    assert "lighthouse-notes.md" in answer.select_one(".sanad-source-name").get_text()

    status, table, _ = client.predict(uploaded, api_name="/remove")
    assert "removed 1" in status
    assert [row[0] for row in table["data"]] == [s for s in sources if s != uploaded]
    answer = last_answer(ask(client, "Who painted the Zephyrine lighthouse green?"))
    assert not any("Ansel Brandt" in p for p in passages(answer))


def test_documents_panel_lists_the_index(client):
    status, table, dropdown = client.predict(api_name="/documents")
    assert table["data"] == [["seeds/gaza-stabilisation-force-pakistan.ar.txt", 5, table["data"][0][2]]]
    assert table["data"][0][2].endswith("UTC")
    assert [choice[0] for choice in dropdown["choices"]] == ["seeds/gaza-stabilisation-force-pakistan.ar.txt"]


def test_rebuild_keeps_the_documents_answerable(client):
    status, table, _ = client.predict(api_name="/rebuild")
    assert "Added 1" in status and len(table["data"]) == 1
    assert passages(last_answer(ask(client, "لماذا باكستان؟")))[0].startswith(PAKISTAN_PARAGRAPH)


def test_upload_over_the_size_limit_is_refused(client, tmp_path):
    from gradio_client import handle_file

    big = tmp_path / "big.txt"
    big.write_text("word " * int(LIMIT_MB * 2**20 / 4), encoding="utf-8")
    with pytest.raises(Exception, match="exceeds the maximum"):
        client.predict([handle_file(big)], api_name="/upload")


def test_accept_uploads_explains_what_it_refuses(tmp_path):
    from ui.app import accept_uploads

    files = {"ok.txt": "fine", "big.md": "x" * 2000, "tool.exe": "MZ"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    accepted, notes = accept_uploads([str(tmp_path / n) for n in files], tmp_path / "uploads", max_file_mb=0.001)
    assert accepted == [tmp_path / "uploads" / "ok.txt"] and accepted[0].read_text() == "fine"
    assert len(notes) == 2
    assert notes[0].startswith("big.md: too large") and "0.001 MB" in notes[0]
    assert notes[1].startswith("tool.exe: unsupported")


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
    assert status == strings.DOCS_NONE and table["data"] == []


def test_unexpected_failure_is_one_line_in_the_chat():
    from rag import strings
    from ui.app import make_chat

    class Broken:
        def stream(self, question, history):
            raise RuntimeError("disk on fire\nTraceback (most recent call last): ...")

    final = list(make_chat(Broken())("لماذا باكستان؟", [], []))[-1]
    messages, turns = final
    text = BeautifulSoup(messages[-1]["content"], "html.parser").get_text()
    assert text == strings.CHAT_FAILED["ar"].format(detail="RuntimeError")
    assert turns == []


# Serving ------------------------------------------------------------------------------------------
def test_other_addresses_need_a_login(monkeypatch, capsys):
    from ui.app import chat_auth, run_from_cli

    assert chat_auth("127.0.0.1", None) is None
    assert chat_auth("0.0.0.0", "ana:s3cret:x") == ("ana", "s3cret:x")
    with pytest.raises(ValueError, match="user:password"):
        chat_auth("0.0.0.0", "ana")
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
    assert soup.select_one(".sanad-source-name").get_text() == "[1] a&b.html · p. 3"
