"""Sanad against the baseline a user would write with plain llama-index, at growing library sizes.

    python -m bench.scale [XQUAD_DIR] [--sizes 1000,10000,100000] [--questions 200] [--cache DIR]
                          [--server-sync] [--threads N] [--out FILE]

For each size N it builds a library of N passages from real Arabic and English text: XQuAD's 480
parallel paragraphs (CC-BY-SA 4.0, read at run time) and the seed article first, then distractors of
three sentences, each two real sentences of one language joined by a comma (see _unit). Both systems
index the same files with the same embedder, each in a child process:

- Sanad: `Sanad.index` (passages, their sentences, BM25; Chroma on disk), embedding with the cores
  that are idle as `rag index` does (--threads to fix the number); its questions are asked by another
  process that opens the index, as `rag chat` does;
- baseline: `VectorStoreIndex` over a `ChromaVectorStore` with llama-index's default settings
  (SentenceSplitter, similarity_top_k 5, no LLM: retrieval is what both do without one).

Measured: indexing time, query latency p50/p95 in a warm process (retrieval, and Sanad's full
extractive answer), peak RSS (VmHWM) of the build, of the update and of answering, index size on
disk, the time of a one-document update, and hit@1 on the XQuAD questions (both languages) whose paragraphs are in the
library; --server-sync also times BM25 built from a real Chroma server at the largest size.

Vectors (see CachedEmbedder): real XQuAD and seed texts go through the model once and are kept in
--cache (by text hash, outside git); a distractor's vector is composed from its sentences' real
vectors, so 100k passages index in minutes. The table counts real, cached and composed vectors and
estimates each build's time with every text through the model.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

DEFAULT_XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad"
ROOT = Path(__file__).resolve().parents[1]
PER_FILE = 20  # paragraphs per document file
UNITS = 3  # sentences of a distractor paragraph, each two real sentences joined (see _unit)
UNIT_CHARS = 380  # under sentence_spans' 400: a joined sentence is never cut at a comma
_STOP = re.compile(r"[.!?؟…]+[\"'»”)\]]*$")


# The library -------------------------------------------------------------------------------------
def library(xquad: Path, size: int, folder: Path) -> tuple[list[dict], list[str]]:
    """Writes `size` paragraphs into files under folder; returns the questions whose paragraphs are in,
    and the real paragraphs (XQuAD's and the seed's: everything that is not a recombined distractor)."""
    from rag.text import sentence_spans

    paragraphs, questions = [], []
    for language in ("ar", "en"):
        data = json.loads((xquad / f"xquad.{language}.json").read_text(encoding="utf-8"))["data"]
        for article in data:
            for paragraph in article["paragraphs"]:
                context = " ".join(paragraph["context"].split())
                paragraphs.append(context)
                for qa in paragraph["qas"]:
                    questions.append({"question": qa["question"], "evidence": qa["answers"][0]["text"],
                                      "paragraph": len(paragraphs) - 1})
    seed = (ROOT / "seeds" / "gaza-stabilisation-force-pakistan.ar.txt").read_text(encoding="utf-8")
    paragraphs += [p for p in seed.split("\n") if len(p) > 200]
    real = list(paragraphs)
    rng = random.Random(size)
    sentences = {lang: [s for p in paragraphs if _lang(p) == lang for s in _sentences(p, sentence_spans)]
                 for lang in ("ar", "en")}
    while len(paragraphs) < size:
        language = rng.choice(("ar", "en"))
        units: list[str] = []
        while len(units) < UNITS:
            first, second = rng.sample(sentences[language], 2)
            if len(first) + len(second) < UNIT_CHARS:
                units.append(_unit(first, second, language))
        paragraphs.append(" ".join(units))
    paragraphs = paragraphs[:size]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for start in range(0, len(paragraphs), PER_FILE):
        (folder / f"doc{start // PER_FILE:05d}.txt").write_text("\n\n".join(paragraphs[start : start + PER_FILE]),
                                                                encoding="utf-8")
    return [q for q in questions if q["paragraph"] < size], real


def _unit(first: str, second: str, language: str) -> str:
    """Two sentences made one: the first loses its full stop and a comma joins them. A library of
    100,000 paragraphs drawn from XQuAD's 2,400 sentences would repeat each sentence 200 times; pairs
    repeat rarely, as sentences of a real library do (the sentence index keeps one row per distinct
    text in each query, and 200 copies of every sentence is not a library anyone has)."""
    return _STOP.sub("", first) + ("، " if language == "ar" else ", ") + second


def _lang(text: str) -> str:
    from rag.text import detect_language

    return detect_language(text)


def _sentences(paragraph: str, spans) -> list[str]:
    return [paragraph[s:e] for s, e in spans(paragraph) if e - s > 30]


# An embedder with a vector cache, composing distractors' vectors ------------------------------------
SAMPLE = 64  # cached or composed texts timed through the model, for the estimate of a build from nothing
PREFIX = 20  # characters that find a pool sentence (every one is longer than 30)
_HEADER = re.compile(r"\A(?:[a-z_]+: [^\n]*\n)+\n")  # llama-index's "file_path: ..." before a node's text


class CachedEmbedder:
    """The real embedder, with every vector it computes kept on disk by text hash (bench only).

    With `real` (the real paragraphs, joined), a text that is not part of them (a recombined
    distractor, or a baseline node that holds one) is not run through the model: its vector is the
    normalised mean of the real vectors of its sentences (cached, or embedded now). Distractors are
    sentences of real paragraphs shuffled, so this is what lets 100k chunks be indexed in minutes;
    measured on XQuAD, a passage vector composed this way ranks almost as its real one does
    (hybrid hit@1 ar->ar 0.936 -> 0.933). Counts: real (through the model now), cached, composed.
    """

    def __init__(self, inner, folder: Path | None, real: str | None = None) -> None:
        import hashlib

        import numpy as np

        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._np, self._hash = np, lambda t: hashlib.sha256(t.encode()).hexdigest()
        self.folder = folder
        self.real_text = real
        # The sentences distractors are made of, by their first characters: a piece of a distractor
        # that sentence_spans does not cut where its sentences meet (one ended without a full stop)
        # is composed from them too, instead of being embedded.
        self.pool: dict[str, list[str]] = {}
        if real is not None:
            from rag.text import sentence_spans

            for paragraph in real.split("\n\n"):
                for sentence in _sentences(paragraph, sentence_spans):
                    self.pool.setdefault(sentence[:PREFIX], []).append(sentence)
        self.vectors: dict[str, object] = {}
        self._centre, self._spread = None, 0.0  # of the pool sentences' real vectors (see compose)
        self.real = self.cached = self.composed = 0
        self.compose_s = 0.0  # spent composing (and embedding the odd piece for real) in place of the model
        self.sample: list[str] = []  # texts not through the model now, a uniform sample kept to time them
        self.skipped_chars = 0  # the length of all of them together (see model_seconds)
        self.threads = 1  # what the indexer asked for (Sanad: the free cores; the baseline never asks)
        self._rng = random.Random(0)
        if folder and (folder / "vectors.npy").exists():
            keys = json.loads((folder / "keys.json").read_text())
            self.vectors = dict(zip(keys, np.load(folder / "vectors.npy")))
        self._saved = len(self.vectors)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def using_threads(self, n: int):
        self.threads = n
        return self.inner.using_threads(n)

    def embed_passages(self, texts):
        np = self._np
        keys = [self._hash(t) for t in texts]
        out: list[object] = [None] * len(texts)
        todo, compose = [], []
        started = time.perf_counter()
        for i, (text, key) in enumerate(zip(texts, keys)):
            if key in self.vectors:
                out[i] = self.vectors[key]
                self.cached += 1
                self._keep(text)
            elif self.real_text is not None and _body(text) not in self.real_text:
                compose.append(i)
            else:
                todo.append(i)
        self.compose_s += time.perf_counter() - started
        if todo:
            for i, v in zip(todo, self.inner.embed_passages([texts[i] for i in todo])):
                self.vectors[keys[i]] = out[i] = v
            self.real += len(todo)
        started = time.perf_counter()
        for i in compose:
            out[i] = self.compose(_body(texts[i]))
            self.composed += 1
            self._keep(texts[i])
        self.compose_s += time.perf_counter() - started
        return np.stack(out)

    def compose(self, text: str):
        """The mean of the text's sentence vectors, moved out from the centre of the vector space to
        where real vectors lie. A plain mean lies nearer the centre (the sentences' own directions
        partly cancel), so it is nearer every question than a real vector is: measured on XQuAD's
        paragraphs and the baseline's nodes, the plain mean's similarity to the questions was 0.04
        above the real vectors', with the rescaling within 0.012; either way 0.95 cosine to the real vector."""
        np = self._np
        if self._centre is None:
            pool = [self.vectors[k] for k in (self._hash(s) for ss in self.pool.values() for s in ss) if k in self.vectors]
            matrix = np.stack(pool) if pool else np.zeros((1, self.dim), dtype=np.float32)
            self._centre = matrix.mean(axis=0)
            self._spread = float(np.linalg.norm(matrix - self._centre, axis=1).mean())
        mean = np.mean(self._sentence_vectors(text), axis=0)
        away = mean - self._centre
        distance = float(np.linalg.norm(away))
        vector = self._centre + away * (self._spread / distance) if distance > 0 else mean
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def _sentence_vectors(self, text: str) -> list:
        from rag.text import sentence_spans

        sentences = []
        for s, e in sentence_spans(text) or [(0, len(text))]:
            piece = text[s:e]
            parts = None if self._hash(piece) in self.vectors else self._pool_parts(piece)
            sentences.extend(parts or [piece])
        keys = [self._hash(t) for t in sentences]
        missing = sorted({k: t for k, t in zip(keys, sentences) if k not in self.vectors}.items())
        if missing:
            for (k, _), v in zip(missing, self.inner.embed_passages([t for _, t in missing])):
                self.vectors[k] = v
            self.real += len(missing)
        return [self.vectors[k] for k in keys]

    def _pool_parts(self, text: str) -> list[str] | None:
        """The pool sentences `text` is made of, one after another (a joined pair's first sentence
        without its full stop), or None when none is found. A fragment that starts no pool sentence
        (a baseline node that begins inside one) is passed over."""
        parts, pos = [], 0
        while pos < len(text):
            match, length = None, 0
            for sentence in self.pool.get(text[pos : pos + PREFIX], ()):
                for form in (sentence, _STOP.sub("", sentence)):
                    if len(form) > length and text.startswith(form, pos):
                        match, length = sentence, len(form)
            if match is None:
                following = text.find(" ", pos)
                pos = len(text) if following < 0 else following + 1
                continue
            parts.append(match)
            pos += length
            while pos < len(text) and (text[pos].isspace() or text[pos] in ",،"):
                pos += 1
        return parts or None

    def _keep(self, text: str) -> None:
        self.skipped_chars += len(text)
        seen = self.cached + self.composed
        if len(self.sample) < SAMPLE:
            self.sample.append(text)
        elif (slot := self._rng.randrange(seen)) < SAMPLE:
            self.sample[slot] = text

    def save(self) -> None:
        if self.folder and len(self.vectors) > self._saved:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._np.save(self.folder / "vectors.npy", self._np.stack(list(self.vectors.values())))
            (self.folder / "keys.json").write_text(json.dumps(list(self.vectors)))


