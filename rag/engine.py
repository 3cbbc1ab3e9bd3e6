"""The facade every room uses: Sanad(settings).index(...), .ask(...), .stream(...)."""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from . import calibration as probes
from . import prompts, strings
from .answer import Answerer, ExtractiveAnswerer
from .llm_answer import LLMAnswerer
from .embedders import Embedder, load_embedder
from .controls import strip_controls
from .followup import retrieval_query, wants_new
from .index_state import IndexBroken, IndexProblem, state_dir
from .indexer import Progress, index_paths
from .llm import ChatModel, LLMError, parse_llm
from .read import ReadError, load_bytes, parse_document
from .retrieve import Retriever
from .settings import DEFAULT_EMBEDDER, Settings, load_settings
from .state import State, open_state, unreachable
from .store import Committed, VectorStore
from .text import detect_language
from .translate import JUNK, LIST_ITEM, OTHER, Translator, better
from .types import Answer, DocInfo, Document, Hit, IndexReport, Turn

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
MAX_QUESTION_CHARS = 2000  # a question, not a document: longer input is pasted text, not something to search for
REWRITE_TURNS = 3  # earlier turns shown to the model when it rewrites a follow-up
REWRITE_MAX_TOKENS = 96
LANGUAGE_SAMPLE = 300


