"""Every user-facing string, Arabic beside English. Code elsewhere never spells out a message."""
from __future__ import annotations

import re

from .types import Language

# Answers -----------------------------------------------------------------------------------------
ABSTAIN: dict[Language, str] = {
    "en": "I couldn't find this in the documents.",
    "ar": "لم أجد في المستندات ما يجيب عن هذا السؤال.",
}
# Framing before extractive quotes. The quotes stay in the document's language.
ANSWER_LEAD: dict[Language, str] = {
    "en": "From the documents:",
    "ar": "بحسب المستندات:",
}
# When the quotes are in another language than the question: question language -> quote language.
ANSWER_LEAD_QUOTED_IN: dict[Language, dict[Language, str]] = {
    "en": {"ar": "From the documents (quoted in Arabic):", "en": "From the documents (quoted in English):"},
    "ar": {"en": "بحسب المستندات (مقتبس بالإنجليزية):", "ar": "بحسب المستندات (مقتبس بالعربية):"},
}
# Below the abstention floor but near it: the closest passages, saying plainly that none answers.
CLOSEST_LEAD: dict[Language, str] = {
    "en": "No passage answers this directly. The closest passages say:",
    "ar": "لا يجيب أي مقطع عن هذا السؤال مباشرة. أقرب ما في المستندات:",
}
QUESTION_TOO_LONG: dict[Language, str] = {
    "en": "That question is too long ({n} characters; the limit is {limit}). Please ask it in fewer words.",
    "ar": "السؤال طويل جداً ({n} حرفاً، والحد {limit}). من فضلك اختصره.",
}
EMPTY_QUESTION: dict[Language, str] = {
    "en": "Please type a question.",
    "ar": "من فضلك اكتب سؤالاً.",
}

# Indexing ----------------------------------------------------------------------------------------
REASON_EMPTY = "empty file"
REASON_BINARY = "binary data, not text"
REASON_NO_TEXT = "no extractable text (no text layer, and OCR found no words)"
REASON_NO_TESSERACT = ("scanned pages and images need Tesseract OCR, which is not installed "
                       "(Debian/Ubuntu: sudo apt install tesseract-ocr tesseract-ocr-ara tesseract-ocr-eng)")
REASON_ENCRYPTED = "encrypted PDF (remove the password first)"
REASON_MISSING = "no such file or folder"
REASON_LOOP = "symlink loop, skipped"
REASON_NOT_REGULAR = "not a regular file"


def reason_unreadable(err: OSError) -> str:
    return f"cannot read: {err.strerror or err}"


def reason_too_large(size: int, limit: int) -> str:
    return f"too large ({size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB, set with --max-file-mb)"


def reason_unsupported(suffix: str) -> str:
    return f"unsupported file type {suffix or '(none)'}"


def _detail(err: Exception) -> str:
    """A parser's message without Python object reprs: python-docx names the in-memory file it was
    given as "<_io.BytesIO object at 0x…>", which means nothing to the user."""
    return re.sub(r"(?:file )?'?<[\w.]+ object at 0x[0-9a-fA-F]+>'?", "the file", str(err))


def reason_unparsable(err: Exception) -> str:
    return f"cannot parse ({type(err).__name__}: {_detail(err)})"


def reason_corrupt_pdf(err: Exception) -> str:
    return f"damaged or truncated PDF ({type(err).__name__}: {_detail(err)})"


def reason_corrupt_docx(err: Exception, kind: str = ".docx") -> str:
    return f"damaged {kind} ({type(err).__name__}: {_detail(err)})"


def reason_corrupt_image(err: Exception) -> str:
    return f"damaged or unknown image ({type(err).__name__}: {_detail(err)})"


def reason_image_too_large(size: str) -> str:
    return f"refused: the image is too large to be a page ({size})"


def reason_no_tesseract_language(packages: list[str]) -> str:
    return f"Tesseract OCR lacks a language it needs (Debian/Ubuntu: sudo apt install {' '.join(packages)})"


def reason_ocr_failed(err: Exception) -> str:
    return f"OCR failed ({type(err).__name__}: {_detail(err)})"


def reason_too_many_rows(kept: int) -> str:
    return f"[… the rest of the table is not indexed: only its first {kept:,} rows are]"


