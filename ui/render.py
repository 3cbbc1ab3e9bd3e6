"""Answers and questions as chat-message HTML.

Every block carries dir="auto" so each paragraph, Arabic or English, takes its own direction from
its first strong letter: one page-wide direction would flip the other language's punctuation.
Messages are emitted on a single line because the chat renders Markdown, and a blank line inside a
passage would end the raw-HTML block and let Markdown reinterpret the rest.
"""
from __future__ import annotations

from html import escape
from pathlib import PurePath

from rag import Answer, Citation, strings
from rag.text import detect_language


def question(text: str) -> str:
    return _paragraphs(text)


def partial_answer(text: str) -> str:
    """The answer text while it is still streaming in."""
    return _paragraphs(text)


def answer(result: Answer) -> str:
    return _paragraphs(result.text) + sources(result)


def notice(text: str) -> str:
    """A short message in place of an answer (an error, or a hint what to do)."""
    return f'<p dir="auto" class="sanad-notice">{_inline(text)}</p>'


def sources(result: Answer) -> str:
    if not result.citations:
        return ""
    items = "".join(_source(c, result.language) for c in result.citations)
    title = escape(strings.SOURCES[result.language])
    return (f'<details class="sanad-sources"><summary dir="auto">{title} ({len(result.citations)})</summary>'
            f'<ol class="sanad-source-list">{items}</ol></details>')


def _source(citation: Citation, language: str) -> str:
    # The document name lines up with its passage rather than with its own (usually Latin) letters.
    direction = "rtl" if detect_language(citation.text) == "ar" else "ltr"
    where = f"[{citation.n}] <bdi>{escape(PurePath(citation.source).name)}</bdi>"
    if citation.page is not None:
        where += " · " + escape(strings.PAGE[language].format(page=citation.page))
    return (f'<li class="sanad-source" dir="{direction}">'
            f'<div class="sanad-source-name" title="{escape(citation.source)}">{where}</div>'
            f'<blockquote dir="auto" class="sanad-passage">{highlighted(citation)}</blockquote></li>')


def highlighted(citation: Citation) -> str:
    """The passage, escaped, with its cited sentences inside <mark>."""
    text, out, at = citation.text, [], 0
    for start, end in sorted(citation.highlights):
        start = max(start, at)  # overlapping spans would nest <mark> tags
        if end <= start:
            continue
        out += [_inline(text[at:start]), f"<mark>{_inline(text[start:end])}</mark>"]
        at = end
    out.append(_inline(text[at:]))
    return "".join(out)


def _paragraphs(text: str) -> str:
    return "".join(f'<p dir="auto">{_inline(line)}</p>' for line in text.split("\n") if line.strip())


def _inline(text: str) -> str:
    return escape(text).replace("\r", "").replace("\n", "<br>")
