"""Follow-up questions without an LLM: a question that leans on the previous one borrows its words."""
from __future__ import annotations

import re
from typing import Sequence

from .lexical import tokenize
from .types import Turn

# Openers that continue the conversation ("and what could go wrong?", «وما المخاطر؟», «ماذا عن…»).
# The Arabic conjunctions و/ف count only when glued to a question word: plenty of words start with
# those letters (وزير، فرنسا).
_OPENER = re.compile(
    r"^\s*(?:and|but|so|also|what about|how about|then)\b"
    r"|^\s*[وف](?:ما|ماذا|لماذا|كيف|هل|متى|أين|اين|من|كم|أي|اي)(?:\s|[؟?]|$)"
    r"|^\s*(?:ثم|ماذا عن|وماذا عن|و)\s",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(?:it|its|they|them|their|this|that|these|those|he|she|there)\b"
    r"|(?:^|\s)(?:هو|هي|هم|ذلك|هذا|هذه|تلك|هؤلاء)(?=\s|[؟?.!]|$)",
    re.IGNORECASE,
)
SHORT = 3  # content words; a question this short rarely names its own topic
# A pronoun in a longer question usually points inside it ("the United States and its allies").
PRONOUN_SHORT = 4


def continues(question: str) -> bool:
    """Opens as a continuation, or points back with a pronoun while too short to hold its own referent."""
    return bool(_OPENER.search(question)) or (bool(_PRONOUN.search(question)) and len(tokenize(question)) <= PRONOUN_SHORT)


def leans_back(question: str) -> bool:
    """Needs the conversation to be searched for: it continues it, or is too short to stand alone."""
    return continues(question) or len(tokenize(question)) <= SHORT


def wants_new(question: str) -> bool:
    """A continuation too short to name what it asks for ("and what could go wrong?", «وما المخاطر؟»,
    "and regionally?") wants what the last answer did not say, so the sentences it quoted are held
    back. One that names its own subject ("And who provided the sign language translation?") is often
    answered by a sentence already quoted, and holding those back lost the answer (eval/followups.py,
    second turn's answer_has_gold 0.385 when every continuation held them back, 0.654 with this rule)."""
    return continues(question) and len(tokenize(question)) <= SHORT


def retrieval_query(question: str, history: Sequence[Turn]) -> str:
    """The text to retrieve with: the question, preceded by the last question (itself resolved the
    same way, so a chain of follow-ups keeps its topic) when it leans back."""
    if not history or not leans_back(question):
        return question
    return f"{retrieval_query(history[-1].question, history[:-1])} {question}"
