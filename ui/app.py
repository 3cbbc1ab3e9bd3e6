"""The web chat (`rag chat`): a thin Gradio layer over the engine; it renders, the engine answers."""
from __future__ import annotations

import os

# Before Gradio is imported: its analytics and version check would otherwise phone home, and a
# pending analytics thread can keep a process alive after close().
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import logging
import sys
from pathlib import Path
from typing import Callable, Iterator

import gradio as gr
from starlette.middleware import Middleware

from rag import Answer, IndexReport, Turn, strings
from rag.embedders import EmbedderError
from rag.index_state import IndexMissing, IndexProblem
from rag.read import SUPPORTED, ReadError
from rag.text import detect_language
from ui import render, viewer
from ui.login import LoginThrottle, chat_auth, trust_proxies
from ui.port import free_port_after, port_taken
from ui.uploads import accept_uploads, discard, indexed_documents, recover

log = logging.getLogger(__name__)

CSS_PATH = Path(__file__).with_name("chat.css")
VIEWER_JS = Path(__file__).with_name("viewer.js").read_text(encoding="utf-8")
# System fonts only: a Google or bundled web font would be one more thing fetched, and the system's
# Arabic fonts shape Arabic better than a Latin-first web font with fallbacks.
THEME = gr.themes.Default(
    font=["system-ui", "Segoe UI", "Noto Sans", "Noto Sans Arabic", "DejaVu Sans", "sans-serif"],
    font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"],
)
# Problems the engine explains in one line of its own; anything else is logged and summarised.
EXPLAINED = (IndexProblem, EmbedderError, ReadError)
# Every event that touches the engine queues here, one at a time: tabs take turns on the one engine,
# and a tab asking while another indexes sees its place in the queue instead of a stalled spinner.
ENGINE = {"concurrency_id": "engine", "concurrency_limit": 1}

Messages = list[dict]
DocsView = tuple[str, gr.Dropdown]


# Chat ----------------------------------------------------------------------------------------------
def make_chat(engine) -> Callable[..., Iterator[tuple[Messages, list[Turn]]]]:
    def chat(question: str, messages: Messages, turns: list[Turn],
             answerer: str | None = None) -> Iterator[tuple[Messages, list[Turn]]]:
        """`answerer`: "extractive" or the configured LLM (engine.answerers()); None: the settings' choice."""
        question = (question or "").strip()
        if not question:
            yield messages, turns
            return
        messages = [*messages, _message("user", render.question(question)), _message("assistant", "")]
        try:
            for part in engine.stream(question, turns, llm=answerer):
                if isinstance(part, Answer):
                    messages[-1] = _message("assistant", render.answer(part))
                    turns = [*turns, Turn(question, part.text)]
                else:
                    messages[-1] = _message("assistant", render.partial_answer(part))
                yield messages, turns
        except Exception as err:  # the user gets one line in the chat, never a traceback
            messages[-1] = _message("assistant", render.notice(_chat_error(err, question)))
            yield messages, turns

    return chat


def _message(role: str, html: str) -> dict:
    return {"role": role, "content": html}


def _chat_error(err: Exception, question: str) -> str:
    language = detect_language(question)
    if isinstance(err, IndexMissing):
        return strings.CHAT_NO_INDEX[language]
    if isinstance(err, EXPLAINED):
        return str(err)
    log.exception("answering %r failed", question)
    return strings.CHAT_FAILED[language].format(detail=type(err).__name__)


def _example_text(selection: gr.SelectData) -> str:
    return selection.value["text"]


# Documents -----------------------------------------------------------------------------------------
def _docs_view(engine) -> DocsView:
    try:
        docs = engine.documents()
    except IndexMissing:
        docs = []
    # The menu shows names as the table does (bidi controls visible) and hands back the real source.
    choices = [(render.visible_name(d.source), d.source) for d in docs]
    return render.documents(docs), gr.Dropdown(choices=choices, value=None)


