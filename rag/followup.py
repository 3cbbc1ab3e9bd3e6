"""Follow-up questions without an LLM: a question that leans on the previous one borrows its words."""
from __future__ import annotations

import re
from typing import Sequence

from .lexical import tokenize
from .types import Turn

# Openers and pronouns that point back at the conversation ("and what could go wrong?", "وما المخاطر؟").
_LEANS_BACK = re.compile(
    r"^\s*(and|but|so|also|what about|how about|why not|then)\b|\b(it|its|they|them|their|this|that|these|those|he|she|there)\b"
    r"|^\s*(و|ف|ثم|ماذا عن|وماذا|وما|ولماذا|وكيف|وهل|ومتى|وأين|ومن)"
    r"|(هو|هي|هم|ذلك|هذا|هذه|تلك|هؤلاء)(\s|[؟?.!]|$)",
    re.IGNORECASE,
)
SHORT = 3  # content words; a question this short rarely names its own topic


def leans_back(question: str) -> bool:
    return bool(_LEANS_BACK.search(question)) or len(tokenize(question)) <= SHORT


def retrieval_query(question: str, history: Sequence[Turn]) -> str:
    """The text to retrieve with: the question, preceded by the last question (itself resolved the
    same way, so a chain of follow-ups keeps its topic) when it leans back."""
    if not history or not leans_back(question):
        return question
    return f"{retrieval_query(history[-1].question, history[:-1])} {question}"
