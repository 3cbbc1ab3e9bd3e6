"""What the source viewer is asked to show: a document, and in it a cited passage and its sentences."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from rag import Citation


@dataclass(frozen=True)
class Reference:
    source: str
    start: int | None = None  # the cited passage, as offsets into the document text
    end: int | None = None
    highlights: tuple[tuple[int, int], ...] = ()  # the quoted sentences, as offsets into the document text
    page: int | None = None

    @classmethod
    def of(cls, citation: Citation) -> "Reference":
        spans = tuple((citation.start + a, citation.start + b) for a, b in citation.highlights)
        return cls(citation.source, citation.start, citation.end, spans, citation.page)

    def encode(self) -> str:
        fields = {"src": self.source}
        if self.start is not None and self.end is not None:
            fields |= {"s": self.start, "e": self.end}
        if self.highlights:
            fields["h"] = ",".join(f"{a}-{b}" for a, b in self.highlights)
        if self.page is not None:
            fields["p"] = self.page
        return urlencode(fields)

    @classmethod
    def decode(cls, text: str) -> "Reference | None":
        """None for anything that is not a reference this module wrote (it arrives from the browser)."""
        try:
            fields = {k: v[0] for k, v in parse_qs(text or "", strict_parsing=True).items()}
            start, end = (int(fields["s"]), int(fields["e"])) if "s" in fields else (None, None)
            spans = tuple(tuple(int(x) for x in span.split("-")) for span in fields["h"].split(",")) if "h" in fields else ()
            page = int(fields["p"]) if "p" in fields else None
            if any(len(span) != 2 for span in spans) or (page is not None and page < 1):
                return None
            return cls(fields["src"], start, end, spans, page)
        except (KeyError, ValueError):
            return None
