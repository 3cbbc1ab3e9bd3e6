"""The user's LLM, through llama-index's integrations, with deadlines the caller can rely on.

    extractive            no LLM (the default)
    ollama:MODEL          Ollama's /api/chat (default base URL http://127.0.0.1:11434)
    openai:MODEL          any OpenAI-compatible server: vLLM, llama.cpp's server, LM Studio, a hosted API
    llamacpp:PATH.gguf    a GGUF model run in-process (the optional extra `sanad[llamacpp]`)

The model runs in a worker thread that hands text to the caller through a queue, so a server that
never answers, stalls mid-reply or breaks the connection costs at most `llm_timeout` seconds, and a
reply that never ends or grows without bound stops at `llm_total_timeout` seconds or
`llm_max_reply_chars` characters; each ends in an LLMError with a short reason, whatever the client
library does underneath.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from . import strings
from .settings import Settings
from .types import Language

log = logging.getLogger(__name__)

KINDS = ("ollama", "openai", "llamacpp")
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
CLIENT_GRACE_S = 5.0


class LLMError(Exception):
    """The model could not give an answer. `reason` names an entry of strings.LLM_REASONS."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason, self.details = reason, details

    def describe(self, language: Language) -> str:
        return strings.LLM_REASONS[self.reason][language].format(**self.details)


@dataclass(frozen=True)
class LLMChoice:
    kind: str
    model: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.model}"


def parse_llm(spec: str | None) -> LLMChoice | None:
    """None for the extractive answerer; a ValueError naming the accepted forms for anything unknown."""
    spec = (spec or "extractive").strip()
    if spec == "extractive":
        return None
    kind, _, model = spec.partition(":")
    if kind not in KINDS or not model.strip():
        raise ValueError(strings.LLM_UNKNOWN.format(spec=spec))
    return LLMChoice(kind, model.strip())


Messages = Sequence[tuple[str, str]]  # (role, text)


class ChatModel:
    """One configured LLM. Building it contacts nothing; the first request does."""

    def __init__(self, choice: LLMChoice, settings: Settings) -> None:
        self.choice = choice
        self.settings = settings
        # One client per reply length: llama-index puts the client's own max_tokens (num_predict for
        # Ollama) over any passed per call, so a 96-token rewrite was asked for 512.
        self._clients = {settings.llm_max_tokens: _build(choice, settings, settings.llm_max_tokens)}

    @property
    def name(self) -> str:
        return self.choice.name

    def stream(self, messages: Messages, max_tokens: int | None = None, total_timeout: float | None = None,
               until: float | None = None) -> Iterator[str]:
        """The reply as it is written, piece by piece. Raises LLMError when the server is unreachable,
        fails, sends something unreadable, stops without finishing, is silent for `llm_timeout` s, or
        goes on past `total_timeout` s, or past `until` (a time.monotonic() value: the question's
        llm_total_timeout, part of it spent before), or past llm_max_reply_chars characters."""
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=role, content=text) for role, text in messages]
        client = self._client(max_tokens or self.settings.llm_max_tokens)
        pieces: queue.Queue = queue.Queue(maxsize=256)  # a flood waits for the reader instead of filling memory
        stop = threading.Event()

        def put(item: tuple) -> bool:
            while not stop.is_set():
                try:
                    pieces.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                replies = client.stream_chat(chat)
                finished = False
                for reply in replies:
                    if reply.delta and not put(("text", reply.delta)) or stop.is_set():
                        replies.close()  # closes the HTTP response: the server stops generating
                        return
                    finished = finished or _finished(reply.raw)
                put(("end", finished))
            except Exception as err:  # any client failure becomes one short reason, below
                put(("error", err))

        threading.Thread(target=produce, name=f"llm-{self.name}", daemon=True).start()
        timeout = self.settings.llm_timeout
        total = self.settings.llm_total_timeout if total_timeout is None else total_timeout
        deadline = time.monotonic() + total if until is None else until
        size = 0
        try:
            while True:
                left = deadline - time.monotonic()
                try:
                    kind, value = pieces.get(timeout=max(0.0, min(timeout, left)))
                except queue.Empty:
                    if left <= timeout:
                        raise LLMError("deadline", seconds=f"{total:g}") from None
                    raise LLMError("timeout", seconds=f"{timeout:g}") from None
                if kind == "text":
                    size += len(value)
                    if size > self.settings.llm_max_reply_chars:
                        raise LLMError("too_long", chars=self.settings.llm_max_reply_chars)
                    if time.monotonic() > deadline:
                        raise LLMError("deadline", seconds=f"{total:g}")
                    yield value
                elif kind == "end":
                    if not value:
                        raise LLMError("cut_off")
                    return
                else:
                    log.warning("LLM %s failed: %r", self.name, value)
                    raise _error(value, timeout) from None
        finally:
            stop.set()

    def answer(self, messages: Messages, max_tokens: int | None = None, total_timeout: float | None = None,
               until: float | None = None) -> Iterator[str]:
        """stream(), without the reasoning that "thinking" models write inside <think>…</think>."""
        return _without_thinking(self.stream(messages, max_tokens, total_timeout, until))

    def complete(self, messages: Messages, max_tokens: int, total_timeout: float | None = None) -> str:
        """The whole reply at once, under the same deadlines."""
        return "".join(self.answer(messages, max_tokens, total_timeout))

    def _client(self, max_tokens: int):
        if max_tokens not in self._clients:
            if self.choice.kind == "llamacpp":  # one model in memory; the length goes with each call
                self._clients[max_tokens] = self._clients[self.settings.llm_max_tokens].sized(max_tokens)
            else:
                self._clients[max_tokens] = _build(self.choice, self.settings, max_tokens)
        return self._clients[max_tokens]