REASON_LINK_OUTSIDE = "a symlink that leads out of the indexed folder, skipped (rag index --follow-links to index it)"


def reason_zip_bomb(member: str, size: int, ratio: float, kind: str = ".docx") -> str:
    return (f"refused: the {kind} unpacks to {size / 1e6:.0f} MB ({member}, {ratio:.0f}× its packed size), "
            "more than a real document does")


def reason_pdf_bomb(size: int) -> str:
    return f"refused: the PDF's compressed streams unpack to more than {size / 1e6:.0f} MB, more than a real document's"


def reason_too_many_chunks(count: int, limit: int) -> str:
    return (f"too many passages ({count:,}; the limit per document is {limit:,}, "
            "max_chunks_per_document in rag/settings.py): split the file")


def index_summary(added: int, updated: int, removed: int, unchanged: int, failed: int, seconds: float) -> str:
    return (
        f"added {added}, updated {updated}, removed {removed}, unchanged {unchanged}, failed {failed}"
        f" ({seconds:.1f} s)"
    )


NOTHING_INDEXED = "nothing could be indexed"


def cleanup_failed(err: Exception) -> str:
    return (f"the index is updated, but removing unused vectors failed ({type(err).__name__}: {err}); "
            "the next index run retries it")

NO_INDEX = "no index at {path}; build it with: rag index [PATH ...] --index-dir {path}"
BROKEN_INDEX = "the index at {path} is damaged or was not made by Sanad ({detail}); rebuild it with: rag index --rebuild --index-dir {path}"
INDEX_LOCKED = "the index at {path} is being updated by process {pid}; try again when it finishes"
NO_SERVER_INDEX = "no index in the Chroma server at {url} yet; build it with: rag index [PATH ...] --chroma-url {url}"
BROKEN_SERVER_INDEX = ("the index in the Chroma server at {url} is damaged ({detail}); rebuild it with: "
                       "rag index --rebuild --chroma-url {url}")
SERVER_INDEX_LOCKED = "the index in the Chroma server at {url} is being updated by {holder}; try again when it finishes"
CHROMA_UNREACHABLE = "cannot reach the Chroma server at {url} ({detail}); is it running (chroma run --path DIR --port N)?"
BAD_CHROMA_URL = "--chroma-url must look like http://HOST:PORT, not {url!r}"
EMBEDDER_MISMATCH = (
    "the index at {path} was built with embedder {built} (dimension {dim}), not {asked}; "
    "rebuild it with: rag index --rebuild --embedder {asked} --index-dir {path}"
)

# Embedders ---------------------------------------------------------------------------------------
UNKNOWN_EMBEDDER = "unknown embedder {name!r}: use 'e5-small-q4' or 'st:<Hugging Face name or local folder>'"
HUB_UNREACHABLE = (
    "cannot load embedding model {name!r}: it is not a local folder, not in the Hugging Face cache, "
    "and the Hugging Face Hub cannot be reached ({detail}). Download it where there is internet and "
    "pass its folder: --embedder st:/path/to/model"
)
MODEL_LOAD_FAILED = "cannot load embedding model {name!r}: {detail}"

# Chat UI -----------------------------------------------------------------------------------------
# The page serves both languages at once, so its fixed labels carry both; messages that answer a
# question follow the question's language.
CHAT_TITLE = "Sanad · سند"
CHAT_INTRO = (
    "Ask about your documents in Arabic or English; every answer cites its sources.\n\n"
    "اسأل عن مستنداتك بالعربية أو بالإنجليزية، وكل إجابة تذكر مصادرها."
)
CHAT_TAB = "Chat · المحادثة"
CHAT_LABEL = "Sanad · سند"
CHAT_PLACEHOLDER = "Type a question… · اكتب سؤالك…"
CHAT_SEND = "Ask · اسأل"
# Which answerer writes the answers: "extractive" quotes the documents; an LLM's name writes with it.
CHAT_ANSWERER = "Answers by · الإجابة بواسطة"
CHAT_ANSWERER_EXTRACTIVE = "quotes from the documents · اقتباسات من المستندات"
CHAT_EXAMPLES = (
    "لماذا باكستان؟",
    "Why Pakistan?",
    "كم عدد الجنود في القوة المقترحة؟",
    "What do the United States and its allies fear after the war?",
)
SOURCES: dict[Language, str] = {"en": "Sources", "ar": "المصادر"}
PAGE: dict[Language, str] = {"en": "p. {page}", "ar": "ص {page}"}
# A cited passage that OCR read from a scan or photo (Citation.ocr).
OCR_MARK: dict[Language, str] = {"en": "OCR", "ar": "نص ممسوح ضوئياً"}
OCR_NOTE: dict[Language, str] = {"en": "Read by OCR from a page image: check the page, words may be misread.",
                                 "ar": "قُرئ آلياً من صورة الصفحة: راجع الصفحة، فقد تُقرأ بعض الكلمات خطأً."}