def _docs_action(engine, action: Callable[[], list[str]]) -> tuple[str, str, gr.Dropdown]:
    """Runs an index change and returns its status lines (as plain-text HTML) with the fresh listing;
    failures become the status."""
    try:
        lines = action()
    except IndexMissing:
        lines = [strings.DOCS_NONE]
    except EXPLAINED as err:
        lines = [strings.DOCS_FAILED, str(err)]
    except Exception as err:
        log.exception("index change failed")
        lines = [strings.DOCS_FAILED, type(err).__name__]
    try:
        return (render.status(lines), *_docs_view(engine))
    except EXPLAINED as err:
        return render.status([*lines, str(err)]), render.documents([]), gr.Dropdown(choices=[], value=None)


def _report(report: IndexReport, notes: list[str], refused: int = 0, uploaded: bool = False) -> list[str]:
    """The summary line, a line naming each file indexed (and, for an upload, each already indexed as
    it is), then a line per note and per failure; `refused` uploads count as failed."""
    summary = strings.docs_report(len(report.added), len(report.updated), len(report.removed),
                                  len(report.unchanged), len(report.failed) + refused)
    indexed = [strings.docs_indexed(Path(source).name) for source in [*report.added, *report.updated]]
    if uploaded:
        indexed += [strings.docs_unchanged(Path(source).name) for source in report.unchanged]
    failures = [f"{Path(f.source).name}: {f.reason}" for f in report.failed]
    return [summary, *indexed, *notes, *failures, *report.notes]


def _progress_reporter(progress: gr.Progress) -> Callable[[str, int, int], None]:
    def report(stage: str, done: int, total: int) -> None:
        unit = strings.DOCS_STAGE_UNITS.get(stage)
        progress((done, total), desc=_isolated(strings.DOCS_STAGES.get(stage, stage)), unit=_isolated(unit) if unit else "")

    return report


def _isolated(text: str) -> str:
    """Gradio writes "<desc> - 40.0%" and "2/5 <unit> | 1.0s" as lines of their own: two-language
    text is isolated (U+2068 … U+2069), so the numbers beside it are not pulled into its Arabic run."""
    return f"\u2068{text}\u2069"


def _upload_started(files: list[str] | None) -> str:
    """The status while an upload is checked and indexed: it names the files, and replaces whatever
    the last action said."""
    names = [Path(f).name for f in files or []]
    return render.status([strings.docs_indexing(", ".join(names))]) if names else ""


def _upload_handler(engine):
    def upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str, gr.Dropdown]:
        def index() -> list[str]:
            if not files:
                return [strings.DOCS_NO_FILES]
            settings = engine.settings
            _progress_reporter(progress)("check", 0, len(files))
            placed = accept_uploads(files, settings.uploads_dir, settings.max_file_mb, indexed_documents(engine),
                                    lambda done, total: _progress_reporter(progress)("ocr", done, total))
            report = IndexReport()
            try:
                if placed.paths:
                    report = engine.index(placed.paths, progress=_progress_reporter(progress))
            finally:
                discard(placed, _indexed_paths(engine))
            return _report(report, placed.notes, refused=placed.refused, uploaded=True)

        return _docs_action(engine, index)

    return upload


def _removing(source: str | None) -> str:
    return render.status([strings.docs_removing(Path(source).name)]) if source else ""


def _indexed_paths(engine) -> set[str]:
    try:
        return {d.path for d in engine.documents()}
    except IndexProblem:
        return set()


def _remove_handler(engine):
    def remove(source: str | None) -> tuple[str, str, gr.Dropdown]:
        def forget() -> list[str]:
            if not source:
                return [strings.DOCS_NOTHING_CHOSEN]
            return _report(engine.remove(source), [])

        return _docs_action(engine, forget)

    return remove


def _rebuild_handler(engine):
    def rebuild(progress: gr.Progress = gr.Progress()) -> tuple[str, str, gr.Dropdown]:
        return _docs_action(engine, lambda: _report(engine.rebuild(progress=_progress_reporter(progress)), []))

    return rebuild