def _build(choice: LLMChoice, settings: Settings, max_tokens: int):
    # The client's own deadline is a backstop: ours (in stream) fires first and says how long it waited.
    timeout = settings.llm_timeout + CLIENT_GRACE_S
    if choice.kind == "ollama":
        from llama_index.llms.ollama import Ollama

        return Ollama(model=choice.model, base_url=settings.llm_base_url or DEFAULT_OLLAMA_URL,
                      temperature=settings.llm_temperature, request_timeout=timeout,
                      # Set, so that the client does not ask the server for it before every chat.
                      context_window=settings.llm_context_window,
                      additional_kwargs={"num_predict": max_tokens})
    if choice.kind == "openai":
        from llama_index.llms.openai_like import OpenAILike

        base_url = settings.llm_base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ValueError(strings.LLM_NEEDS_BASE_URL.format(spec=choice.name))
        # Local servers ignore the key, but the client insists on one.
        key = os.environ.get("SANAD_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY") or "none"
        return OpenAILike(model=choice.model, api_base=base_url, api_key=key, is_chat_model=True,
                          temperature=settings.llm_temperature, max_tokens=max_tokens,
                          context_window=settings.llm_context_window, timeout=timeout, max_retries=0)
    from .llamacpp import LlamaCppChat

    return LlamaCppChat.load(Path(choice.model).expanduser(), settings, max_tokens)


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def _without_thinking(pieces: Iterator[str]) -> Iterator[str]:
    """The pieces with <think>…</think> spans left out, even when a tag is split across pieces."""
    buffer, thinking = "", False
    for piece in pieces:
        buffer += piece
        while True:
            if thinking:
                end = buffer.find(THINK_CLOSE)
                if end < 0:
                    buffer = buffer[-len(THINK_CLOSE):]
                    break
                buffer, thinking = buffer[end + len(THINK_CLOSE):], False
            else:
                start = buffer.find(THINK_OPEN)
                if start < 0:
                    # Hold back what could be the start of a tag still arriving.
                    keep = next((k for k in range(len(THINK_OPEN) - 1, 0, -1) if buffer.endswith(THINK_OPEN[:k])), 0)
                    if len(buffer) > keep:
                        yield buffer[:len(buffer) - keep]
                        buffer = buffer[len(buffer) - keep:]
                    break
                if start:
                    yield buffer[:start]
                buffer, thinking = buffer[start + len(THINK_OPEN):], True
    if buffer and not thinking:
        yield buffer


def _finished(raw: Any) -> bool:
    """Whether this streamed piece says the reply is complete (OpenAI's finish_reason, Ollama's done).
    A stream that ends without one was cut off."""
    if isinstance(raw, dict):
        return bool(raw.get("done")) or bool((raw.get("choices") or [{}])[0].get("finish_reason"))
    choices = getattr(raw, "choices", None)
    if choices:
        return getattr(choices[0], "finish_reason", None) is not None
    return bool(getattr(raw, "done", False))


def _error(err: BaseException, timeout: float) -> LLMError:
    status = getattr(err, "status_code", None) or getattr(getattr(err, "response", None), "status_code", None)
    if status:
        return LLMError("status", status=status)
    name = type(err).__name__
    if "Connect" in name or isinstance(err, ConnectionError):
        return LLMError("unreachable")
    if "Timeout" in name or isinstance(err, TimeoutError):
        return LLMError("timeout", seconds=f"{timeout:g}")
    return LLMError("broken", kind=name)
