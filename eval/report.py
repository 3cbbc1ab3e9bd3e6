"""Tables for the terminal and a Markdown report with its hit@k plot."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .metrics import LANGUAGES, LLM_METRICS, Run, by_kind, hit_at

METRICS = ("n", "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "answer_has_gold", "citation_precision",
           "abstained", "false_abstain", "answer_has_reader_gold", "right_answer", "latency_ms_p50", "latency_ms_p95")
MAX_MISSES = 30  # the report lists this many; the JSON keeps them all


def console_table(runs: Sequence[Run]) -> str:
    """Metrics down, retrievers across: reads side by side however many retrievers ran."""
    summaries = [run.summary() for run in runs]
    header = [""] + [run.retriever for run in runs]
    body = [[metric] + [_cell(metric, s.get(metric)) for s in summaries] for metric in _metrics(summaries)]
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    lines = []
    for row in [header] + body:
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells))
    return "\n".join(lines)


KIND_COLUMNS = ("n", "right_answer", "hit@5", "false_abstain", "abstained", "closest")


def kinds_table(run: Run) -> str:
    """One block per split (all, then each split the set marks): a row per kind, and per kind and
    question language for the answerable kinds."""
    lines = []
    for split, kinds in by_kind(run.rows).items():
        lines.append(f"[{split}]".ljust(24) + "".join(c.rjust(14) for c in KIND_COLUMNS))
        for kind, values in kinds.items():
            lines.append(f"  {kind}".ljust(24) + "".join(_cell(c, values.get(c)).rjust(14) for c in KIND_COLUMNS))
    return "\n".join(lines)


def kinds_markdown(run: Run) -> list[str]:
    lines = []
    for split, kinds in by_kind(run.rows).items():
        lines += [f"### {split}", "", "| kind | " + " | ".join(KIND_COLUMNS) + " |",
                  "|---|" + "---:|" * len(KIND_COLUMNS)]
        lines += ["| " + kind + " | " + " | ".join(_cell(c, v.get(c)) for c in KIND_COLUMNS) + " |"
                  for kind, v in kinds.items()]
        lines.append("")
    return lines


def write_markdown(path: Path, runs: Sequence[Run], config: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    plot = path.with_suffix(".png")
    name = "/".join(Path(config["set"]).parts[-2:])  # "xquad/en.jsonl" says more than "en.jsonl"
    plot_hits(runs, plot, title=name)
    first = runs[0]
    lines = [
        f"# Sanad eval: {name}",
        "",
        f"Set `{config['set']}` over `{config['docs']}`: {len(first.rows)} questions, "
        f"{sum(r.answerable for r in first.rows)} answerable. "
        f"Embedder `{config['embedder']}`, top_k {config['top_k']}. Retrieval metrics are over answerable "
        "questions; a chunk is relevant when it holds an evidence string.",
        "",
        "## Summary",
        "",
        *_markdown_table([run.retriever for run in runs], [run.summary() for run in runs]),
        "",
        f"![hit@k for k = 1..10]({plot.name})",
        "",
    ]
    for lang in LANGUAGES:
        summaries = [run.by_language()[lang] for run in runs]
        if summaries[0]["n"]:
            lines += [f"## Questions in {lang}", "", *_markdown_table([run.retriever for run in runs], summaries), ""]
    if any(row.kind for row in first.rows):
        lines += ["## By kind", "", *kinds_markdown(first)]
    lines += _misses(first)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def plot_hits(runs: Sequence[Run], path: Path, title: str) -> None:
    figure = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    ks = range(1, 11)
    for run in runs:
        values = [hit_at(run.rows, k) for k in ks]
        if None not in values:
            axes.plot(ks, values, marker="o", label=run.retriever)
    axes.set(xlabel="k", ylabel="hit@k", title=title, xticks=list(ks), ylim=(0, 1.02))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.savefig(path, dpi=120)


def _misses(run: Run) -> list[str]:
    """Answerable questions whose answer holds no gold answer: the rows worth reading first."""
    missed = [row for row in run.rows if row.answerable and not row.has_gold]
    if not missed:
        return []
    lines = [f"## Answers without a gold answer ({run.retriever}: {len(missed)})", "",
             "| id | question | evidence rank (top 10) | answer's first quote |", "|---|---|---|---|"]
    for row in missed[:MAX_MISSES]:
        quote = "(abstained)" if row.abstained else next((q for c in row.citations for q in c.quotes), "")
        rank = "–" if row.first_relevant_rank is None else str(row.first_relevant_rank)
        lines.append(f"| {_escape(row.id)} | {_escape(row.question)} | {rank} | {_escape(quote)} |")
    if len(missed) > MAX_MISSES:
        lines.append(f"\n{len(missed) - MAX_MISSES} more in the JSON output.")
    return lines + [""]


def _markdown_table(columns: list[str], summaries: list[dict]) -> list[str]:
    lines = ["| metric | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for metric in _metrics(summaries):
        lines.append(f"| {metric} | " + " | ".join(_cell(metric, s.get(metric)) for s in summaries) + " |")
    return lines


def _metrics(summaries: list[dict]) -> list[str]:
    """METRICS, then the LLM's when one answered."""
    return list(METRICS) + [m for m in LLM_METRICS if any(m in s for s in summaries)]


def _cell(metric: str, value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.1f}" if metric.endswith(("_p50", "_p95")) else f"{value:.3f}"


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
