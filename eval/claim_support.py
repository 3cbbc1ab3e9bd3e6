"""Calibrate the citation check's thresholds (Settings.claim_supported_at*) on data.

    python -m eval.claim_support [XQUAD_DIR] [--embedder NAME] [--limit N] [--out FILE]

The check (rag/verify.py) accepts a generated sentence as supported by a passage when the sentence,
embedded as a query, reaches a cosine similarity threshold with one of the passage's sentences,
embedded as passages (as the index holds them). XQuAD is parallel, which gives labelled pairs:

- across languages: the English sentence that holds a question's English answer, against its
  Arabic original (supported) and against the best of the paragraph's other Arabic sentences
  (a hard negative: same topic, different facts); and the same from Arabic to English;
- within a language: the clause that holds the answer (what a model that compresses a sentence
  writes), against its own sentence and against the best of the paragraph's other sentences;
- answer-like claims: the question followed by its gold answer ("When was X founded? 1879"), in
  either language, against the answer's sentence in the Arabic and in the English paragraph: looser
  than a translation, as a model's own wording is.

For each kind it prints the threshold with the best balanced accuracy and the error rates around it.
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.embedders import load_embedder
from rag.settings import DEFAULT_EMBEDDER
from rag.text import sentence_spans

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"
_CLAUSE = re.compile(r"[,،;؛:]\s+")
MIN_CLAUSE_WORDS = 6  # shorter clauses ("In 1879,") carry no claim of their own


@dataclass(frozen=True)
class Pair:
    claim: str
    sentences: tuple[str, ...]  # the paragraph's sentences in the other (or same) language
    supported_by: int  # index of the sentence the claim comes from


def _answer_sentence(context: str, start: int) -> tuple[list[str], int, int] | None:
    """The paragraph's sentences, which one holds offset `start`, and where inside it."""
    spans = sentence_spans(context)
    for i, (s, e) in enumerate(spans):
        if s <= start < e:
            return [context[a:b] for a, b in spans], i, start - s
    return None


def _clause(sentence: str, offset: int) -> str:
    """The clause of `sentence` around character `offset`, widened to MIN_CLAUSE_WORDS words."""
    cuts = [0] + [m.end() for m in _CLAUSE.finditer(sentence)] + [len(sentence)]
    i = max(k for k in range(len(cuts) - 1) if cuts[k] <= offset)
    lo, hi = i, i + 1
    while len(sentence[cuts[lo]:cuts[hi]].split()) < MIN_CLAUSE_WORDS and (lo > 0 or hi < len(cuts) - 1):
        lo, hi = (lo - 1, hi) if lo > 0 else (lo, hi + 1)
    return sentence[cuts[lo]:cuts[hi]].strip(" ,،;؛:")