def _list_handler(engine):
    def documents() -> tuple[str, str, gr.Dropdown]:
        return _docs_action(engine, lambda: [])

    return documents


# Page ----------------------------------------------------------------------------------------------
def build_app(engine) -> gr.Blocks:
    with gr.Blocks(title=strings.CHAT_TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {strings.CHAT_TITLE}\n{strings.CHAT_INTRO}", elem_id="sanad-intro")
        with gr.Row(elem_id="sanad-main", equal_height=False):
            with gr.Column(scale=3, elem_id="sanad-work"):
                with gr.Tab(strings.CHAT_TAB):
                    _chat_tab(engine)
                with gr.Tab(strings.DOCS_TAB):
                    _docs_tab(engine, demo)
            with gr.Column(scale=2, min_width=320, elem_id="sanad-viewer-column"):
                _viewer(engine)
    return demo


def _viewer(engine) -> None:
    """The source viewer beside the tabs (the whole screen on a phone); ui/viewer.js opens and closes it."""
    def open_source(reference: str) -> str:
        return viewer.view(engine, reference)

    gr.HTML("", elem_id="sanad-viewer", js_on_load=VIEWER_JS, server_functions=[open_source], apply_default_css=True)
    gr.api(open_source, api_name="source", queue=False)


def _chat_tab(engine) -> None:
    turns = gr.State([])  # per browser tab: each conversation keeps its own follow-up history
    # No label: Gradio floats it over the conversation's first line; the page title names the chat.
    chatbot = gr.Chatbot(
        label=strings.CHAT_LABEL, show_label=False, elem_id="sanad-chat", height="72vh", min_height=420, layout="bubble",
        examples=[{"text": q} for q in strings.CHAT_EXAMPLES], feedback_options=None,
        latex_delimiters=[], buttons=["copy"], autoscroll=True,
    )
    with gr.Row(equal_height=True):
        box = gr.Textbox(placeholder=strings.CHAT_PLACEHOLDER, show_label=False, scale=8, autofocus=True,
                         elem_id="sanad-question", lines=1, max_lines=6, submit_btn=False)
        send = gr.Button(strings.CHAT_SEND, variant="primary", scale=1, min_width=90, elem_id="sanad-send")
    # Which answerer is in use, and the switch between quoting and the user's LLM (when one is configured).
    # The choice lives in per-tab state, so the chat's API keeps its three inputs.
    choices = engine.answerers()
    current = engine.settings.llm if engine.settings.llm in choices else "extractive"
    answerer = gr.State(current)
    # Shown only when there is a choice: quoting alone needs no switch.
    switch = gr.Radio(choices=[(_answerer_label(c), c) for c in choices], value=current, label=strings.CHAT_ANSWERER,
                      interactive=len(choices) > 1, visible=len(choices) > 1, elem_id="sanad-answerer")
    switch.change(lambda choice: choice, switch, answerer, queue=False, api_visibility="private")
    chat = make_chat(engine)
    triggers = [box.submit, send.click]
    gr.on(triggers, chat, [box, chatbot, turns, answerer], [chatbot, turns], api_name="chat", **ENGINE)
    # A second listener on the same triggers: the chat listener has already read the box.
    gr.on(triggers, lambda: "", None, box, queue=False, api_visibility="private")
    chatbot.example_select(_example_text, None, box, queue=False, api_visibility="private").then(
        chat, [box, chatbot, turns, answerer], [chatbot, turns], api_visibility="private", **ENGINE
    ).then(lambda: "", None, box, queue=False, api_visibility="private")
    chatbot.clear(lambda: [], None, turns, api_visibility="private")


def _answerer_label(name: str) -> str:
    return strings.CHAT_ANSWERER_EXTRACTIVE if name == "extractive" else name


def _docs_tab(engine, demo: gr.Blocks) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            gr.Markdown(strings.docs_upload_help(SUPPORTED), elem_id="sanad-upload-help")
            # No file_types: Gradio would refuse other types in the browser with a short English toast;
            # accept_uploads() refuses them with the file's name, in both languages, like any failure.
            files = gr.File(label=strings.DOCS_UPLOAD_LABEL, file_count="multiple", type="filepath",
                            elem_id="sanad-upload")
            # Plain text rendered by ui/render.py: file names and parser errors are never Markdown.
            status = gr.HTML(elem_id="sanad-docs-status", js_on_load=None)
        with gr.Column(scale=2):
            gr.Markdown(f"### {strings.DOCS_TABLE}", elem_id="sanad-docs-title")
            table = gr.HTML(elem_id="sanad-docs", js_on_load=None)
            with gr.Row(equal_height=True):
                chosen = gr.Dropdown(label=strings.DOCS_CHOOSE, choices=[], scale=3, elem_id="sanad-docs-remove")
                remove = gr.Button(strings.DOCS_REMOVE, variant="stop", scale=1)
            with gr.Row():
                rebuild = gr.Button(strings.DOCS_REBUILD)
                refresh = gr.Button(strings.DOCS_REFRESH)
    listing = [status, table, chosen]
    # Progress shows on the status alone: the table and the menu stay readable while it runs.
    files.upload(_upload_started, files, status, queue=False, api_visibility="private").then(
        _upload_handler(engine), files, listing, api_name="upload", show_progress_on=status, **ENGINE).then(
        lambda: None, None, files, queue=False, api_visibility="private")
    # Each action first says what it is doing, in place of what the last one said.
    remove.click(_removing, chosen, status, queue=False, api_visibility="private").then(
        _remove_handler(engine), chosen, listing, api_name="remove", show_progress_on=status, **ENGINE)
    rebuild.click(lambda: render.status([strings.DOCS_REBUILDING]), None, status, queue=False,
                  api_visibility="private").then(
        _rebuild_handler(engine), None, listing, api_name="rebuild", show_progress_on=status, **ENGINE)
    gr.on([refresh.click, demo.load], _list_handler(engine), None, listing, api_name="documents",
          show_progress_on=status, **ENGINE)


# Serving -------------------------------------------------------------------------------------------
def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, auth: tuple[str, str] | None = None,
           block: bool = True, max_file_mb: float | None = None, trusted_proxies: tuple[str, ...] = ()) -> str:
    """Starts the server and returns its local URL; with block=False it keeps running until demo.close().
    port=None takes the first free port from 7860 on."""
    trust_proxies(trusted_proxies)
    demo.queue()
    _, url, _ = demo.launch(
        server_name=host, server_port=port, auth=auth, share=False, prevent_thread_lock=True, quiet=True,
        ssr_mode=False, pwa=False, mcp_server=False, show_error=False, run_history=False,
        footer_links=["api", "settings"], theme=THEME, css_paths=[CSS_PATH],
        # Gradio refuses bigger uploads before they are stored and says so; it counts in MiB, so its
        # message shows the round limit and accept_uploads() catches the sliver between MB and MiB.
        max_file_size=int(max_file_mb * 2**20) if max_file_mb else None,
        app_kwargs={"middleware": [Middleware(LoginThrottle)]},
    )
    if block:
        print(strings.CHAT_RUNNING.format(url=url), flush=True)
        demo.block_thread()
    return url


def run_from_cli(engine, args) -> int:
    try:
        auth = chat_auth(args.host, os.environ.get("SANAD_AUTH"))
        trust_proxies(engine.settings.trusted_proxies)  # checked before anything starts
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    for line in recover(engine.settings.uploads_dir, {d.path for d in indexed_documents(engine)}):
        print(line, file=sys.stderr)  # what an upload left when the last chat was killed
    if port_taken(args.host, args.port):  # rag chat checked before loading; the port may have gone since
        print(strings.CHAT_PORT_BUSY.format(port=args.port, free=free_port_after(args.host, args.port)), file=sys.stderr)
        return 2
    launch(build_app(engine), args.host, args.port, auth, max_file_mb=engine.settings.max_file_mb,
           trusted_proxies=engine.settings.trusted_proxies)
    return 0
