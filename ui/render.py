"""Answers, questions, statuses and document lists as HTML, with every text from a file escaped.

Every block carries dir="auto" so each paragraph, Arabic or English, takes its own direction from
its first strong letter: one page-wide direction would flip the other language's punctuation. A line
whose sentences change language (an Arabic quote, then English ones) becomes a block per run of
sentences, so each sentence is laid out, aligned and punctuated in its own direction.
Messages are emitted on a single line because the chat renders Markdown, and a blank line inside a
passage would end the raw-HTML block and let Markdown reinterpret the rest.

Links that open the source viewer (class sanad-open) carry what to show in their href; ui/viewer.js
catches their clicks, so they work from the keyboard like any link and never navigate.
"""
from __future__ import annotations

import re
from datetime import datetime
from html import escape
from pathlib import PurePath

from rag import Answer, Citation, DocInfo, strings
from rag.text import detect_language
from ui.reference import Reference

# Characters that reorder or hide text around them (bidi embeddings, overrides, isolates and marks)
# or are invisible controls: in a file name they make "invoice\u202egpj.md" read "invoicedm.jpg".
# ZWJ/ZWNJ stay: Arabic and Persian spelling uses them.
_HIDDEN = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_CITE = re.compile(r"\[(\d+)\]")
REFERENCE_PREFIX = "sanad-source?"  # href="#sanad-source?src=…&s=…": ui/viewer.js reads what follows


def visible_name(name: str) -> str:
    """A file name with hidden and reordering characters shown as ⟨U+XXXX⟩, so it reads as it is."""
    return _HIDDEN.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", name)


def question(text: str) -> str:
    return _paragraphs(text)


def partial_answer(text: str) -> str:
    """The answer text while it is still streaming in."""
    return _paragraphs(text)


def answer(result: Answer) -> str:
    return _cite_links(_paragraphs(result.text), result) + searched_as(result) + sources(result)


def searched_as(result: Answer) -> str:
    """The question as the LLM translated it for the search, when that search was used: small, under the answer."""
    if not result.translation:
        return ""
    line = strings.SEARCHED_AS[result.language].format(translation=result.translation)
    return f'<p dir="auto" class="sanad-searched-as">{_inline(line)}</p>'


def notice(text: str) -> str:
    """A short message in place of an answer (an error, or a hint what to do); it may name a file."""
    return f'<p dir="auto" class="sanad-notice">{_inline(visible_name(text))}</p>'


def sources(result: Answer) -> str:
    if not result.citations:
        return ""
    items = "".join(_source(c, result.language) for c in result.citations)
    title = escape(strings.SOURCES[result.language])
    return (f'<details class="sanad-sources"><summary dir="auto">{title} ({len(result.citations)})</summary>'
            f'<ol class="sanad-source-list">{items}</ol></details>')


def where(source: str, page: int | None, start: int | None, end: int | None, language: str) -> str:
    """"name · p. 3 · [1256:1691]": the document, page and character offsets, as the CLI prints them."""
    text = f"<bdi>{escape(visible_name(PurePath(source).name))}</bdi>"
    if page is not None:
        text += f" · <bdi>{escape(strings.PAGE[language].format(page=page))}</bdi>"
    if start is not None:
        text += f' · <bdi dir="ltr">[{start}:{end}]</bdi>'
    return text


def _source(citation: Citation, language: str) -> str:
    # The document name lines up with its passage rather than with its own (usually Latin) letters.
    direction = "rtl" if detect_language(citation.text) == "ar" else "ltr"
    link = _open_link(Reference.of(citation), f"[{citation.n}] {where(citation.source, citation.page, citation.start, citation.end, language)}", "sanad-source-name",
                      title=visible_name(citation.source))
    # Text OCR read from a page image may misspell it: the reader is told, and the page is one click away.
    mark = (f' <span class="sanad-ocr" title="{escape(strings.OCR_NOTE[language])}">{escape(strings.OCR_MARK[language])}</span>'
            if citation.ocr else "")
    return (f'<li class="sanad-source" dir="{direction}">{link}{mark}'
            f'<blockquote dir="auto" class="sanad-passage">{highlighted(citation)}</blockquote></li>')


