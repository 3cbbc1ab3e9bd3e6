"""BM25 over Arabic-normalised, stemmed tokens (bm25s), with a swappable tokenizer."""
from __future__ import annotations

import json
import math
import os
import re
import shutil
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
    # Nearly every passage shows one in its first words: normalising only up to a space there
    # (normalize() changes letters one by one, never across a space) spares most of the work.
    cut = text.rfind(" ", 0, 200)
    return (cut > 0 and _content_word(text[:cut])) or _content_word(text)


def is_word_list(text: str, min_lines: int = 3) -> bool:
    """A span of at least `min_lines` lines, most of one or two words: a word list or an index of
    terms. It shares a document's words without saying anything, so it is never quoted, and a passage
    of one never takes a place from a real one (a shuffled list of the seed's own words took over
    "Why Pakistan?")."""
    lines = [len(line.split()) for line in text.splitlines() if line.strip()]
    return len(lines) >= min_lines and sorted(lines)[len(lines) // 2] <= 2


def _content_word(text: str) -> bool:
    return any(m.group() not in STOP_WORDS for m in _CONTENT_WORD.finditer(normalize(text)))


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


K1, B = 1.5, 0.75  # bm25s' defaults, with its "lucene" scores: what every index so far was built with
BLOCK = 1 << 20  # (chunk, term) rows scored at a time
TERMS_VERSION = 1  # of tokenize(): bump it when tokenize() changes, so kept terms are not reused


class LexicalIndex:
    """BM25 (bm25s' "lucene" variant, to the last bit) as one sparse column of scores per term.

    Beside the scores, each chunk's terms are kept (term ids and counts). A chunk id names its
    content, so the next commit takes every chunk it already has from the previous index and
    tokenises only the new ones (tokenising is what costs: about 1,500 chunks a second); the score
    columns are then recomputed with numpy, since idf and the average length move with every
    commit. At 100,000 chunks that is seconds, not the minute and more of a rebuild."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str], tokenizer: Tokenizer = tokenize) -> None:
        given = dict(zip(ids, texts))
        built = LexicalIndex.build(list(ids), lambda wanted: {i: given[i] for i in wanted}, tokenizer=tokenizer)
        self.__dict__.update(built.__dict__)

    @classmethod
    def build(cls, ids: list[str], texts_of: Callable[[list[str]], dict[str, str]],
              previous: "LexicalIndex | None" = None, tokenizer: Tokenizer = tokenize) -> "LexicalIndex":
        """BM25 over `ids`, in that order. Chunks `previous` holds keep their terms; `texts_of` is
        asked only for the texts of the others."""
        old = previous._terms if previous is not None else None
        vocab: list[str] = list(old.vocab) if old else []
        column = {term: i for i, term in enumerate(vocab)}
        position = {cid: i for i, cid in enumerate(previous.ids)} if old else {}
        missing = [cid for cid in ids if cid not in position]
        texts = texts_of(missing) if missing else {}
        terms, counts, lengths = [], [], np.zeros(len(ids), dtype=np.int64)
        for n, cid in enumerate(ids):
            i = position.get(cid)
            if i is not None:
                start, end = old.offsets[i], old.offsets[i + 1]
                terms.append(old.terms[start:end])
                counts.append(old.counts[start:end])
                lengths[n] = old.lengths[i]
                continue
            tokens = tokenizer(texts[cid]) or [""]
            tally: dict[str, int] = {}
            for token in tokens:
                tally[token] = tally.get(token, 0) + 1
            terms.append(np.fromiter((column.setdefault(t, len(column)) for t in tally), dtype=np.int32,
                                     count=len(tally)))
            counts.append(np.fromiter(tally.values(), dtype=np.int32, count=len(tally)))
            lengths[n] = len(tokens)
        vocab.extend(list(column)[len(vocab):])
        index = cls.__new__(cls)
        index.ids, index.tokenizer = list(ids), tokenizer
        index._terms = _Terms.assemble(vocab, terms, counts, lengths)
        index._bm25 = index._terms.scores() if index.ids else None
        return index

    def search(self, query: str, k: int) -> LexicalResult:
        terms = self.tokenizer(query)
        n = len(self.ids)
        if not terms or n == 0:
            return LexicalResult([], [], 0.0)
        df = {t: self._bm25.df(t) for t in set(terms)}
        # Terms never seen in the corpus (an English question over Arabic text) get the idf of a
        # term seen once: they count in the denominator, so coverage says how much BM25 can know.
        idf = {t: np.log(1 + (n + 0.5) / ((df[t] or 1) + 0.5)) for t in df}
        coverage = sum(v for t, v in idf.items() if df[t]) / sum(idf.values())
        known = [t for t in terms if df[t]]
        if not known:
            return LexicalResult([], [], 0.0)
        scores = self._bm25.get_scores(known)
        order = np.argsort(-scores)[:k]
        keep = [i for i in order if scores[i] > 0]
        return LexicalResult([self.ids[i] for i in keep], [float(scores[i]) for i in keep], float(coverage))

    def save(self, folder: Path) -> None:
        """Written beside `folder` and renamed into place: a reader, or another instance building
        the same generation, never sees half of it. A folder already there is kept."""
        tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._bm25.save(tmp)
        if self._terms is not None:
            self._terms.save(tmp)
        version = TERMS_VERSION if self._terms is not None and self.tokenizer is tokenize else None
        (tmp / "lexical.json").write_text(json.dumps({"ids": self.ids, "terms_version": version}), encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "lexical.json").exists():
                folder.mkdir(parents=True, exist_ok=True)
                for path in tmp.iterdir():
                    os.replace(path, folder / path.name)
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer = tokenize) -> "LexicalIndex":
        state = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        index = cls.__new__(cls)
        index.ids, index.tokenizer = state["ids"], tokenizer
        index._bm25 = _SavedScores(folder) if index.ids else None
        same = state.get("terms_version") == TERMS_VERSION and tokenizer is tokenize
        index._terms = _Terms.load(folder, index._bm25.vocab if index._bm25 else {}) if same else None
        return index

    def has_terms(self) -> bool:
        """Whether each chunk's terms are kept, for the next build to reuse."""
        return self._terms is not None


@dataclass
class _Terms:
    """Each chunk's distinct terms (column ids into vocab) and their counts, chunk after chunk."""

    vocab: list[str]
    terms: np.ndarray  # int32, one row per (chunk, term)
    counts: np.ndarray  # int32
    offsets: np.ndarray  # int64, chunk i's rows are offsets[i]:offsets[i + 1]
    lengths: np.ndarray  # int64, tokens per chunk (repeats counted), BM25's document length

    @classmethod
    def assemble(cls, vocab: list[str], terms: list[np.ndarray], counts: list[np.ndarray],
                 lengths: np.ndarray) -> "_Terms":
        flat = np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32)
        offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in terms], out=offsets[1:])
        # Terms no chunk uses any more (their chunks went) leave the vocabulary.
        used = np.bincount(flat, minlength=len(vocab)) > 0
        if not used.all():
            remap = (np.cumsum(used) - 1).astype(np.int32)
            flat = remap[flat]
            vocab = [t for t, keep in zip(vocab, used.tolist()) if keep]
        return cls(vocab, flat.astype(np.int32, copy=False), np.concatenate(counts) if counts else np.zeros(0, dtype=np.int32),
                   offsets, lengths)

    def scores(self) -> "_SavedScores":
        """bm25s' index() arithmetic, vectorised: float64 throughout, idf rounded to float32 first,
        each score rounded to float32 last; laid out as its CSC columns. A block of rows at a time is
        scored and put straight into its columns (a counting sort: rows come chunk after chunk, so
        each column lists its chunks in order, as bm25s' does). Sorting all rows at once took an
        8-byte permutation and two more copies of every row, beside Chroma's graphs: at 100,000
        chunks (10.6 million rows) an update peaked 110 MB higher."""
        n, width = len(self.lengths), len(self.vocab)
        df = np.bincount(self.terms, minlength=width)
        idf = np.array([math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df.tolist()], dtype=np.float32)
        average = self.lengths.mean()
        indptr = np.zeros(width + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        data = np.empty(len(self.terms), dtype=np.float32)
        indices = np.empty(len(self.terms), dtype=np.int32)
        free = indptr[:-1].copy()  # the next free place in each column
        for start in range(0, len(self.terms), BLOCK):
            terms = self.terms[start : start + BLOCK]
            rows = np.arange(start, start + len(terms))
            doc = (np.searchsorted(self.offsets, rows, side="right") - 1).astype(np.int32)
            tf = self.counts[start : start + len(terms)].astype(np.float64)
            score = (idf[terms] * (tf / (K1 * ((1 - B) + B * self.lengths[doc] / average) + tf))).astype(np.float32)
            order = np.argsort(terms, kind="stable")
            ranked = terms[order]
            place = free[ranked] + (np.arange(len(ranked)) - np.searchsorted(ranked, ranked, side="left"))
            data[place] = score[order]
            indices[place] = doc[order]
            free += np.bincount(terms, minlength=width)
        return _SavedScores.of(data, indices, indptr, {t: i for i, t in enumerate(self.vocab)}, n)

    def save(self, folder: Path) -> None:
        for name in ("terms", "counts", "offsets", "lengths"):
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, vocab: dict[str, int]) -> "_Terms | None":
        """Mapped, not read: a reader never touches them; the next writer reads what it reuses.
        None for an index written before terms were kept (the next commit tokenises everything)."""
        if not (folder / "terms.npy").exists():
            return None
        words = [""] * len(vocab)
        for term, i in vocab.items():
            words[i] = term
        # Plain views of the mappings: every index into a memmap, or slice of it, goes through numpy's
        # Python code (memmap.__getitem__), and an update reads each of 100,000 chunks' rows that way.
        arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r"))
                  for name in ("terms", "counts", "offsets", "lengths")}
        return cls(words, **arrays)


