"""PDF pages to the text a reader sees: paragraphs in logical order, without running headers and footers.

PDF stores glyphs at positions, not text. Text extractors that follow the content stream order
(pypdf) return Arabic printed by Chromium with line halves swapped and numbers out of place, and
keep every visual line and justified gap. So this reads each glyph with its position through
PDFium (the engine Chrome uses; pypdfium2) and rebuilds the text itself:

- glyphs on one baseline form a line; gaps wider than a fraction of the font size are spaces, so
  justified text gets single spaces;
- a line is put in logical order the way the Unicode bidi algorithm shows it, backwards: in a
  right-to-left line the glyph order is reversed and left-to-right runs (Latin words, numbers,
  and what lies between two of them) are put back; combining marks stay on their letter;
- lines join into paragraphs unless a vertical gap, a change of font size or a short last line
  ends one; a word hyphenated at a line end is joined; headings (larger type) are blocks of
  their own;
- small-type lines at the top or bottom edge, lines that repeat on most pages and lone page
  numbers are running headers and footers and are dropped;
- a paragraph that does not end a sentence at the foot of a page continues on the next page.
"""
from __future__ import annotations

import bisect
import ctypes
import math
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from ..text import fold_forms

_ARABIC = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]")
_STRONG_LTR = re.compile("[A-Za-z\u00c0-\u024f]")
_DIGIT = re.compile("[0-9\u0660-\u0669\u06f0-\u06f9\u00b2\u00b3\u00b9\u00bc-\u00be]")
_NUMBER_SEPARATORS = set("+-,.:/\u060c\u066b\u066c\x02")
_SIGNS = set("+-\x02")
_STOPS = set(".,:;\u060c\u061b")
_SENTENCE_END = re.compile(r"[.!?؟…:;؛]['\"»”’)\]]*$")
_PAGE_NUMBER = re.compile(r"^\W*(?:page|p\.|صفحة|الصفحة)?\s*\d+\s*(?:(?:/|of|من)\s*\d+)?\W*$", re.IGNORECASE)
HYPHEN = "\x02"  # a hyphen at a line end, until the whole text shows whether the word is hyphenated
_DOUBLE_OPEN = re.compile(r"\(([^()\n]{1,80})\((?!\w)")
_MIRRORED = str.maketrans("<>«»", "><»«")  # brackets are placed by position instead (visual_to_logical)
_INSIDE_BRACKETS = re.compile(r"(?<=[(\[{]) +(?=\S)|(?<=\S) +(?=[)\]}])")
_ALEFS = set("اأإآ")
_QUOTES = set("\"'«»“”‘’()[]{}")
_BRACKETS = {b: pair for pair in ("()", "[]", "{}") for b in pair}
# Between two words of the content stream, any visible gap is a space; within one, only a gap wider
# than a space (text laid out word by word without space glyphs).
SPACE_OVERLAP = 0.1  # kerning may pull a word's first glyph over the space before it
SPACE_GAP = 0.2
ADJACENT_GAP = 0.6
RUN_GAP = 0.08  # the ink gap where Chromium starts a right-to-left run with a space: none
WIDE_GAP = 0.25
# A writer's space at the next glyph's own origin has no width: Chromium starts a run with one, at a
# word space or inside a word (Amiri leaves 0.09 em after the alef of ال; word gaps are 0.17 em and more).
STARTED_GAP = 0.15
BOUNDARY_GAP = 0.2  # the same where Arabic meets a bracket, digit or Latin letter: no letter's shape widens it
PARAGRAPH_GAP = 1.35  # a baseline step this many times the usual line step starts a paragraph
GUTTER = 1.5  # a gap this many times the type size, in the same place on most lines, parts columns
EDGE = 0.08  # the top and bottom share of the page where running headers and footers live


@dataclass
class Line:
    text: str
    y: float  # baseline, PDF units (upwards)
    size: float  # font size (glyph box height)
    left: float
    right: float
    rtl: bool
    stored: str = ""  # a right-to-left line as stored, left to right: the reading if the writer did no bidi
    visual: list[str] = field(default_factory=list)  # glyph clusters and spaces, left to right
    weight: int = 0  # Arabic letters minus Latin ones: the line's own vote for its direction
    column: int = 0  # 1, 2 on a page set in columns (in reading order), 0 for a line across the page


@dataclass
class Block:
    text: str
    kind: str  # "heading" or "paragraph"
    # (0-based page, offset in text where that page's part begins): one entry, or more when the
    # paragraph runs on over a page break.
    pages: list[tuple[int, int]] = field(default_factory=list)


