"""Names that cross languages: a proper noun written in Latin letters in one language and in Arabic
letters in the other ("Kairouan" / «القيروان», "Northgate" / «نورثغيت»).

Across languages BM25 shares no terms with the text, and the multilingual embedder sees two museums,
or two co-operatives, as much alike whatever they are called: an English question about the
Kairouan museum was answered from an English page about another museum (eval/natural). A name is the
one thing both languages spell alike, up to transliteration. Both scripts are reduced to a consonant
skeleton in one small alphabet (vowels, long vowels, h and the glottals dropped, letters that
transliterate into each other merged, doubled letters single), and a question's name is found in a
passage in the other language when their skeletons are equal. Only skeletons of three or more
consonants count: shorter ones meet ordinary words by chance.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .lexical import STOP_WORDS
from .text import detect_language, normalize

MIN_CONSONANTS = 3

# Arabic letters (after rag.text.normalize: أ إ آ -> ا, ى -> ي, ة -> ه) to the shared alphabet; letters
# that transliteration leaves out or writes as vowels map to nothing.
_ARABIC = str.maketrans({
    "ب": "b", "ت": "t", "ث": "t", "ج": "g", "خ": "k", "د": "d", "ذ": "d", "ر": "r", "ز": "z", "س": "s",
    "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l",
    "م": "m", "ن": "n", "پ": "b", "ڤ": "f", "گ": "g",
    "ا": None, "و": None, "ي": None, "ه": None, "ح": None, "ع": None, "ء": None,
})
# Latin spellings, digraphs first ("Northgate": th -> t, "Khalil": kh -> k).
_LATIN = (("sh", "s"), ("th", "t"), ("kh", "k"), ("gh", "g"), ("dh", "d"), ("ph", "f"), ("ck", "k"),
          ("ch", "s"), ("x", "ks"))
_LATIN_LETTERS = str.maketrans({"q": "k", "c": "k", "j": "g", "v": "f", "p": "b",
                                **{v: None for v in "aeiouyhw'’"}})
_SOFT_C = re.compile(r"c(?=[eiy])")
_DOUBLED = re.compile(r"(.)\1+")
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u0671-\u06d3]+")
_CAPITALISED = re.compile(r"\b[A-Z][a-z'’]+(?:-[A-Z]?[a-z]+)?\b")
_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ف", "ل", "ك")


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """The word's consonants in the shared alphabet ("Corran" and «كوران» -> "krn")."""
    word = normalize(word)
    if _ARABIC_WORD.fullmatch(word):
        out = word.translate(_ARABIC)
    else:
        out = _SOFT_C.sub("s", word.lower())
        for digraph, letter in _LATIN:
            out = out.replace(digraph, letter)
        out = re.sub(r"[^a-z]", "", out.translate(_LATIN_LETTERS))
    return _DOUBLED.sub(r"\1", out)


def _arabic_forms(word: str) -> set[str]:
    """The word and the word without a clitic prefix (و، ب، ل، ال...)."""
    word = normalize(word)
    forms = {word}
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            forms.add(word[len(prefix):])
    return forms


@lru_cache(maxsize=8192)  # passages recur from question to question
def names(text: str) -> frozenset[str]:
    """Skeletons of the words that may be names: in English the capitalised words (not function
    words), in Arabic every word that is not a function word (Arabic has no capitals)."""
    out = set()
    if detect_language(text) == "ar":
        for word in _ARABIC_WORD.findall(normalize(text)):
            if word not in STOP_WORDS:
                out |= {skeleton(form) for form in _arabic_forms(word)}
    else:
        for word in _CAPITALISED.findall(text):
            if normalize(word) not in STOP_WORDS:
                out.add(skeleton(word))
    return frozenset(s for s in out if len(s) >= MIN_CONSONANTS)


@lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    """The text's words as written (normalised; Arabic also without a clitic prefix)."""
    out: set[str] = set()
    for word in set(re.findall(r"[^\W\d_]+", normalize(text))):
        out |= _arabic_forms(word) if _ARABIC_WORD.fullmatch(word) else {word}
    return frozenset(out)


def _spellings(question: str) -> dict[str, set[str]]:
    """Each of the question's name skeletons, with the words that spell it in the question."""
    out: dict[str, set[str]] = {}
    for word in re.findall(r"[^\W\d_]+", question):
        forms = _arabic_forms(word) if _ARABIC_WORD.fullmatch(word) else {normalize(word)}
        for form in forms:
            out.setdefault(skeleton(form), set()).update(forms)
    return out


def shares(question: str, passages: list[tuple[str, str]]) -> list[float]:
    """For each (document, text) passage, the share of the question's names that its document's
    passages among these hold, in the other language than the question (0 for a passage in the
    question's own language: BM25 sees those names already). A document names its subject once or
    twice, and the passage that answers often does not repeat it ("It is closed on Mondays"), so a
    name counts for every passage of the document it is found in."""
    language = detect_language(question)
    asked = names(question)  # an Arabic question's words: which are names only the English text can tell
    if not asked:
        return [0.0] * len(passages)
    other = [detect_language(text) != language for _, text in passages]
    # A name the question's own language already spells in these passages needs no bridge: BM25
    # finds it there, and with a document and its translation both indexed, lifting only the
    # translation would take the reader's own copy's place.
    spelled = _spellings(question)
    own = set().union(*(_words(text) for (_, text), crosses in zip(passages, other) if not crosses))
    asked = {n for n in asked if not spelled.get(n, set()) & own}
    if not asked:
        return [0.0] * len(passages)
    found: dict[str, set[str]] = {}
    for (document, text), crosses in zip(passages, other):
        if crosses:
            found.setdefault(document, set()).update(asked & names(text))
    if language == "ar":
        # An Arabic question's words are not all names, and which are only the English text can tell
        # (by capitalising them): half the share a name, so a long question is not diluted by its
        # ordinary words and one chance meeting of skeletons does not decide (eval/natural tune split).
        share = {d: min(1.0, len(hits) / 2) for d, hits in found.items()}
    else:
        share = {d: len(hits) / len(asked) for d, hits in found.items()}
    return [share.get(document, 0.0) if crosses else 0.0 for (document, _), crosses in zip(passages, other)]
