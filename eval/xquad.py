"""XQuAD (Artetxe et al., 2020; CC-BY-SA 4.0) as Sanad eval sets in every direction.

The data never enters the repository: this converts it at run time from wherever it lives.

    python -m eval.xquad ../shared/data/xquad [--out eval/cache/xquad] [--limit N]

XQuAD is parallel (the same paragraphs and questions in both languages, same ids), so one
conversion gives three libraries and six sets, named question language - library:

    OUT/docs-ar/     the Arabic paragraphs, one file per article
    OUT/docs-en/     the English paragraphs, same file names
    OUT/docs-mixed/  both copies of every article together (NN-Title.ar.txt and NN-Title.en.txt)
    OUT/ar-ar.jsonl  OUT/en-ar.jsonl     questions over docs-ar/ (Arabic gold answers and evidence)
    OUT/ar-en.jsonl  OUT/en-en.jsonl     questions over docs-en/ (English gold answers and evidence)
    OUT/ar-mixed.jsonl  OUT/en-mixed.jsonl  questions over docs-mixed/: evidence and gold answers
                                           in both languages, so either copy of the paragraph counts
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.text import sentence_spans

DEFAULT_OUT = Path(__file__).parent / "cache" / "xquad"
LANGS = ("ar", "en")
LIBRARIES = ("ar", "en", "mixed")


@dataclass(frozen=True)
class Converted:
    docs: dict[str, dict[str, str]]  # library ("ar", "en", "mixed") -> file name -> text
    sets: dict[str, list[dict]]  # "ar-en" (Arabic questions over the English library) -> rows

    @property
    def questions(self) -> int:
        return len(self.sets["ar-ar"])


def convert(xquad_dir: Path, limit: int | None = None) -> Converted:
    """The first `limit` questions (file order) and only the articles they come from; all when None."""
    articles = {lang: _articles(xquad_dir / f"xquad.{lang}.json") for lang in LANGS}
    docs: dict[str, dict[str, str]] = {library: {} for library in LIBRARIES}
    sets: dict[str, list[dict]] = {f"{q}-{library}": [] for q in LANGS for library in LIBRARIES}
    taken = 0
    for number, pair in enumerate(zip(articles["ar"], articles["en"]), 1):
        if limit is not None and taken >= limit:
            break
        name = _file_name(number, pair[1]["title"])
        for lang, article in zip(LANGS, pair):
            # No title line: the titles are English, and BM25 would match English questions on them.
            text = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
            docs[lang][name] = text
            docs["mixed"][name.replace(".txt", f".{lang}.txt")] = text
        for ar_paragraph, en_paragraph in zip(pair[0]["paragraphs"], pair[1]["paragraphs"]):
            qas = list(zip(ar_paragraph["qas"], en_paragraph["qas"]))
            for ar_qa, en_qa in qas[: None if limit is None else limit - taken]:
                if ar_qa["id"] != en_qa["id"]:
                    raise ValueError(f"{xquad_dir}: the Arabic and English files are not parallel at {ar_qa['id']}")
                gold = {"ar": (_answers(ar_qa), _evidence(ar_paragraph["context"], ar_qa)),
                        "en": (_answers(en_qa), _evidence(en_paragraph["context"], en_qa))}
                for q_lang, qa in zip(LANGS, (ar_qa, en_qa)):
                    for library in LIBRARIES:
                        langs = LANGS if library == "mixed" else (library,)
                        row = {
                            "id": qa["id"], "question": qa["question"],
                            "answers": list(dict.fromkeys(a for lang in langs for a in gold[lang][0])),
                            "evidence": [gold[lang][1] for lang in langs], "answerable": True,
                        }
                        if q_lang not in langs:  # the reader's own language: what an LLM answer must contain
                            row[f"answers_{q_lang}"] = gold[q_lang][0]
                        sets[f"{q_lang}-{library}"].append(row)
                taken += 1
    return Converted(docs, sets)


def write(converted: Converted, out: Path) -> None:
    for library, files in converted.docs.items():
        docs_dir = out / f"docs-{library}"
        docs_dir.mkdir(parents=True, exist_ok=True)
        # A smaller conversion into the same folder must not leave the other articles in the corpus.
        for stale in docs_dir.glob("*.txt"):
            if stale.name not in files:
                stale.unlink()
        for name, text in files.items():
            path = docs_dir / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:  # unchanged files keep their mtime
                path.write_text(text, encoding="utf-8")
    for name, rows in converted.sets.items():
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (out / f"{name}.jsonl").write_text(lines, encoding="utf-8")


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
    print(f"{len(converted.docs['ar'])} articles in {args.out}/docs-ar, docs-en and docs-mixed; "
          f"{converted.questions} questions in each of {', '.join(f'{n}.jsonl' for n in converted.sets)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
