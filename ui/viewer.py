"""The source viewer: a document beside the chat, at the cited passage, its quoted sentences marked.

The text view shows the passage with the lines around it (the index keeps vectors, not text, so
Sanad.document() reads the file again and checks it is the one indexed). For a PDF the page view
shows the page itself, with boxes on the quoted sentences; one click switches between the two.
Everything from the file is escaped: the viewer shows text, never markup.
"""
from __future__ import annotations

import base64
import logging
from dataclasses import replace
from html import escape
from pathlib import Path

from rag import Document, strings
from rag.index_state import IndexProblem
from rag.read import ReadError
from rag.text import detect_language
from ui import ocr_page
from ui.pdf_page import PageNotShown, render_page
from ui.reference import Reference
from ui.render import bilingual, visible_name, where

log = logging.getLogger(__name__)

CONTEXT = 2500  # characters shown either side of the cited passage, widened to whole lines
HEAD = 20000  # characters shown of a document opened without a citation
MAX_HIGHLIGHTS = 32  # quoted sentences marked in one passage (an answer quotes a handful)


def view(engine, encoded: str) -> str:
    """The viewer's HTML for an encoded Reference (it comes from the page, so anything may arrive)."""
    reference = Reference.decode(encoded)
    if reference is None:
        return _notice(strings.VIEWER_CANNOT_OPEN.format(name="?", reason=strings.REASON_NOT_INDEXED))
    try:
        document = engine.document(reference.source)
        path = next((Path(d.path) for d in engine.documents() if d.source == reference.source), None)
        if path is None:  # removed between the two looks
            raise ReadError(reference.source, strings.REASON_NOT_INDEXED)
    except (ReadError, IndexProblem) as err:
        reason = err.reason if isinstance(err, ReadError) else str(err)
        return _notice(strings.VIEWER_CANNOT_OPEN.format(name=visible_name(reference.source), reason=reason))
    if reference.start is not None and not 0 <= reference.start < reference.end <= len(document.text):
        reference = Reference(reference.source)  # offsets from elsewhere: show the document from its start
    if reference.page is not None and not 1 <= reference.page <= len(document.pages):  # a text file has none
        reference = replace(reference, page=None)
    # A citation quotes a few sentences of its passage. Other spans came from elsewhere, and every mark
    # is looked for in every piece of every line shown: 6,000 of them took 2.4 s, a megabyte of them minutes.
    spans = sorted({(a, b) for a, b in reference.highlights
                    if reference.start is not None and reference.start <= a < b <= reference.end})
    reference = replace(reference, highlights=tuple(spans[:MAX_HIGHLIGHTS]))
    language = detect_language(document.text[:2000])
    page = _page_of(document, reference)
    paged = path.suffix.lower() == ".pdf" or ocr_page.shows(document, page or 1)  # an image OCR read too
    figure, note = _page_view(path, page or 1, document, reference) if paged else ("", "")
    return (f'<div class="sanad-viewer" data-view="{"page" if figure else "text"}" role="region" '
            f'aria-label="{escape(strings.VIEWER_LABEL)}">'
            f'{_bar(reference, page, language, has_page=bool(figure))}{figure}'
            f'<div class="sanad-doc">{note}{_text_view(document, reference)}</div></div>')


def _page_of(document: Document, reference: Reference) -> int | None:
    """The page that holds most of the quoted sentences (a passage may begin at the foot of the page
    before them), else the passage's page."""
    spans = reference.highlights or ((reference.start, reference.end),) if reference.start is not None else ()
    if not document.pages or not spans:
        return reference.page
    overlap = [sum(max(0, min(b, end) - max(a, start)) for a, b in spans) for start, end in document.pages]
    return overlap.index(max(overlap)) + 1 if max(overlap) else reference.page


def _bar(reference: Reference, page: int | None, language: str, has_page: bool) -> str:
    title = where(reference.source, page, reference.start, reference.end, language)
    # The title reads from the file name: set by the name's own letters (a Latin name left to right
    # even after an Arabic question), not by the page label, which dir="auto" would find first.
    direction = "rtl" if detect_language(Path(reference.source).name) == "ar" else "ltr"
    toggles = (f'<button type="button" data-action="page">{escape(strings.VIEWER_SHOW_PAGE)}</button>'
               f'<button type="button" data-action="text">{escape(strings.VIEWER_SHOW_TEXT)}</button>'
               f'{_icon_button("zoom-out", "−", strings.VIEWER_ZOOM_OUT)}{_icon_button("zoom-in", "+", strings.VIEWER_ZOOM_IN)}'
               ) if has_page else ""
    return (f'<div class="sanad-viewer-bar"><p dir="{direction}" class="sanad-viewer-title" '
            f'title="{escape(visible_name(reference.source))}">{title}</p>'
            f'<button type="button" data-action="close" class="sanad-viewer-close">{escape(strings.VIEWER_CLOSE)}</button>'
            f'<div class="sanad-viewer-actions">{toggles}</div></div>')


