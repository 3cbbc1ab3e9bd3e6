"""Real documents as users' tools write them: sentences whole whatever the wrapping, PDFs read in
reading order, structure from Markdown and DOCX, and the hostile files of issue 8."""
import re
import zipfile
from pathlib import Path

import pytest

from rag.chunking import chunk_document, chunk_sentences
from rag.read import ReadError, discover, read_document
from rag.text import sentence_spans

import make_files
from make_files import LIGHTHOUSE_AR, LIGHTHOUSE_EN

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make browser)")


def read(path):
    return read_document(path, path.name, 50_000_000)


def sentences(doc):
    """Every quotable sentence of the document, as chunking and the index see them."""
    out = []
    for chunk in chunk_document(doc, 1200, 200):
        assert doc.text[chunk.start:chunk.end] == chunk.text
        out += [chunk.text[s.start:s.end] for s in chunk_sentences(chunk)]
    return out


def first_sentences(paragraphs):
    return [p[s:e] for p in paragraphs for s, e in sentence_spans(p)]


@needs_chromium
@pytest.mark.parametrize("rtl", [True, False], ids=["ar", "en"])
def test_chromium_pdf_reads_in_logical_order_with_whole_sentences(tmp_path, rtl):
    paragraphs = LIGHTHOUSE_AR if rtl else LIGHTHOUSE_EN
    title = "منارة رافنسهولم" if rtl else "The Ravensholm lighthouse"
    doc = read(make_files.chromium_pdf(tmp_path / "lighthouse.pdf", paragraphs, rtl=rtl, title=title))
    quotable = sentences(doc)
    for sentence in first_sentences(paragraphs):  # digits, the Latin name and the brackets in place
        assert sentence in quotable
    assert doc.title == title
    assert title not in quotable  # the heading names the chunk; it is never quoted
    assert not re.search(r"\d{1,2}/\d{1,2}/\d{2}|file:|  ", doc.text)  # running header, footer, justified gaps


MIXED_AR = [
    "عادةً ما تدوم شهادة التدريس ثلاث سنوات، وقد تدوم عشر سنوات. منح الإمبراطور زعيمهم لقب \" dux et magister "
    "Italiae comesque Normannorum totius Apuliae et Calabriae\" (\"دوق وسيد إيطاليا وكونت النورمان في جميع أرجاء "
    "أبوليا وكالابريا\") في عام 1047. تُحل هذه المسائل في الزمن f(n) على آلة تورينغ حتمية بواسطة DTIME(f(n)).",
    "تعد بورصة وارسو (WSE) أكبر سوق في المنطقة، وقد فاز الفريق بالكأس مرتين أيضاً.",
]


@pytest.mark.parametrize("writer", ["chromium", "fpdf2"])
def test_arabic_pdf_with_latin_quotations_brackets_and_marks(tmp_path, writer):
    """A line that is mostly a Latin quotation is still read right to left, brackets around and inside
    Latin text stay in place as each writer reports them, and a letter with a mark (عادةً) or a comma
    after one is not split off its word."""
    if writer == "chromium" and not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (make browser)")
    make = make_files.chromium_pdf if writer == "chromium" else make_files.shaped_pdf
    # Both orders of an alef and its tanween are in use (أيضاً, أيضًا); Chromium writes the second.
    same = lambda text: text.replace("\u064b\u0627", "\u0627\u064b")  # noqa: E731
    quotable = [same(s) for s in sentences(read(make(tmp_path / "mixed.pdf", MIXED_AR, rtl=True, title="تقرير")))]
    for sentence in first_sentences(MIXED_AR):
        assert same(sentence) in quotable


