"""`--llm llamacpp:PATH.gguf`: a GGUF model run in-process by llama-cpp-python (the optional extra).

llama-index's LlamaCPP flattens a chat into its own "system: … user: …" text, which a model trained
on another template reads as a document to continue; llama.cpp's own chat completion applies the
template the GGUF carries (the same one its server applies for `--llm openai:`). It also takes the
reply's length per call, and llama.cpp's log lines are silenced so they never reach the terminal.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from . import strings
from .settings import Settings

_quiet = threading.Lock()
_silenced = False


@dataclass(frozen=True)
class Piece:
    """One streamed piece, shaped as llama-index's ChatResponse is read in rag/llm.py."""

    delta: str
    raw: dict


class LlamaCppChat:
    """Streams chat replies from a llama_cpp.Llama (or anything with its create_chat_completion)."""

    def __init__(self, model: Any, max_tokens: int, temperature: float, lock: threading.Lock | None = None) -> None:
        self.model, self.max_tokens, self.temperature = model, max_tokens, temperature
        self.lock = lock or threading.Lock()  # one llama.cpp context answers one request at a time

    @classmethod
    def load(cls, path: Path, settings: Settings, max_tokens: int) -> "LlamaCppChat":
        try:
            import llama_cpp
        except ImportError:
            raise ValueError(strings.LLM_LLAMACPP_MISSING) from None
        if not path.is_file():
            raise ValueError(strings.LLM_GGUF_MISSING.format(path=path))
        _silence(llama_cpp)
        model = llama_cpp.Llama(model_path=str(path), n_ctx=settings.llm_context_window, verbose=False,
                                n_threads=max(1, (os.cpu_count() or 2) // 2))
        # A GGUF without a chat template (a pretrained model, such as Gemma 3 270M) gets llama-cpp's
        # default, Llama 2's "[INST] <<SYS>>" format, which a Gemma model echoes back ("<<SYS>>" as a
        # rewritten question); its own family's turns are what its tokenizer knows.
        architecture = str(model.metadata.get("general.architecture", ""))
        if "tokenizer.chat_template" not in model.metadata and architecture.startswith("gemma"):
            model.chat_format = "gemma"
        return cls(model, max_tokens, settings.llm_temperature)

    def sized(self, max_tokens: int) -> "LlamaCppChat":
        return LlamaCppChat(self.model, max_tokens, self.temperature, self.lock)

    def stream_chat(self, chat: Sequence[Any]) -> Iterator[Piece]:
        messages = [{"role": str(getattr(m.role, "value", m.role)), "content": m.content} for m in chat]
        with self.lock:
            replies = self.model.create_chat_completion(messages=messages, stream=True, max_tokens=self.max_tokens,
                                                        temperature=self.temperature)
            try:
                for chunk in replies:
                    choice = (chunk.get("choices") or [{}])[0]
                    yield Piece((choice.get("delta") or {}).get("content") or "", chunk)
            finally:
                replies.close()


def _silence(llama_cpp) -> None:
    """llama.cpp logs through a C callback; one that drops everything keeps the terminal for Sanad."""
    global _silenced
    with _quiet:
        if _silenced:
            return
        import ctypes

        @llama_cpp.llama_log_callback
        def drop(level: int, text: bytes, data: ctypes.c_void_p) -> None:
            pass

        llama_cpp.llama_log_set(drop, ctypes.c_void_p(0))
        _silence.callback = drop  # a ctypes callback must outlive every call into llama.cpp
        _silenced = True
