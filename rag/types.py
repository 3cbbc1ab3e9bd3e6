"""Plain dataclasses that cross stage boundaries; nothing from Chroma or llama-index leaks past them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Language = Literal["ar", "en"]


@dataclass(frozen=True)
class Block:
    """A unit of a document's layout, as its reader found it. Sentences never run over a block's edge,
    and line breaks inside a block end sentences only in a "lines" block."""

    start: int  # offsets into the document text
    end: int
    kind: str = "paragraph"  # paragraph | heading | lines (list items, table rows, a word list: one per line)
    level: int = 0  # headings: 1 for the title, 2 and deeper for sections


@dataclass(frozen=True)
class WordBox:
    """A word read by OCR: where it is in the document text, and where on its page image."""

    start: int  # offsets into the document text
    end: int
    page: int  # 1-based, as Document.page_at counts
    left: float  # fractions of the page's width and height, from its top left corner
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Document:
    id: str  # stable: derived from the source path, so re-reading a file keeps its id
    source: str
    # What a reader sees, not the file's bytes: markup removed, wrapped lines joined (offsets of
    # plain text files are kept), PDF text in reading order. Citations index into it.
    text: str
    sha256: str
    pages: tuple[tuple[int, int], ...] = ()  # (start, end) char ranges, one per PDF page
    blocks: tuple[Block, ...] = ()  # the reader's layout; empty: chunking infers it from the text
    title: str = ""  # from the file's own markup or metadata, when it names itself
    # Pages (1-based) whose text OCR read from an image (a scan, a photo), and the words it read on them.
    ocr_pages: tuple[int, ...] = ()
    words: tuple[WordBox, ...] = ()

    def read_by_ocr(self, start: int, end: int) -> bool:
        """Whether any of text[start:end] lies on a page that OCR read."""
        return any(self.pages[n - 1][0] < end and start < self.pages[n - 1][1] for n in self.ocr_pages
                   if n <= len(self.pages))

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
    # The chunk's context: document title and section headings, " — " between them, naming it in
    # Sources. (Embedding and searching it with the passage did not help: README "Documents".)
    heading: str = ""
    body: int = 0  # offset in text where the passage starts after its own heading lines (never quoted)
    ocr: bool = False  # read by OCR from a page image: it may misspell what the page says


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
    ocr: bool = False  # the passage was read by OCR from a page image (a scan, a photo)

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
    # When an LLM was asked: what the citation check found (None for a purely extractive answer).
    verification: "Verification | None" = None
    # An abstention that still shows the closest passages, saying plainly that none answers directly
    # (abstained stays True: the question was not answered).
    closest: bool = False
    # The question in the library's other language, as the LLM translated it, when retrieval used it
    # (rag/translate.py); None when the question was searched only as it was asked.
    translation: str | None = None

    def to_json(self) -> dict:
        data = {
            "question": self.question,
            "language": self.language,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "mode": self.mode,
            "support": self.support,
            "closest": self.closest,
        }
        if self.verification is not None:
            data["verification"] = asdict(self.verification)
        if self.translation is not None:
            data["translated_question"] = self.translation
        return data


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
    path: str = ""  # the file it was read from (absolute)


@dataclass(frozen=True)
class Verification:
    """What the check of a generated answer found (rag/verify.py). Counts are over the model's own
    sentences and markers, before the check changed anything: the model's quality, for eval."""

    model: str  # e.g. "ollama:qwen2.5:7b"
    language: str | None = None  # language of the model's whole reply
    sentences: int = 0  # sentences that state something (not filler such as "Answer:")
    supported: int = 0  # ... supported by a passage they cite (ALCE citation recall)
    grounded: int = 0  # ... supported by some retrieved passage, cited or not
    markers: int = 0  # citation markers the model wrote
    precise: int = 0  # ... whose passage alone supports their sentence (ALCE citation precision)
    invalid_markers: int = 0  # ... that point to no passage (removed)
    recited: int = 0  # sentences shown with a corrected citation
    dropped: int = 0  # sentences not shown: unsupported
    wrong_language: int = 0  # sentences not shown: not in the question's language
    refused: bool = False  # the model said the passages do not answer
    repeated: int = 0  # sentences not shown: the same as one shown before
    echoed: int = 0  # sentences not shown: the prompt's own instructions, repeated
    fallback: str | None = None  # why the extractive answer is shown instead (None: the model's is)
    incomplete: str | None = None  # why the model's answer stopped early, when it did
    first_token_ms: float | None = None
    total_ms: float | None = None