def page_lines(textpage, page_height: float, page=None) -> list[Line]:
    """The visual lines of one page, top to bottom, each in logical order."""
    import pypdfium2.raw as raw

    handle = textpage.raw
    glyphs = []  # (x origin, y origin, size, ink left, ink right, char, is_mark, ink centre, stream index)
    spaces: list[tuple[int, float, float, bool]] = []  # spaces: (stream index, x origin, y origin, PDFium's own)
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))  # the glyph's ink box
    ox, oy = ctypes.c_double(), ctypes.c_double()
    count = raw.FPDFText_CountChars(handle)
    silent, blanks = _silent_glyphs(page, textpage, count) if page is not None else ({}, [])
    for i in range(count):
        for glyph in silent.get(i, ()):
            glyphs.append(glyph)
        code = raw.FPDFText_GetUnicode(handle, i)
        if code in (0, 0xFFFE, 0xFFFF) or not 0 < code < 0x110000:
            continue
        char = chr(code)
        if raw.FPDFText_IsGenerated(handle, i) == 1 and char != " ":
            continue  # PDFium's line breaks; lines are placed by their baselines
        if char.isspace() and not "\x1c" <= char <= "\x1f":  # LibreOffice's kashida is U+001F, ink not space
            raw.FPDFText_GetCharOrigin(handle, i, ctypes.byref(ox), ctypes.byref(oy))
            spaces.append((i, ox.value, oy.value, raw.FPDFText_IsGenerated(handle, i) == 1))
            continue
        if code == 2 or raw.FPDFText_IsHyphen(handle, i) == 1:
            char = HYPHEN  # PDFium's code for a hyphen that ends a line
        elif unicodedata.category(char) in ("Cc", "Cf"):
            # A glyph without a character (LibreOffice's kashida, stretching a justified Arabic
            # word) says nothing but still fills the line: kept as ink, so its word is not torn.
            char = ""
        raw.FPDFText_GetCharOrigin(handle, i, ctypes.byref(ox), ctypes.byref(oy))
        raw.FPDFText_GetCharBox(handle, i, ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top))
        if not char and right.value - left.value <= 0:
            continue
        size = raw.FPDFText_GetFontSize(handle, i)
        if size <= 1.0:  # some writers scale a 1-point font by the text matrix
            size = max(top.value - bottom.value, 1.0)
        if char == "/" and top.value - bottom.value < 0.2 * size:
            char = ""  # LibreOffice writes its kashida's text as a slash; a slash is tall, a kashida flat
        glyphs.append((ox.value, oy.value, size, left.value, right.value, char,
                       bool(char) and unicodedata.category(char) == "Mn", (left.value + right.value) / 2, i))
    for glyph in silent.get(count, ()):
        glyphs.append(glyph)
    spaces += [(place, x, y, None) for place, x, y in blanks]  # None: placed by position only
    if not glyphs:
        return []
    if silent or blanks:  # stream indices again in whole numbers, the glyphs PDFium left out in their places
        rank = {i: n for n, i in enumerate(sorted({g[8] for g in glyphs} | {s[0] for s in spaces}))}
        glyphs = [(*g[:8], rank[g[8]]) for g in glyphs]
        spaces = [(rank[s[0]], *s[1:]) for s in spaces]
    # Chromium starts the run of a raised letter (one carrying a mark, as in آخذٌ or طويلاً, a
    # fraction of a point up) with a space glyph at the origin of the run's first glyph: that space
    # is inside a word, not between two (its word spaces sit at the next glyph's origin too, but on
    # the baseline).
    origins = {g[8]: g[0] for g in glyphs}
    spaces = [(i, x, y, generated, None if generated is None else abs(origins.get(i + 1, x + 1) - x) < 0.01)
              for i, x, y, generated in spaces]
    lines = []
    for part, column in _columns(_rows(glyphs)):
        line = _line(part, spaces)
        if line is not None:
            line.column = column
            lines.append(line)
    _directions(lines)
    return lines