CHAT_NO_INDEX: dict[Language, str] = {
    "en": "No documents are indexed yet. Upload some in the Documents tab.",
    "ar": "لا توجد مستندات مفهرسة بعد. ارفع بعضها من تبويب المستندات.",
}
CHAT_FAILED: dict[Language, str] = {
    "en": "Sorry, something went wrong while answering ({detail}). Please try again.",
    "ar": "عذراً، حدث خطأ أثناء الإجابة ({detail}). حاول مرة أخرى.",
}

DOCS_TAB = "Documents · المستندات"
DOCS_TABLE = "Indexed documents · المستندات المفهرسة"
DOCS_COLUMNS = ("Document · المستند", "Chunks · المقاطع", "Indexed · وقت الفهرسة")
DOCS_CHOOSE = "Document to remove · المستند المراد حذفه"
DOCS_REMOVE = "Remove · احذف"
DOCS_REBUILD = "Rebuild index · أعد بناء الفهرس"
DOCS_REFRESH = "Refresh · حدّث"
DOCS_NONE = "Nothing is indexed yet. · لا شيء مفهرس بعد."
DOCS_NO_FILES = "Choose one or more files first. · اختر ملفاً أو أكثر أولاً."
DOCS_NOTHING_CHOSEN = "Choose a document to remove first. · اختر مستنداً لحذفه أولاً."
DOCS_STAGES = {"check": "Checking the files · فحص الملفات", "read": "Reading files · قراءة الملفات",
               "embed": "Embedding passages · تضمين المقاطع", "save": "Saving the index · حفظ الفهرس"}
DOCS_STAGE_UNITS = {"check": "files · ملفات", "read": "files · ملفات", "embed": "texts · نصوص"}
DOCS_STAGES["ocr"] = "Reading scanned pages (OCR) · قراءة الصفحات الممسوحة ضوئياً"  # rag/read/ocr.py, a page at a time
DOCS_STAGE_UNITS["ocr"] = "pages · صفحات"
DOCS_FAILED = "Indexing failed · فشلت الفهرسة"  # the reason follows on a line of its own


def docs_too_large(name: str, size: int, limit_mb: float) -> str:
    return (f"{name}: too large ({size / 1e6:.1f} MB; the limit is {limit_mb:g} MB) · "
            f"الملف أكبر من الحد المسموح ({limit_mb:g} ميغابايت)")


def docs_unsupported(name: str) -> str:
    return f"{name}: unsupported file type · نوع ملف غير مدعوم: {name}"


def docs_indexing(names: str) -> str:
    return f"Indexing {names}… · جارٍ فهرسة {names}…"


def docs_removing(name: str) -> str:
    return f"Removing {name}… · جارٍ حذف {name}…"


DOCS_REBUILDING = "Rebuilding the index… · جارٍ إعادة بناء الفهرس…"


def docs_indexed(name: str) -> str:
    return f"{name}: indexed · فُهرس الملف {name}"


def docs_unchanged(name: str) -> str:
    return f"{name}: already indexed, unchanged · الملف {name} مفهرس من قبل ولم يتغير"


def docs_upload_help(suffixes: tuple[str, ...]) -> str:
    """The upload box's help, listing the types the readers take (rag.read.SUPPORTED)."""
    return (f"Upload documents to index them: {', '.join(suffixes)}\n\n"
            f"ارفع مستندات لفهرستها: {'، '.join(s.lstrip('.').upper() for s in suffixes)}")