def _body(text: str) -> str:
    return _HEADER.sub("", text, count=1)


# One build, in its own process -----------------------------------------------------------------------
def build(system: str, docs: Path, index_dir: Path, cache: Path | None, questions: list[dict],
          real: str | None, threads: int = 0) -> dict:
    """Index `docs` with one system; the baseline then answers its questions and takes a
    one-document update in the same process. Sanad's questions and update come from a process of
    its own (see answer()). Runs in a child process (see main)."""
    from rag.embedders import load_embedder

    embedder = CachedEmbedder(load_embedder("e5-small-q4"), cache, real)
    started = time.perf_counter()
    if system == "sanad":
        from rag import Sanad, load_settings

        engine = Sanad(load_settings(index_dir=index_dir, index_threads=threads))
        engine._embedder = embedder
        engine.index([docs])
        chunks = sum(d.chunks for d in engine.documents())
    else:
        engine, chunks = _baseline(docs, index_dir, embedder)
    seconds = time.perf_counter() - started
    embedder.save()
    result = {"index_s": round(seconds, 2), "chunks": chunks, "vectors_real": embedder.real,
              "vectors_cached": embedder.cached, "vectors_composed": embedder.composed, "threads": embedder.threads,
              "sample": embedder.sample, "skipped_chars": embedder.skipped_chars, "compose_s": embedder.compose_s,
              "disk_mb": round(_size(index_dir) / 1e6, 1), "peak_rss_build_mb": _peak_rss_mb()}
    if system == "baseline":
        result.update(_queries(system, engine, questions))
        result.update(_update(docs, lambda first: _baseline_update(engine, first, embedder)))
    return result


