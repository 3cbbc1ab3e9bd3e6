"""XQuAD (Artetxe et al., 2020; CC-BY-SA 4.0) as two Sanad eval sets over one Arabic corpus.

The data never enters the repository: this converts it at run time from wherever it lives.

    python -m eval.xquad ../shared/data/xquad [--out eval/cache/xquad] [--limit N]

writes OUT/docs/*.txt (the Arabic paragraphs, one file per article), OUT/ar.jsonl (the Arabic
questions) and OUT/en.jsonl (the parallel English questions, same ids, asked of the same Arabic
corpus). Both sets carry the Arabic gold answers, since the answerer quotes the Arabic text.
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.text import sentence_spans

DEFAULT_OUT = Path(__file__).parent / "cache" / "xquad"


@dataclass(frozen=True)
class Converted:
    docs: dict[str, str]  # file name -> text
    ar: list[dict]
    en: list[dict]


def convert(xquad_dir: Path, limit: int | None = None) -> Converted:
    """The first `limit` questions (file order) and only the articles they come from; all when None."""
    ar_articles = _articles(xquad_dir / "xquad.ar.json")
    en_articles = _articles(xquad_dir / "xquad.en.json")
    docs: dict[str, str] = {}
    ar_set: list[dict] = []
    en_set: list[dict] = []
    english = {qa["id"]: qa["question"] for a in en_articles for p in a["paragraphs"] for qa in p["qas"]}
    for number, article in enumerate(ar_articles, 1):
        if limit is not None and len(ar_set) >= limit:
            break
        # No title line: the titles are English, and BM25 would match English questions on them.
        docs[_file_name(number, article["title"])] = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"][: None if limit is None else limit - len(ar_set)]:
                row = {"id": qa["id"], "answers": _answers(qa), "evidence": [_evidence(paragraph["context"], qa)],
                       "answerable": True}
                ar_set.append({"id": qa["id"], "question": qa["question"], **row})
                en_set.append({"id": qa["id"], "question": english[qa["id"]], **row})
    return Converted(docs, ar_set, en_set)


def write(converted: Converted, out: Path) -> None:
    docs_dir = out / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    # A smaller conversion into the same folder must not leave the other articles in the corpus.
    for stale in docs_dir.glob("*.txt"):
        if stale.name not in converted.docs:
            stale.unlink()
    for name, text in converted.docs.items():
        path = docs_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:  # unchanged files keep their mtime
            path.write_text(text, encoding="utf-8")
    for name, rows in (("ar.jsonl", converted.ar), ("en.jsonl", converted.en)):
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (out / name).write_text(lines, encoding="utf-8")


def _articles(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def _file_name(number: int, title: str) -> str:
    return f"{number:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '_', title)}.txt"


def _answers(qa: dict) -> list[str]:
    return list(dict.fromkeys(a["text"] for a in qa["answers"]))


def _evidence(context: str, qa: dict) -> str:
    """The sentence(s) of the paragraph that hold the first gold answer."""
    answer = qa["answers"][0]
    start = answer["answer_start"]
    end = start + len(answer["text"])
    spans = [(s, e) for s, e in sentence_spans(context) if s < end and e > start]
    return context[spans[0][0] : spans[-1][1]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.xquad", description=__doc__.split("\n\n")[0])
    parser.add_argument("xquad_dir", type=Path, help="the folder holding xquad.ar.json and xquad.en.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--limit", type=int, help="only the first N questions, and only their articles")
    args = parser.parse_args(argv)
    converted = convert(args.xquad_dir, args.limit)
    write(converted, args.out)
    print(f"{len(converted.docs)} documents in {args.out / 'docs'}; {len(converted.ar)} questions in "
          f"{args.out / 'ar.jsonl'} and {args.out / 'en.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
