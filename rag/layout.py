"""Layout before sentences: the blocks of a document (headings, paragraphs, runs of lines) and the
text a reader sees, built so that every block's offsets are exact.

Plain text keeps its characters and offsets: a line break that only wraps a paragraph becomes a
space (same length). Markdown, HTML, DOCX and PDF readers build their text here from blocks, with
markup removed, so citations index into what the user reads.
"""
from __future__ import annotations

import re

from .types import Block

# C0 and C1 controls other than \n and \t: NUL truncates text in the embedder, escapes reach terminals.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ENDS_SENTENCE = re.compile(r"[.!?؟…:;؛،,]['\"»”’)\]]*$")
_ITEM = re.compile(r"^\s*(?:[-*+•▪◦–]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
_ROW = re.compile(r"^\s*\|")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+")
RUN = 3  # this many short lines in a row are a list (or table, or word list), not headings
WRAP_MIN, WRAP_MAX = 40, 120  # text wrapped by a tool is wrapped at a column in this range


def strip_controls(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    return _CONTROLS.sub("", text)


def is_short_line(line: str) -> bool:
    """A line that does not read as prose: short and not ending like a sentence (a heading, a list
    entry, a table row, a word of a word list)."""
    line = line.strip()
    return 0 < len(line) <= 90 and len(line.split()) <= 12 and not _ENDS_SENTENCE.search(line)


class TextBuilder:
    """Document text from blocks: blank lines between blocks, a line break between the lines of one."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []

    def add(self, text: str, kind: str = "paragraph", level: int = 0, exact: bool = False) -> Block | None:
        """`exact`: the text is already clean, one line, and the caller keeps offsets into it."""
        if exact:
            pass
        elif kind == "lines":
            lines = [" ".join(strip_controls(line).split()) for line in text.split("\n")]
            text = "\n".join(line for line in lines if line)
        else:
            text = " ".join(strip_controls(text).split())
        if not text:
            return None
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        block = Block(self.length, self.length + len(text), kind, level)
        self.parts.append(text)
        self.length += len(text)
        self.blocks.append(block)
        return block

    def text(self) -> str:
        return "".join(self.parts)


def merge_short_runs(text: str, blocks: list[Block]) -> list[Block]:
    """Runs of RUN or more short paragraphs (a list, a table, a word list one entry a paragraph) become
    one "lines" block; a short paragraph just before prose is a heading when its reader could not tell."""
    out: list[Block] = []
    k = 0
    while k < len(blocks):
        block = blocks[k]
        if block.kind not in ("paragraph", "lines") or not _all_short(text, block):
            out.append(block)
            k += 1
            continue
        end = k
        while end + 1 < len(blocks) and blocks[end + 1].kind in ("paragraph", "lines") and _all_short(text, blocks[end + 1]):
            end += 1
        run = blocks[k : end + 1]
        if len(run) >= RUN or any(b.kind == "lines" for b in run) and len(run) > 1:
            out.append(Block(run[0].start, run[-1].end, "lines"))
        else:
            out.extend(run)
        k = end + 1
    return out


def _all_short(text: str, block: Block) -> bool:
    return all(is_short_line(line) for line in text[block.start : block.end].split("\n"))


def plain_layout(text: str) -> tuple[str, list[Block]]:
    """The text (wrapping folded, offsets kept) and its blocks, inferred from lines alone.

    A hard-wrapped paragraph (a README, an e-mail, exported text) is recognised by its line width:
    a break where the next line's first word would not have fitted on the line is wrapping. Text
    written one paragraph per line, like the seed article, has lines far wider than any wrap
    column and keeps its breaks.
    """
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    prose = [e - s for s, e in lines if not (_ROW.match(text[s:e]) or _MD_HEADING.match(text[s:e]))]
    width = max(prose, default=0)
    wrapped = WRAP_MIN <= width <= WRAP_MAX and sum(w >= 0.8 * width for w in prose) >= 3
    chars = list(text)
    units: list[tuple[int, int]] = []  # logical lines, wrapping folded
    for k, (start, end) in enumerate(lines):
        line = text[start:end]
        if units and wrapped and _continues(text, lines[k - 1], (start, end), width):
            chars[start - 1] = " "
            units[-1] = (units[-1][0], end)
        elif line.strip():
            units.append((start, end))
    text = "".join(chars)
    blocks: list[Block] = []
    for start, end in units:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        line = text[start:end]
        heading = _MD_HEADING.match(line)
        blocks.append(Block(start, end, "heading" if heading else "paragraph", len(heading.group(1)) if heading else 0))
    return text, infer_headings(text, merge_short_runs(text, blocks))


def _continues(text: str, previous: tuple[int, int], line: tuple[int, int], width: int) -> bool:
    """Whether `line` carries on the paragraph of `previous` (a wrapped line) rather than starting a block."""
    if previous[1] + 1 != line[0]:
        return False  # a blank line between them
    before, after = text[previous[0]:previous[1]], text[line[0]:line[1]]
    if any(p.match(after) for p in (_ITEM, _ROW, _MD_HEADING)) or _ROW.match(before) or _MD_HEADING.match(before):
        return False
    first_word = after.split()[0] if after.split() else ""
    return len(before.rstrip()) + 1 + len(first_word) > width - 1


def infer_headings(text: str, blocks: list[Block]) -> list[Block]:
    """A lone short paragraph followed by prose is a heading (the first block of the text: the title)."""
    out: list[Block] = []
    for k, block in enumerate(blocks):
        following = blocks[k + 1] if k + 1 < len(blocks) else None
        if (block.kind == "paragraph" and is_short_line(text[block.start:block.end]) and following is not None
                and following.kind == "paragraph" and not is_short_line(text[following.start:following.end])):
            out.append(Block(block.start, block.end, "heading", 1 if k == 0 else 2))
        else:
            out.append(block)
    return out


def markdown_layout(source: str) -> tuple[str, list[Block], str]:
    """Markdown rendered to the text a reader sees: headings, paragraphs, list items and table rows
    as blocks, inline markup (links, emphasis, code) shown as its text. Returns text, blocks, title."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(strip_controls(source))
    builder = TextBuilder()
    title = ""
    lines: list[str] = []  # the items of a list or the rows of a table being collected
    row: list[str] = []
    depth = 0  # list nesting
    heading_level = 0
    for index, token in enumerate(tokens):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                builder.add("\n".join(lines), "lines")
                lines = []
        elif kind == "heading_open":
            heading_level = int(token.tag[1])
        elif kind == "tr_close":
            lines.append(" | ".join(row))
            row = []
        elif kind == "table_close":
            builder.add("\n".join(lines), "lines")
            lines = []
        elif kind in ("fence", "code_block"):
            builder.add(token.content, "lines")
        elif kind == "inline":
            value = _inline_text(token)
            if heading_level:
                builder.add(value, "heading", heading_level)
                title = title or (value if heading_level == 1 else "")
                heading_level = 0
            elif index and tokens[index - 1].type in ("th_open", "td_open"):
                row.append(" ".join(value.split()))
            elif depth:
                lines.append(" ".join(value.split()))
            else:
                builder.add(value, "lines" if "\n" in value else "paragraph")
    if lines:
        builder.add("\n".join(lines), "lines")
    text = builder.text()
    return text, merge_short_runs(text, builder.blocks), title


def _inline_text(token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content or "")
    return "".join(parts)