def model_seconds(embedder, rows: list[dict], repeats: int = 3) -> None:
    """Adds to each system's row the time its build would have taken with every text through the
    model: what it took, plus the model's time for the texts it did not embed (cached or composed)
    less the time composing took instead. Each system's sample is timed here, in a process that does
    nothing else, with the threads its build had and in the indexer's batches, the systems taking
    turns, `repeats` times, the fastest kept; then scaled by length. (Timed in each build's process
    right after its build, Sanad's estimate at 100k moved by 27 % between two runs: Chroma goes on
    writing its graphs in the background for a while after the last add.)"""
    from rag.indexer import EMBED_BATCH

    best = {id(r): float("inf") for r in rows}
    for _ in range(repeats):
        for r in rows:
            if not r["sample"]:
                continue
            with embedder.using_threads(r["threads"]):
                started = time.perf_counter()
                for start in range(0, len(r["sample"]), EMBED_BATCH):
                    embedder.embed_passages(r["sample"][start : start + EMBED_BATCH])
                best[id(r)] = min(best[id(r)], time.perf_counter() - started)
    for r in rows:
        sample = r.pop("sample")
        skipped = best[id(r)] * r["skipped_chars"] / sum(len(t) for t in sample) - r["compose_s"] if sample else 0.0
        r["index_all_real_s"] = round(r["index_s"] + skipped, 1)