def _silent_glyphs(page, textpage, count: int) -> tuple[dict[int, list[tuple]], list[tuple[float, float, float]]]:
    """Glyphs of the page that PDFium's text leaves out, by the stream index they come before, and
    the blank glyphs (spaces) it leaves out, as (stream place, x of their middle, y).

    A writer marks a glyph whose text its font cannot say with an ActualText span (Chromium does so
    for Amiri's ligature parts and contextual forms). PDFium gives the span's text to the first glyph
    it can place and none to the rest: their ink is kept (as a glyph without a character), so a word
    is not torn where that ink fills it. A span none of whose glyphs PDFium gave any text (Amiri's و
    in الإمبراطور) is read from its ActualText, at its first glyph's place."""
    import pypdfium2.raw as raw

    def address(pointer) -> int:
        return ctypes.cast(pointer, ctypes.c_void_p).value or 0

    first_char: dict[int, int] = {}  # text object -> the stream index of its first character
    for i in range(count):
        first_char.setdefault(address(raw.FPDFText_GetTextObject(textpage.raw, i)), i)
    first_char.pop(0, None)
    objects = [obj for obj in (raw.FPDFPage_GetObject(page.raw, n) for n in range(raw.FPDFPage_CountObjects(page.raw)))
               if raw.FPDFPageObj_GetType(obj) == raw.FPDF_PAGEOBJ_TEXT]
    said = [first_char.get(address(obj)) for obj in objects]
    # ActualText span -> [its text, the stream index of its text (None: PDFium gave it none),
    # [(silent object, its place in the stream), ...]]
    spans: dict[int, list] = {}
    blanks: list[tuple[float, float, float]] = []
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    matrix = raw.FS_MATRIX()
    size = ctypes.c_float()
    x, y = ctypes.c_double(), ctypes.c_double()

    def neighbours(n: int) -> list[int]:
        """The stream indices of the nearest objects with text before and after object n (page order:
        a writer may draw a right-to-left run left to right, and PDFium reverses its characters)."""
        out = [next((said[k] for k in range(n - 1, -1, -1) if said[k] is not None), None),
               next((said[k] for k in range(n + 1, len(said)) if said[k] is not None), None)]
        return [i for i in out if i is not None]

    for n, obj in enumerate(objects):
        span = _actual_text(obj)
        if span is None:
            if said[n] is not None:
                continue
            raw.FPDFPageObj_GetBounds(obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top))
            if right.value > left.value:
                continue
            # A blank glyph PDFium gives no text: a space where it advances as far as one (Amiri's
            # ة كوتنتين; the glyph beside it overhangs it), nothing where it has no width (in Amiri's الح).
            raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix))
            raw.FPDFTextObj_GetFontSize(obj, ctypes.byref(size))
            beside = neighbours(n)
            lo, hi = sorted(beside) if len(beside) == 2 else (0, count)
            if hi - lo > 3 or any(raw.FPDFText_IsGenerated(textpage.raw, j) != 1 for j in range(lo + 1, hi)):
                continue  # only between two glyphs that follow each other in PDFium's text (its line breaks aside)
            ends = []
            for i in beside:
                raw.FPDFText_GetCharOrigin(textpage.raw, i, ctypes.byref(x), ctypes.byref(y))
                if abs(y.value - matrix.f) < 0.35 * size.value and x.value > matrix.e:
                    ends.append(x.value)
            if ends and 0.15 * size.value < min(ends) - matrix.e < size.value:
                blanks.append((min(beside) + 0.5, (matrix.e + min(ends)) / 2, matrix.f))
            continue
        key, text = span
        entry = spans.setdefault(key, [text, None, []])
        if said[n] is not None and entry[1] is None:
            entry[1] = said[n]
        elif said[n] is None:
            beside = neighbours(n)
            entry[2].append((obj, min(beside) + 0.5 if beside else -0.5))
    out: dict[int, list[tuple]] = {}
    for text, spoken, members in spans.values():
        for k, (obj, after) in enumerate(members):
            raw.FPDFPageObj_GetBounds(obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top))
            raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix))
            raw.FPDFTextObj_GetFontSize(obj, ctypes.byref(size))
            if spoken is not None:  # ink of a glyph whose text PDFium gave another: the same place in the stream
                after = spoken
                raw.FPDFText_GetCharOrigin(textpage.raw, spoken, ctypes.byref(x), ctypes.byref(y))
                if abs(y.value - matrix.f) > 0.002 * size.value:
                    continue  # a copy drawn raised over its letter (Chromium's tanween runs) adds no ink
            # (Marks of direction and the like in an ActualText, Chromium's RLM at a paragraph start, say nothing.)
            chars = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf")) if spoken is None and k == 0 else ""
            chars = chars if chars.strip() else ""
            if not chars and right.value - left.value <= 0:
                continue
            place = out.setdefault(math.ceil(after), [])
            for char in chars or [""]:
                place.append((matrix.e, matrix.f, size.value, left.value, right.value, char,
                              bool(char) and unicodedata.category(char) == "Mn", (left.value + right.value) / 2,
                              after if spoken is not None else after + 0.001 * (len(place) + 1)))
    return out, blanks


def _actual_text(obj) -> tuple[int, str] | None:
    """The ActualText span a page object is in: (the span's identity, its text)."""
    import pypdfium2.raw as raw

    length = ctypes.c_ulong()
    for k in range(raw.FPDFPageObj_CountMarks(obj)):
        mark = raw.FPDFPageObj_GetMark(obj, k)
        buffer = (ctypes.c_ushort * 64)()
        if raw.FPDFPageObjMark_GetParamStringValue(mark, b"ActualText", buffer, 128, ctypes.byref(length)):
            text = bytes(buffer)[:max(0, min(length.value, 128) - 2)].decode("utf-16-le", "replace")
            try:  # PDFium hands over the string's bytes, UTF-16BE with its mark dropped
                text = text.encode("latin-1").decode("utf-16-be")
            except (UnicodeError, ValueError):
                pass
            return ctypes.cast(mark, ctypes.c_void_p).value or 0, text
    return None


def _rows(glyphs: list[tuple]) -> list[list[tuple]]:
    """Glyphs on one baseline, top to bottom. A row's baseline is where most of its glyphs stand, not
    its highest glyph: Chromium raises a letter with a shadda and lowers one with a kasratan (عالٍ)."""
    rows: list[list[tuple]] = []
    baselines: list[Counter] = []
    for glyph in sorted(glyphs, key=lambda g: -g[1]):
        if rows:
            baseline = baselines[-1].most_common(1)[0][0]
            if abs(baseline - glyph[1]) <= 0.35 * max(glyph[2], rows[-1][0][2]):
                rows[-1].append(glyph)
                baselines[-1][round(glyph[1], 2)] += 1
                continue
        rows.append([glyph])
        baselines.append(Counter({round(glyph[1], 2): 1}))
    return rows


