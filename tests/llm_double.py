"""A scripted LLM server: a test double for the LLM the user supplies (Ollama, vLLM, llama.cpp's
server...). No model can be shipped or downloaded here, so the tests drive Sanad's whole path through
this real HTTP process instead. It speaks two protocols:

    POST /v1/chat/completions   OpenAI-compatible, streamed as server-sent events
    POST /api/chat              Ollama, streamed as JSON lines

    python tests/llm_double.py SCRIPT.json LOG.jsonl      prints the port it listens on, then serves

Replies are chosen deterministically from the request: the first script entry whose "match" occurs
in the question of the prompt (the line after "Question:"/"السؤال:", or after "Last question:"/
"السؤال الأخير:" for a follow-up rewrite) and whose "kind" ("answer", "rewrite" or "translate", a
prompt asking for the question's translation) fits. The script is read again for every request, so a
test can add entries. Every request is appended to LOG.

An entry: {"match", "kind", "reply"} plus any of
    "status": N         answer with HTTP status N and an error body
    "delay": S          wait S seconds before answering at all (a slow or hung server)
    "stall_after": N    send N pieces, then fall silent for a minute
    "malformed": true   after the first piece, send a line that is not JSON
    "truncate": true    close the connection before the reply says it is finished
    "wait_for": PATH    once the second sentence has begun, wait (up to 30 s) until PATH exists
    "exact": true       "match" must be the whole question, not part of it
    "repeat": N         the reply N times over (a model that never stops, or 100 MB of one word)
    "every": S          seconds between pieces
    "piece": N          characters per piece (default PIECE)
In "reply", {p:NEEDLE} becomes the number of the prompt's passage that contains NEEDLE.
"""
from __future__ import annotations

import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

PIECE = 5  # characters per streamed piece

SCRIPT = Path(sys.argv[1]) if len(sys.argv) > 1 else None
LOG = Path(sys.argv[2]) if len(sys.argv) > 2 else None


def question_of(prompt: str) -> tuple[str, str]:
    if "Arabic translation:" in prompt or "الترجمة الإنجليزية:" in prompt:
        line = prompt.strip().splitlines()[0]
        return "translate", line.split(":", 1)[1].strip()
    for kind, label in (("rewrite", "Last question:"), ("rewrite", "السؤال الأخير:"),
                        ("answer", "Question:"), ("answer", "السؤال:")):
        lines = [line for line in prompt.splitlines() if line.startswith(label)]
        if lines:
            return kind, lines[-1][len(label):].strip()
    return "answer", prompt


def passage_numbers(prompt: str) -> dict[int, str]:
    return {int(n): text for n, text in re.findall(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', prompt, re.S)}


def fill(reply: str, prompt: str) -> str:
    passages = passage_numbers(prompt)

    def number(match: re.Match) -> str:
        needle = match.group(1)
        return str(next((n for n, text in passages.items() if needle in text), 99))

    return re.sub(r"\{p:([^}]+)\}", number, reply)


def _pieces(text: str, repeat: int, size: int) -> Iterator[str]:
    """`text` `repeat` times over, `size` characters at a time, made as they are sent."""
    buffer = ""
    for _ in range(repeat):
        buffer += text
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


def _log(record: dict) -> None:
    with LOG.open("a", encoding="utf-8") as log:
        log.write(json.dumps(record, ensure_ascii=False) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        prompt = body["messages"][-1]["content"]
        kind, question = question_of(prompt)
        entries = json.loads(SCRIPT.read_text(encoding="utf-8")) if SCRIPT else []
        entry = next((e for e in entries if e.get("kind", "answer") == kind
                      and (e["match"] == question if e.get("exact") else e["match"] in question)), None)
        _log({"path": self.path, "kind": kind, "question": question, "body": body,
              "matched": entry["match"] if entry else None})
        entry = entry or {"reply": "No script for this question."}
        time.sleep(entry.get("delay", 0))
        if entry.get("status"):
            self._send(entry["status"], "application/json", json.dumps({"error": "scripted failure"}).encode())
            return
        ollama = self.path.startswith("/api/")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        pieces = _pieces(fill(entry["reply"], prompt), entry.get("repeat", 1), entry.get("piece", PIECE))
        try:
            self._stream(pieces, entry, ollama, body.get("model", "scripted"))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on us, as it should when we are too slow
        self.close_connection = True

    def _stream(self, pieces: Iterator[str], entry: dict, ollama: bool, model: str) -> None:
        waited, sent = False, ""
        for number, piece in enumerate(pieces):
            time.sleep(entry.get("every", 0))
            if entry.get("stall_after") == number:
                time.sleep(60)
            if number == 1 and entry.get("malformed"):
                self._write(b"data: {not json\n\n" if not ollama else b"{not json\n")
                return
            self._write(self._piece(piece, ollama, model))
            if len(sent) < 10_000:
                sent += piece
            # Once the next sentence has begun, the client can tell that the first one is complete.
            if entry.get("wait_for") and not waited and re.search(r"[.!?؟](?:\s*\[\d+\])*\s+[^\s\[]", sent):
                waited = True
                deadline = time.time() + 30
                while not Path(entry["wait_for"]).exists() and time.time() < deadline:
                    time.sleep(0.02)
                _log({"waited_for": entry["wait_for"], "appeared": Path(entry["wait_for"]).exists()})
        if entry.get("truncate"):
            return
        if ollama:
            self._write(json.dumps({"model": model, "created_at": "2026-01-01T00:00:00Z",
                                    "message": {"role": "assistant", "content": ""},
                                    "done": True, "done_reason": "stop"}).encode() + b"\n")
        else:
            self._write(self._sse({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, model))
            self._write(b"data: [DONE]\n\n")

    def _piece(self, piece: str, ollama: bool, model: str) -> bytes:
        if ollama:
            return json.dumps({"model": model, "created_at": "2026-01-01T00:00:00Z",
                               "message": {"role": "assistant", "content": piece}, "done": False}).encode() + b"\n"
        return self._sse({"choices": [{"index": 0, "delta": {"role": "assistant", "content": piece},
                                       "finish_reason": None}]}, model)

    @staticmethod
    def _sse(data: dict, model: str) -> bytes:
        chunk = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model, **data}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