def docs_report(added: int, updated: int, removed: int, unchanged: int, failed: int) -> str:
    return (f"Added {added}, updated {updated}, removed {removed}, unchanged {unchanged}, failed {failed}. · "
            f"أضيف {added}، حُدّث {updated}، حُذف {removed}، بلا تغيير {unchanged}، فشل {failed}.")


AUTH_REQUIRED = (
    "rag chat: binding {host} exposes the chat beyond this machine; set SANAD_AUTH=user:password "
    "to require a login, or use --host 127.0.0.1"
)
AUTH_MALFORMED = "rag chat: SANAD_AUTH must look like user:password, with neither part blank"
PROXY_MALFORMED = "rag chat: SANAD_TRUSTED_PROXIES: {value!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
CHAT_RUNNING = "Sanad chat: {url} (Ctrl-C stops it)"

# Source viewer and uploads (chat) ----------------------------------------------------------------
REASON_NOT_INDEXED = "not in the index (it may have been removed)"
REASON_GONE_SINCE_INDEXING = "the file is gone since it was indexed; index it again or remove it"
REASON_CHANGED_SINCE_INDEXING = ("the file changed since it was indexed, so the cited places no longer match; "
                                 "index it again to see it")
REASON_READ_DIFFERENTLY = ("this version of Sanad reads the file differently from the one that indexed it; "
                           "rebuild the index to see it")
CHAT_PORT_BUSY = "rag chat: port {port} is already in use (another chat?); choose another one, e.g. rag chat --port {free}"
LOGIN_THROTTLED = "Too many failed logins; try again in {seconds} s. · محاولات دخول فاشلة كثيرة؛ حاول بعد {seconds} ثانية."
DOCS_UPLOAD_LABEL = "Upload · ارفع"
DOCS_OPEN = "Open · افتح"
VIEWER_LABEL = "Source · المصدر"
VIEWER_ZOOM_IN = "Zoom in · تكبير"
VIEWER_ZOOM_OUT = "Zoom out · تصغير"
EVAL_NO_FILE = "rag eval: {what} {path} does not exist"
VIEWER_CLOSE = "Close · إغلاق"
VIEWER_SHOW_PAGE = "Page · الصفحة"
VIEWER_SHOW_TEXT = "Text · النص"
VIEWER_MORE = "… {n} more characters · … {n} حرفاً أخرى"
VIEWER_NOT_ON_PAGE = ("The quoted sentences could not be located on the page image; the text view marks them. · "
                      "تعذّر تحديد الجمل المقتبسة على صورة الصفحة؛ عرض النص يبرزها.")
VIEWER_CANNOT_OPEN = "Cannot show {name}: {reason}"
# Why a PDF page is shown as text only (ui/pdf_page.py): the page's own image is refused or failed.
VIEWER_PAGE_NO_BOX = "This page has no drawable size; its text is below. · ليس لهذه الصفحة حجم يمكن رسمه؛ نصّها أدناه."
VIEWER_PAGE_STRIP = "This page is too narrow a strip to draw; its text is below. · هذه الصفحة شريط أضيق من أن يُرسم؛ نصّها أدناه."
VIEWER_PAGE_TOO_HEAVY = "This page's image is too large to send; its text is below. · صورة هذه الصفحة أكبر من أن تُرسل؛ نصّها أدناه."
VIEWER_PAGE_FAILED = "This page could not be drawn ({detail}); its text is below. · تعذّر رسم هذه الصفحة ({detail})؛ نصّها أدناه."


def viewer_page_slow(seconds: float) -> str:
    return (f"This page took longer than {seconds:g} s to draw; its text is below. · "
            f"استغرق رسم هذه الصفحة أكثر من {seconds:g} ثوانٍ؛ نصّها أدناه.")


def docs_kept_both(name: str, saved_as: str) -> str:
    return (f"{name}: another document of this name is already here; both are kept, this one as {saved_as} · "
            f"يوجد مستند آخر بهذا الاسم؛ احتُفظ بالاثنين، وحُفظ هذا باسم {saved_as}")