def _columns(rows: list[list[tuple]]) -> list[tuple[list[tuple], int]]:
    """Rows in reading order, each with its column. A page set in two columns has a gutter, an
    upright band that the text of (nearly) every row leaves empty, with text on both sides of it;
    the two columns' baselines need not line up (Chromium's Arabic columns do not). Between two rows
    that cross the gutter (a title, a running header), one column is read after the other, the
    right one first in Arabic; such a row is read whole, in its place."""
    gutter = _gutter(rows)
    if gutter is None:
        return [(row, 0) for row in rows]
    rtl = sum(bool(_ARABIC.match(g[5])) for row in rows for g in row) > sum(
        bool(_STRONG_LTR.match(g[5])) for row in rows for g in row)
    out: list[tuple[list[tuple], int]] = []
    band: list[tuple] = []

    def flush() -> None:
        sides = ([g for g in band if g[7] < gutter], [g for g in band if g[7] >= gutter])
        for side in ((1, 0) if rtl else (0, 1)):
            out.extend((row, side + 1) for row in _rows(sides[side]))
        band.clear()

    for row in rows:
        if any(left < gutter < right for left, right in _segments(row)):
            flush()
            out.append((row, 0))
        else:
            band.extend(row)
    flush()
    return out


def _segments(row: list[tuple]) -> list[list[float]]:
    """The row's stretches of text: ink without a gap as wide as a gutter."""
    size = statistics.median(g[2] for g in row)
    out: list[list[float]] = []
    for left, right in sorted((g[3], g[4]) for g in row):
        if out and left - out[-1][1] < GUTTER * size:
            out[-1][1] = max(out[-1][1], right)
        else:
            out.append([left, right])
    return out


def _gutter(rows: list[list[tuple]]) -> float | None:
    """The x of the gutter between two columns, if the page has one: at most a tenth of the rows of
    running text have text across it, and a third or more have text on each side of it."""
    full = [_segments(row) for row in rows if len(row) >= 12]
    if len(full) < 6:
        return None
    # Counted for each whole x at once, by adding up where stretches and rows begin and end.
    origin = int(min(s[0][0] for s in full))
    width = int(max(s[-1][1] for s in full)) - origin + 2
    across, starts, ends = [0] * (width + 1), [0] * (width + 1), [0] * (width + 1)
    for segs in full:
        for left, right in segs:
            across[int(left) - origin + 1] += 1
            across[int(right) - origin + 1] -= 1
        starts[int(segs[0][0]) - origin + 1] += 1
        ends[int(segs[-1][1]) - origin + 1] += 1
    best: list[int] = []
    inside = begun = ended = 0
    for x in range(width):
        inside, begun, ended = inside + across[x], begun + starts[x], ended + ends[x]
        if inside <= 0.1 * len(full) and begun >= len(full) / 3 and len(full) - ended >= len(full) / 3:
            best.append(x + origin)
    if not best:
        return None
    runs: list[list[int]] = []  # the widest run of such x; its middle
    for x in best:
        if runs and x == runs[-1][-1] + 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    widest = max(runs, key=len)
    return (widest[0] + widest[-1]) / 2


def _drop_doubles(row: list[tuple]) -> list[tuple]:
    """A glyph drawn again over a ligature that already holds its characters goes. Chromium prints an
    alef with tanween after lam (رجلاً in Noto Naskh) twice: in the lam-alef ligature, and once more
    (اً, raised a little) in a run of its own; readers that keep both read رجلااً. Typst draws a
    tanween over its alef as a glyph of its own that stands for both (اً twice)."""
    groups: dict[tuple[int, int], list[tuple]] = {}  # the characters of one glyph share its origin
    for g in row:
        groups.setdefault((round(g[0] / (0.01 * g[2])), round(g[1] / (0.01 * g[2]))), []).append(g)
    if len(groups) == len(row):
        return row
    boxes = {k: (min(g[3] for g in members), max(g[4] for g in members)) for k, members in groups.items()}
    dropped: set = set()
    # Of two copies, the one off the row's baseline goes (Typst's lowered لٍ is written apart from its word).
    baseline = Counter(round(g[1], 2) for g in row).most_common(1)[0][0]
    for key, members in sorted(groups.items(), key=lambda item: -abs(item[1][0][1] - baseline)):
        centre = sum(boxes[key]) / 2
        chars = sorted(g[5] for g in members)
        if not any(c and unicodedata.combining(c) for c in chars):
            continue  # a letter written twice overlaps itself in tight fonts (Amiri's لل)
        for other, holder in groups.items():
            if (other != key and other not in dropped and len(holder) >= len(members)
                    and boxes[other][0] < centre < boxes[other][1]
                    and not (Counter(chars) - Counter(g[5] for g in holder))):
                dropped.add(key)
                break
    return [g for key, members in groups.items() if key not in dropped for g in members] if dropped else row


def _lam_alef(tokens: list[list], glyphs: list[int]) -> list[list]:
    """The lam-alef ligature as one token spelled in reading order, lam, alef, then its marks: PDFium
    slices the ligature's box among its characters in an order of its own (Chromium's لاً after ي
    comes out as ًال)."""
    out: list[list] = []
    k = 0
    while k < len(tokens):
        end = k
        while end + 1 < len(tokens) and glyphs[end + 1] == glyphs[k]:
            end += 1
        chars = "".join(t[0] for t in tokens[k:end + 1])
        letters = sorted(c for c in chars if not unicodedata.combining(c))
        if end > k and len(letters) == 2 and letters[1] == "ل" and letters[0] in _ALEFS:
            marks = "".join(c for c in chars if unicodedata.combining(c))
            out.append(["ل" + letters[0] + marks, tokens[k][1], tokens[k][2], min(t[3] for t in tokens[k:end + 1]),
                        tokens[k][4], tokens[k][5]])
        else:
            out.extend(tokens[k:end + 1])
        k = end + 1
    return out


