"""BM25 over Arabic-normalised, stemmed tokens (bm25s), with a swappable tokenizer."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .text import fold_forms, normalize

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ARABIC = re.compile("[\u0600-\u06ff]")
_LIGHT = re.compile("[\u064b-\u065f\u0670\u0640]")  # tashkeel and tatweel only: the stemmer wants ة and hamza

# Function words carry no topic; the lists are short on purpose (BM25's idf does the rest).
STOP_WORDS = frozenset(
    normalize(w)
    for w in (
        "في من على إلى الى عن مع هذه هذا ذلك تلك التي الذي الذين هو هي هم ما ماذا لماذا كيف متى أين اين "
        "هل كم أي او أو و ثم لا لم لن إن ان أن كان كانت قد كل بعد قبل عند بين حيث منذ "
        "the a an of to in on for and or is are was were be been by with as at from that this these those "
        "what which who whom whose why how when where does did do it its into than then there their they"
    ).split()
)

Tokenizer = Callable[[str], list[str]]

# A word: letters only, three or more. "word4", "x86" and "zz" are identifiers or noise, not words.
_CONTENT_WORD = re.compile(r"(?<![\w])[^\W\d_]{3,}(?![\w])")


def has_content(text: str) -> bool:
    """Whether the text has a word that is not a function word. A passage without one (a list of
    codes, a run of numbers) has nothing to answer with, so retrieval gives it no weight."""
    return any(w not in STOP_WORDS for w in _CONTENT_WORD.findall(normalize(text)))


@lru_cache(maxsize=1)
def _stemmers():
    import Stemmer

    return Stemmer.Stemmer("arabic"), Stemmer.Stemmer("english")


_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def light_stems(word: str) -> set[str]:
    """Larkey's light10 on normalised text, plus a gentler form that strips only the article and the
    nisba/feminine ending. The gentle form lets proper nouns ending in ان (باكستان) meet their
    adjectives (الباكستانية), and keeps words that merely start with و (وزير) whole."""
    for article in _ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            word = word[len(article):]
            break
    gentle = word
    for suffix in ("يه", "ي", "ه"):
        if gentle.endswith(suffix) and len(gentle) - len(suffix) >= 3:
            gentle = gentle[: -len(suffix)]
            break
    if word == gentle and word.startswith("و") and len(word) >= 4:
        word = word[1:]  # light10's conjunction rule: وقال -> قال (the gentle form keeps وزير)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return {word, gentle}


def tokenize(text: str) -> list[str]:
    """Normalise, drop function words, then stem each word with its own language's stemmer.

    Snowball's Arabic stemmer is aggressive and sometimes inconsistent (باكستان -> باكست, but
    الباكستاني -> باكستان), so each Arabic word also yields its light stems; a match on any counts.
    """
    arabic, english = _stemmers()
    out: list[str] = []
    for raw in _WORD.findall(_LIGHT.sub("", fold_forms(text))):
        word = normalize(raw)
        if word in STOP_WORDS:
            continue
        if _ARABIC.search(word):
            stems = {normalize(arabic.stemWord(raw))} | light_stems(word)
            out.extend(sorted(stems))
        else:
            out.append(english.stemWord(word))
    return out


@dataclass(frozen=True)
class LexicalResult:
    ids: list[str]
    scores: list[float]
    coverage: float  # share of the query's idf mass whose terms occur in the corpus at all


class LexicalIndex:
    def __init__(self, ids: Sequence[str], texts: Sequence[str], tokenizer: Tokenizer = tokenize) -> None:
        import bm25s

        self.ids = list(ids)
        self.tokenizer = tokenizer
        self._bm25 = bm25s.BM25()
        tokens = [tokenizer(t) or [""] for t in texts]
        self._df: dict[str, int] = {}
        for doc in tokens:
            for term in set(doc):
                self._df[term] = self._df.get(term, 0) + 1
        if self.ids:
            self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> LexicalResult:
        terms = self.tokenizer(query)
        n = len(self.ids)
        if not terms or n == 0:
            return LexicalResult([], [], 0.0)
        # Terms never seen in the corpus (an English question over Arabic text) get the idf of a
        # term seen once: they count in the denominator, so coverage says how much BM25 can know.
        idf = {t: np.log(1 + (n + 0.5) / (self._df.get(t, 1) + 0.5)) for t in set(terms)}
        coverage = sum(v for t, v in idf.items() if t in self._df) / sum(idf.values())
        known = [t for t in terms if t in self._df]
        if not known:
            return LexicalResult([], [], 0.0)
        scores = self._bm25.get_scores(known)
        order = np.argsort(-scores)[:k]
        keep = [i for i in order if scores[i] > 0]
        return LexicalResult([self.ids[i] for i in keep], [float(scores[i]) for i in keep], float(coverage))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.ids:
            self._bm25.save(str(folder))
        (folder / "lexical.json").write_text(json.dumps({"ids": self.ids, "df": self._df}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer = tokenize) -> "LexicalIndex":
        state = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        index = cls.__new__(cls)
        index.ids, index._df, index.tokenizer = state["ids"], state["df"], tokenizer
        index._bm25 = _SavedScores(folder) if index.ids else None
        return index


class _SavedScores:
    """The BM25 scores bm25s saved (one sparse column of precomputed scores per term), read with numpy
    alone: importing bm25s (and SciPy behind it) costs a reader about 0.4 s of CPU at start-up, and
    scoring a query is only a sum of the query terms' columns (bm25s' "lucene" method, which has no
    score for absent terms)."""

    def __init__(self, folder: Path) -> None:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") != "lucene":
            raise ValueError(f"BM25 method {params.get('method')!r} is not the one Sanad writes")
        self.num_docs = int(params["num_docs"])
        self.data = np.load(folder / "data.csc.index.npy")
        self.indices = np.load(folder / "indices.csc.index.npy")
        self.indptr = np.load(folder / "indptr.csc.index.npy")
        self.vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for token in tokens:
            column = self.vocab[token]
            start, end = self.indptr[column], self.indptr[column + 1]
            scores[self.indices[start:end]] += self.data[start:end]  # a column names each document once
        return scores
