"""Sanad: question answering over your own documents, in Arabic and English, with citations."""
from .settings import PRESETS, Settings, load_settings
from .types import Answer, Chunk, Citation, DocInfo, Document, Hit, IndexReport, Turn

__all__ = ["Answer", "Chunk", "Citation", "DocInfo", "Document", "Hit", "IndexReport", "PRESETS", "Sanad",
           "Settings", "Turn", "load_settings"]


def __getattr__(name: str):
    # The engine pulls in Chroma and llama-index; import it only when asked for.
    if name == "Sanad":
        from .engine import Sanad

        return Sanad
    raise AttributeError(name)