def docs_already_here(name: str, existing: str) -> str:
    return (f"{name}: the same content is already here as {existing}; not added again · "
            f"{name}: المحتوى نفسه موجود من قبل باسم {existing}؛ لم يُضف مرة أخرى")


def upload_interrupted(name: str) -> str:
    return (f"{name}: its upload was interrupted before it was indexed, so it was removed; upload it again · "
            f"انقطع رفع {name} قبل فهرسته فحُذف؛ ارفعه مرة أخرى")

# Answers from the user's LLM (rag/llm.py, rag/verify.py) ----------------------------------------------
LLM_UNKNOWN = ("unknown answerer {spec!r}: use 'extractive', 'ollama:MODEL', 'openai:MODEL' "
               "(with --llm-base-url) or 'llamacpp:PATH.gguf'")
LLM_NEEDS_BASE_URL = ("{spec} needs the server's address: --llm-base-url (or $OPENAI_BASE_URL), e.g. "
                      "http://127.0.0.1:8080/v1 for llama.cpp's server, http://127.0.0.1:1234/v1 for LM Studio, "
                      "https://api.openai.com/v1 for OpenAI")
LLM_LLAMACPP_MISSING = "llamacpp:… needs the optional extra: pip install 'sanad[llamacpp]' (it compiles llama.cpp)"
LLM_GGUF_MISSING = "no GGUF model file at {path}"
# Why the model gave no answer; shown inside LLM_UNAVAILABLE.
LLM_REASONS: dict[str, dict[Language, str]] = {
    "timeout": {"en": "no reply within {seconds} s", "ar": "لم يردّ خلال {seconds} ثانية"},
    "cut_off": {"en": "the reply stopped before it was finished", "ar": "انقطع الرد قبل أن يكتمل"},
    "status": {"en": "the server answered with error {status}", "ar": "ردّ الخادم بالخطأ {status}"},
    "unreachable": {"en": "the server cannot be reached", "ar": "تعذّر الوصول إلى الخادم"},
    "broken": {"en": "the reply could not be read ({kind})", "ar": "تعذّرت قراءة الرد ({kind})"},
    "deadline": {"en": "the reply took longer than {seconds} s in all", "ar": "تجاوز الرد {seconds} ثانية إجمالاً"},
    "too_long": {"en": "the reply ran past {chars} characters", "ar": "تجاوز الرد {chars} حرفاً"},
}
LLM_UNAVAILABLE: dict[Language, str] = {
    "en": "The language model ({model}) gave no answer: {reason}. Quoting the documents instead.",
    "ar": "لم يُجب النموذج اللغوي ({model}): {reason}. إليك ما تقوله المستندات مباشرةً.",
}
LLM_UNSUPPORTED: dict[Language, str] = {
    "en": "The language model's answer was not backed by the documents, so it is not shown. Quoting the documents instead.",
    "ar": "لم تسند المستندات إجابة النموذج اللغوي، فلم تُعرض. إليك ما تقوله المستندات مباشرةً.",
}
LLM_WRONG_LANGUAGE: dict[Language, str] = {
    "en": "The language model did not answer in English, so its answer is not shown. Quoting the documents instead.",
    "ar": "لم يُجب النموذج اللغوي بالعربية، فلم تُعرض إجابته. إليك ما تقوله المستندات مباشرةً.",
}
LLM_DROPPED: dict[Language, str] = {
    "en": "({n} sentence(s) of the model's answer left out: the cited passages do not support them.)",
    "ar": "(حُذفت {n} من جمل إجابة النموذج لأن المقاطع المذكورة لا تسندها.)",
}
LLM_DROPPED_LANGUAGE: dict[Language, str] = {
    "en": "({n} sentence(s) of the model's answer left out: not in English.)",
    "ar": "(حُذفت {n} من جمل إجابة النموذج لأنها ليست بالعربية.)",
}
# The question as the model translated it for searching a library in the other language (rag/translate.py).
SEARCHED_AS: dict[Language, str] = {"en": "Also searched as: {translation}", "ar": "بُحث عنه أيضاً بصيغة: {translation}"}
LLM_INCOMPLETE: dict[Language, str] = {
    "en": "(The answer may be incomplete: {reason}.)",
    "ar": "(قد تكون الإجابة ناقصة: {reason}.)",
}



