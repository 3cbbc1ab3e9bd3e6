"""The check every generated sentence passes before anyone sees it.

A sentence is shown only when a passage supports it: its vector, embedded as a query, reaches the
calibrated cosine similarity (Settings.claim_supported_at*) with one of the passage's sentence
vectors, which the index already holds. The embedder is multilingual, so an English sentence is
checked against an Arabic passage directly. A marker that points to no passage is removed; a sentence
whose cited passage does not support it is shown citing the passage that does, or not at all; a
sentence in another language than the question is not shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import numpy as np

from . import strings
from .prompts import INSTRUCTION, REFUSAL
from .settings import Settings
from .text import detect_language, fold_whitespace, normalize
from .types import Citation, Hit, Language, Sentence

MARKER = re.compile(r"\[\s*(?:(?:passage|source|المقطع|مقطع)\s*)?(\d+(?:\s*[,،]\s*\d+)*)\s*\]", re.IGNORECASE)
_END = r"(?<![A-Z]\.[A-Z])(?<!\b[A-Z])[.!?؟…]+[\"'»”’)]*"
_MARKERS = r"(?:[ \t]*\[[^\[\]\n]{1,20}\])*"
# A sentence ends at . ! ? ؟ … (and the markers right after it) once the next sentence has begun,
# or at a line break. Markers can come after the full stop or before it: both stay with their sentence.
_BOUNDARY = re.compile(rf"{_END}{_MARKERS}[.!?؟]?(?=[ \t]*\n|\s+[^\s\[])|\n")
_LETTER = re.compile(r"[^\W\d_]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
SCRIPT = {"ar": re.compile("[\u0621-\u064a\u0671-\u06d3]"), "en": re.compile("[A-Za-z]")}
# The share of letters in the reader's script a sentence needs: an Arabic sentence may name "Lockheed
# Martin", but an English one with Arabic in it is a fragment of Arabic («وقد أضاف خط Panthers أيضاً الم»
# is 29 % Latin: a real small model wrote it for an English reader).
OWN_SCRIPT_SHARE: dict[Language, float] = {"ar": 0.3, "en": 0.8}
ECHO_SHARE = 0.8  # a sentence whose words are this much the prompt's own is the model repeating its instructions
FILLER_WORDS = 3  # a line shorter than this ("Answer:", "In short,") states nothing to check

Units = list[tuple[int, Sentence, np.ndarray]]  # (hit index, sentence, vector), as Retriever.sentences gives
Verdict = Literal["supported", "recited", "unsupported", "language", "refusal", "filler", "echo", "repeated"]


def strip_markers(text: str) -> str:
    return fold_whitespace(MARKER.sub(" ", text)).replace(" .", ".").replace(" ؟", "؟").strip()


class SentenceSplitter:
    """Cuts streamed text into sentences as soon as each is complete."""

    def __init__(self) -> None:
        self._buffer = ""
        self._carry = ""  # a piece without letters ("1.") belongs to the sentence after it
        self._newline = False

    def feed(self, text: str) -> list[tuple[str, bool]]:
        """Complete sentences so far, each with whether it starts a new line."""
        self._buffer += text
        out = []
        while match := _BOUNDARY.search(self._buffer):
            piece, self._buffer = self._buffer[:match.end()], self._buffer[match.end():]
            self._take(piece, out)
        return out

    def finish(self) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        piece, self._buffer = self._buffer, ""
        self._take(piece, out, last=True)
        return out

    def _take(self, piece: str, out: list[tuple[str, bool]], last: bool = False) -> None:
        if "\n" in piece[: len(piece) - len(piece.lstrip())]:
            self._newline = True
        text = fold_whitespace(self._carry + piece)
        if not _LETTER.search(MARKER.sub("", text)) and not last:
            self._carry = text + " " if text else ""
            self._newline = self._newline or piece.endswith("\n")
            return
        self._carry = ""
        if text:
            out.append((text, self._newline))
            self._newline = False
        if piece.endswith("\n"):
            self._newline = True


@dataclass(frozen=True)
class Judged:
    raw: str
    claim: str  # without markers
    verdict: Verdict
    cited: tuple[int, ...] = ()  # 0-based passages the model cited, valid ones only
    invalid: int = 0  # markers pointing to no passage
    precise: tuple[int, ...] = ()  # cited passages that support the sentence on their own
    shown_citing: tuple[int, ...] = ()  # passages it is shown citing
    evidence: dict[int, tuple[int, float]] = field(default_factory=dict)  # passage -> (unit index, similarity)


class Checker:
    def __init__(self, language: Language, hits: Sequence[Hit], units: Units,
                 embed: Callable[[list[str]], np.ndarray], settings: Settings, instructions: str = "") -> None:
        self.language, self.hits, self.units, self.embed, self.settings = language, hits, units, embed, settings
        self.instruction_words = set(_words(instructions))  # the prompt without passages and question
        self.vectors = np.stack([v for _, _, v in units]) if units else np.zeros((0, 1))
        self.passage_of = np.array([i for i, _, _ in units], dtype=int)
        texts = [hits[i].chunk.text[s.start:s.end] for i, s, _ in units]
        self.unit_languages = [detect_language(t) for t in texts]
        self.instruction = np.array([bool(INSTRUCTION.search(t)) for t in texts], dtype=bool)

    def judge(self, raw: str) -> Judged:
        numbers = [int(n) for group in MARKER.findall(raw) for n in re.split(r"\s*[,،]\s*", group)]
        cited = tuple(dict.fromkeys(n - 1 for n in numbers if 1 <= n <= len(self.hits)))
        invalid = sum(not 1 <= n <= len(self.hits) for n in numbers)
        claim = strip_markers(raw)
        words = len(re.findall(r"\w+", _BULLET.sub("", claim)))
        if words < FILLER_WORDS:  # cited or not: "PWNED [1]" is no claim a passage could support
            return Judged(raw, claim, "filler", cited, invalid)
        if not _in_language(claim, self.language):
            return Judged(raw, claim, "language", cited, invalid)
        if self._echoes(claim):  # rule 4 of the prompt holds the refusal sentence: an echo is not a refusal
            return Judged(raw, claim, "echo", cited, invalid)
        if not cited and _refuses(claim, self.language):
            return Judged(raw, claim, "refusal", invalid=invalid)
        evidence = self.evidence(claim)
        precise = tuple(p for p in cited if p in evidence)
        if precise:
            return Judged(raw, claim, "supported", cited, invalid, precise, precise, evidence)
        if evidence:
            best = max(evidence, key=lambda p: evidence[p][1] - self._floor(evidence[p][0]))
            return Judged(raw, claim, "recited", cited, invalid, (), (best,), evidence)
        return Judged(raw, claim, "unsupported", cited, invalid, evidence=evidence)

    def _echoes(self, claim: str) -> bool:
        """Whether the sentence repeats the prompt's rules (the refusal sentence alone is no echo)."""
        rest = normalize(_BULLET.sub("", claim)).replace(normalize(strings.ABSTAIN[self.language]).rstrip("."), " ")
        words = _words(rest)
        if len(words) < FILLER_WORDS or not self.instruction_words:
            return False
        return sum(w in self.instruction_words for w in words) >= ECHO_SHARE * len(words)

    def evidence(self, claim: str) -> dict[int, tuple[int, float]]:
        """Passages that support the claim, each with its most similar sentence (unit index, cosine)."""
        if not len(self.units):
            return {}
        similarity = self.vectors @ self.embed([claim])[0]
        similarity[self.instruction] = -1.0  # an injection attempt in a document supports nothing
        found: dict[int, tuple[int, float]] = {}
        for unit in np.argsort(-similarity):
            unit = int(unit)
            passage = int(self.passage_of[unit])
            if passage not in found and similarity[unit] >= self._floor(unit):
                found[passage] = (unit, float(similarity[unit]))
        return found

    def _floor(self, unit: int) -> float:
        if self.unit_languages[unit] == self.language:
            return self.settings.claim_supported_at
        return self.settings.claim_supported_at_translingual