def _icon_button(action: str, icon: str, label: str) -> str:
    return (f'<button type="button" data-action="{action}" class="sanad-zoom" aria-label="{escape(label)}" '
            f'title="{escape(label)}">{icon}</button>')


def _text_view(document: Document, reference: Reference) -> str:
    text = document.text
    if reference.start is None:
        low, high = 0, min(len(text), HEAD)
    else:
        low, high = max(0, reference.start - CONTEXT), min(len(text), reference.end + CONTEXT)
    # Whole lines, unless a line is itself longer than the context (a file without line breaks).
    line_start, line_end = text.rfind("\n", 0, low) + 1, text.find("\n", high)
    line_end = len(text) if line_end < 0 else line_end
    if low - line_start <= CONTEXT:
        low = line_start
    if line_end - high <= CONTEXT:
        high = line_end
    cuts = {low, high}
    if reference.start is not None:
        cuts |= {reference.start, reference.end}
    cuts |= {x for span in reference.highlights for x in span if low < x < high}
    lines, at = [], low
    while at < high:
        end = text.find("\n", at, high)
        end = high if end < 0 else end
        if text[at:end].strip():
            lines.append(_line(text, at, end, cuts, reference))
        at = end + 1
    return _more(low) + "".join(lines) + _more(len(text) - high)


def _more(hidden: int) -> str:
    """Says how much of the document lies beyond what is shown, on that side."""
    return f'<div class="sanad-more">{bilingual(strings.VIEWER_MORE.format(n=hidden))}</div>' if hidden else ""


def _line(text: str, start: int, end: int, cuts: set[int], reference: Reference) -> str:
    """One line of the document, the passage and its quoted sentences marked; a line holding the
    passage's start is where the viewer scrolls to."""
    points = sorted({start, end} | {c for c in cuts if start < c < end})
    parts: list[str] = []
    classes: list[str] = []
    for a, b in zip(points, points[1:]):
        piece = escape(text[a:b])
        in_passage = reference.start is not None and reference.start <= a < reference.end
        if in_passage and any(h0 <= a < h1 for h0, h1 in reference.highlights):
            piece = f"<mark>{piece}</mark>"
        if in_passage:
            piece = f'<span class="sanad-cited">{piece}</span>'
        parts.append(piece)
    if reference.start is not None and start < reference.end and end > reference.start:
        classes.append("sanad-passage-line")
        if start <= reference.start <= end:
            classes.append("sanad-scroll-to")
    css = f' class="{" ".join(classes)}"' if classes else ""
    return f'<p dir="auto"{css}>{"".join(parts)}</p>'


def _page_view(path: Path, page: int, document: Document, reference: Reference) -> tuple[str, str]:
    """The page's image with the sentences' boxes, or else a note saying why the text stands alone."""
    start, end = document.pages[page - 1] if page <= len(document.pages) else (0, len(document.text))
    sentences = [document.text[max(a, start):min(b, end)] for a, b in reference.highlights if a < end and b > start]
    try:
        image = (ocr_page.page_image(path, page, document, reference.highlights) if ocr_page.shows(document, page)
                 else render_page(path, page, sentences))
    except PageNotShown as err:
        log.warning("cannot render page %s of %s: %s", page, path, err.reason)
        return "", f'<div class="sanad-more sanad-page-note">{bilingual(err.reason)}</div>'
    boxes = "".join(f'<span class="sanad-box" style="left:{100 * x:.3f}%;top:{100 * y:.3f}%;'
                    f'width:{100 * w:.3f}%;height:{100 * h:.3f}%"></span>' for x, y, w, h in image.boxes)
    missing = (f'<figcaption>{bilingual(strings.VIEWER_NOT_ON_PAGE)}</figcaption>'
               if sentences and image.located < len(sentences) else "")
    source = base64.b64encode(image.png).decode("ascii")
    alt = escape(f"{visible_name(Path(document.source).name)} · {page}")
    return (f'<figure class="sanad-page"><div class="sanad-page-frame">'
            f'<img src="data:image/png;base64,{source}" width="{image.width}" height="{image.height}" alt="{alt}">'
            f'{boxes}</div>{missing}</figure>', "")


def _notice(text: str) -> str:
    close = f'<button type="button" data-action="close" class="sanad-viewer-close">{escape(strings.VIEWER_CLOSE)}</button>'
    return (f'<div class="sanad-viewer" data-view="text"><div class="sanad-viewer-bar"><p dir="auto" class="sanad-notice">'
            f'{escape(text)}</p><div class="sanad-viewer-actions">{close}</div></div></div>')