def _line(row: list[tuple], spaces: list[tuple[int, float, float, bool, bool]]) -> Line | None:
    # Visual order, left to right. The characters of one ligature glyph share an origin, and PDFium
    # gives each a slice of the glyph's box in visual order, so the ink centre orders them too.
    # A combining mark drawn over its letter belongs to it; one that PDFium gives a slice of a
    # ligature's box of its own (مّ) is ordered like any other glyph.
    row = _drop_doubles(row)
    letters = [g for g in row if not g[6] and g[5]]
    floating = [g for g in row if g[6] and any(b[3] < g[7] < b[4] for b in letters)]
    # Glyphs are ordered by their origins, which advance along the line however far a glyph's ink
    # reaches (Amiri's خ overhangs the ت before it); the characters of one ligature share an origin
    # and are ordered by their slices.
    bases = sorted((g for g in row if not (g[6] and g in floating)), key=lambda g: (round(g[0] / (0.01 * g[2])), g[7]))
    if not bases:
        return None
    # Gaps are measured between whole glyphs: the characters of a ligature share its box.
    # Each glyph's box twice: with its marks' ink, and without. A mark drawn beside its letter
    # (Noto Naskh's tanween before an alef) shares the letter's origin; its ink closes the gap to
    # the next word, so a space the stream has there is judged on the letter alone. Where the stream
    # has none, the ink decides (DejaVu's tanween of ضً drawn over the alef after it).
    inked: dict[float, list[float]] = {}
    boxes: dict[float, list[float]] = {}
    for g in sorted(bases, key=lambda g: g[6]):
        key = round(g[0] / (0.01 * g[2]))
        box = inked.setdefault(key, [g[3], g[4]])
        box[0], box[1] = min(box[0], g[3]), max(box[1], g[4])
        if g[6] and key in boxes:
            continue
        box = boxes.setdefault(key, [g[3], g[4]])
        box[0], box[1] = min(box[0], g[3]), max(box[1], g[4])
    # [text, left, right, stream index, inked left, inked right]
    tokens = [[g[5], *boxes[round(g[0] / (0.01 * g[2]))], g[8], *inked[round(g[0] / (0.01 * g[2]))]] for g in bases]
    for mark in floating:
        nearest = min(range(len(bases)), key=lambda k: abs(bases[k][7] - mark[7]) + (1e9 if bases[k][6] else 0))
        tokens[nearest][0] += mark[5]
    tokens = _lam_alef(tokens, [round(g[0] / (0.01 * g[2])) for g in bases])
    size = statistics.median(g[2] for g in bases)
    baseline = statistics.median(g[1] for g in bases)
    # Only spaces on the line's baseline separate words, and not those that start a raised run.
    # Word spaces are read from the stream before the gaps. Where the stream has no space character
    # between two glyphs that follow each other but the advance leaves room for one, PDFium writes a
    # space of its own (it knows the font's space width): that one is a word space whatever the ink
    # gap (Noto Serif's "of the" leaves 0.14 em), unless in an Arabic line a quote or bracket is beside
    # it, or a stop beside a number. The writers' own spaces need a visible gap as well: Chromium starts each run
    # with one (Amiri's اً after أيض), and writes a space beside a bracket or quote in a
    # right-to-left line by an order of its own (Calabriae" (" as Calabriae "(" in the stream).
    # fpdf2 writes a line's final stop after the line's other words, so a stop with several spaces
    # between it and its neighbour in the stream is judged by the gap alone.
    # A space at the origin of the next glyph in the stream, off the baseline, starts a raised run.
    start_xs = sorted(x for _, x, y, generated, run in spaces
                      if (run or generated) and abs(y - baseline) < 0.35 * size)
    blank_xs = sorted(x for _, x, y, _, run in spaces if run is None and abs(y - baseline) < 0.02 * size)
    spaces = [(i, y, generated, run and abs(y - baseline) >= 0.01 * size, run) for i, _, y, generated, run in spaces
              if run is not None]
    on_line = [(i, generated, start) for i, y, generated, run, start in spaces
               if abs(y - baseline) < 0.02 * size and not run]
    separators = [i for i, _, _ in on_line]
    guessed = {i for i, generated, _ in on_line if generated}
    starts = {i for i, _, start in on_line if start}
    raised = sorted(i for i, y, _, run, _ in spaces if run and abs(y - baseline) < 0.35 * size)
    mixed = any(_ARABIC.match(t[0]) for t in tokens)
    spaced: list[str] = []
    for k, token in enumerate(tokens):
        if k:
            previous = tokens[k - 1]
            gap = token[1] - previous[2]
            lo, hi = sorted((token[3], previous[3]))
            first, last = bisect.bisect_right(separators, lo), bisect.bisect_left(separators, hi)
            between = last - first
            apart = between > 1 and (previous[0] in _STOPS or token[0] in _STOPS)
            neutral = mixed and (any(t[0][:1] in _QUOTES for t in (token, previous)) or (
                {token[0], previous[0]} & _STOPS and any(_DIGIT.match(t[0]) for t in (token, previous))))
            if between == 1 and not neutral:
                least = (-SPACE_OVERLAP if separators[first] in guessed or not mixed
                         else STARTED_GAP if separators[first] in starts else RUN_GAP)
            elif between > 1 and not neutral:
                # Two neighbours with several spaces between them in the stream were written apart
                # (Typst writes a marked letter, اللذينِ, in a pass of its own): the ink decides.
                least = WIDE_GAP
            else:
                least = SPACE_GAP
            separated = between and not apart and gap > least * size
            gap = token[4] - previous[5]  # with the marks' ink from here on
            if not separated and blank_xs:  # a space glyph PDFium left out, in the middle between the two
                at = bisect.bisect_right(blank_xs, (previous[4] + previous[5]) / 2)
                separated = at < len(blank_xs) and blank_xs[at] < (token[4] + token[5]) / 2
            if not separated and gap > STARTED_GAP * size:
                # A run-opening space, or one of PDFium's own, whose place is between the two glyphs' ink
                # is a space there, whatever the stream order or the run's height (Chromium writes مدرّساً
                # بالمدارس as مدرّس, space, raised اً, ب, the space at the origin of اً, left of its ink;
                # PDFium's space in a reversed Latin run, DTIME (f (n)), comes before the bracket).
                at = bisect.bisect_right(start_xs, previous[2])  # between the letters (a tanween may reach past)
                separated = at < len(start_xs) and start_xs[at] < token[1]
            # (A stop drawn left of an Arabic word ends that word: fpdf2 leaves a gap before it.)
            boundary = (token[0] and previous[0]  # ink without a character takes its neighbour's side
                        and bool(_ARABIC.match(token[0])) != bool(_ARABIC.match(previous[0]))
                        and not (tokens[k - 1][0] in _STOPS and _ARABIC.match(token[0])))
            # Glyphs that follow each other in the stream with no space between, where PDFium saw
            # no room for one either, are one word unless far apart (Noto Naskh's ١١ leaves 0.31 em);
            # so are a number's digits and separators (fpdf2's 711.988).
            run = between == 0 and (
                (hi - lo == 1 and token[0][:1].isalnum() and previous[0][:1].isalnum())
                or bisect.bisect_left(raised, hi) > bisect.bisect_right(raised, lo))
            pair = (previous[0], token[0])
            numeric = all(_DIGIT.match(t) or t in _NUMBER_SEPARATORS for t in pair) and any(map(_DIGIT.match, pair))
            # (A number's Arabic comma is a separator, not a letter: fpdf2's 121،154 leaves 0.26 em before it.)
            widest = ADJACENT_GAP if numeric else BOUNDARY_GAP if boundary else ADJACENT_GAP if run else WIDE_GAP
            if separated or gap > widest * size:
                spaced.append(" ")
        if token[0]:
            spaced.append(token[0])
    arabic = sum(bool(_ARABIC.match(t)) for t in spaced)
    latin = sum(bool(_STRONG_LTR.match(t)) and not t.isdigit() for t in spaced)
    return Line(text="", y=row[0][1], size=size, left=min(g[3] for g in bases), right=max(g[4] for g in bases),
                rtl=arabic > latin, visual=spaced, weight=arabic - latin)