@pytest.mark.parametrize("rtl", [True, False], ids=["ar", "en"])
def test_shaped_fpdf2_pdf_reads_in_logical_order(tmp_path, rtl):
    paragraphs = LIGHTHOUSE_AR if rtl else LIGHTHOUSE_EN
    doc = read(make_files.shaped_pdf(tmp_path / "lighthouse.pdf", paragraphs, rtl=rtl, title="Ravensholm"))
    quotable = sentences(doc)
    for sentence in first_sentences(paragraphs):
        assert sentence in quotable
    assert "ﻻ" not in doc.text and not re.search("[\ufb50-\ufdff\ufe70-\ufefe]", doc.text)  # forms folded


def test_paragraph_across_a_page_break_is_one_chunk_with_both_pages(tmp_path):
    paragraph = " ".join(f"Sentence number {n} of the long report explains one more detail of the harbour." for n in range(40))
    path = make_files.shaped_pdf(tmp_path / "long.pdf", ["Short opening paragraph of the report.", paragraph, "The end."],
                                 size=14)
    doc = read(path)
    assert len(doc.pages) == 2
    start = doc.text.index("Sentence number 0 ")
    end = doc.text.index("Sentence number 39 ")
    assert doc.page_at(start) == 1 and doc.page_at(end) == 2
    holding = [c for c in chunk_document(doc, 10_000, 200) if c.start <= start and end < c.end]
    assert len(holding) == 1 and holding[0].page == 1
    assert not re.search(r"\b\d\b\s*Report|Report\s*\d", doc.text)  # header and page number dropped
    assert "Sentence number 17 of the long report explains one more detail of the harbour." in sentences(doc)


def test_pdf_hyphenated_line_ends_are_joined():
    from rag.read.pdf_layout import HYPHEN, join_lines, resolve_hyphens

    joined = join_lines("the con" + "-", "struction began") + " and the construction ended; 3rd" + HYPHEN + "and-9"
    text, removed = resolve_hyphens(join_lines("the con-", "struction began") + " and the construction ended; "
                                    + join_lines("3rd-", "and-9"), {"construction", "the", "and", "3rd"})
    assert text == "the construction began and the construction ended; 3rd-and-9"
    assert len(removed) == 1 and HYPHEN in joined
    # A dash closing a line joins the next line's word, unless it is a spaced dash (Chromium's English
    # "the territorial division –" / "counties or powiats").
    assert join_lines("the years 1990–", "1995") == "the years 1990–1995"
    assert join_lines("the territorial division –", "counties") == "the territorial division – counties"
    # A line opening with a stop had a space before it: no writer breaks a line between a word and its stop.
    assert join_lines("بدرجات متفاوتة من النجاح", ".:121،154 عاش") == "بدرجات متفاوتة من النجاح .:121،154 عاش"


@pytest.mark.parametrize("columns", [60, 72, 80])
def test_hard_wrapped_text_keeps_sentences_whole_and_offsets(tmp_path, columns):
    import textwrap

    path = tmp_path / "notes.txt"
    original = "Ravensholm\n\n" + "\n\n".join(textwrap.fill(p, columns) for p in LIGHTHOUSE_EN) + "\n"
    path.write_text(original, encoding="utf-8")
    doc = read(path)
    assert len(doc.text) == len(original)  # wrapping folded in place: offsets are the file's
    quotable = sentences(doc)
    for sentence in first_sentences(LIGHTHOUSE_EN):
        assert sentence in quotable
    assert "Ravensholm" not in quotable and doc.title == "Ravensholm"


def test_one_paragraph_per_line_keeps_its_line_breaks(tmp_path):
    path = tmp_path / "news.txt"
    path.write_text("A subtitle without a full stop\n" + "\n".join(LIGHTHOUSE_AR), encoding="utf-8")
    doc = read(path)
    assert doc.text.count("\n") == 2
    assert [b.kind for b in doc.blocks] == ["heading", "paragraph", "paragraph"]


