"""Where the committed generation lives: on this machine's disk, or in a Chroma server that several
Sanad instances share.

Both keep the same three things: the vectors (Chroma collections), the manifest of the committed
generation with its CURRENT pointer, and the write lock. Only the lexical index (BM25) is never
shared: each instance builds it from the committed chunks and keeps it in its own index folder,
so a generation committed through one instance is searched by every other on its next question.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from . import strings
from .index_state import (
    IndexBroken,
    IndexLocked,
    IndexMissing,
    IndexProblem,
    Manifest,
    WriteLock,
    commit_generation,
    current_generation,
    load_manifest,
    state_dir,
    write_json,
)
from .lexical import LexicalIndex
from .store import VectorStore, open_client
from .types import Chunk


class StoreUnreachable(IndexProblem):
    """The Chroma server does not answer; the message names it."""


class State(Protocol):
    def describe(self) -> str: ...

    def client(self, fresh: bool = False): ...

    def current(self) -> str | None: ...

    def load(self) -> tuple[str, Manifest]: ...

    def lock(self): ...

    def commit(self, generation: str, manifest: Manifest, lexical: LexicalIndex) -> None: ...

    def lexical(self, generation: str, manifest: Manifest, store: VectorStore) -> LexicalIndex: ...

    def prune(self, keep: set[str]) -> None: ...


def open_state(settings) -> State:
    if settings.chroma_url:
        return ServerState(settings.chroma_url, os.environ.get("SANAD_CHROMA_TOKEN"), settings.index_dir,
                           settings.chroma_timeout)
    return LocalState(settings.index_dir)


def lexical_index(ids: list[str], store: VectorStore, known: dict[str, Chunk],
                  previous: LexicalIndex | None) -> LexicalIndex:
    """BM25 over the committed chunks, in id order: what a writer saves and a reader rebuilds alike.
    Chunks `previous` holds keep their terms; only the others are tokenised, their texts taken from
    `known` or fetched from the store."""
    def texts_of(missing: list[str]) -> dict[str, str]:
        out = {i: known[i].text for i in missing if i in known}
        out.update((i, c.text) for i, c in store.get([i for i in missing if i not in out]).items())
        return out

    return LexicalIndex.build(ids, texts_of, previous)


def latest_lexical(index_dir: Path) -> tuple[str | None, LexicalIndex | None]:
    """The newest lexical index of any generation this instance keeps, with its terms (a chunk id
    names its content, so terms stay valid from one generation to the next); (None, None) if none."""
    folders = [p for p in state_dir(index_dir).glob("gen-*") if p.name[4:].isdigit()]
    for folder in sorted(folders, key=lambda p: int(p.name[4:]), reverse=True):
        try:
            index = LexicalIndex.load(folder)
        except (OSError, ValueError):
            continue
        if index.has_terms():
            return folder.name, index
    return None, None


class LocalState:
    """The layout of rag/index_state.py under one index folder."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def describe(self) -> str:
        return str(self.index_dir)

    def client(self, fresh: bool = False):
        return open_client(self.index_dir / "chroma", fresh=fresh)

    def current(self) -> str | None:
        return current_generation(self.index_dir)

    def load(self) -> tuple[str, Manifest]:
        return load_manifest(self.index_dir)

    def lock(self) -> WriteLock:
        return WriteLock(self.index_dir)

    def commit(self, generation: str, manifest: Manifest, lexical: LexicalIndex) -> None:
        folder = state_dir(self.index_dir) / generation
        lexical.save(folder)
        write_json(folder / "manifest.json", manifest.to_json())
        commit_generation(self.index_dir, generation)

    def lexical(self, generation: str, manifest: Manifest, store: VectorStore) -> LexicalIndex:
        return LexicalIndex.load(state_dir(self.index_dir) / generation)

    def prune(self, keep: set[str]) -> None:
        for old in state_dir(self.index_dir).glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)


# A Chroma server ---------------------------------------------------------------------------------
STATE_COLLECTION = "sanad-state"
PART_CHARS = 1_000_000  # a manifest is stored in parts: one document per megabyte
LEASE_S = 60.0  # a writer that stops renewing its lock (killed, or cut off) loses it after this
_POINTER = "-"  # the `generation` of rows that are not part of a generation (CURRENT, LOCK)


