"""The LLM answerer: the user's model writes the answer from the numbered passages; each sentence is
shown only once rag/verify.py has checked it against them."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Iterator, Sequence

import numpy as np

from . import prompts, strings
from .answer import ExtractiveAnswerer, SentenceSource
from .llm import ChatModel, LLMError
from .settings import Settings
from .text import detect_language
from .types import Answer, Hit, Verification
from .verify import Checker, Composer, Judged, SentenceSplitter


class LLMAnswerer:
    """Writes the answer with the user's LLM from the numbered passages, and streams it sentence by
    sentence, each shown only after the check in rag/verify.py. When the model fails, or nothing it
    wrote is supported or in the question's language, the extractive answer is shown instead, after a
    line that says why; when the model says the passages do not answer, it abstains."""

    def __init__(self, settings: Settings, model: ChatModel, sentences: SentenceSource,
                 embed: Callable[[list[str]], np.ndarray], extractive: ExtractiveAnswerer) -> None:
        self.settings, self.model, self.sentences, self.embed = settings, model, sentences, embed
        self.extractive = extractive

    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer:
        *_, answer = self.stream(question, hits, query_vector, avoid)
        return answer

    def stream(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Iterator[str | Answer]:
        language = detect_language(question)
        hits = list(hits)
        fallback = self.extractive.answer(question, hits, query_vector, avoid)
        if fallback.abstained:  # no retrieved sentence reaches the calibrated support: nothing to ask about
            yield fallback
            return
        units = self.sentences(hits)
        checker = Checker(language, hits, units, self.embed, self.settings)
        composer = Composer(hits, units)
        splitter = SentenceSplitter()
        judged: list[Judged] = []
        reply: list[str] = []
        error: LLMError | None = None
        started, first = time.perf_counter(), None
        messages = prompts.answer_messages(question, language, hits, self.settings.answer_sentences + 2)
        try:
            for piece in self.model.answer(messages):
                first = first or time.perf_counter()
                reply.append(piece)
                for sentence, new_line in splitter.feed(piece):
                    judged.append(checker.judge(sentence))
                    if composer.add(judged[-1], new_line):
                        yield composer.text
            for sentence, new_line in splitter.finish():
                judged.append(checker.judge(sentence))
                if composer.add(judged[-1], new_line):
                    yield composer.text
        except LLMError as err:  # a sentence cut off mid-way is never judged, let alone shown
            error = err
        tally = _tally(self.model.name, judged, "".join(reply), error, started, first)
        if composer.text:
            notes = [strings.LLM_DROPPED[language].format(n=tally.dropped)] if tally.dropped else []
            if tally.wrong_language:
                notes.append(strings.LLM_DROPPED_LANGUAGE[language].format(n=tally.wrong_language))
            if error is not None:
                notes.append(strings.LLM_INCOMPLETE[language].format(reason=error.describe(language)))
            text = "\n".join([composer.text, *notes])
            yield Answer(question=question, language=language, text=text, abstained=False,
                         citations=composer.citations(), mode=self.model.name, support=fallback.support,
                         translingual=fallback.translingual, verification=tally)
        elif error is None and tally.refused:
            yield Answer(question=question, language=language, text=strings.ABSTAIN[language], abstained=True,
                         mode=self.model.name, support=fallback.support, translingual=fallback.translingual,
                         verification=tally)
        else:
            if error is not None:
                reason = error.reason
                notice = strings.LLM_UNAVAILABLE[language].format(model=self.model.name,
                                                                 reason=error.describe(language))
            elif tally.wrong_language > tally.dropped:
                reason, notice = "language", strings.LLM_WRONG_LANGUAGE[language]
            else:
                reason, notice = "unsupported", strings.LLM_UNSUPPORTED[language]
            yield replace(fallback, text=f"{notice}\n{fallback.text}", verification=replace(tally, fallback=reason))


def _tally(model: str, judged: list[Judged], reply: str, error: LLMError | None, started: float,
           first: float | None) -> Verification:
    claims = [j for j in judged if j.verdict not in ("filler", "refusal")]
    now = time.perf_counter()
    return Verification(
        model=model,
        language=detect_language(reply) if reply.strip() else None,
        sentences=len(claims),
        supported=sum(bool(j.precise) for j in claims),
        grounded=sum(j.verdict in ("supported", "recited") for j in claims),
        markers=sum(len(j.cited) + j.invalid for j in judged),
        precise=sum(len(j.precise) for j in claims),
        invalid_markers=sum(j.invalid for j in judged),
        recited=sum(j.verdict == "recited" for j in claims),
        dropped=sum(j.verdict == "unsupported" for j in claims),
        wrong_language=sum(j.verdict == "language" for j in claims),
        refused=any(j.verdict == "refusal" for j in judged),
        incomplete=error.reason if error is not None else None,
        first_token_ms=round((first - started) * 1000, 1) if first is not None else None,
        total_ms=round((now - started) * 1000, 1),
    )