def test_markdown_structure_and_inline_markup(tmp_path):
    import textwrap

    path = tmp_path / "lighthouse.md"
    body = textwrap.fill("The tower stands **38 metres** tall and its lamp can be seen from "
                         "[22 nautical miles](https://example.org/miles) away on a clear night. It was automated "
                         "in `1978`.", 60)
    path.write_text("# Lighthouses of the Northern Coast\n\n## Why it was built\n\n" + textwrap.fill(LIGHTHOUSE_EN[0], 70)
                    + "\n\n## The tower\n\n" + body + "\n\n- first keeper: Ann Ellery\n- last keeper: Thomas Hale\n\n"
                    "| year | event |\n|---|---|\n| 1847 | built |\n| 1978 | automated |\n", encoding="utf-8")
    doc = read(path)
    assert doc.title == "Lighthouses of the Northern Coast"
    assert "#" not in doc.text and "**" not in doc.text and "](" not in doc.text and "`" not in doc.text
    chunks = chunk_document(doc, 1200, 200)
    quotable = sentences(doc)
    assert "The tower stands 38 metres tall and its lamp can be seen from 22 nautical miles away on a clear night." in quotable
    assert not any(s.startswith(("Lighthouses of", "Why it was built", "The tower\n")) for s in quotable)
    assert "first keeper: Ann Ellery" in quotable and "1847 | built" in doc.text
    why = next(c for c in chunks if "petitioned" in c.text)
    assert why.heading == "Lighthouses of the Northern Coast — Why it was built"
    headings = "Lighthouses of the Northern Coast\n\nWhy it was built\n\n"
    assert why.text.startswith(headings + "The Ravensholm") and why.body == len(headings)  # in it, never quoted


def test_docx_headings_from_styles_lists_and_tables(tmp_path):
    path = make_files.styled_docx(tmp_path / "report.docx", "Ravensholm", [("History", LIGHTHOUSE_EN)],
                                  items=["First keeper: Ann Ellery", "Last keeper: Thomas Hale"],
                                  table=[["Year", "Event"], ["1847", "built"], ["1978", "automated"]])
    doc = read(path)
    assert doc.title == "Ravensholm"
    kinds = [(b.kind, doc.text[b.start:b.end].split("\n")[0]) for b in doc.blocks]
    assert kinds[:2] == [("heading", "Ravensholm"), ("heading", "History")]
    assert ("lines", "First keeper: Ann Ellery") in kinds and "1978 | automated" in doc.text
    quotable = sentences(doc)
    assert "History" not in quotable and first_sentences(LIGHTHOUSE_EN)[0] in quotable


def test_control_characters_are_removed_from_document_text(tmp_path):
    from rag.read.layout import strip_controls

    path = tmp_path / "escapes.txt"  # (a NUL byte in a .txt makes it binary; other readers strip it)
    prose = " It would keep the peace in the strip while the reconstruction goes on." * 3
    path.write_bytes(("Why Pakistan?\x1b]0;title\x07 The force\x1b[2J has 5,000 troops.\x85" + prose).encode("utf-8"))
    doc = read(path)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", doc.text)
    assert doc.text.startswith("Why Pakistan?]0;title The force[2J has")
    assert strip_controls("Why\x00 Pakistan?\r\nYes\tno") == "Why Pakistan?\nYes\tno"
    page = tmp_path / "nul.html"
    page.write_bytes("<p>Why\x01 Pakistan\x7f? Because.</p>".encode("utf-8"))
    assert read(page).text == "Why Pakistan? Because."


def test_runs_of_short_lines_merge_and_chunks_stay_few(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(f"word{n}" for n in range(40_000)), encoding="utf-8")
    doc = read(path)
    assert [b.kind for b in doc.blocks] == ["lines"]
    chunks = chunk_document(doc, 1200, 200)
    assert len(chunks) < 500  # was one chunk per line: 40,000
    paragraphs = tmp_path / "zz.docx"
    make_files.docx(paragraphs, ["zz"] * 5_000)
    assert len(chunk_document(read(paragraphs), 1200, 200)) < 20  # was 5,000


