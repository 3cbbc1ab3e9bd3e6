"""Plain dataclasses that cross stage boundaries; nothing from Chroma or llama-index leaks past them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Language = Literal["ar", "en"]


@dataclass(frozen=True)
class Document:
    id: str  # stable: derived from the source path, so re-reading a file keeps its id
    source: str
    text: str
    sha256: str
    pages: tuple[tuple[int, int], ...] = ()  # (start, end) char ranges, one per PDF page

    def page_at(self, offset: int) -> int | None:
        for number, (start, end) in enumerate(self.pages, 1):
            if start <= offset < end:
                return number
        return None


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    source: str
    text: str  # always document.text[start:end]
    start: int
    end: int
    page: int | None = None
    heading: str = ""


@dataclass(frozen=True)
class Sentence:
    """A sentence of a chunk, embedded on its own: short questions match one sentence better than a paragraph."""

    chunk_id: str
    start: int  # offsets inside the chunk text
    end: int

    @property
    def id(self) -> str:
        return f"{self.chunk_id}:{self.start}"


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    dense_rank: int | None = None  # 1-based rank in each retriever, None when it did not return the chunk
    lexical_rank: int | None = None
    dense_score: float | None = None  # cosine similarity


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as the follow-up logic needs it."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    text: str  # the cited passage, == document text[start:end]
    start: int
    end: int
    score: float
    page: int | None = None
    highlights: tuple[tuple[int, int], ...] = ()  # cited sentences, as spans inside `text`

    def to_json(self) -> dict:
        data = asdict(self)
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass(frozen=True)
class Answer:
    question: str
    language: Language
    text: str  # with [n] markers that refer to citations[].n
    abstained: bool
    citations: tuple[Citation, ...] = ()
    mode: str = "extractive"
    # Cosine similarity of the best-matching retrieved sentence, and whether that sentence is in
    # another language than the question: what abstention was decided on (None: nothing retrieved).
    support: float | None = None
    translingual: bool = False

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "language": self.language,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "mode": self.mode,
            "support": self.support,
        }


@dataclass(frozen=True)
class FileFailure:
    source: str
    reason: str


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    chunks_embedded: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what went wrong after the commit (the index is fine)

    @property
    def indexed_anything(self) -> bool:
        return bool(self.added or self.updated or self.unchanged or self.removed)


@dataclass(frozen=True)
class DocInfo:
    id: str
    source: str
    chunks: int
    indexed_at: str  # ISO 8601, UTC
    sha256: str