def pairs(xquad_dir: Path, limit: int | None = None) -> dict[str, list[Pair]]:
    articles = {lang: json.loads((xquad_dir / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
                for lang in ("ar", "en")}
    out: dict[str, list[Pair]] = {"en->ar": [], "ar->en": [], "ar->ar": [], "en->en": [],
                                  "en qa->ar": [], "ar qa->en": [], "ar qa->ar": [], "en qa->en": []}
    seen: set[tuple] = set()
    for ar_article, en_article in zip(articles["ar"], articles["en"]):
        for ar_par, en_par in zip(ar_article["paragraphs"], en_article["paragraphs"]):
            for ar_qa, en_qa in zip(ar_par["qas"], en_par["qas"]):
                found = {}
                for lang, par, qa in (("ar", ar_par, ar_qa), ("en", en_par, en_qa)):
                    start = qa["answers"][0]["answer_start"]
                    located = _answer_sentence(par["context"], start)
                    if located is None:
                        break
                    found[lang] = located
                if len(found) < 2:
                    continue
                key = (found["ar"][0][found["ar"][1]], found["en"][0][found["en"][1]])
                if key in seen or len(found["ar"][0]) < 2 or len(found["en"][0]) < 2:
                    continue  # one pair per sentence; a one-sentence paragraph has no negatives
                seen.add(key)
                (ar_texts, ar_i, ar_off), (en_texts, en_i, en_off) = found["ar"], found["en"]
                out["en->ar"].append(Pair(en_texts[en_i], tuple(ar_texts), ar_i))
                out["ar->en"].append(Pair(ar_texts[ar_i], tuple(en_texts), en_i))
                out["ar->ar"].append(Pair(_clause(ar_texts[ar_i], ar_off), tuple(ar_texts), ar_i))
                out["en->en"].append(Pair(_clause(en_texts[en_i], en_off), tuple(en_texts), en_i))
                qa = {lang: f"{q['question']} {q['answers'][0]['text']}" for lang, q in (("ar", ar_qa), ("en", en_qa))}
                out["en qa->ar"].append(Pair(qa["en"], tuple(ar_texts), ar_i))
                out["ar qa->en"].append(Pair(qa["ar"], tuple(en_texts), en_i))
                out["ar qa->ar"].append(Pair(qa["ar"], tuple(ar_texts), ar_i))
                out["en qa->en"].append(Pair(qa["en"], tuple(en_texts), en_i))
                if limit is not None and len(out["en->ar"]) >= limit:
                    return out
    return out


def scores(embedder, kind_pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray]:
    """(similarity to the true sentence, best similarity to the paragraph's other sentences) per claim."""
    claims = embedder.embed_queries([p.claim for p in kind_pairs])
    unique = list(dict.fromkeys(s for p in kind_pairs for s in p.sentences))
    vectors = dict(zip(unique, embedder.embed_passages(unique)))
    positive, negative = [], []
    for pair, claim in zip(kind_pairs, claims):
        similarity = np.stack([vectors[s] for s in pair.sentences]) @ claim
        positive.append(similarity[pair.supported_by])
        negative.append(np.delete(similarity, pair.supported_by).max())
    return np.array(positive), np.array(negative)


def best_threshold(positive: np.ndarray, negative: np.ndarray) -> tuple[float, list[dict]]:
    table = []
    for threshold in np.round(np.arange(0.70, 0.96, 0.005), 3):
        rejected = float(np.mean(positive < threshold))
        accepted = float(np.mean(negative >= threshold))
        table.append({"threshold": float(threshold), "supported_rejected": round(rejected, 4),
                      "unsupported_accepted": round(accepted, 4),
                      "balanced_accuracy": round(1 - (rejected + accepted) / 2, 4)})
    best = max(table, key=lambda row: row["balanced_accuracy"])
    return best["threshold"], table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.claim_support", description=__doc__.split("\n\n")[0])
    parser.add_argument("xquad_dir", nargs="?", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER)
    parser.add_argument("--limit", type=int, help="only the first N answer sentences")
    parser.add_argument("--out", type=Path, help="write the full tables as JSON")
    args = parser.parse_args(argv)
    embedder = load_embedder(args.embedder)
    result = {}
    scored = {kind: scores(embedder, kind_pairs) for kind, kind_pairs in pairs(args.xquad_dir, args.limit).items()}
    # The two settings: one threshold within a language, one across.
    for pooled, kinds in (("same language", ("ar->ar", "en->en", "ar qa->ar", "en qa->en")),
                          ("across languages", ("en->ar", "ar->en", "en qa->ar", "ar qa->en"))):
        scored[pooled] = tuple(np.concatenate([scored[k][i] for k in kinds]) for i in (0, 1))
    for kind, (positive, negative) in scored.items():
        threshold, table = best_threshold(positive, negative)
        result[kind] = {"pairs": len(positive), "best": threshold, "table": table,
                        "positive_mean": round(float(positive.mean()), 4),
                        "negative_mean": round(float(negative.mean()), 4)}
        print(f"{kind}: {len(positive)} claims; supported mean {positive.mean():.3f}, best other sentence mean "
              f"{negative.mean():.3f}; best threshold {threshold}")
        for row in table:
            if abs(row["threshold"] - threshold) <= 0.0201:
                print(f"  {row['threshold']:.3f}  supported rejected {row['supported_rejected']:.3f}  "
                      f"unsupported accepted {row['unsupported_accepted']:.3f}  "
                      f"balanced accuracy {row['balanced_accuracy']:.3f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
