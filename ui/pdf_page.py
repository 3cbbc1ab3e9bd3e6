"""A PDF page as an image (pypdfium2), with the boxes of given sentences on it.

The page's own text layer, not the indexed text, says where words are; the two spell a sentence
differently (presentation forms, line breaks, and Arabic words that some writers store reversed), so
sentences are found word by word: the stretch of the page where most of a sentence's words occur,
in either letter order, is that sentence.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import resource
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag import strings
from rag.text import normalize

SCALE = 1.6  # ~950 px for an A4 page: sharp on a phone, light enough to send inline
# A page's box is whatever its file says (an 835-byte PDF of 20000 x 20000 pt became a 32000 x 32000
# image: 198 s, 7.1 GB), so the image is drawn smaller until it fits all of these.
MAX_PIXELS = 4_000_000  # an A4 page at SCALE is 1.3 million
MAX_SIDE = 4000  # pixels along the longer side
MAX_PNG_BYTES = 3_000_000  # the image travels inline in the viewer's HTML, as base64
MAX_ASPECT = 40  # a strip thinner than this would be a few pixels wide: its text view says more
# Drawing runs in a child process with its own limits: PDFium decodes a page's images only to draw
# them (the reader never does), and neither its time nor its memory can be bounded from inside.
RENDER_TIMEOUT_S = 10.0
RENDER_MEMORY_BYTES = 1 << 30  # address space of the drawing process
_WORD = re.compile(r"[\w\u0610-\u061a\u064b-\u065f\u0670]+")  # marks (tashkeel) are part of a word
Box = tuple[float, float, float, float]  # left, top, width, height as fractions of the page
_ONE_AT_A_TIME = threading.Lock()  # each drawing may take RENDER_MEMORY_BYTES: never two at once
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PageImage:
    png: bytes
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)  # where the sentences are, in page order
    located: int = 0  # how many of the sentences were found


class PageNotShown(Exception):
    """The page cannot be drawn within the limits; `reason` says why, in both languages."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def render_page(path: Path, number: int, sentences: list[str]) -> PageImage:
    """Page `number` (1-based) of the PDF, with the boxes of `sentences` on it, drawn by a child
    process within RENDER_TIMEOUT_S and RENDER_MEMORY_BYTES."""
    request = json.dumps({"path": str(path), "page": number, "sentences": sentences}).encode()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    with _ONE_AT_A_TIME:
        try:
            done = subprocess.run([sys.executable, "-m", "ui.pdf_page"], input=request, capture_output=True,
                                  timeout=RENDER_TIMEOUT_S, cwd=ROOT, env=env)
        except subprocess.TimeoutExpired:  # run() has killed it
            raise PageNotShown(strings.viewer_page_slow(RENDER_TIMEOUT_S)) from None
    head, _, png = done.stdout.partition(b"\n")
    if done.returncode != 0 or not head:
        # Out of memory under the limit, or PDFium refusing the page: the text view still works.
        last = (done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise PageNotShown(strings.VIEWER_PAGE_FAILED.format(detail=last[:200]))
    answer = json.loads(head)
    if "refused" in answer:
        raise PageNotShown(answer["refused"])
    boxes = [tuple(box) for box in answer["boxes"]]
    return PageImage(png, answer["width"], answer["height"], boxes, answer["located"])


def _main() -> None:
    """The drawing process: a request on stdin; a JSON line, then the PNG, on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (RENDER_MEMORY_BYTES, RENDER_MEMORY_BYTES))
    request = json.loads(sys.stdin.buffer.read())
    try:
        image = _render(Path(request["path"]), request["page"], request["sentences"])
    except PageNotShown as refusal:
        sys.stdout.buffer.write(json.dumps({"refused": refusal.reason, "peak_kb": _peak_kb()}).encode() + b"\n")
        return
    head = {k: v for k, v in asdict(image).items() if k != "png"}
    head["peak_kb"] = _peak_kb()  # for bench.reliability: this process's own, whatever it was forked from
    sys.stdout.buffer.write(json.dumps(head).encode() + b"\n" + image.png)


def _peak_kb() -> int:
    """VmHWM: unlike ru_maxrss, it does not count the pages of the process this one was spawned from."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)


def _scale(width: float, height: float) -> float:
    """SCALE, or less for a page whose image would pass MAX_PIXELS or MAX_SIDE; a box that is empty
    or a thin strip is refused (PDFium puts the corners of an inside-out box in order itself)."""
    if not (math.isfinite(width) and math.isfinite(height)) or min(width, height) < 1:
        raise PageNotShown(strings.VIEWER_PAGE_NO_BOX)
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise PageNotShown(strings.VIEWER_PAGE_STRIP)
    return min(SCALE, math.sqrt(MAX_PIXELS / (width * height)), MAX_SIDE / max(width, height))


def _render(path: Path, number: int, sentences: list[str]) -> PageImage:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= number <= len(pdf):
            raise PageNotShown(strings.VIEWER_PAGE_NO_BOX)
        page = pdf[number - 1]
        width, height = page.get_size()
        scale = _scale(width, height)
        for _ in range(3):  # a page of photographs or noise compresses badly: draw it smaller
            image = page.render(scale=scale).to_pil()
            out = io.BytesIO()
            image.save(out, format="PNG")
            if out.tell() <= MAX_PNG_BYTES:
                break
            scale *= 0.9 * math.sqrt(MAX_PNG_BYTES / out.tell())
        else:
            raise PageNotShown(strings.VIEWER_PAGE_TOO_HEAVY)
        textpage = page.get_textpage()
        boxes, located = [], 0
        words = _page_words(textpage)
        for sentence in sentences:
            found = _locate(words, sentence)
            located += bool(found)
            boxes += _boxes(textpage, found, width, height)
        return PageImage(out.getvalue(), image.width, image.height, boxes, located)
    finally:
        pdf.close()


def _spelling(word: str) -> str:
    """The letters a word has, in search form, in no order and each once: PDFium's text of a
    right-to-left line may hold a word reversed, with the run of a letter carrying a mark apart from
    the rest (بُ + تين for بُنيت), or with a letter Chromium drew twice (رجاًلا for رجلاً)."""
    return "".join(sorted(set(normalize(word))))


def _page_words(textpage) -> list[tuple[dict[str, int], int, int]]:
    """Each word of the page's text layer with its char range and its spellings, each with where it
    ends: the word's own, and the word run together with the next one on its line (PDFium splits
    some Arabic words at a letter with a mark: موُ وّل for ومُوّل)."""
    text = textpage.get_text_range()
    if len(text) != textpage.count_chars():  # characters outside the BMP: indices would not line up
        return []
    found = list(_WORD.finditer(text))
    words = []
    for n, m in enumerate(found):
        spellings = {_spelling(m.group()): m.end()}
        following = found[n + 1] if n + 1 < len(found) else None
        if following is not None and text[m.end():following.start()] == " ":
            spellings.setdefault(_spelling(m.group() + following.group()), following.end())
        words.append((spellings, m.start(), m.end()))
    return words


def _locate(words: list[tuple[dict[str, int], int, int]], sentence: str) -> list[tuple[int, int]]:
    """The char ranges of the sentence's words in the densest stretch of the page that holds them."""
    wanted = [_spelling(w) for w in _WORD.findall(sentence)]
    if not wanted or not words:
        return []
    keys = set(wanted)
    hits = [bool(spellings.keys() & keys) for spellings, _, _ in words]
    span = max(len(wanted) + 3, int(len(wanted) * 1.3))
    best, best_at, running = -1, 0, sum(hits[:span])
    for at in range(max(1, len(words) - span + 1)):
        if at:
            running += (hits[at + span - 1] if at + span - 1 < len(hits) else 0) - hits[at - 1]
        if running > best:
            best, best_at = running, at
    if best < 0.6 * len(wanted):
        return []
    found = [i for i in range(best_at, min(best_at + span, len(words))) if hits[i]]
    # The window is wider than the sentence, so a word may match twice (a title repeating the
    # sentence's first words): each word counts as often as the sentence has it, nearest the middle.
    middle = found[len(found) // 2]
    left = Counter(wanted)
    kept = []
    for i in sorted(found, key=lambda i: abs(i - middle)):
        key = next((k for k in words[i][0] if left[k] > 0), None)
        if key is not None:
            left[key] -= 1
            kept.append((words[i][1], words[i][0][key]))
    return sorted(kept)


def _boxes(textpage, ranges: list[tuple[int, int]], width: float, height: float) -> list[Box]:
    """The words' rectangles, one box per stretch of a line (Arabic glyphs differ in height, so a
    line is where rectangles overlap vertically, not where their tops agree)."""
    rects = [textpage.get_rect(i) for start, end in ranges for i in range(textpage.count_rects(start, end - start))]
    bands: list[list] = []  # [bottom, top, [(left, right), ...]]
    for left, bottom, right, top in sorted(rects, key=lambda r: -(r[1] + r[3])):
        band = next((b for b in bands if min(b[1], top) - max(b[0], bottom) > 0.4 * min(b[1] - b[0], top - bottom)), None)
        if band is None:
            bands.append([bottom, top, [(left, right)]])
        else:
            band[0], band[1] = min(band[0], bottom), max(band[1], top)
            band[2].append((left, right))
    usual = sorted(top - bottom for bottom, top, _ in bands)[len(bands) // 2] if bands else 0
    # Marks above or below a line (tanween, a dot) that did not overlap it enough are not lines.
    bands = [b for b in bands if b[1] - b[0] >= usual / 2]
    boxes, pad = [], 1.5
    for bottom, top, spans in _closest_lines(bands, usual):

        merged: list[list[float]] = []
        for left, right in sorted(spans):
            if merged and left - merged[-1][1] < 4 * (top - bottom):  # a word space, or a short word not matched
                merged[-1][1] = max(merged[-1][1], right)
            else:
                merged.append([left, right])
        boxes += [((left - pad) / width, (height - top - pad) / height, (right - left + 2 * pad) / width,
                   (top - bottom + 2 * pad) / height) for left, right in merged]
    return boxes


def _closest_lines(bands: list[list], usual: float) -> list[list]:
    """The largest run of lines without a gap between them: a sentence is one stretch of text, and a
    common word of it matched a paragraph away is not part of it."""
    runs: list[list[list]] = []
    for band in sorted(bands, key=lambda b: -b[1]):
        if runs and runs[-1][-1][0] - band[1] < usual:
            runs[-1].append(band)
        else:
            runs.append([band])
    return max(runs, key=lambda run: sum(right - left for _, _, spans in run for left, right in spans), default=[])


if __name__ == "__main__":
    _main()