class ServerState:
    """Vectors, manifest, CURRENT and the write lock in a Chroma server; BM25 cached in index_dir."""

    def __init__(self, url: str, token: str | None, index_dir: Path, timeout: float = 30.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self.index_dir = index_dir  # this instance's cache of lexical indexes
        self._client = None

    def describe(self) -> str:
        return self.url

    def client(self, fresh: bool = False):
        # An HTTP client holds no copy of the data, so a fresh one is never needed.
        if self._client is None:
            self._client = _connect(self.url, self.token, self.timeout)
        return self._client

    def _state(self):
        try:
            return self.client().get_or_create_collection(
                STATE_COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "l2"}})
        except IndexProblem:
            raise
        except Exception as err:
            raise unreachable(self.url, err) from err

    def _call(self, method: str, **kwargs):
        try:
            return getattr(self._state(), method)(**kwargs)
        except IndexProblem:
            raise
        except Exception as err:
            raise unreachable(self.url, err) from err

    def current(self) -> str | None:
        got = self._call("get", ids=["CURRENT"], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def load(self) -> tuple[str, Manifest]:
        generation = self.current()
        if generation is None:
            raise IndexMissing(strings.NO_SERVER_INDEX.format(url=self.url))
        got = self._call("get", where={"generation": generation}, include=["documents", "metadatas"])
        parts = sorted(zip(got["metadatas"], got["documents"]), key=lambda p: p[0]["part"])
        try:
            if not parts or len(parts) != parts[0][0]["parts"]:
                raise ValueError(f"manifest of {generation} has {len(parts)} parts")
            return generation, Manifest.from_json(json.loads("".join(text for _, text in parts)))
        except (ValueError, KeyError, TypeError) as err:
            raise IndexBroken(strings.BROKEN_SERVER_INDEX.format(url=self.url, detail=err)) from err

    def lock(self) -> "ServerLock":
        return ServerLock(self)

    def commit(self, generation: str, manifest: Manifest, lexical: LexicalIndex) -> None:
        lexical.save(state_dir(self.index_dir) / generation)
        data = json.dumps(manifest.to_json(), ensure_ascii=False)
        parts = [data[i : i + PART_CHARS] for i in range(0, len(data), PART_CHARS)] or [""]
        ids = [f"{generation}/{n}" for n in range(len(parts))]
        meta = [{"generation": generation, "part": n, "parts": len(parts)} for n in range(len(parts))]
        self._call("upsert", ids=ids, documents=parts, metadatas=meta, embeddings=[[0.0]] * len(parts))
        # The one write that makes the generation current, for every instance at once.
        self._call("upsert", ids=["CURRENT"], documents=[generation], metadatas=[{"generation": _POINTER}],
                   embeddings=[[0.0]])

    def lexical(self, generation: str, manifest: Manifest, store: VectorStore) -> LexicalIndex:
        """This instance's copy for the generation, built from the server's chunks the first time."""
        folder = state_dir(self.index_dir) / generation
        try:
            return LexicalIndex.load(folder)
        except (OSError, ValueError):
            pass
        # Only the chunks this instance has not seen travel and are tokenised: one new document
        # costs seconds at 100,000 chunks, not a rebuild.
        reused, previous = latest_lexical(self.index_dir)
        lexical = lexical_index(sorted(manifest.chunk_ids()), store, {}, previous)
        lexical.save(folder)
        keep = {generation, reused or generation}
        for old in state_dir(self.index_dir).glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        return lexical

    def prune(self, keep: set[str]) -> None:
        self._call("delete", where={"generation": {"$nin": sorted(keep | {_POINTER})}})
        for old in state_dir(self.index_dir).glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)


class ServerLock:
    """A lease on the server: one writer at a time across every machine that shares it.

    Chroma has no compare-and-set, so a writer claims the lease, waits a moment and reads it back;
    of two that claimed at once, only the one whose claim stayed goes on. The holder renews it while
    it writes; one that dies loses it after LEASE_S."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.me = f"{socket.gethostname()} process {os.getpid()} ({uuid.uuid4().hex[:8]})"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _holder(self) -> tuple[str, float] | None:
        got = self.state._call("get", ids=["LOCK"], include=["documents", "metadatas"])
        return (got["documents"][0], float(got["metadatas"][0]["expires"])) if got["ids"] else None

    def _claim(self) -> None:
        self.state._call("upsert", ids=["LOCK"], documents=[self.me], embeddings=[[0.0]],
                         metadatas=[{"generation": _POINTER, "expires": time.time() + LEASE_S}])

    def __enter__(self) -> "ServerLock":
        holder = self._holder()
        if holder and holder[0] != self.me and holder[1] > time.time():
            raise IndexLocked(strings.SERVER_INDEX_LOCKED.format(url=self.state.url, holder=holder[0]))
        self._claim()
        time.sleep(0.5)
        holder = self._holder()
        if not holder or holder[0] != self.me:
            raise IndexLocked(strings.SERVER_INDEX_LOCKED.format(url=self.state.url, holder=holder[0] if holder else "?"))
        self._renewer = threading.Thread(target=self._renew, daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_S / 4):
            try:
                self._claim()
            except IndexProblem:
                pass  # the server is away; the writer's own next call will say so

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._renewer:
            self._renewer.join()
        try:
            holder = self._holder()
            if holder and holder[0] == self.me:
                self.state._call("delete", ids=["LOCK"])
        except IndexProblem:
            pass  # the lease runs out by itself


def _connect(url: str, token: str | None, timeout: float):
    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise ValueError(strings.BAD_CHROMA_URL.format(url=url))
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https", headers=headers, settings=chromadb.Settings(anonymized_telemetry=False),
        )
    except Exception as err:  # connection refused, bad credentials, not a Chroma server
        raise unreachable(url, err) from err
    # Chroma's client waits forever (httpx timeout=None): a server that stops answering would hang
    # the chat. Its session is not configurable through Settings, so it is bounded here.
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
    return client


def unreachable(url: str, err: Exception) -> StoreUnreachable:
    return StoreUnreachable(strings.CHROMA_UNREACHABLE.format(url=url, detail=f"{type(err).__name__}: {err}"))
