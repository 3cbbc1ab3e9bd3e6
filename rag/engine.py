"""The facade every room uses: Sanad(settings).index(...), .ask(...), .stream(...)."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Iterator, Sequence

from . import strings
from .answer import ExtractiveAnswerer
from .embedders import Embedder, load_embedder
from .controls import strip_controls
from .followup import continues, retrieval_query
from .index_state import IndexBroken, IndexProblem, current_generation, load_manifest, state_dir
from .indexer import Progress, index_paths
from .lexical import LexicalIndex
from .retrieve import Retriever
from .settings import DEFAULT_EMBEDDER, Settings, load_settings
from .store import Committed, VectorStore, open_client
from .text import detect_language
from .types import Answer, DocInfo, Hit, IndexReport, Turn

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
MAX_QUESTION_CHARS = 2000  # a question, not a document: longer input is pasted text, not something to search for


class Sanad:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._embedder: Embedder | None = None
        self._generation: str | None = None
        self._retriever: Retriever | None = None
        self._manifest = None
        self._lock = threading.RLock()  # the chat serves several tabs from one engine

    # Indexing ------------------------------------------------------------------------------------
    def index(self, paths: Sequence[Path | str], rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        with self._lock:
            return index_paths(self.settings, self._writing_embedder(rebuild), [Path(p) for p in paths],
                               rebuild=rebuild, progress=progress)

    def remove(self, source: str) -> IndexReport:
        """Forget one document (by its source name); its file is left alone."""
        with self._lock:
            return index_paths(self.settings, self._writing_embedder(False), [], remove=[source])

    def rebuild(self, progress: Progress | None = None) -> IndexReport:
        """Rebuild from scratch from the files the index already knows, wherever it is run from."""
        paths = [doc["path"] for doc in self._current()[1].documents.values()]
        return self.index(paths, rebuild=True, progress=progress)

    def _writing_embedder(self, rebuild: bool) -> Embedder:
        name = self.settings.embedder
        if name is None:
            name = DEFAULT_EMBEDDER
            if not rebuild:
                try:
                    name = load_manifest(self.settings.index_dir)[1].embedder
                except IndexProblem:
                    pass  # a new or broken index: index_paths says what to do about a broken one
        return self._load_embedder(name)

    def _load_embedder(self, name: str) -> Embedder:
        if self._embedder is None or self._embedder.name != name:
            self._embedder = load_embedder(name, threads=self.settings.torch_threads)
        return self._embedder

    def documents(self) -> list[DocInfo]:
        manifest = self._current()[1]
        return sorted(
            (DocInfo(id=i, source=d["source"], chunks=len(d["chunks"]), indexed_at=d["indexed_at"], sha256=d["sha256"])
             for i, d in manifest.documents.items()),
            key=lambda d: d.source,
        )

    # Asking --------------------------------------------------------------------------------------
    def retrieve(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
                 retriever: str | None = None) -> list[Hit]:
        return self._retrieve(question, history, top_k, retriever)[0]

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
            retriever: str | None = None) -> Answer:
        return self.inspect(question, history, top_k, retriever)[0]

    def inspect(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
                retriever: str | None = None, depth: int = 10) -> tuple[Answer, list[Hit]]:
        """The answer and the ranked hits behind it (at least `depth` of them), for eval and debugging.
        The answer is built from the first top_k hits, exactly as ask() builds it."""
        question = strip_controls(question).strip()
        language = detect_language(question)
        if not re.search(r"\w", question):
            return Answer(question=question, language=language, text=strings.EMPTY_QUESTION[language], abstained=True), []
        if len(question) > MAX_QUESTION_CHARS:
            text = strings.QUESTION_TOO_LONG[language].format(n=len(question), limit=MAX_QUESTION_CHARS)
            return Answer(question=question[:MAX_QUESTION_CHARS], language=language, text=text, abstained=True), []
        top_k = top_k or self.settings.top_k
        hits, vector, engine = self._retrieve(question, history, max(top_k, depth), retriever)
        # Only a real continuation should say something new; a short question such as the same one
        # asked again in the other language should get the same answer.
        avoid = [a for turn in history[-1:] for a in _quoted(turn.answer)] if continues(question) else []
        answer = ExtractiveAnswerer(self.settings, engine.sentences).answer(question, hits[:top_k], vector, avoid=avoid)
        return answer, hits

    def stream(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Iterator[str | Answer]:
        """Yields the answer text as it grows, then the finished Answer."""
        answer = self.ask(question, history, top_k)
        words = re.split(r"(\s+)", answer.text)
        for end in range(2, len(words) + 2, 6):
            yield "".join(words[:end])
        yield answer

    def _retrieve(self, question: str, history: Sequence[Turn], top_k: int | None, retriever: str | None):
        query = retrieval_query(question, history)
        engine = self._current()[0]
        vector = engine.embedder.embed_queries([query])[0]
        hits = engine.search(query, top_k or self.settings.top_k, retriever or self.settings.retriever, vector)
        # Sentences are scored against the question itself; the borrowed context only steers retrieval.
        if query != question:
            vector = engine.embedder.embed_queries([question])[0]
        return hits, vector, engine

    def _current(self):
        """The committed index, reloaded when another process has committed a newer generation."""
        index_dir = self.settings.index_dir
        with self._lock:
            generation = current_generation(index_dir)
            if self._retriever is None or generation != self._generation:
                generation, manifest = load_manifest(index_dir)
                embedder = self._embedder_for_reading(manifest)
                try:
                    committed = Committed(frozenset(manifest.chunk_ids()), manifest.runs())
                    store = VectorStore(open_client(index_dir / "chroma", fresh=True), manifest.collection,
                                        committed=committed)
                    lexical = LexicalIndex.load(state_dir(index_dir) / generation)
                except Exception as err:  # Chroma and bm25s raise many kinds on damaged files
                    raise IndexBroken(strings.BROKEN_INDEX.format(path=index_dir, detail=err)) from err
                self._retriever = Retriever(self.settings, embedder, store, lexical)
                self._generation, self._manifest = generation, manifest
            return self._retriever, self._manifest

    def _embedder_for_reading(self, manifest) -> Embedder:
        asked = self.settings.embedder
        if asked is not None and asked != manifest.embedder:
            raise IndexProblem(strings.EMBEDDER_MISMATCH.format(
                path=self.settings.index_dir, built=manifest.embedder, dim=manifest.dim, asked=asked))
        embedder = self._load_embedder(manifest.embedder)
        if embedder.dim != manifest.dim:
            raise IndexProblem(strings.EMBEDDER_MISMATCH.format(
                path=self.settings.index_dir, built=manifest.embedder, dim=manifest.dim, asked=embedder.name))
        return embedder


def _quoted(answer_text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\s*\[\d+\]\s*", answer_text.split("\n", 1)[-1]) if part.strip()]