def _cite_links(html: str, result: Answer) -> str:
    """Each [n] of the answer text becomes a link that opens citation n in the viewer."""
    cited = {c.n: c for c in result.citations}

    def link(match: re.Match) -> str:
        citation = cited.get(int(match.group(1)))
        if citation is None:
            return match.group()
        return _open_link(Reference.of(citation), match.group(), "sanad-cite", title=visible_name(citation.source))

    return _CITE.sub(link, html)


def _open_link(reference: Reference, inner_html: str, css_class: str, title: str) -> str:
    # The reference rides in the link's fragment: the chat's HTML sanitiser drops data- attributes.
    return (f'<a href="#{REFERENCE_PREFIX}{escape(reference.encode())}" class="sanad-open {css_class}" '
            f'title="{escape(title)}">{inner_html}</a>')


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


# Documents tab ------------------------------------------------------------------------------------
def status(lines: list[str]) -> str:
    """Status lines as plain text: each language of a two-language line on its own line, in its own
    direction; file names in them show their hidden characters."""
    items = "".join(f"<li>{bilingual(visible_name(line))}</li>" for line in lines if line)
    return f'<ul class="sanad-status">{items}</ul>' if items else ""


def bilingual(line: str) -> str:
    """"English · العربية" as two paragraphs, each in its own direction."""
    return _paragraphs(line.replace(" · ", "\n"))


def documents(docs: list[DocInfo]) -> str:
    """The indexed documents; each name opens the document in the viewer."""
    if not docs:
        return f'<p dir="auto" class="sanad-notice">{_inline(strings.DOCS_NONE)}</p>'
    head = "".join(f'<th dir="auto">{escape(column)}</th>' for column in strings.DOCS_COLUMNS)
    rows = "".join(
        f'<tr><td>{_open_link(Reference(d.source), f"<bdi>{escape(visible_name(d.source))}</bdi>", "sanad-doc", strings.DOCS_OPEN)}</td>'
        f'<td>{d.chunks}</td><td dir="ltr">{escape(_when(d))}</td></tr>'
        for d in docs)
    return f'<table class="sanad-doc-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _when(doc: DocInfo) -> str:
    return datetime.fromisoformat(doc.indexed_at).strftime("%Y-%m-%d %H:%M UTC")


def _paragraphs(text: str) -> str:
    return "".join(f'<p dir="auto">{_inline(run)}</p>' for line in text.split("\n") if line.strip()
                   for run in direction_runs(line))


# A sentence ends at . ! ? ؟ … (and any closing quote or bracket), takes the [n] markers after it, and
# the space that follows; not at an initial's full stop ("U.S. Army"), nor inside brackets.
_SENTENCE_END = re.compile(r"(?<![\s.(][A-Za-z])(?<!^[A-Za-z])[.!?؟…][\"'”’»)]*(?:\s*\[\d+\])*\s+")
# The first strong letter decides a sentence's direction, as dir="auto" does.
_STRONG = re.compile("(?P<rtl>[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc])|[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]")


def direction_runs(line: str) -> list[str]:
    """The line cut where its sentences change direction: "عربي. [1] English. [2]" → two runs. A
    sentence with no letter (a marker, a number) stays with the one before it."""
    runs: list[list] = []  # [direction, text]
    at = 0
    ends = [m.end() for m in _SENTENCE_END.finditer(line)
            if line.count("(", 0, m.start()) <= line.count(")", 0, m.start())]
    for end in [*ends, len(line)]:
        sentence, at = line[at:end], end
        if not sentence:
            continue
        strong = _STRONG.search(sentence)
        direction = None if strong is None else "rtl" if strong.group("rtl") else "ltr"
        if runs and direction in (None, runs[-1][0]):
            runs[-1][1] += sentence
        elif runs and runs[-1][0] is None:
            runs[-1] = [direction, runs[-1][1] + sentence]
        else:
            runs.append([direction, sentence])
    return [text.strip() for _, text in runs if text.strip()] or [line]


def _inline(text: str) -> str:
    return escape(text).replace("\r", "").replace("\n", "<br>")