def answer(docs: Path, index_dir: Path, questions: list[dict]) -> dict:
    """Sanad's questions, asked as `rag chat` asks them: a process that opens the index and answers
    (the indexing process also holds the writer's Chroma client, which a reader never has); then
    the one-document update, as the chat takes an upload."""
    from rag import Sanad, load_settings

    started = time.perf_counter()
    engine = Sanad(load_settings(index_dir=index_dir))
    engine.retrieve("warm-up")
    result = {"open_s": round(time.perf_counter() - started, 2)}
    result.update(_queries("sanad", engine, questions))
    result["peak_rss_answer_mb"] = _peak_rss_mb()
    result.update(_update(docs, lambda _: engine.index([docs])))
    found = engine.retrieve(ADDED)
    assert found and ADDED in found[0].chunk.text, "the update is not answered"
    return result


ADDED = "This paragraph was added to time an update."


def _update(docs: Path, update: Callable[[Path], object]) -> dict:
    """The first file gains a paragraph; `update` brings the index in line. Its time, and the
    process's peak RSS while it ran (what the process held before counts too)."""
    first = sorted(docs.glob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\n" + ADDED, encoding="utf-8")
    _reset_peak_rss()
    started = time.perf_counter()
    update(first)
    return {"update_s": round(time.perf_counter() - started, 2), "peak_rss_update_mb": _peak_rss_mb(),
            "updated_file": first.name}


def _baseline(docs: Path, index_dir: Path, embedder):
    """What the llama-index documentation has a user write: a reader, a Chroma-backed VectorStoreIndex."""
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.embedders import as_llama_embedding

    client = chromadb.PersistentClient(path=str(index_dir), settings=chromadb.Settings(anonymized_telemetry=False))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("baseline"))
    documents = SimpleDirectoryReader(str(docs), filename_as_id=True).load_data()
    index = VectorStoreIndex.from_documents(documents, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=as_llama_embedding(embedder))
    return index, store._collection.count()


def _baseline_update(index, path: Path, embedder) -> None:
    from llama_index.core import SimpleDirectoryReader

    for document in SimpleDirectoryReader(input_files=[str(path)], filename_as_id=True).load_data():
        index.delete_ref_doc(document.doc_id, delete_from_docstore=True)
        index.insert(document)


def _queries(system: str, engine, questions: list[dict]) -> dict:
    from rag.text import normalize

    retrieval, answer, hits1 = [], [], 0
    retriever = engine.as_retriever(similarity_top_k=5) if system == "baseline" else None
    for q in questions:
        started = time.perf_counter()
        if system == "sanad":
            texts = [h.chunk.text for h in engine.retrieve(q["question"])]
            retrieval.append(time.perf_counter() - started)
            started = time.perf_counter()
            engine.ask(q["question"])
            answer.append(time.perf_counter() - started)
        else:
            texts = [n.node.get_content() for n in retriever.retrieve(q["question"])]
            retrieval.append(time.perf_counter() - started)
        hits1 += bool(texts) and normalize(q["evidence"]) in normalize(texts[0])
    out = {"retrieval_p50_ms": _ms(retrieval, 50), "retrieval_p95_ms": _ms(retrieval, 95),
           "hit@1": round(hits1 / max(len(questions), 1), 3)}
    if answer:
        out.update({"answer_p50_ms": _ms(answer, 50), "answer_p95_ms": _ms(answer, 95)})
    return out


