"""The LLM answerer: the user's model writes the answer from the numbered passages; each sentence is
shown only once rag/verify.py has checked it against them."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Iterator, Sequence

import numpy as np

from . import prompts, strings
from .answer import ExtractiveAnswerer, SentenceSource
from .calibration import Calibration
from .llm import ChatModel, LLMError
from .settings import Settings
from .text import detect_language
from .types import Answer, Hit, Verification
from .verify import Checker, Composer, Judged, SentenceSplitter, same_claim, strip_markers


class LLMAnswerer:
    """Writes the answer with the user's LLM from the numbered passages, and streams it sentence by
    sentence, each shown only after the check in rag/verify.py. When the model fails, or nothing it
    wrote is supported or in the question's language, the extractive answer is shown instead, after a
    line that says why; when the model says the passages do not answer, it abstains."""

    def __init__(self, settings: Settings, model: ChatModel, sentences: SentenceSource,
                 embed: Callable[[list[str]], np.ndarray], extractive: ExtractiveAnswerer,
                 deadline: float | None = None, calibration: Calibration | None = None) -> None:
        self.settings, self.model, self.sentences, self.embed = settings, model, sentences, embed
        self.extractive = extractive
        # time.monotonic() by which the reply must end: the question's whole budget
        # (llm_total_timeout), of which a follow-up rewrite and a translation may have used some.
        self.deadline = deadline
        # How off-topic questions score in this library (rag/calibration.py): the floor under which
        # the model is not asked. None: llm_floor_margin under the extractive floor.
        self.calibration = calibration

    def answer(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Answer:
        *_, answer = self.stream(question, hits, query_vector, avoid)
        return answer

    def stream(self, question: str, hits: Sequence[Hit], query_vector: np.ndarray,
               avoid: Sequence[str] = ()) -> Iterator[str | Answer]:
        language = detect_language(question)
        hits = list(hits)
        fallback = self.extractive.answer(question, hits, query_vector, avoid)
        if fallback.abstained and self._off_topic(question, language, hits, query_vector):
            yield fallback  # far below any passage: nothing to ask the model about
            return
        units = self.sentences(hits)
        limit = self.settings.answer_sentences + 2
        messages = prompts.answer_messages(question, language, hits, limit)
        checker = Checker(language, hits, units, self.embed, self.settings, prompts.instructions(messages))
        composer = Composer(hits, units)
        splitter = SentenceSplitter()
        judged: list[Judged] = []
        reply: list[str] = []
        shown: set[str] = set()
        error: LLMError | None = None
        started, first = time.perf_counter(), None
        pieces = self.model.answer(messages, until=self.deadline)

        def take(sentence: str, new_line: bool) -> bool:
            """Judge one sentence; whether it is shown."""
            claim = strip_markers(sentence)
            if same_claim(claim) in shown:  # judged once already: a model that repeats itself costs no embedding
                verdict = Judged(sentence, claim, "repeated")
            else:
                verdict = checker.judge(sentence)
            judged.append(verdict)
            if not composer.add(verdict, new_line):
                return False
            shown.add(same_claim(verdict.claim))
            return True

        def enough() -> bool:
            """The prompt's sentence limit holds for what is shown; and a reply whose last claims were
            all rejected, with nothing shown yet, is going nowhere."""
            if len(shown) >= limit:
                return True
            claims = [j.verdict for j in judged if j.verdict not in ("filler", "echo", "repeated")]
            recent = claims[-self.settings.llm_rejected_in_a_row:]
            return not shown and len(recent) == self.settings.llm_rejected_in_a_row and all(
                v in ("unsupported", "language") for v in recent)

        try:
            stopped = False
            for piece in pieces:
                first = first or time.perf_counter()
                reply.append(piece)
                for sentence, new_line in splitter.feed(piece):
                    if take(sentence, new_line):
                        yield composer.text
                    if stopped := enough():
                        break
                if stopped:
                    break
            else:
                for sentence, new_line in splitter.finish():
                    if take(sentence, new_line):
                        yield composer.text
                    if enough():
                        break
        except LLMError as err:  # a sentence cut off mid-way is never judged, let alone shown
            error = err
        finally:
            pieces.close()  # stops the model: the server is told to stop generating
        tally = _tally(self.model.name, judged, "".join(reply), error, started, first)
        refusals = sum(j.verdict == "refusal" for j in judged)
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
        elif error is None and refusals and refusals >= tally.dropped + tally.wrong_language:
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
            # Below the extractive floor there are no quotes to fall back to: the abstention stands as it is.
            text = fallback.text if fallback.abstained else f"{notice}\n{fallback.text}"
            yield replace(fallback, text=text, verification=replace(tally, fallback=reason))

    def _off_topic(self, question: str, language: str, hits: Sequence[Hit], query_vector: np.ndarray) -> bool:
        """Whether the question scores no better than an off-topic one in this library: then the
        model is not asked. Anything above is the model's to judge, in-topic questions the extractive
        answerer refuses included."""
        decided = self.extractive.decision(question, hits, query_vector) if hits else None
        if decided is None:
            return True
        lowest = -self.settings.llm_floor_margin
        floor = lowest if self.calibration is None else self.calibration.off_topic_floor(language, lowest)
        return decided < floor


def _tally(model: str, judged: list[Judged], reply: str, error: LLMError | None, started: float,
           first: float | None) -> Verification:
    claims = [j for j in judged if j.verdict not in ("filler", "refusal", "echo", "repeated")]
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
        repeated=sum(j.verdict == "repeated" for j in judged),
        echoed=sum(j.verdict == "echo" for j in judged),
        incomplete=error.reason if error is not None else None,
        first_token_ms=round((first - started) * 1000, 1) if first is not None else None,
        total_ms=round((now - started) * 1000, 1),
    )
