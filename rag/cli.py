"""The `rag` command: index, ask, eval, chat."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


from .controls import reveal


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from .embedders import EmbedderError
    from .index_state import IndexProblem

    try:
        return args.run(args)
    except (IndexProblem, EmbedderError, ValueError) as err:
        print(f"rag: {reveal(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # one line, not a traceback; SANAD_DEBUG=1 shows where it came from
        if os.environ.get("SANAD_DEBUG"):
            raise
        print(f"rag: unexpected error: {type(err).__name__}: {reveal(str(err))} (set SANAD_DEBUG=1 for details)",
              file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Sanad: questions over your documents, with citations.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", type=Path, help="where the index lives (default: index/, or $SANAD_INDEX_DIR)")
        p.add_argument("--preset", help="named settings preset (default, thorough, brief)")
        p.add_argument("--embedder", help="e5-small-q4 (default) or st:<Hugging Face name or local folder>")
        chroma_flag(p)

    def chroma_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--chroma-url", help="a Chroma server shared by several instances, http://HOST:PORT "
                                            "(or $SANAD_CHROMA_URL; token in $SANAD_CHROMA_TOKEN)")

    def llm_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--llm", help="who writes answers: extractive (default, no LLM), ollama:MODEL, openai:MODEL "
                                     "or llamacpp:PATH.gguf (or $SANAD_LLM)")
        p.add_argument("--llm-base-url", help="the LLM server: Ollama's (default http://127.0.0.1:11434) or an "
                                              "OpenAI-compatible one's, e.g. http://127.0.0.1:8080/v1")
        p.add_argument("--llm-timeout", type=float,
                       help="seconds to wait for the model's first token before answering without it (default 60)")

    p = sub.add_parser("index", help="index files and folders (incremental)")
    p.add_argument("paths", nargs="*", type=Path, default=[Path("seeds")])
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    p.add_argument("--max-file-mb", type=float, help="skip files larger than this (default 50)")
    p.add_argument("--follow-links", action="store_true", default=None,
                   help="also index files that symlinks lead to outside the folder (skipped by default)")
    p.add_argument("--threads", type=int, help="threads that embed (default: the cores that are free when it starts)")
    common(p)
    p.set_defaults(run=_index)

    p = sub.add_parser("ask", help="ask a question (or -i for an interactive session)")
    p.add_argument("question", nargs="?")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("--top-k", type=int)
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    common(p)
    llm_flags(p)
    p.set_defaults(run=_ask)

    p = sub.add_parser("eval", help="run an evaluation set and report retrieval, answer and citation metrics")
    p.add_argument("set", type=Path, help="a .jsonl set (eval/sets/, or one written by python -m eval.xquad)")
    p.add_argument("--docs", type=Path, required=True, help="the folder of documents the set asks about")
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--compare", action="store_true", help="also run the other retrievers, reported side by side")
    p.add_argument("--top-k", type=int)
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--json-out", type=Path)
    p.add_argument("--md-out", type=Path, help="a Markdown report; its hit@k plot is written beside it (.png)")
    # Not common(): eval keeps an index of its own per --docs folder rather than touching the chat's.
    p.add_argument("--index-dir", type=Path, help="where the index of --docs lives (default: under eval/cache/index/)")
    p.add_argument("--preset", help="named settings preset (default, thorough, brief)")
    p.add_argument("--embedder", help="e5-small-q4 (default) or st:<Hugging Face name or local folder>")
    chroma_flag(p)
    llm_flags(p)
    p.set_defaults(run=_eval)

    p = sub.add_parser("chat", help="start the web chat")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--max-file-mb", type=float, help="refuse uploads larger than this (default 50)")
    common(p)
    llm_flags(p)
    p.set_defaults(run=_chat)
    return parser


def _eval(args) -> int:
    from . import strings

    for what, path, exists in (("evaluation set", args.set, args.set.is_file()), ("--docs folder", args.docs, args.docs.is_dir())):
        if not exists:
            print(strings.EVAL_NO_FILE.format(what=what, path=reveal(str(path))), file=sys.stderr)
            return 2
    from eval.runner import run_from_cli

    return run_from_cli(_engine(args), args)


def _chat(args) -> int:
    from ui.login import chat_auth
    from ui.port import free_port_after, port_taken

    from . import strings

    # Both said at once, before the engine and Gradio take seconds to load (ui.app checks again).
    try:
        chat_auth(args.host, os.environ.get("SANAD_AUTH"))
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    if port_taken(args.host, args.port):
        print(strings.CHAT_PORT_BUSY.format(port=args.port, free=free_port_after(args.host, args.port)), file=sys.stderr)
        return 2
    from ui.app import run_from_cli

    return run_from_cli(_engine(args), args)


def _engine(args):
    from .engine import Sanad
    from .settings import load_settings

    settings = load_settings(
        args.preset,
        index_dir=args.index_dir,
        embedder=args.embedder,
        top_k=getattr(args, "top_k", None),
        retriever=getattr(args, "retriever", None),
        max_file_mb=getattr(args, "max_file_mb", None),
        chroma_url=getattr(args, "chroma_url", None),
        follow_links=getattr(args, "follow_links", None),
        index_threads=getattr(args, "threads", None),
        llm=getattr(args, "llm", None),
        llm_base_url=getattr(args, "llm_base_url", None),
        llm_timeout=getattr(args, "llm_timeout", None),
    )
    return Sanad(settings)


def _index(args) -> int:
    from . import strings

    engine = _engine(args)
    progress = _progress_printer()
    try:
        report = engine.index(args.paths, rebuild=args.rebuild, progress=progress)
    finally:
        if progress:
            progress.finish()
    for failure in report.failed:
        print(reveal(f"failed: {failure.source}: {failure.reason}"), file=sys.stderr)
    for note in report.notes:
        print(f"note: {reveal(note)}", file=sys.stderr)
    print(strings.index_summary(len(report.added), len(report.updated), len(report.removed), len(report.unchanged),
                                len(report.failed), report.seconds))
    if not report.indexed_anything:
        print(f"rag: {strings.NOTHING_INDEXED}", file=sys.stderr)
        return 1
    return 0


def _progress_printer():
    """One line per stage on a terminal, rewritten as it advances; a new stage starts a new line."""
    if not sys.stderr.isatty():
        return None
    last = [None]

    def show(stage: str, done: int, total: int) -> None:
        start = "\n" if last[0] not in (None, stage) else "\r"
        last[0] = stage
        print(f"{start}{stage}: {done}/{total}", end="", file=sys.stderr, flush=True)

    show.finish = lambda: last[0] and print(file=sys.stderr, flush=True)
    return show


def _ask(args) -> int:
    engine = _engine(args)
    if args.interactive:
        return _interactive(engine, args)
    if not args.question:
        print("rag: give a question, or -i for an interactive session", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(engine.ask(args.question).to_json(), ensure_ascii=False))
    else:
        _print_answer(*_streamed(engine, args.question, []))
    return 0


def _interactive(engine, args) -> int:
    from .types import Turn

    history: list[Turn] = []
    print("Sanad — ask about your documents; an empty line or Ctrl-D quits. / اسأل عن مستنداتك.",
          file=sys.stderr if args.json else sys.stdout)
    while True:
        try:
            # With --json, stdout carries one JSON object a line and nothing else.
            question = input("" if args.json else "» ").strip()
            if not args.json and not sys.stdin.isatty():
                print(question)  # piped: the terminal did not echo the question or its newline
        except EOFError:
            print(file=sys.stderr if args.json else sys.stdout)
            return 0
        if not question:
            return 0
        if args.json:
            answer = engine.ask(question, history)
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            answer, shown = _streamed(engine, question, history)
            _print_answer(answer, shown)
        history.append(Turn(question, answer.text))


def _streamed(engine, question: str, history) -> tuple:
    """Prints the answer as it grows (with an LLM: each sentence once checked); returns the Answer and
    what was printed of it."""
    shown, answer = "", None
    for part in engine.stream(question, history):
        if not isinstance(part, str):
            answer = part
        elif part.startswith(shown):
            print(reveal(part[len(shown):]), end="", flush=True)
            shown = part
    return answer, shown


def _print_answer(answer, shown: str = "") -> None:
    """`shown`: the start of the answer, already printed while it streamed."""
    rest = answer.text[len(shown):] if answer.text.startswith(shown) else "\n" + answer.text
    print(reveal(rest))
    if answer.translation:
        from . import strings

        print("  " + reveal(strings.SEARCHED_AS[answer.language].format(translation=answer.translation)))
    for c in answer.citations:
        # Text from documents and their names never reaches the terminal raw: an escape sequence in a
        # file would drive it, a bidi override would disguise a name.
        where = (f"{reveal(c.source)}" + (f", p. {c.page}" if c.page else "") + f" [{c.start}:{c.end}]"
                 + (" (OCR)" if c.ocr else ""))
        print(f"  [{c.n}] {where}")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