def server_sync(index_dir: Path, changed: str) -> dict:
    """What keeping BM25 in step costs an instance that shares a Chroma server: `chroma run` serves
    the Sanad index just built, and BM25 is built from it twice, as ServerState does: by an
    instance that has nothing yet (every text travels and is tokenised), and by one that has the
    generation before the last update (only the changed document's chunks travel)."""
    import httpx

    from rag.index_state import load_manifest
    from rag.lexical import LexicalIndex
    from rag.state import _connect, lexical_index
    from rag.store import VectorStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    server = subprocess.Popen([chroma, "run", "--path", str(index_dir / "chroma"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        _, manifest = load_manifest(index_dir)
        store = VectorStore(_connect(f"http://127.0.0.1:{port}", None, 120.0), manifest.collection)
        ids = sorted(manifest.chunk_ids())
        started = time.perf_counter()
        fresh = lexical_index(ids, store, {}, None)
        fresh_s = time.perf_counter() - started
        new = {c["id"] for d in manifest.documents.values() if d["path"].endswith(changed) for c in d["chunks"]}
        before = LexicalIndex.build([i for i in ids if i not in new], lambda _: {}, fresh)
        started = time.perf_counter()
        synced = lexical_index(ids, store, {}, before)
        update_s = time.perf_counter() - started
        assert synced.search(ADDED, 3).ids == fresh.search(ADDED, 3).ids
        return {"chunks": len(ids), "bm25_fresh_instance_s": round(fresh_s, 1),
                "bm25_after_update_s": round(update_s, 2), "update_chunks": len(new)}
    finally:
        server.terminate()
        server.wait()


def _ms(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    return round(1000 * statistics.quantiles(values, n=100)[pct - 1] if len(values) > 1 else 1000 * values[0], 1)


def _peak_rss_mb() -> int:
    """This process's own peak (VmHWM): ru_maxrss would also count pages of the parent's fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def _reset_peak_rss() -> None:
    """From here on VmHWM counts from what is resident now (Linux >= 4.0): the update's own peak,
    not the build's before it."""
    Path("/proc/self/clear_refs").write_text("5")


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _child(args) -> int:
    questions = json.loads(Path(args.child_questions).read_text(encoding="utf-8"))
    if args.child == "answer":
        print(json.dumps(answer(Path(args.child_docs), Path(args.child_index), questions)))
        return 0
    real = Path(args.child_real).read_text(encoding="utf-8") if args.child_real else None
    result = build(args.child, Path(args.child_docs), Path(args.child_index), args.cache, questions, real, args.threads)
    print(json.dumps(result))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xquad", nargs="?", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--questions", type=int, default=200, help="XQuAD questions asked at each size")
    parser.add_argument("--cache", type=Path, help="vector cache folder (outside git), reused across sizes and runs")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--systems", default="baseline,sanad")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "sanad-bench-scale",
                        help="where libraries and indexes are built (emptied first); the baseline embeds each "
                             "file's path, so a fixed folder keeps its cached vectors valid across runs")
    parser.add_argument("--real-only", action="store_true",
                        help="embed every text for real (no composed vectors): hours beyond 1,000 chunks")
    parser.add_argument("--server-sync", action="store_true",
                        help="at the largest size, also time BM25's sync from a Chroma server (chroma run)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads Sanad embeds with (default 0: the idle cores, as `rag index`); the baseline has one")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-docs", help=argparse.SUPPRESS)
    parser.add_argument("--child-index", help=argparse.SUPPRESS)
    parser.add_argument("--child-questions", help=argparse.SUPPRESS)
    parser.add_argument("--child-real", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)
    from rag.embedders import load_embedder

    probe = load_embedder("e5-small-q4")
    sample = ["هذه جملة عربية قصيرة لقياس سرعة النموذج على نص واحد في كل مرة."] * 32
    started = time.perf_counter()
    probe.embed_passages(sample)
    bound = len(sample) / (time.perf_counter() - started)  # texts/s, one sentence at a time on one thread

    rows = []
    work = args.work
    for size in (int(s) for s in args.sizes.split(",")):
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        questions, real = library(args.xquad, size, work / "library")
        rng = random.Random(0)
        asked = rng.sample(questions, min(args.questions, len(questions)))
        qfile, rfile = work / "questions.json", work / "real.txt"
        qfile.write_text(json.dumps(asked, ensure_ascii=False), encoding="utf-8")
        rfile.write_text("\n\n".join(real), encoding="utf-8")
        row = {"size": size, "questions": len(asked)}
        for system in args.systems.split(","):
            docs = work / system / "docs"  # the same path at every size (see --work)
            shutil.copytree(work / "library", docs)
            command = [sys.executable, "-m", "bench.scale", "--child", system, "--child-docs", str(docs),
                       "--child-index", str(work / system / "index"), "--child-questions", str(qfile)]
            if not args.real_only:
                command += ["--child-real", str(rfile)]
            if args.cache:
                command += ["--cache", str(args.cache)]
            command += ["--threads", str(args.threads)]
            out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"{system} at {size} failed:\n{out.stderr[-3000:]}")
            row[system] = json.loads(out.stdout.strip().splitlines()[-1])
            if system == "sanad":
                out = subprocess.run(command[:4] + ["answer"] + command[5:], cwd=ROOT, capture_output=True, text=True)
                if out.returncode:
                    raise SystemExit(f"answering at {size} failed:\n{out.stderr[-3000:]}")
                row[system].update(json.loads(out.stdout.strip().splitlines()[-1]))
        systems = [system for system in args.systems.split(",") if system in row]
        model_seconds(probe, [row[system] for system in systems])
        for system in systems:
            print(size, system, row[system], flush=True)
        if args.server_sync and size == max(int(s) for s in args.sizes.split(",")) and "sanad" in row:
            row["server_sync"] = server_sync(work / "sanad" / "index", row["sanad"]["updated_file"])
            print(size, "server sync", row["server_sync"], flush=True)
        rows.append(row)
    table = _table(rows, bound)
    print(table)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores, {platform.machine()}",
              "single_text_bound_texts_per_s": round(bound, 1), "rows": rows, "table": table}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


