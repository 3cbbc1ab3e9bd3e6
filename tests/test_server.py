"""Several Sanad instances sharing one real Chroma server (`chroma run`, from the installed chromadb),
started inside the test run on a free port."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rag import Sanad, load_settings
from rag.index_state import IndexLocked, IndexProblem
from rag.state import ServerLock, ServerState, StoreUnreachable

from conftest import ROOT

FACTS = {
    "penguins.txt": "Emperor penguins breed during the Antarctic winter and the males keep the eggs warm.",
    "tea.txt": "Green tea was first cultivated in China and reached Japan in the ninth century.",
}
MOON = "What is the capital of the moon colony Selene?"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "ChromaServer":
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        self.process = subprocess.Popen([chroma, "run", "--path", str(self.path), "--host", "127.0.0.1",
                                         "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("chroma run exited")
            time.sleep(0.1)
        raise RuntimeError("chroma run did not answer its heartbeat")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture()
def server(tmp_path):
    chroma = ChromaServer(tmp_path / "server-data").start()
    yield chroma
    chroma.stop()


def _docs(folder: Path, files: dict[str, str] = FACTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _rag(*args):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)


def _instance(tmp_path: Path, name: str, url: str) -> Sanad:
    """An instance with its own folder (its lexical cache) and nothing else in common with the others."""
    return Sanad(load_settings(index_dir=tmp_path / name, chroma_url=url))


def test_instances_share_one_index_through_the_server(tmp_path, server):
    folder = _docs(tmp_path / "docs")
    first = _rag("index", str(folder), "--chroma-url", server.url, "--index-dir", str(tmp_path / "one"))
    assert first.returncode == 0, first.stderr
    assert "added 2" in first.stdout
    assert not (tmp_path / "one" / "chroma").exists()  # the vectors live in the server

    asked = _rag("ask", "When do emperor penguins breed?", "--json", "--chroma-url", server.url,
                 "--index-dir", str(tmp_path / "two"))
    assert asked.returncode == 0, asked.stderr
    assert "Antarctic winter" in asked.stdout

    reader = _instance(tmp_path, "three", server.url)
    assert reader.ask(MOON).abstained
    assert "Antarctic winter" in reader.retrieve("When do emperor penguins breed?", retriever="bm25")[0].chunk.text

    (folder / "moon.txt").write_text("The capital of the moon colony Selene is Tranquility Base, founded in 2081.",
                                     encoding="utf-8")
    added = _rag("index", str(folder), "--chroma-url", server.url, "--index-dir", str(tmp_path / "four"))
    assert added.returncode == 0 and "added 1, updated 0, removed 0, unchanged 2" in added.stdout, added.stderr
    answer = reader.ask(MOON)  # the instance that was already running sees the new generation
    assert not answer.abstained and "Tranquility Base" in answer.text
    # BM25 too: this instance rebuilt its lexical index from the server's chunks.
    assert "Tranquility" in reader.retrieve("Selene Tranquility", retriever="bm25")[0].chunk.text


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path, server):
    folder = _docs(tmp_path / "docs")
    state = ServerState(server.url, None, tmp_path / "cache")
    with ServerLock(state) as lock:
        result = _rag("index", str(folder), "--chroma-url", server.url, "--index-dir", str(tmp_path / "other"))
        assert result.returncode == 2
        assert "being updated by" in result.stderr and lock.me in result.stderr
        with pytest.raises(IndexLocked):
            with ServerLock(state):
                pass
    assert _instance(tmp_path, "after", server.url).index([folder]).added  # released


def test_a_server_that_stops_gives_a_clear_error_not_a_hang(tmp_path, server):
    engine = _instance(tmp_path, "one", server.url)
    engine.index([_docs(tmp_path / "docs")])
    assert not engine.ask("When do emperor penguins breed?").abstained
    server.stop()
    with pytest.raises(StoreUnreachable, match="cannot reach the Chroma server at http://127.0.0.1"):
        engine.ask("When do emperor penguins breed?")
    result = _rag("ask", "When do emperor penguins breed?", "--chroma-url", server.url)
    assert result.returncode == 2 and "cannot reach the Chroma server" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_server_says_how_to_build_the_index(tmp_path, server):
    with pytest.raises(IndexProblem, match="rag index .*--chroma-url"):
        _instance(tmp_path, "one", server.url).ask("anything?")


def test_a_chat_upload_while_rag_index_runs_on_the_server_is_told_to_wait(tmp_path, server):
    """Issue 21, item 10, with the shared store: the lease, not a file lock, keeps the writers apart."""
    from test_lifecycle import upload_while_rag_index_runs

    _instance(tmp_path, "first", server.url).index([_docs(tmp_path / "docs", {**FACTS, "volcano.md": "# Etna\n\nEtna is active."})])
    chat = Sanad(load_settings(index_dir=tmp_path / "chat", chroma_url=server.url, uploads_dir=tmp_path / "uploads"))
    lease = ServerLock(ServerState(server.url, None, tmp_path / "probe"))

    def holds(pid: int) -> bool:
        holder = lease._holder()
        return bool(holder) and f" process {pid} " in holder[0]

    status, pid = upload_while_rag_index_runs(tmp_path, chat, ["--chroma-url", server.url, "--index-dir",
                                                               str(tmp_path / "cli")], holds)
    assert "being updated by" in status and f"process {pid} " in status
