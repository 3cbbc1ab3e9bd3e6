"""Query translation through the user's LLM: a question over a library in the other language is also
searched in that language, as RAGFlow's cross-language search does.

The multilingual embedder sets the ceiling of cross-language retrieval (XQuAD hit@1 0.63 for Arabic
questions over English text, 0.985 with the parallel English question), and a configured LLM
translates far better than it matches across languages. But a weak model translates badly (Gemma 3
270M: «كم عرقلة سجل لوك كوتشلي؟» -> "What block delay record of Coupang?"), and a confident wrong
translation retrieves confidently wrong passages. So a translation is used only when

  * it is in the other language, one short line, with no markup or role labels, and
  * its meaning agrees with the question's: the embedder, which compares across languages well
    enough for this, puts the two within Settings.translation_agrees_at (calibrated on XQuAD's
    parallel questions against other questions of the same articles: docs/llm.md),

and then the run it retrieves replaces the original's unless the original's best sentence supports
an answer clearly better, each measured against its own abstention floor (same-language similarities
run higher). Measured on XQuAD (docs/llm.md): plain reciprocal-rank fusion of a perfect translation
with the original loses most of the gain, and a fluent wrong translation that passes no check sinks
hit@1 from 0.85 to 0.26; with these checks a perfect translator lifts Arabic over English from 0.77
to 0.935 and English over Arabic from 0.845 to 0.94, and the wrong one costs at most 0.01.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import prompts
from .llm import ChatModel, LLMError
from .settings import Settings
from .text import detect_language
from .types import Language

OTHER: dict[Language, Language] = {"ar": "en", "en": "ar"}
MAX_TOKENS = 128  # a question, not a paragraph
CACHE_SIZE = 512
TRANSLATION_EDGE = 0.04
# What a model that does not follow the prompt writes instead of a translation or a rewrite.
JUNK = re.compile(r"<[^>\n]{0,40}>|\[/?INST\]|<<|>>|^\s*(?:system|user|assistant)\s*:|```", re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:(?:arabic|english)?\s*translation|question|الترجمة(?:\s+\S+)?|السؤال)\s*[:：]\s*",
                    re.IGNORECASE)
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")


@dataclass(frozen=True)
class Translation:
    text: str | None  # None: nothing usable came back
    agreement: float | None = None  # cosine of the question and the translation, as queries
    reason: str | None = None  # why it is not used, when it is not

    @property
    def usable(self) -> bool:
        return self.text is not None and self.reason is None


class Translator:
    """Asks the model for the question in the library's other language; remembers its answers."""

    def __init__(self, model: ChatModel, settings: Settings, embed: Callable[[list[str]], np.ndarray]) -> None:
        self.model, self.settings, self.embed = model, settings, embed
        self._cache: OrderedDict[str, Translation] = OrderedDict()

    def translate(self, question: str, language: Language) -> Translation:
        key = f"{language}\n{question}"
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            reply = self.model.complete(prompts.translate_messages(question, language), max_tokens=MAX_TOKENS,
                                        total_timeout=self.settings.translate_timeout)
        except LLMError as err:
            return Translation(None, reason=err.reason)  # not cached: the server may be back next time
        result = self._judge(question, language, clean(reply))
        self._cache[key] = result
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def _judge(self, question: str, language: Language, text: str | None) -> Translation:
        if text is None:
            return Translation(None, reason="junk")
        if detect_language(text) != OTHER[language] or text.strip() == question.strip():
            return Translation(text, reason="language")
        vectors = self.embed([question, text])
        agreement = round(float(vectors[0] @ vectors[1]), 4)
        if agreement < self.settings.translation_agrees_at:
            return Translation(text, agreement, reason="disagrees")
        return Translation(text, agreement)


def clean(reply: str) -> str | None:
    """The translation in a reply: its first line, without a label, list number or quotes; None when
    the reply is not one short plain question."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return None
    line = LIST_ITEM.sub("", _LABEL.sub("", lines[0])).strip().strip('"\'«»“”').strip()
    if not re.search(r"[^\W\d_]", line) or JUNK.search(line) or len(line) > 400:
        return None
    return line


def better(original_support: float, original_floor: float, translated_support: float, translated_floor: float) -> bool:
    """Whether the translated run is the one to answer from: its best sentence clears its own floor
    by nearly as much as the original's clears its own, or more. The edge favours a translation that
    passed the checks (on XQuAD, with a perfect translator, the plain comparison kept the original
    where the translation was right: hit@1 0.92 instead of 0.95 English over Arabic); the original
    keeps a clear lead, as in a library that holds the question's own language too."""
    return translated_support - translated_floor + TRANSLATION_EDGE > original_support - original_floor