def _table(rows: list[dict], bound: float) -> str:
    lines = ["| chunks | system | index s | index s, all through the model (est.) | embedding threads | "
             "vectors real / cached / composed | chunks/s | retrieval p50/p95 ms | answer p50/p95 ms | "
             "peak RSS MB, build / update / answering | disk MB | update s | hit@1 |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        for system in ("baseline", "sanad"):
            if system not in row:
                continue
            r = row[system]
            lines.append(
                f"| {row['size']} | {system} | {r['index_s']} | {r['index_all_real_s']} | {r['threads']} | "
                f"{r['vectors_real']} / {r['vectors_cached']} / "
                f"{r['vectors_composed']} | {r['chunks'] / r['index_s']:.1f} | "
                f"{r['retrieval_p50_ms']}/{r['retrieval_p95_ms']} | "
                f"{r.get('answer_p50_ms', '–')}/{r.get('answer_p95_ms', '–')} | {r['peak_rss_build_mb']} / "
                f"{r['peak_rss_update_mb']} / {r.get('peak_rss_answer_mb', '–')} | {r['disk_mb']} | "
                f"{r['update_s']} | {r['hit@1']} |")
        if "sanad" in row and "baseline" in row:
            s, b = row["sanad"], row["baseline"]
            lines.append(f"| {row['size']} | **ratio** | {s['index_s'] / b['index_s']:.2f} | "
                         f"{s['index_all_real_s'] / b['index_all_real_s']:.2f} | | | | "
                         f"{s['retrieval_p50_ms'] / max(b['retrieval_p50_ms'], 0.1):.2f} | | "
                         f"{s['peak_rss_build_mb'] / b['peak_rss_build_mb']:.2f} | {s['disk_mb'] / max(b['disk_mb'], 0.1):.2f} | "
                         f"{s['update_s'] / max(b['update_s'], 0.01):.2f} | {s['hit@1'] - b['hit@1']:+.3f} |")
    for row in rows:
        if "server_sync" in row:
            sync = row["server_sync"]
            lines.append(f"\nBM25 from a Chroma server at {sync['chunks']} chunks: {sync['bm25_fresh_instance_s']} s for an "
                         f"instance that has nothing yet, {sync['bm25_after_update_s']} s for one that has the previous "
                         f"generation (a one-document update: {sync['update_chunks']} new chunks).")
    lines.append(f"\nCompute bound: {bound:.1f} texts/s (one short Arabic sentence at a time, one thread).")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
