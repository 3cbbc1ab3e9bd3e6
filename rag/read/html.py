"""Web pages: the main content's headings, paragraphs, list items and table rows; navigation dropped."""
from __future__ import annotations

from .base import Read
from .decode import decode
from .layout import TextBuilder


_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "tr", "dt", "dd", "figcaption"]


def read(data: bytes, source: str) -> Read:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(data, source), "lxml")
    title_tag = soup.find("title")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    root = soup.find("main") or soup.find("article") or soup.body or soup
    builder = TextBuilder()
    lines: list[str] = []  # consecutive list items or table rows: one block, one per line
    for element in root.find_all(_HTML_BLOCKS):
        if element.find(["p", "li", "blockquote", "tr", "pre"]):
            continue  # its children are collected on their own
        name = element.name
        if name in ("li", "tr"):
            cells = element.find_all(["td", "th"]) if name == "tr" else []
            line = " | ".join(" ".join(c.get_text().split()) for c in cells) if cells else " ".join(element.get_text().split())
            if line.strip(" |"):
                lines.append(line)
            if not _next_is_sibling_line(element):
                builder.add("\n".join(lines), "lines")
                lines = []
            continue
        if lines:
            builder.add("\n".join(lines), "lines")
            lines = []
        text = element.get_text()  # no separator: inline tags (<b>) sit inside words
        if name[0] == "h" and name[1:].isdigit():
            builder.add(text, "heading", int(name[1:]))
        else:
            builder.add(text, "lines" if name == "pre" else "paragraph")
    if lines:
        builder.add("\n".join(lines), "lines")
    if not builder.count:
        builder.add(root.get_text(" "))
    text, blocks = builder.text(), builder.blocks()
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    first_h1 = next((b for b in blocks if b.kind == "heading" and b.level == 1), None)
    title = title or (text[first_h1.start:first_h1.end] if first_h1 else "")
    return text, (), blocks, title


def _next_is_sibling_line(element) -> bool:
    following = element.find_next_sibling()
    return following is not None and following.name == element.name
