"""`rag eval SET --docs DIR`: index DIR, ask every question of SET, score the answers, report.

A set is JSON lines: {"id", "question", "answers": [...], "evidence": [...], "answerable": true}, and
optionally "answers_en" / "answers_ar": the gold answers in that language too (an English question over
an Arabic library has Arabic gold answers; an LLM answers it in English).
Optional too: "kind" (same-language, cross-language, in-topic, off-topic) and "split" (tune or
blind): `rag eval` then reports each kind in each split apart (eval/natural/questions.jsonl).
A retrieved chunk is relevant when it holds one of the evidence strings (in search form), so the
scores do not depend on how the documents were chunked.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from rag import Answer, Hit, IndexReport, strings
from rag.index_state import IndexBroken
from rag.retrieve import RETRIEVERS
from rag.text import detect_language

from .metrics import CitationRow, QuestionRow, Run, contains_any, search_form, strip_markers
from .report import console_table, kinds_table, write_markdown

CACHE = Path(__file__).parent / "cache"
DEPTH = 10  # hits ranked per question: the deepest k the metrics use, and what ask() itself retrieves


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    answerable: bool = True
    translated_answers: tuple[str, ...] = ()  # "answers_en" and "answers_ar"
    kind: str | None = None  # same-language, cross-language, in-topic, off-topic
    split: str | None = None  # tune, blind (never looked at while tuning)

    @cached_property
    def reader_answer_forms(self) -> tuple[str, ...] | None:
        """Gold answers in the question's own language (digits-only ones fit any), in search form;
        None when the set gives none."""
        language = detect_language(self.question)
        forms = tuple(search_form(a) for a in self.answers + self.translated_answers
                      if not re.search(r"[^\W\d_]", a) or detect_language(a) == language)
        return forms or None

    @cached_property
    def any_answer_forms(self) -> tuple[str, ...]:
        """Gold answers in the document's language or the reader's, in search form: a right answer holds one."""
        return tuple(search_form(a) for a in self.answers + self.translated_answers)

    @cached_property
    def evidence_forms(self) -> tuple[str, ...]:
        return tuple(search_form(e) for e in self.evidence)

    @cached_property
    def answer_forms(self) -> tuple[str, ...]:
        return tuple(search_form(a) for a in self.answers)


def load_set(path: Path, limit: int | None = None) -> list[Item]:
    """The set's questions, in file order; a malformed line is a ValueError naming it."""
    items: list[Item] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = _item(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}:{number}: {err}") from err
        if item.id in seen:
            raise ValueError(f"{path}:{number}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return items[:limit]


def _item(data: dict) -> Item:
    item = Item(
        id=str(data["id"]),
        question=str(data["question"]),
        answers=tuple(map(str, data.get("answers", []))),
        evidence=tuple(map(str, data.get("evidence", []))),
        answerable=bool(data.get("answerable", True)),
        translated_answers=tuple(map(str, data.get("answers_en", []) + data.get("answers_ar", []))),
        kind=None if data.get("kind") is None else str(data["kind"]),
        split=None if data.get("split") is None else str(data["split"]),
    )
    if item.answerable and not item.evidence:
        raise ValueError(f"answerable question {item.id!r} has no evidence to judge retrieval by")
    return item


def evaluate(engine, items: Sequence[Item], retriever: str, top_k: int | None = None) -> Run:
    rows = []
    for item in tqdm(items, desc=retriever, unit="q", file=sys.stderr):
        started = time.perf_counter()
        answer, hits = engine.inspect(item.question, top_k=top_k, retriever=retriever, depth=DEPTH)
        rows.append(score(item, answer, hits, (time.perf_counter() - started) * 1000))
    return Run(retriever, tuple(rows))


def score(item: Item, answer: Answer, hits: Sequence[Hit], latency_ms: float) -> QuestionRow:
    citations = tuple(
        CitationRow(n=c.n, source=c.source, start=c.start, end=c.end, score=c.score, page=c.page,
                    relevant=contains_any(c.text, item.evidence_forms + item.answer_forms),
                    quotes=tuple(c.text[s:e] for s, e in c.highlights))
        for c in answer.citations
    )
    reader_gold = item.reader_answer_forms
    return QuestionRow(
        id=item.id,
        question=item.question,
        language=detect_language(item.question),
        answerable=item.answerable,
        relevant_ranks=tuple(rank for rank, hit in enumerate(hits, 1)
                             if contains_any(hit.chunk.text, item.evidence_forms)),
        answer=answer.text,
        abstained=answer.abstained,
        has_gold=not answer.abstained and contains_any(strip_markers(answer.text), item.answer_forms),
        latency_ms=latency_ms,
        citations=citations,
        top_score=answer.citations[0].score if answer.citations else None,
        support=answer.support,
        translingual=answer.translingual,
        verification=answer.verification,
        translation=answer.translation,
        has_reader_gold=None if reader_gold is None else (
            not answer.abstained and contains_any(strip_markers(answer.text), reader_gold)),
        right=not answer.abstained and contains_any(strip_markers(answer.text), item.any_answer_forms),
        closest=answer.closest,
        kind=item.kind,
        split=item.split,
    )


def results_json(runs: Sequence[Run], config: dict) -> dict:
    """The first run at the top level; the others under "baselines", in the same shape."""
    first, *others = runs
    return {"config": config, **first.to_json(), "baselines": {run.retriever: run.to_json() for run in others}}


def cache_index_dir(docs: Path) -> Path:
    """An index of its own per documents folder, so eval never mixes its corpus into the chat's index."""
    resolved = docs.resolve()
    return CACHE / "index" / f"{resolved.name}-{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"


def run_from_cli(engine, args) -> int:
    from rag import Sanad

    items = load_set(args.set, args.limit)
    owned = args.index_dir is None
    if owned:
        engine = Sanad(engine.settings.with_(index_dir=cache_index_dir(args.docs)))
    report = _index(engine, args.docs, owned)
    if not report.indexed_anything:
        print(f"rag: {strings.NOTHING_INDEXED}", file=sys.stderr)
        return 1
    retrievers = [args.retriever]
    if args.compare:
        retrievers += [r for r in RETRIEVERS if r != args.retriever]
    runs = [evaluate(engine, items, r, args.top_k) for r in retrievers]
    if any(row.translation for row in runs[0].rows):
        # The LLM translated questions for retrieval: the same set without translation, beside it, shows
        # what the translation was worth (and that a bad translator costs nothing).
        plain = Sanad(engine.settings.with_(translate_queries=False))
        runs.append(Run(f"{args.retriever}, untranslated", evaluate(plain, items, args.retriever, args.top_k).rows))
    config = {
        "set": str(args.set),
        "docs": str(args.docs),
        "index_dir": str(engine.settings.index_dir),
        "embedder": engine.state.load()[1].embedder,
        "top_k": engine.settings.top_k if args.top_k is None else args.top_k,
        "answerer": engine.settings.llm,
        "retrievers": retrievers,
        "index": {"added": len(report.added), "updated": len(report.updated), "removed": len(report.removed),
                  "unchanged": len(report.unchanged), "chunks_embedded": report.chunks_embedded,
                  "seconds": round(report.seconds, 1)},
    }
    print(console_table(runs))
    if any(row.kind for row in runs[0].rows):
        print(kinds_table(runs[0]))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results_json(runs, config), ensure_ascii=False, indent=1), encoding="utf-8")
    if args.md_out:
        write_markdown(args.md_out, runs, config)
    return 0


def _index(engine, docs: Path, owned: bool) -> IndexReport:
    """`owned`: the index is eval's own cache, so one an older engine wrote is simply rebuilt."""
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False)
        bars[stage].update(done - bars[stage].n)

    try:
        report = engine.index([docs], progress=progress)
    except IndexBroken:
        if not owned:
            raise
        shutil.rmtree(engine.settings.index_dir)
        report = engine.index([docs], progress=progress)
    for bar in bars.values():
        bar.close()
    for failure in report.failed:
        print(f"failed: {failure.source}: {failure.reason}", file=sys.stderr)
    print(strings.index_summary(len(report.added), len(report.updated), len(report.removed), len(report.unchanged),
                                len(report.failed), report.seconds), file=sys.stderr)
    # An index named with --index-dir may hold other documents too; they compete for every question.
    root = Path(os.path.abspath(docs))
    outside = [d.source for d in engine.documents() if not Path(os.path.abspath(d.source)).is_relative_to(root)]
    if outside:
        print(f"note: the index also holds {len(outside)} document(s) outside {docs}, e.g. {outside[0]}",
              file=sys.stderr)
    return report