class _SavedScores:
    """The BM25 scores (one sparse column of precomputed scores per term) in bm25s' file layout,
    read with numpy alone: importing bm25s (and SciPy behind it) costs a reader about 0.4 s of CPU
    at start-up, and scoring a query is only a sum of the query terms' columns (bm25s' "lucene"
    method, which has no score for absent terms). The columns are mapped, not read."""

    def __init__(self, folder: Path) -> None:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") != "lucene":
            raise ValueError(f"BM25 method {params.get('method')!r} is not the one Sanad writes")
        self.num_docs = int(params["num_docs"])
        self.data = np.load(folder / "data.csc.index.npy", mmap_mode="r")
        self.indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r")
        self.indptr = np.load(folder / "indptr.csc.index.npy")
        self.vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))

    @classmethod
    def of(cls, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, vocab: dict[str, int],
           num_docs: int) -> "_SavedScores":
        scores = cls.__new__(cls)
        scores.data, scores.indices, scores.indptr, scores.vocab, scores.num_docs = data, indices, indptr, vocab, num_docs
        return scores

    def df(self, token: str) -> int:
        """How many chunks hold the term (a column names each chunk once)."""
        column = self.vocab.get(token)
        return 0 if column is None else int(self.indptr[column + 1] - self.indptr[column])

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for token in tokens:
            column = self.vocab[token]
            start, end = self.indptr[column], self.indptr[column + 1]
            scores[self.indices[start:end]] += self.data[start:end]  # a column names each document once
        return scores

    def save(self, folder: Path) -> None:
        np.save(folder / "data.csc.index.npy", self.data)
        np.save(folder / "indices.csc.index.npy", self.indices)
        np.save(folder / "indptr.csc.index.npy", self.indptr)
        (folder / "vocab.index.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        (folder / "params.index.json").write_text(json.dumps(
            {"k1": K1, "b": B, "delta": 0.5, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
             "int_dtype": "int32", "num_docs": self.num_docs, "version": "sanad"}), encoding="utf-8")