def _directions(lines: list[Line]) -> None:
    """Each line's text in logical order, read in its paragraph's direction.

    The bidi algorithm lays a line out in its paragraph's direction, not by the line's own letters: a
    line of an Arabic paragraph that is mostly a Latin quotation is still right to left. A line takes
    the direction of its letters and those of the lines above and below it in the same type size.
    """
    for n, line in enumerate(lines):
        near = [other.weight for other in lines[max(0, n - 1): n + 2] if abs(other.size - line.size) < 0.1 * line.size]
        if line.weight and sum(near):
            line.rtl = sum(near) > 0
        line.text = fold_forms("".join(visual_to_logical(line.visual, line.rtl)))
        line.stored = fold_forms("".join(line.visual)) if line.rtl else ""


def _tidy_brackets(text: str) -> str:
    """No space inside brackets: Chromium writes the space before a bracket that opens a Latin
    quotation in an Arabic line beside the Latin word, so the stream puts it inside: "( Thomas"."""
    return _INSIDE_BRACKETS.sub("", text)


def _article_score(text: str) -> int:
    """Words opening with the article ال minus words closing with its mirror image لا: positive for
    Arabic in logical order, negative for Arabic reversed."""
    words = text.split()
    return sum(w.startswith("ال") for w in words) - sum(w.rstrip(".,،؛:!؟?").endswith("لا") for w in words)