class Sanad:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._embedder: Embedder | None = None
        self._generation: str | None = None
        self._retriever: Retriever | None = None
        self._manifest = None
        self._lock = threading.RLock()  # the chat serves several tabs from one engine
        self._shown: dict[tuple[str, str], Document] = {}  # document() keeps the last few: a long PDF reads in seconds
        self._state: tuple[tuple, State] | None = None
        self._models: dict[str, ChatModel] = {}
        self._translators: dict[str, Translator] = {}  # per model: each keeps its own cache
        self._languages: tuple[str | None, frozenset[str]] | None = None  # (generation, languages)
        self._calibration: tuple[str | None, probes.Calibration] | None = None  # (generation, calibration)
        self._model(None)  # an unknown --llm, or one missing its server address, fails here, at start

    @property
    def state(self) -> State:
        """Where the committed index lives, on disk or in a Chroma server, as the settings say now."""
        key = (self.settings.index_dir, self.settings.chroma_url)
        if self._state is None or self._state[0] != key:
            self._state = (key, open_state(self.settings))
        return self._state[1]

    # Indexing ------------------------------------------------------------------------------------
    def index(self, paths: Sequence[Path | str], rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        with self._lock:
            report = index_paths(self.settings, self._writing_embedder(rebuild), [Path(p) for p in paths],
                                 rebuild=rebuild, progress=progress)
            self._calibrate(report)
            return report

    def remove(self, source: str) -> IndexReport:
        """Forget one document (by its source name); its file is left alone."""
        with self._lock:
            report = index_paths(self.settings, self._writing_embedder(False), [], remove=[source])
            self._calibrate(report)
            return report

    def _calibrate(self, report: IndexReport) -> None:
        """With an LLM configured, measure the new generation against the off-topic probes now, while
        indexing, rather than at the first question (the LLM answerer is what uses it)."""
        if parse_llm(self.settings.llm) is not None and (report.added or report.updated or report.removed):
            try:
                self.calibration()
            except IndexProblem:
                pass  # nothing committed: the next question says so

    def calibration(self) -> probes.Calibration:
        """How off-topic probe questions score in this library (rag/calibration.py): measured once per
        index generation and kept in its state folder, so a restart reads it back."""
        engine, manifest = self._current()
        with self._lock:
            if self._calibration is not None and self._calibration[0] == self._generation:
                return self._calibration[1]
            folder = state_dir(self.settings.index_dir) / self._generation
            found = probes.load(folder, manifest.embedder)
            if found is None:
                answerer = ExtractiveAnswerer(self.settings, engine.sentences)
                found = probes.measure(lambda q, v: engine.search(q, self.settings.top_k, self.settings.retriever, v),
                                       answerer.decision, engine.embedder.embed_queries, manifest.embedder)
                try:
                    probes.save(folder, found)
                except OSError:
                    pass  # a read-only index folder: measured again by the next process
            self._calibration = (self._generation, found)
            return found

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
                    name = self.state.load()[1].embedder
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
            (DocInfo(id=i, source=d["source"], chunks=len(d["chunks"]), indexed_at=d["indexed_at"], sha256=d["sha256"],
                     path=d["path"])
             for i, d in manifest.documents.items()),
            key=lambda d: d.source,
        )

    def document(self, source: str) -> Document:
        """An indexed document's text, read again from its file (the index keeps vectors, not text), for
        showing a citation in place. Citation offsets hold only for the text that was indexed, so a file
        that changed or vanished since, or now reads differently, is a ReadError that says so."""
        entry = next((d for d in self._current()[1].documents.values() if d["source"] == source), None)
        if entry is None:
            raise ReadError(source, strings.REASON_NOT_INDEXED)
        path = Path(entry["path"])
        if not path.exists():
            raise ReadError(source, strings.REASON_GONE_SINCE_INDEXING)
        data = load_bytes(path, source, int(self.settings.max_file_mb * 1_000_000))
        if hashlib.sha256(data).hexdigest() != entry["file_sha256"]:
            raise ReadError(source, strings.REASON_CHANGED_SINCE_INDEXING)
        key = (source, entry["file_sha256"])
        document = self._shown.get(key) or parse_document(data, path, source)
        if document.sha256 != entry["sha256"]:
            raise ReadError(source, strings.REASON_READ_DIFFERENTLY)
        self._shown = {k: v for k, v in [*self._shown.items(), (key, document)][-4:]}
        return document

    # Asking --------------------------------------------------------------------------------------
    def retrieve(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
                 retriever: str | None = None) -> list[Hit]:
        return self._retrieve(question, history, top_k, retriever)[0]

    def search(self, question: str, top_k: int | None = None, retriever: str | None = None,
               llm: str | None = None) -> tuple[list[Hit], str | None]:
        """The hits an answer to a standalone question is built from, and the translated question when
        they came from it: with an LLM, a question over a library in the other language is also
        searched as the model translated it."""
        top_k = top_k or self.settings.top_k
        hits, vector, _ = self._retrieve(question, (), top_k, retriever)
        model = self._model(llm)
        if model is None or not self.settings.translate_queries:
            return hits, None
        return self._translated(question, hits, vector, model, top_k, top_k, retriever)

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
            retriever: str | None = None, llm: str | None = None) -> Answer:
        return self.inspect(question, history, top_k, retriever, llm=llm)[0]

    def inspect(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
                retriever: str | None = None, depth: int = 10, llm: str | None = None) -> tuple[Answer, list[Hit]]:
        """The answer and the ranked hits behind it (at least `depth` of them), for eval and debugging.
        The answer is built from the first top_k hits, exactly as ask() builds it."""
        *_, (answer, hits) = self._answering(question, history, top_k, retriever, depth, llm)
        return answer, hits

    def stream(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
               llm: str | None = None) -> Iterator[str | Answer]:
        """Yields the answer text as it grows, then the finished Answer. With an LLM, the text grows
        as the model writes it, one checked sentence at a time (rag/verify.py).

        `llm`: "extractive", or the configured LLM's name (see answerers()); None: settings.llm."""
        for part in self._answering(question, history, top_k, None, 10, llm):
            yield part if isinstance(part, str) else part[0]

    def answerers(self) -> tuple[str, ...]:
        """The answerers a chat can switch between: "extractive", then the configured LLM if any."""
        return ("extractive",) if parse_llm(self.settings.llm) is None else ("extractive", self.settings.llm)

    def _answering(self, question: str, history: Sequence[Turn], top_k: int | None, retriever: str | None,
                   depth: int, llm: str | None) -> Iterator[str | tuple[Answer, list[Hit]]]:
        """Text snapshots as the answer grows, then (Answer, hits): what ask, inspect and stream share."""
        deadline = time.monotonic() + self.settings.llm_total_timeout  # for everything the LLM does for this question
        question = strip_controls(question).strip()
        language = detect_language(question)
        if not re.search(r"\w", question):
            yield Answer(question=question, language=language, text=strings.EMPTY_QUESTION[language], abstained=True), []
            return
        if len(question) > MAX_QUESTION_CHARS:
            text = strings.QUESTION_TOO_LONG[language].format(n=len(question), limit=MAX_QUESTION_CHARS)
            yield Answer(question=question[:MAX_QUESTION_CHARS], language=language, text=text, abstained=True), []
            return
        top_k = top_k or self.settings.top_k
        model = self._model(llm)
        # With an LLM, a follow-up is first rewritten to stand alone; retrieval then needs no history.
        standalone = self._standalone(question, history, model) if model is not None and history else None
        if standalone is not None:
            hits, vector, engine = self._retrieve(standalone, (), max(top_k, depth), retriever)
        else:
            hits, vector, engine = self._retrieve(question, history, max(top_k, depth), retriever)
        translation = None
        if model is not None and self.settings.translate_queries:
            hits, translation = self._translated(standalone or question, hits, vector, model, top_k, depth, retriever)
        # Only a real continuation should say something new; a short question such as the same one
        # asked again in the other language should get the same answer.
        avoid = [a for turn in history[-1:] for a in _quoted(turn.answer)] if wants_new(question) else []
        answerer: Answerer = ExtractiveAnswerer(self.settings, engine.sentences)
        if model is not None:
            answerer = LLMAnswerer(self.settings, model, engine.sentences, engine.embedder.embed_queries, answerer,
                                   deadline, calibration=self.calibration())
        for part in answerer.stream(standalone or question, hits[:top_k], vector, avoid=avoid):
            yield part if isinstance(part, str) else (replace(part, question=question, translation=translation), hits)

    def _model(self, llm: str | None) -> ChatModel | None:
        """The LLM to answer with (None: extractive); built once per name, as building validates it."""
        choice = parse_llm(self.settings.llm if llm is None else llm)
        if choice is None:
            return None
        with self._lock:
            if choice.name not in self._models:
                self._models[choice.name] = ChatModel(choice, self.settings)
            return self._models[choice.name]

    def _translated(self, question: str, hits: list[Hit], vector, model: ChatModel, top_k: int, depth: int,
                    retriever: str | None) -> tuple[list[Hit], str | None]:
        """The hits to answer from, and the translated question when they came from it. A question is
        translated only when the library holds the other language (a same-language library costs no
        call), and the translation's run replaces the original's only when it supports an answer better
        (rag/translate.py)."""
        language = detect_language(question)
        if OTHER[language] not in self.languages():
            return hits, None
        engine = self._current()[0]
        if model.name not in self._translators:
            self._translators[model.name] = Translator(model, self.settings, engine.embedder.embed_queries)
        translation = self._translators[model.name].translate(question, language)
        if not translation.usable:
            return hits, None
        translated, translated_vector, _ = self._retrieve(translation.text, (), max(top_k, depth), retriever)
        original = support(engine, hits[:top_k], vector)
        other = support(engine, translated[:top_k], translated_vector)
        if other is None or original is not None and not better(
                original[0], self.settings.abstain_floor(language, original[1]),
                other[0], self.settings.abstain_floor(OTHER[language], other[1])):
            return hits, None
        return translated, translation.text

    def languages(self) -> frozenset[str]:
        """The languages of the library's documents, judged from each one's first passage (at most
        LANGUAGE_SAMPLE documents, spread evenly), once per index generation."""
        engine, manifest = self._current()
        with self._lock:
            if self._languages is None or self._languages[0] != self._generation:
                documents = list(manifest.documents.values())
                step = max(1, len(documents) // LANGUAGE_SAMPLE)
                ids = [d["chunks"][0]["id"] for d in documents[::step] if d["chunks"]]
                texts = [chunk.text for chunk in engine.store.get(ids).values()] if ids else []
                self._languages = (self._generation, frozenset(detect_language(t) for t in texts))
            return self._languages[1]

    def _standalone(self, question: str, history: Sequence[Turn], model: ChatModel) -> str | None:
        """The follow-up rewritten by the model into a question that stands alone, in the same
        language; None (today's way of borrowing the previous question) when that fails."""
        language = detect_language(question)
        try:
            text = model.complete(prompts.rewrite_messages(question, language, history[-REWRITE_TURNS:]),
                                  max_tokens=REWRITE_MAX_TOKENS, total_timeout=self.settings.translate_timeout)
        except LLMError:
            return None
        lines = [line.strip().strip('"«»“”') for line in text.strip().splitlines() if line.strip()]
        rewritten = lines[0] if lines else ""
        # Rewriting into another language is a known failure of peers: the answer would follow it. A
        # model that continues the prompt instead (a real small one wrote "<<SYS>>", "<conversation>",
        # "1. Why Pakistan?") gives markup, a list, or an earlier question back: none stands for this one.
        earlier = {_folded(t.question) for t in history}
        if (not re.search(r"\w", rewritten) or detect_language(rewritten) != language
                or len(rewritten) > MAX_QUESTION_CHARS or JUNK.search(rewritten) or LIST_ITEM.match(rewritten)
                or _folded(rewritten) in earlier):
            return None
        return rewritten

    def _retrieve(self, question: str, history: Sequence[Turn], top_k: int | None, retriever: str | None):
        query = retrieval_query(question, history)
        engine = self._current()[0]
        vector = engine.embedder.embed_queries([query])[0]
        try:
            hits = engine.search(query, top_k or self.settings.top_k, retriever or self.settings.retriever, vector)
        except ValueError:
            raise
        except Exception as err:  # a Chroma server that went away mid-question: say so, do not hang or trace
            if self.settings.chroma_url:
                raise unreachable(self.settings.chroma_url, err) from err
            raise
        # Sentences are scored against the question itself; the borrowed context only steers retrieval.
        if query != question:
            vector = engine.embedder.embed_queries([question])[0]
        return hits, vector, engine

    def _current(self):
        """The committed index, reloaded when another process has committed a newer generation."""
        state = self.state
        with self._lock:
            generation = state.current()
            if self._retriever is None or generation != self._generation:
                generation, manifest = state.load()
                embedder = self._embedder_for_reading(manifest)
                try:
                    committed = Committed(frozenset(manifest.chunk_ids()), manifest.runs(), manifest.sentence_starts())
                    store = VectorStore(state.client(fresh=True), manifest.collection, committed=committed)
                    lexical = state.lexical(generation, manifest, store)
                except IndexProblem:
                    raise
                except Exception as err:  # Chroma and bm25s raise many kinds on damaged files
                    raise IndexBroken(strings.BROKEN_INDEX.format(path=state.describe(), detail=err)) from err
                self._retriever = Retriever(self.settings, embedder, store, lexical)
                self._generation, self._manifest = generation, manifest
            return self._retriever, self._manifest

    def _embedder_for_reading(self, manifest) -> Embedder:
        asked = self.settings.embedder
        if asked is not None and asked != manifest.embedder:
            raise IndexProblem(strings.EMBEDDER_MISMATCH.format(
                path=self.state.describe(), built=manifest.embedder, dim=manifest.dim, asked=asked))
        embedder = self._load_embedder(manifest.embedder)
        if embedder.dim != manifest.dim:
            raise IndexProblem(strings.EMBEDDER_MISMATCH.format(
                path=self.state.describe(), built=manifest.embedder, dim=manifest.dim, asked=embedder.name))
        return embedder


def support(engine: Retriever, hits: Sequence[Hit], vector) -> tuple[float, str] | None:
    """The best cosine of a hit's sentence with the query vector, and that sentence's language."""
    units = engine.sentences(list(hits)) if hits else []
    if not units:
        return None
    similarity = np.stack([v for _, _, v in units]) @ vector
    best = int(np.argmax(similarity))
    hit, sentence, _ = units[best]
    return float(similarity[best]), detect_language(hits[hit].chunk.text[sentence.start:sentence.end])


def _folded(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _quoted(answer_text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\s*\[\d+\]\s*", answer_text.split("\n", 1)[-1]) if part.strip()]
