"""Index lifecycle: incremental runs, bad files beside good ones, crashes, damage, locks and live readers."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import Sanad, load_settings
from rag.index_state import IndexBroken, IndexLocked, WriteLock, current_generation, load_manifest, state_dir
from rag.lexical import LexicalIndex
from rag.store import Committed, VectorStore, open_client

from conftest import ROOT

FACTS = {
    "penguins.txt": "Emperor penguins breed during the Antarctic winter and the males keep the eggs warm.",
    "volcano.md": "# Etna\n\nMount Etna on Sicily is one of the most active volcanoes in the world.",
    "tea.txt": "Green tea was first cultivated in China and reached Japan in the ninth century.",
}


def _engine(index_dir: Path) -> Sanad:
    return Sanad(load_settings(index_dir=index_dir))


def _docs(tmp_path: Path, files: dict[str, str] = FACTS) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _consistent(index_dir: Path) -> set[str]:
    """Chroma, the lexical index and the manifest agree; returns the live chunk ids."""
    generation, manifest = load_manifest(index_dir)
    live = manifest.chunk_ids()
    store = VectorStore(open_client(index_dir / "chroma"), manifest.collection)
    assert set(store.get(sorted(live))) == live
    assert set(store.sentence_counts(sorted(live))) == live
    assert set(LexicalIndex.load(state_dir(index_dir) / generation).ids) == live
    return live


def test_incremental_runs_embed_only_what_changed(tmp_path):
    folder = _docs(tmp_path)
    engine = _engine(tmp_path / "index")
    first = engine.index([folder])
    assert len(first.added) == 3 and first.chunks_embedded > 0
    generation = current_generation(tmp_path / "index")

    again = engine.index([folder])
    assert len(again.unchanged) == 3 and again.chunks_embedded == 0 and not again.added
    assert current_generation(tmp_path / "index") == generation  # a no-op commits nothing

    (folder / "tea.txt").write_text("Black tea is oxidised longer than green tea, which gives it a stronger taste.",
                                    encoding="utf-8")
    changed = engine.index([folder])
    assert [Path(s).name for s in changed.updated] == ["tea.txt"] and len(changed.unchanged) == 2
    assert 0 < changed.chunks_embedded < first.chunks_embedded
    assert "oxidised" in engine.retrieve("Why is black tea stronger?")[0].chunk.text
    assert not any("ninth century" in h.chunk.text for h in engine.retrieve("When did tea reach Japan?", top_k=10))

    (folder / "volcano.md").unlink()
    removed = engine.index([folder])
    assert [Path(s).name for s in removed.removed] == ["volcano.md"]
    assert not any("Etna" in h.chunk.text for h in engine.retrieve("Which volcano is on Sicily?", top_k=10))
    assert len(_consistent(tmp_path / "index")) == 2


def test_a_commit_tokenises_only_the_chunks_that_changed(tmp_path, monkeypatch):
    """BM25 is not rebuilt from every chunk at each commit: the terms of the chunks it had are reused."""
    folder = _docs(tmp_path)
    engine = _engine(tmp_path / "index")
    engine.index([folder])
    asked: list[str] = []
    build = LexicalIndex.build.__func__

    def recording(cls, ids, texts_of, previous=None, **kwargs):
        def texts(missing):
            asked.extend(missing)
            return texts_of(missing)
        return build(cls, ids, texts, previous, **kwargs)

    monkeypatch.setattr(LexicalIndex, "build", classmethod(recording))
    (folder / "tea.txt").write_text("Black tea is oxidised longer than green tea.", encoding="utf-8")
    engine.index([folder])
    tea = next(d for d in load_manifest(tmp_path / "index")[1].documents.values() if d["path"].endswith("tea.txt"))
    assert sorted(asked) == sorted(c["id"] for c in tea["chunks"])
    assert "oxidised" in engine.retrieve("Which tea is oxidised longer?", retriever="bm25")[0].chunk.text
    assert len(_consistent(tmp_path / "index")) == 3


def test_sentences_are_read_by_id_as_the_manifest_places_them_or_by_chunk_without_it(tmp_path):
    """The manifest keeps where each chunk's sentences start, so readers fetch their rows by id; an
    entry written before it was kept is read through the chunk_id filter, with the same rows."""
    engine = _engine(tmp_path / "index")
    engine.index([_docs(tmp_path)])
    _, manifest = load_manifest(tmp_path / "index")
    ids = sorted(manifest.chunk_ids())
    starts = manifest.sentence_starts()
    assert set(starts) == set(ids) and all(starts[i] for i in ids)
    client = open_client(tmp_path / "index" / "chroma")
    by_id = VectorStore(client, manifest.collection, committed=Committed(frozenset(ids), manifest.runs(), starts))
    by_chunk = VectorStore(client, manifest.collection, committed=Committed(frozenset(ids), manifest.runs()))
    rows = sorted((s.chunk_id, s.start, s.end, v.tolist()) for s, v in by_id.sentences_of(ids))
    assert rows == sorted((s.chunk_id, s.start, s.end, v.tolist()) for s, v in by_chunk.sentences_of(ids))
    assert len(rows) == manifest.sentence_count()
    assert sorted((c, v.tolist()) for c, v in by_id.sentence_vectors(ids)) == sorted((r[0], r[3]) for r in rows)


def test_identical_content_under_two_names_is_embedded_once(tmp_path):
    folder = _docs(tmp_path, {"a.txt": FACTS["penguins.txt"]})
    engine = _engine(tmp_path / "index")
    one = engine.index([folder]).chunks_embedded
    (folder / "copy-of-a.txt").write_text(FACTS["penguins.txt"], encoding="utf-8")
    report = engine.index([folder])
    assert report.added and report.chunks_embedded == 0 and one > 0
    assert {d.source.split("/")[-1] for d in engine.documents()} == {"a.txt", "copy-of-a.txt"}


def test_documents_from_other_folders_are_left_alone(tmp_path):
    engine = _engine(tmp_path / "index")
    engine.index([_docs(tmp_path)])
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("The library opens at nine on Saturdays.", encoding="utf-8")
    report = engine.index([other])
    assert len(report.added) == 1 and not report.removed
    assert len(engine.documents()) == 4
    engine.remove(engine.documents()[0].source)
    assert len(engine.documents()) == 3


def test_a_file_that_turns_bad_keeps_its_indexed_version(tmp_path):
    folder = _docs(tmp_path)
    engine = _engine(tmp_path / "index")
    engine.index([folder])
    (folder / "penguins.txt").write_bytes(bytes(range(256)) * 10)
    (folder / "empty.txt").write_bytes(b"")
    report = engine.index([folder])
    reasons = {Path(f.source).name: f.reason for f in report.failed}
    assert reasons == {"penguins.txt": "binary data, not text", "empty.txt": "empty file"}
    assert "Antarctic winter" in engine.retrieve("When do emperor penguins breed?")[0].chunk.text


def _rag(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=ROOT, **kwargs)


def test_cli_exit_status_and_summary(tmp_path):
    folder = _docs(tmp_path)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    result = _rag("index", str(folder), "--index-dir", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    assert "added 3, updated 0, removed 0, unchanged 0, failed 1" in result.stdout
    assert "broken.pdf: damaged or truncated PDF" in result.stderr

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    result = _rag("index", str(bad), "--index-dir", str(tmp_path / "index2"))
    assert result.returncode == 1 and "empty.txt: empty file" in result.stderr and "nothing could be indexed" in result.stderr
    assert current_generation(tmp_path / "index2") is None


def _corpus(folder: Path, n_docs: int) -> None:
    rng = random.Random(7)
    words = ("river market engine harvest signal winter copper lantern orbit meadow archive falcon harbor "
             "pepper quartz saddle timber violet walnut canyon").split()
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(n_docs):
        paragraphs = []
        for p in range(3):
            sentences = [" ".join(rng.choice(words) for _ in range(12)).capitalize() + f" item {d}-{p}-{s}."
                         for s in range(4)]
            paragraphs.append(" ".join(sentences))
        (folder / f"doc{d:02d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def test_killing_the_indexer_leaves_the_old_index_usable(tmp_path):
    index_dir = tmp_path / "index"
    folder = _docs(tmp_path)
    engine = _engine(index_dir)
    engine.index([folder])
    before = _consistent(index_dir)
    _corpus(folder, 20)

    for delay in (1.0, 2.5, 4.0):
        process = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(folder), "--index-dir", str(index_dir)],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        if process.poll() is not None:
            break  # finished before the kill: nothing left to interrupt
        process.send_signal(signal.SIGKILL)
        process.wait()
        live = _consistent(index_dir)
        assert live == before or len(live) > len(before)  # the old generation, or a complete new one
        fresh = _engine(index_dir)
        assert "Antarctic winter" in fresh.retrieve("When do emperor penguins breed?")[0].chunk.text

    result = _rag("index", str(folder), "--index-dir", str(index_dir))
    assert result.returncode == 0, result.stderr
    manifest = load_manifest(index_dir)[1]
    assert len(manifest.documents) == 23
    _consistent(index_dir)
    again = _rag("index", str(folder), "--index-dir", str(index_dir))
    assert "unchanged 23" in again.stdout


def test_damaged_or_foreign_index_says_to_rebuild(tmp_path):
    index_dir = tmp_path / "index"
    folder = _docs(tmp_path)
    _engine(index_dir).index([folder])
    generation = current_generation(index_dir)
    (state_dir(index_dir) / generation / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexBroken, match="rag index --rebuild"):
        _engine(index_dir).ask("When do emperor penguins breed?")
    result = _rag("ask", "When do penguins breed?", "--index-dir", str(index_dir))
    assert result.returncode == 2 and "rag index --rebuild" in result.stderr
    result = _rag("index", str(folder), "--index-dir", str(index_dir))
    assert result.returncode == 2 and "rag index --rebuild" in result.stderr
    result = _rag("index", str(folder), "--rebuild", "--index-dir", str(index_dir))
    assert result.returncode == 0 and "added 3" in result.stdout
    assert "Antarctic" in _engine(index_dir).retrieve("When do emperor penguins breed?")[0].chunk.text

    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(IndexBroken, match="not made by Sanad"):
        _engine(foreign).ask("anything?")


def test_second_writer_is_told_who_holds_the_lock(tmp_path):
    index_dir = tmp_path / "index"
    folder = _docs(tmp_path)
    with WriteLock(index_dir):
        result = _rag("index", str(folder), "--index-dir", str(index_dir))
        assert result.returncode == 2
        assert f"being updated by process {os.getpid()}" in result.stderr
        with pytest.raises(IndexLocked):
            with WriteLock(index_dir):
                pass
    # A holder that died leaves its pid in the file but no lock: the next writer proceeds.
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time; from pathlib import Path; from rag.index_state import WriteLock\n"
                               f"lock = WriteLock(Path({str(index_dir)!r})).__enter__(); print('held', flush=True); time.sleep(60)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (index_dir / ".lock").read_text().strip() == str(holder.pid)
    assert _engine(index_dir).index([folder]).added


def test_a_running_reader_sees_documents_indexed_by_another_process(tmp_path):
    index_dir = tmp_path / "index"
    folder = _docs(tmp_path)
    reader = _engine(index_dir)
    reader.index([folder])
    assert reader.ask("What is the capital of the moon colony Selene?").abstained

    (folder / "moon.txt").write_text("The capital of the moon colony Selene is Tranquility Base, founded in 2081.",
                                     encoding="utf-8")
    result = _rag("index", str(folder), "--index-dir", str(index_dir))
    assert result.returncode == 0 and "added 1" in result.stdout
    answer = reader.ask("What is the capital of the moon colony Selene?")
    assert not answer.abstained and "Tranquility Base" in answer.text


def test_the_same_files_by_another_path_are_the_same_documents(tmp_path, monkeypatch):
    folder = _docs(tmp_path)
    engine = _engine(tmp_path / "index")
    monkeypatch.chdir(tmp_path)
    assert len(engine.index([Path("docs")]).added) == 3
    assert {d.source for d in engine.documents()} == {"docs/penguins.txt", "docs/tea.txt", "docs/volcano.md"}
    again = engine.index([folder])
    assert len(again.unchanged) == 3 and not again.added and not again.removed
    monkeypatch.chdir(ROOT)  # rebuild finds the files wherever it is run from
    assert len(engine.rebuild().added) == 3


BUSY = 10  # documents for `rag index` to be busy with


def upload_while_rag_index_runs(tmp_path: Path, chat: Sanad, cli_args: list[str], holds_the_index) -> tuple[str, int]:
    """Two writers at once, as they meet in use: `rag index` busy with a folder, and the chat's own
    upload handler (ui.app) taking a file meanwhile. Returns the upload's status once the run holds the
    index, and the run's pid; `holds_the_index(pid)` says whether process pid does. Afterwards both writes are whole."""
    from ui.app import _upload_handler

    folder = tmp_path / "busy"
    _corpus(folder, BUSY)
    moon = tmp_path / "incoming" / "moon.txt"
    moon.parent.mkdir()
    moon.write_text("The capital of the moon colony Selene is Tranquility Base, founded in 2081.", encoding="utf-8")
    upload = _upload_handler(chat)
    run = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(folder), *cli_args], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not holds_the_index(run.pid):
            assert run.poll() is None, run.communicate()
            time.sleep(0.05)
        status = upload([str(moon)])[0]
        assert run.poll() is None, "the run finished before the upload: the two writers never met"
        out, err = run.communicate(timeout=600)
    finally:
        run.kill()
    assert run.returncode == 0 and f"added {BUSY}" in out, err
    assert not (chat.settings.uploads_dir / "moon.txt").exists()  # the refused upload left nothing
    assert "Tranquility" not in chat.ask("What is the capital of the moon colony Selene?").text
    again = upload([str(moon)])[0]  # the index is free again: the same upload goes in
    assert "Added 1" in again, again
    answer = chat.ask("What is the capital of the moon colony Selene?")
    assert not answer.abstained and "Tranquility Base" in answer.text
    assert len(chat.documents()) == 3 + BUSY + 1
    return status, run.pid


def test_a_chat_upload_while_rag_index_runs_is_told_to_wait_and_loses_nothing(tmp_path):
    index_dir = tmp_path / "index"
    _engine(index_dir).index([_docs(tmp_path)])
    chat = Sanad(load_settings(index_dir=index_dir, uploads_dir=tmp_path / "uploads"))
    lock = index_dir / ".lock"
    status, pid = upload_while_rag_index_runs(tmp_path, chat, ["--index-dir", str(index_dir)],
                                              lambda pid: lock.is_file() and lock.read_text().strip() == str(pid))
    assert f"being updated by process {pid}" in status
    _consistent(index_dir)