def _in_language(claim: str, language: Language) -> bool:
    own = len(SCRIPT[language].findall(claim))
    other = sum(len(pattern.findall(claim)) for lang, pattern in SCRIPT.items() if lang != language)
    return own + other == 0 or own / (own + other) >= OWN_SCRIPT_SHARE[language]


def _refuses(claim: str, language: Language) -> bool:
    return normalize(strings.ABSTAIN[language]).rstrip(".") in normalize(claim) or bool(REFUSAL.search(claim))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", normalize(text).lower())


def same_claim(claim: str) -> str:
    """A claim's form for spotting a repeat: words only, folded."""
    return " ".join(_words(claim))


class Composer:
    """The shown answer: checked sentences with markers renumbered in order of first citation."""

    def __init__(self, hits: Sequence[Hit], units: Units) -> None:
        self.hits, self.units = hits, units
        self.parts: list[str] = []
        self.numbers: dict[int, int] = {}  # passage -> shown number
        self.highlights: dict[int, set[tuple[int, int]]] = {}
        self.scores: dict[int, float] = {}

    def add(self, judged: Judged, new_line: bool) -> bool:
        if judged.verdict not in ("supported", "recited"):
            return False
        for passage in judged.shown_citing:
            self.numbers.setdefault(passage, len(self.numbers) + 1)
            unit, similarity = judged.evidence[passage]
            sentence = self.units[unit][1]
            self.highlights.setdefault(passage, set()).add((sentence.start, sentence.end))
            self.scores[passage] = max(self.scores.get(passage, -1.0), similarity)
        markers = " ".join(f"[{self.numbers[p]}]" for p in judged.shown_citing)
        separator = ("\n" if new_line else " ") if self.parts else ""
        self.parts.append(f"{separator}{judged.claim} {markers}")
        return True

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def citations(self) -> tuple[Citation, ...]:
        out = []
        for passage, n in self.numbers.items():
            chunk = self.hits[passage].chunk
            out.append(Citation(n=n, source=chunk.source, text=chunk.text, start=chunk.start, end=chunk.end,
                                score=round(self.scores[passage], 4), page=chunk.page, ocr=chunk.ocr,
                                highlights=tuple(sorted(self.highlights[passage]))))
        return tuple(out)
