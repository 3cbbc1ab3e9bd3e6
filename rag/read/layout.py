"""Layout before sentences: the blocks of a document (headings, paragraphs, runs of lines) and the
text a reader sees, built so that every block's offsets are exact.

Plain text keeps its characters and offsets: a line break that only wraps a paragraph becomes a
space (same length). Markdown, HTML, DOCX and PDF readers build their text here from blocks, with
markup removed, so citations index into what the user reads.
"""
from __future__ import annotations

import re

from ..types import Block

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
    """Document text from blocks: blank lines between blocks, a line break between the lines of one.
    Runs of short blocks merge as they arrive and the text is packed as it grows, so memory follows
    the text's size, not its count of paragraphs."""

    def __init__(self) -> None:
        self.packed: list[str] = []
        self.parts: list[str] = []
        self.length = 0
        self.count = 0  # blocks added
        self.runs = _Runs("")

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
        if self.length:
            self.parts.append("\n\n")
            self.length += 2
        block = Block(self.length, self.length + len(text), kind, level)
        self.parts.append(text)
        if len(self.parts) > 4096:
            self.packed.append("".join(self.parts))
            self.parts = []
        self.length += len(text)
        self.count += 1
        self.runs.add(block, text)
        return block

    def text(self) -> str:
        return "".join(self.packed) + "".join(self.parts)

    def blocks(self) -> list[Block]:
        """The blocks, runs of short ones merged."""
        return self.runs.blocks()


class _Runs:
    """Blocks in, blocks out, with runs of RUN or more short ones (a list, a table, a word list one
    entry a line or a paragraph) merged into one "lines" block. Holds at most RUN blocks, so a file of a
    million short lines never becomes a million blocks at once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[Block] = []
        self.run: list[Block] = []
        self.span: tuple[int, int] | None = None  # the run, once it is long enough to merge
        self.merge = False

    def add(self, block: Block, text: str | None = None) -> None:
        """`text`: the block's text, when self.text does not hold it (yet)."""
        if block.kind in ("paragraph", "lines") and self._short(block, text):
            if self.span is not None:
                self.span = (self.span[0], block.end)
                self.merge = self.merge or block.kind == "lines"
                return
            self.run.append(block)
            if len(self.run) >= RUN or (len(self.run) > 1 and any(b.kind == "lines" for b in self.run)):
                self.span, self.run = (self.run[0].start, block.end), []
            return
        self.flush()
        self.out.append(block)

    def flush(self) -> None:
        if self.span is not None:
            self.out.append(Block(self.span[0], self.span[1], "lines"))
        self.out.extend(self.run)
        self.run, self.span = [], None

    def _short(self, block: Block, text: str | None) -> bool:
        text = self.text[block.start : block.end] if text is None else text
        if block.kind == "paragraph":  # a line break inside a paragraph only wraps it
            return is_short_line(text)
        return all(is_short_line(line) for line in text.split("\n"))

    def blocks(self) -> list[Block]:
        self.flush()
        return self.out


_LINE = re.compile(r"[^\n]+")


def _structural(line: str) -> bool:
    return bool(_ROW.match(line) or _MD_HEADING.match(line))


def plain_layout(text: str) -> tuple[str, list[Block]]:
    """The text (wrapping folded, offsets kept) and its blocks, inferred from lines alone.

    A hard-wrapped paragraph (a README, an e-mail, exported text) is recognised by its line width:
    a break where the next line's first word would not have fitted on the line is wrapping. Text
    written one paragraph per line, like the seed article, has lines far wider than any wrap
    column and keeps its breaks. Lines are streamed, never all held at once.
    """
    width = max((m.end() - m.start() for m in _LINE.finditer(text) if not _structural(m.group())), default=0)
    wrapped = False
    if WRAP_MIN <= width <= WRAP_MAX:
        near = (1 for m in _LINE.finditer(text) if m.end() - m.start() >= 0.8 * width and not _structural(m.group()))
        wrapped = sum(1 for _, _ in zip(near, range(3))) >= 3
    folds: list[int] = []  # line breaks that only wrap a paragraph
    runs = _Runs(text)
    previous: tuple[int, int] | None = None
    unit: tuple[int, int] | None = None
    for match in _LINE.finditer(text):
        if unit is not None and wrapped and _continues(text, previous, match.span(), width):
            folds.append(match.start() - 1)
            unit = (unit[0], match.end())
        else:
            if unit is not None:
                _add_unit(text, unit, runs)
            unit = match.span() if match.group().strip() else None
        previous = match.span()
    if unit is not None:
        _add_unit(text, unit, runs)
    if folds:
        pieces, last = [], 0
        for fold in folds:
            pieces += [text[last:fold], " "]
            last = fold + 1
        text = "".join(pieces) + text[last:]
    runs.text = text
    return text, infer_headings(text, runs.blocks())


def _add_unit(text: str, unit: tuple[int, int], runs: _Runs) -> None:
    start, end = unit
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        heading = _MD_HEADING.match(text[start:end])
        runs.add(Block(start, end, "heading" if heading else "paragraph", len(heading.group(1)) if heading else 0))


def _continues(text: str, previous: tuple[int, int], line: tuple[int, int], width: int) -> bool:
    """Whether `line` carries on the paragraph of `previous` (a wrapped line) rather than starting a block."""
    if previous[1] + 1 != line[0]:
        return False  # a blank line between them
    before, after = text[previous[0]:previous[1]], text[line[0]:line[1]]
    if not before.strip() or not after.strip():
        return False
    if any(p.match(after) for p in (_ITEM, _ROW, _MD_HEADING)) or _structural(before):
        return False
    return len(before.rstrip()) + 1 + len(after.split()[0]) > width - 1


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
    builder = TextBuilder()
    title = ""
    lines: list[str] = []  # the items of a list or the rows of a table being collected
    row: list[str] = []
    depth = 0  # list nesting
    heading_level = 0
    previous = ""  # the type of the token before, within its slice
    for previous, token in _tokens(md, strip_controls(source)):
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
            elif previous in ("th_open", "td_open"):
                row.append(" ".join(value.split()))
            elif depth:
                lines.append(" ".join(value.split()))
            else:
                builder.add(value, "lines" if "\n" in value else "paragraph")
    if lines:
        builder.add("\n".join(lines), "lines")
    return builder.text(), builder.blocks(), title


def _tokens(md, source: str, slice_chars: int = 1_000_000):
    """markdown-it's tokens, parsed a slice at a time: a slice ends at a blank line outside a code
    fence, so a 50 MB file never becomes one list of tens of millions of tokens."""
    start = 0
    while start < len(source):
        end = len(source) if len(source) - start <= slice_chars else _slice_end(source, start, slice_chars)
        previous = ""
        for token in md.parse(source[start:end]):
            yield previous, token
            previous = token.type
        start = end


def _slice_end(source: str, start: int, slice_chars: int) -> int:
    fenced = False
    position = start
    for match in re.finditer(r"^(```|~~~)|\n\s*\n", source[start : start + slice_chars], re.MULTILINE):
        if match.group(1):
            fenced = not fenced
        elif not fenced:
            position = start + match.end()
    return position if position > start else start + slice_chars


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