def visual_to_logical(tokens: list[str], rtl: bool) -> list[str]:
    """Tokens (glyph clusters and spaces) in left-to-right visual order, as a reader reads them.

    The Unicode bidi algorithm, backwards, in the parts that matter for running text. Tokens are
    right-to-left (Arabic), left-to-right (Latin), digits or neutral. In a right-to-left line a number
    after Latin text is Latin text (Windows 10); one among Arabic is an Arabic number, which a comma
    or colon holds together (3:08, 121،154) but a hyphen does not (24-10 shows as 10-24). Neutrals
    between two Latin tokens are Latin, and so are brackets that open before Latin text and the ones
    that close them (f(n) inside Arabic is laid out whole, left to right, and PDF writers may report
    its closing bracket as an opening one); all others take the line's direction. A right-to-left line
    is reversed whole and its left-to-right runs reversed back; a left-to-right line only has its
    right-to-left runs reversed.
    """
    count = len(tokens)
    kinds = ["R" if _ARABIC.match(t) else "D" if _DIGIT.match(t) else "L" if _STRONG_LTR.match(t) else "N"
             for t in tokens]
    if not rtl:
        kinds = ["L" if kind == "D" else kind for kind in kinds]
    else:
        tokens = list(tokens)
        strong, opened = None, 0
        for k, token in enumerate(tokens):
            if kinds[k] in ("L", "R"):
                strong, opened = kinds[k], (opened if kinds[k] == "L" else 0)
            elif token in _BRACKETS and strong == "L":
                if k + 1 < count and kinds[k + 1] in ("L", "D"):
                    kinds[k], tokens[k], opened = "L", _BRACKETS[token][0], opened + 1
                elif opened:
                    kinds[k], tokens[k], opened = "L", _BRACKETS[token][1], opened - 1
    k = 0
    while k < count:  # each number: digits with single separators between them
        if kinds[k] != "D":
            k += 1
            continue
        end = k
        while end + 1 < count and (kinds[end + 1] == "D" or (
                end + 2 < count and tokens[end + 1] in _NUMBER_SEPARATORS and kinds[end + 2] == "D")):
            end += 1 if kinds[end + 1] == "D" else 2
        left = next((kinds[j] for j in range(k - 1, -1, -1) if kinds[j] in ("L", "R")), None)
        latin = left == "L"  # ambiguous when Arabic follows; names with numbers (Windows 10) are the commoner case
        for j in range(k, end + 1):
            if latin:
                kinds[j] = "L"
            else:  # an Arabic number: a hyphen or plus between its parts is neutral
                kinds[j] = "N" if tokens[j] in _SIGNS else "AN"
        k = end + 1
    inner = ("L", "AN") if rtl else ("R",)
    runs: list[tuple[int, int]] = []
    k = 0
    while k < count:
        if kinds[k] not in inner:
            k += 1
            continue
        last = k
        while True:
            following = last + 1
            while following < count and kinds[following] == "N":
                following += 1
            if following >= count or kinds[following] != kinds[last]:
                break
            if following != last + 1 and kinds[last] == "AN":
                break  # neutrals next to a number take the line's direction
            last = following
        runs.append((k, last + 1))
        k = last + 1
    out = list(tokens)
    for start, end in runs:
        out[start:end] = out[start:end][::-1]
    if rtl:
        inside = set()
        for start, end in runs:
            inside.update(range(start, end))
        logical, out = [(t, k in inside) for k, t in enumerate(out)][::-1], []
        for token, latin in logical:
            if not latin and token in _BRACKETS:
                # Writers disagree on the character of a bracket laid out right to left (Chromium reports
                # the shape it drew, and not even consistently; fpdf2 the text's own), so its place
                # decides: one that follows text closes, one after a space or an opening bracket opens.
                closes = bool(out) and not out[-1].isspace() and out[-1] not in "([{"
                token = _BRACKETS[token][closes]
            elif not latin:
                token = token.translate(_MIRRORED)  # « » drawn mirrored: reading order flips them back
            out.append(token)
    return out