def test_too_many_chunks_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(" ".join(["A sentence of some length that ends here."] * 3000), encoding="utf-8")
    with pytest.raises(ReadError, match="too many passages") as caught:
        chunk_document(read(path), 1200, 200, max_chunks=10)
    assert str(caught.value).startswith("big.txt: ")


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path):
    path = make_files.docx(tmp_path / "bomb.docx", ["Innocent paragraph."])
    swollen = tmp_path / "swollen.docx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(swollen, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":  # 40 MB of one repeated paragraph
                data = data.replace(b"<w:body>", b"<w:body>" + b"<w:p><w:r><w:t>zz</w:t></w:r></w:p>" * 1_100_000)
            target.writestr(item, data)
    with pytest.raises(ReadError, match="refused: the .docx unpacks to") as caught:
        read(swollen)
    assert "word/document.xml" in caught.value.reason


def test_symlinks_out_of_the_folder_are_skipped_unless_asked(tmp_path):
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "passwd.txt").write_text("root:x:0:0", encoding="utf-8")
    (outside / "etc" / "hosts.txt").write_text("127.0.0.1 localhost", encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("alpha", encoding="utf-8")
    (docs / "secret.txt").symlink_to(outside / "passwd.txt")
    (docs / "etc").symlink_to(outside / "etc")
    (docs / "sub" / "inside.txt").symlink_to(docs / "a.txt")  # stays in the folder: the same document
    errors = []
    found = discover([docs], lambda source, reason: errors.append((source, reason)))
    assert [(p.name, Path(s).name) for p, s in found] == [("a.txt", "a.txt")]
    assert sorted(Path(s).name for s, _ in errors) == ["etc", "secret.txt"]
    assert all("leads out of the indexed folder" in reason for _, reason in errors)
    found = discover([docs], lambda source, reason: None, follow_links=True)
    assert sorted(Path(s).name for _, s in found) == ["a.txt", "hosts.txt", "secret.txt"]


def test_pdf_flate_bomb_is_refused_before_pdfium_unpacks_it(tmp_path):
    import zlib

    packer = zlib.compressobj(9)
    bomb = b"".join(packer.compress(b" " * 10_000_000) for _ in range(21)) + packer.flush()  # 210 MB of spaces
    content = b"BT /F1 12 Tf 72 720 Td (Hello.) Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [4 0 R 5 0 R] "
               b"/Resources << /Font << /F1 6 0 R >> >> >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb) + bomb + b"\nendstream",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 7\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bytes(out))
    assert len(out) < 300_000
    with pytest.raises(ReadError, match="refused: the PDF's compressed streams unpack to more than"):
        read(path)


@needs_chromium
def test_lighthouse_pdfs_answer_with_whole_sentences_in_reading_order(tmp_path, fresh_engine):
    """Issue 9's lighthouse: printed by Chromium in Arabic and English, asked in both languages."""
    docs = tmp_path / "docs"
    docs.mkdir()
    make_files.chromium_pdf(docs / "lighthouse.ar.pdf", LIGHTHOUSE_AR, rtl=True, title="منارة رافنسهولم")
    make_files.chromium_pdf(docs / "lighthouse.en.pdf", LIGHTHOUSE_EN, title="The Ravensholm lighthouse")
    assert not fresh_engine.index([docs]).failed
    sentences_ar, sentences_en = first_sentences(LIGHTHOUSE_AR), first_sentences(LIGHTHOUSE_EN)
    for question, expected in [("متى بنيت المنارة؟", sentences_ar[0]), ("كم يبلغ ارتفاع البرج؟", sentences_ar[2]),
                               ("How tall is the tower?", sentences_en[2]),
                               ("Who paid for the lighthouse?", sentences_en[1])]:
        answer = fresh_engine.ask(question)
        assert not answer.abstained, question
        assert expected in answer.text, (question, answer.text)
        for citation in answer.citations:
            for start, end in citation.highlights:  # every quote is a whole sentence of the document
                assert citation.text[start:end] in sentences_ar + sentences_en, citation.text[start:end]
