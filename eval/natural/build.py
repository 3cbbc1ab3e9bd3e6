"""`python -m eval.natural.build [--out DIR]`: render the natural-question library and print its folder.

The sources are eval/natural/docs/*.txt (title line, blank line, paragraphs); each document is
rendered in the format FORMATS gives it, with eval/formats.py's renderers, so every format users
bring is covered once per language: hard-wrapped text, Markdown, a web page with navigation and
footer, DOCX, and a justified PDF printed by headless Chromium. Binaries are never committed: they
are written to a cache folder named by the sources' hash, so an edited source renders afresh.

    rag eval eval/natural/questions.jsonl --docs "$(python -m eval.natural.build)"
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from ..formats import RENDERERS, Article
from ..runner import CACHE

HERE = Path(__file__).parent
SOURCES = HERE / "docs"
QUESTIONS = HERE / "questions.jsonl"
FORMATS = {
    "en-railway": "wrapped", "en-bakery": "markdown", "en-museum": "html", "en-clinic": "docx",
    "en-festival": "pdf-chromium",
    "ar-library": "wrapped", "ar-fishers": "markdown", "ar-calligraphy": "html", "ar-dates": "docx",
    "ar-garden": "pdf-chromium",
}


def article(source: Path) -> Article:
    title, _, body = source.read_text(encoding="utf-8").partition("\n\n")
    paragraphs = tuple(p.strip() for p in body.split("\n\n") if p.strip())
    return Article(source.stem, title.strip(), source.stem[:2], paragraphs)


def default_out() -> Path:
    digest = hashlib.sha1()
    for source in sorted(SOURCES.glob("*.txt")):
        digest.update(source.name.encode() + source.read_bytes())
    digest.update(repr(sorted(FORMATS.items())).encode())
    return CACHE / "natural" / f"docs-{digest.hexdigest()[:10]}"


def build(out: Path | None = None, only: tuple[str, ...] | None = None) -> Path:
    """The library in `out` (default: the cache folder for these sources); files already there are kept.
    `only`: these document names (a small slice for tests)."""
    out = out or default_out()
    out.mkdir(parents=True, exist_ok=True)
    for name, fmt in FORMATS.items():
        if only is not None and name not in only:
            continue
        stem = out / name
        if not any(stem.with_suffix(s).exists() for s in (".txt", ".md", ".html", ".pdf", ".docx")):
            RENDERERS[fmt](article(SOURCES / f"{name}.txt"), stem)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to write the documents (default: a cache folder)")
    args = parser.parse_args(argv)
    print(build(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