def strip_running(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Drop running headers, footers and page numbers."""
    sizes = [line.size for lines in pages for line in lines for _ in range(max(1, len(line.text) // 10))]
    if not sizes:
        return pages
    body = statistics.median(sizes)

    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", " ".join(line.text.split()))

    # A running line repeats at the page's edge beside other text: a document of one line a page
    # (a list, a log) repeats a shape too, but that line is all there is to read.
    edges: dict[str, int] = {}
    for lines in pages:
        keys = [key(line) for line in lines]
        for candidate in set(keys[:2] + keys[-2:]):
            if any(other != candidate for other in keys):
                edges[candidate] = edges.get(candidate, 0) + 1
    repeated = {k for k, n in edges.items() if len(pages) >= 2 and n >= max(2, 0.5 * len(pages))}
    out = []
    for lines, height in zip(pages, heights):
        kept = []
        for n, line in enumerate(lines):
            at_edge = line.y > height * (1 - EDGE) or line.y < height * EDGE
            at_end = n < 2 or n >= len(lines) - 2
            if at_edge and (line.size < 0.9 * body or _PAGE_NUMBER.match(line.text)):
                continue
            if at_end and key(line) in repeated:
                continue
            kept.append(line)
        out.append(kept)
    return out


def page_blocks(lines: list[Line], page: int, body: float) -> list[Block]:
    """Lines of one page into headings and paragraphs."""
    if not lines:
        return []
    steps = [a.y - b.y for a, b in zip(lines, lines[1:]) if abs(a.size - b.size) < 0.1 * body and a.y > b.y]
    step = statistics.median(steps) if steps else 1.5 * body
    body_lines = [l for l in lines if abs(l.size - body) < 0.15 * body] or lines
    edges = {}  # each column's text edges: the far edge a paragraph's last line falls short of
    for column in {l.column for l in lines}:
        own = [l for l in body_lines if l.column == column] or [l for l in lines if l.column == column]
        lo, hi = min(l.left for l in own), max(l.right for l in own)
        edges[column] = (lo, hi, max(hi - lo, 1.0))
    blocks: list[Block] = []
    previous: Line | None = None
    for line in lines:
        heading = line.size > 1.15 * body
        kind = "heading" if heading else "paragraph"
        new = (previous is None or blocks[-1].kind != kind
               or previous.y - line.y > PARAGRAPH_GAP * step
               or abs(previous.size - line.size) > 0.1 * body
               or (not heading and _ends_short(previous, *edges[previous.column])))
        if new:
            blocks.append(Block(line.text, kind, [(page, 0)]))
        else:
            blocks[-1].text = join_lines(blocks[-1].text, line.text)
        previous = line
    return blocks


def _ends_short(line: Line, lo: float, hi: float, width: float) -> bool:
    """The last line of a paragraph: it ends a sentence well before the text's far edge."""
    short = (line.left - lo if line.rtl else hi - line.right) > 0.15 * width
    return short and bool(_SENTENCE_END.search(line.text))


def join_lines(first: str, second: str) -> str:
    """One text from two wrapped lines. A hyphen at the break is kept as a marker for resolve_hyphens.
    A line that opens with a stop or a bracket keeps the space before it: writers break lines only
    where a break is allowed (Unicode line breaking allows none before a stop stuck to its word), so
    the source had a space there ("النجاح .:121،154" printed by fpdf2 and Chromium)."""
    first = re.sub(r"(?<=\w)-$", HYPHEN, first)  # "hinduism -" is a dash, not a hyphenated word
    # (A dash after a space is a spaced dash, "division – counties", and keeps its space.)
    if first.endswith(HYPHEN) or re.search(r"(?<! )[–—/]$", first) or re.match(r"[\u064b-\u065f\u0670]", second):
        return first + second
    return f"{first} {second}"


def resolve_hyphens(text: str, words: set[str]) -> tuple[str, list[int]]:
    """A line-end hyphen goes where the text has the word whole elsewhere ("pro-/duction"), and stays
    where it does not ("3rd-/and-9"). Returns the text and the offsets (in `text`) of removed hyphens."""
    if HYPHEN not in text:
        return text, []
    removed: list[int] = []

    def mend(match: re.Match) -> str:
        whole = match.group(1) + match.group(2)
        if whole.casefold() in words:
            removed.append(match.start(2) - 1)
            return whole
        return f"{match.group(1)}-{match.group(2)}"

    text = re.sub(rf"(\w+){HYPHEN}(\w+)", mend, text)
    return text.replace(HYPHEN, "-"), removed


def document_words(blocks: list[Block]) -> set[str]:
    return {w.casefold() for b in blocks for w in re.findall(r"\w+", b.text.replace(HYPHEN, "-"))}


def read_page(document, index: int) -> tuple[list[Line], float]:
    """One page's visual lines (top to bottom, each in logical order) and its height: an empty list
    for a page without a text layer."""
    page = document[index]
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        return page_lines(textpage, height, page), height
    finally:
        textpage.close()
        page.close()


def read_blocks(document) -> tuple[list[Block], str]:
    """The document's blocks across all pages, and its title (from the metadata, if any)."""
    pages: list[list[Line]] = []
    heights: list[float] = []
    for index in range(len(document)):
        lines, height = read_page(document, index)
        pages.append(lines)
        heights.append(height)
    pages = strip_running(pages, heights)
    rtl_lines = [line for lines in pages for line in lines if line.rtl]
    if sum(map(_article_score, (l.stored for l in rtl_lines))) > sum(map(_article_score, (l.text for l in rtl_lines))):
        # A writer without bidi (fpdf2 unshaped) stores Arabic left to right in logical order. Decided
        # for the whole document: one line's words (تسلا ends like a reversed ال) would mislead.
        for line in rtl_lines:
            line.text = line.stored
    sizes = [line.size for lines in pages for line in lines for _ in range(max(1, len(line.text) // 10))]
    body = statistics.median(sizes) if sizes else 12.0
    blocks: list[Block] = []
    for number, lines in enumerate(pages):
        here = page_blocks(lines, number, body)
        if (blocks and here and blocks[-1].kind == here[0].kind == "paragraph"
                and not _SENTENCE_END.search(blocks[-1].text)):
            # The paragraph runs on over the page break.
            joined = join_lines(blocks[-1].text, here[0].text)
            blocks[-1].pages.append((number, len(joined) - len(here[0].text)))
            blocks[-1].text = joined
            here = here[1:]
        blocks.extend(here)
    for block in blocks:
        if _ARABIC.search(block.text):  # a closing bracket mirrored twice: "(Thomas Hale(" in an Arabic line
            block.text = _tidy_brackets(_DOUBLE_OPEN.sub(r"(\1)", block.text))
    try:
        title = (document.get_metadata_dict().get("Title") or "").strip()
    except Exception:  # metadata is optional and sometimes malformed
        title = ""
    return blocks, title
