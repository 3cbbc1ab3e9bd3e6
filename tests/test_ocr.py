"""OCR with the real Tesseract (Debian tesseract-ocr, -ara, -eng): images and scanned PDF pages become
text in logical order, with each word's box on its page, cited and shown on the page like a text PDF.
Pages are small (one short page at 150 dpi): Tesseract takes seconds a page."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import make_files
from make_files import LIGHTHOUSE_AR, LIGHTHOUSE_EN
from rag.read import ReadError, ocr, read_document
from rag.text import normalize

TITLE_AR, TITLE_EN = "منارة رافنسهولم", "The Ravensholm lighthouse"
_WORD = re.compile(r"\w+")


@pytest.fixture(autouse=True, scope="module")
def ocr_cache(tmp_path_factory):
    """An OCR cache of this module's own: results from elsewhere must not stand in for Tesseract."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SANAD_OCR_CACHE", str(tmp_path_factory.mktemp("ocr-cache")))
        yield


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    english = make_files.page_image(folder / "en.png", LIGHTHOUSE_EN, title=TITLE_EN)
    return {
        "ar": make_files.page_image(folder / "ar.png", LIGHTHOUSE_AR, rtl=True, title=TITLE_AR),
        "en": english,
        "photo": make_files.photographed(folder / "photo.jpg", english),
    }


def read(path: Path):
    return read_document(path, path.name, 50_000_000)


def recall(source: list[str], text: str) -> float:
    """Share of the source's words that the text has (as many times), spelling folded as search folds it."""
    wanted = Counter(_WORD.findall(normalize(" ".join(source))))
    got = Counter(_WORD.findall(normalize(text)))
    return sum((wanted & got).values()) / sum(wanted.values())


def test_an_arabic_page_reads_in_logical_order_with_each_words_box(pages):
    document = read(pages["ar"])
    assert document.text.startswith(TITLE_AR)
    assert "يبلغ ارتفاع البرج 38 متراً" in document.text  # logical order, numbers in place
    assert recall([TITLE_AR, *LIGHTHOUSE_AR], document.text) >= 0.85
    assert document.ocr_pages == (1,) and document.pages == ((0, len(document.text) + 2),)
    words = document.words
    assert len(words) >= 0.9 * len(" ".join(LIGHTHOUSE_AR).split())
    assert all(document.text[w.start:w.end].strip() == document.text[w.start:w.end] != "" for w in words)
    assert all(0 <= w.left and w.left + w.width <= 1.001 and 0 <= w.top and w.top + w.height <= 1.001 for w in words)
    # Right to left: the second word of a line stands left of the first.
    first, second = words[0], words[1]
    assert abs(first.top - second.top) < first.height and second.left < first.left
    # The title is above the first paragraph.
    body = next(w for w in words if document.text[w.start:w.end] == "بُنيت" or w.start > len(TITLE_AR) + 1)
    assert body.top > first.top + first.height / 2


def test_an_english_photo_turned_and_noisy_reads_back_its_words(pages):
    document = read(pages["photo"])
    assert recall([TITLE_EN, *LIGHTHOUSE_EN], document.text) >= 0.95
    assert "It was automated in 1978" in document.text


def test_a_mixed_pdf_reads_text_pages_as_text_and_scanned_pages_by_ocr(tmp_path, pages):
    text_page = make_files.pdf(tmp_path / "text.pdf", ["Chapter one is typed. The harbour opened in 1830."])
    scanned = make_files.image_pdf(tmp_path / "scan.pdf", [pages["en"]])
    last_page = make_files.pdf(tmp_path / "last.pdf", ["Chapter three is typed too. The tower was painted red."])
    document = read(_concatenated(tmp_path / "mixed.pdf", [text_page, scanned, last_page]))
    assert document.ocr_pages == (2,)
    first, second, third = (document.text[a:b] for a, b in document.pages)
    assert "Chapter one is typed" in first and "Chapter three is typed" in third
    assert "It was automated in 1978" in second and TITLE_EN in second
    assert {w.page for w in document.words} == {2}
    assert all(document.pages[1][0] <= w.start < document.pages[1][1] for w in document.words)
    assert not document.read_by_ocr(*document.pages[0]) and document.read_by_ocr(*document.pages[1])


def _concatenated(path: Path, parts: list[Path]) -> Path:
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    for part in parts:
        source = pdfium.PdfDocument(str(part))
        out.import_pages(source)
        source.close()
    out.save(str(path))
    return path


def test_a_page_read_once_is_not_read_again(pages, monkeypatch):
    """The cache answers by the page image's hash: with Tesseract gone, a page read before still reads
    (the chat's viewer reads the file again each time it opens it)."""
    import pytesseract

    before = read(pages["en"])
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    assert read(pages["en"]).text == before.text
    assert list(ocr.cache_dir().glob("*/*.json"))


def test_without_tesseract_a_clear_message_names_the_package(tmp_path, monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    monkeypatch.setattr(ocr, "_installed", None)
    image = make_files.page_image(tmp_path / "new.png", ["A page never read before, about fishing boats."])
    with pytest.raises(ReadError) as caught:
        read(image)
    assert "tesseract-ocr" in caught.value.reason and "tesseract-ocr-ara" in caught.value.reason
    assert str(caught.value).startswith("new.png: ")
    # A PDF with text pages still gives those; only its scanned pages wait for Tesseract.
    text_page = make_files.pdf(tmp_path / "text.pdf", ["Typed pages read without OCR."])
    scanned = make_files.image_pdf(tmp_path / "scan.pdf", [image])
    document = read(_concatenated(tmp_path / "mixed.pdf", [text_page, scanned]))
    assert "Typed pages read without OCR" in document.text and "fishing" not in document.text
    monkeypatch.setattr(ocr, "_installed", None)  # the next test finds Tesseract again


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\nnot really", "damaged or unknown image"),
    (b"GIF89a" + bytes(40), "damaged or unknown image"),
])
def test_damaged_images_fail_with_a_reason(tmp_path, data, reason):
    path = tmp_path / "bad.png"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=reason):
        read(path)


def test_an_image_too_large_to_be_a_page_is_refused_before_decoding(tmp_path):
    from PIL import Image

    path = tmp_path / "huge.png"
    Image.new("1", (12_000, 11_000), 1).save(path)  # 132 million pixels, a few KB on disk
    with pytest.raises(ReadError, match="pixels"):
        read(path)


def test_a_tiff_whose_later_frame_is_too_large_is_refused_and_not_drawn(tmp_path):
    from PIL import Image

    from ui.ocr_page import _draw_image
    from ui.pdf_page import PageNotShown

    path = tmp_path / "pages.tif"
    small, huge = Image.new("1", (100, 100), 1), Image.new("1", (12_000, 11_000), 1)
    small.save(path, save_all=True, append_images=[huge], compression="group4")  # a few KB on disk
    with pytest.raises(ReadError, match=r"pixels \(page 2\)"):
        read(path)
    assert _draw_image(path, 1).width == 100  # the small page is shown
    with pytest.raises(PageNotShown):
        _draw_image(path, 2)  # the giant one is not decoded


def test_scanned_pages_index_with_progress_answer_in_both_languages_and_show_on_the_page(tmp_path, pages):
    from rag import Sanad, load_settings
    from ui.reference import Reference
    from ui.viewer import view

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ar.png").write_bytes(pages["ar"].read_bytes())
    make_files.image_pdf(docs / "scan.pdf", [pages["en"], pages["en"]])
    engine = Sanad(load_settings(index_dir=tmp_path / "index"))
    stages = []
    report = engine.index([docs], progress=lambda stage, done, total: stages.append((stage, done, total)))
    assert not report.failed and len(report.added) == 2
    assert ("ocr", 1, 2) in stages and ("ocr", 2, 2) in stages and ("ocr", 1, 1) in stages

    for question, source, quoted in [("كم يبلغ ارتفاع البرج؟", "ar.png", "38"),
                                     ("How tall is the tower?", "scan.pdf", "38 metres")]:
        answer = engine.ask(question)
        assert not answer.abstained, question
        citation = answer.citations[0]
        assert citation.source.endswith(source) and citation.ocr and quoted in answer.text
        assert json.loads(json.dumps(answer.to_json()))["citations"][0]["ocr"] is True
        document = engine.document(citation.source)
        assert document.text[citation.start:citation.end] == citation.text
        page = BeautifulSoup(view(engine, Reference.of(citation).encode()), "html.parser")
        assert page.select_one(".sanad-viewer")["data-view"] == "page"
        assert page.select_one(".sanad-page img")["src"].startswith("data:image/png;base64,")
        assert not page.select("figcaption")  # every quoted sentence was found on the page
        # The boxes cover exactly the quoted sentences' words: the first box starts at the first word.
        a, b = citation.start + citation.highlights[0][0], citation.start + citation.highlights[0][1]
        first = min((w for w in document.words if w.start < b and w.end > a), key=lambda w: w.start)
        box = page.select_one(".sanad-box")["style"]
        top = float(re.search(r"top:([\d.]+)%", box).group(1)) / 100
        assert abs(top - first.top) < 0.01 + first.height
        assert [m.get_text() for m in page.select(".sanad-doc mark")]  # and the text view marks them too


def _sheets(folder: Path, suffix: str) -> list[Path]:
    """Two printed sheets as a browser prints a page: its date and title in the top margin with the
    text right under it, a file address and page number at the foot; a sentence runs over the break."""
    first, second = LIGHTHOUSE_EN[1].split(" from 22 ")
    return [make_files.page_image(folder / f"sheet{n}{suffix}", body, title=TITLE_EN if n == 1 else None,
                                  header="12/3/26, 5:37 PM Ravensholm Gazette",
                                  footer=f"file:///home/reader/gazette{n}.html {n}/2", height_cm=29.7)
            for n, body in ((1, [LIGHTHOUSE_EN[0], first]), (2, ["from 22 " + second]))]


def _multi_page_tiff(path: Path, pages: list[Path]) -> Path:
    from PIL import Image

    frames = [Image.open(p) for p in pages]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw", dpi=(150, 150))
    return path


def test_running_lines_of_a_scan_are_dropped_and_a_sentence_runs_on_over_the_page_break(tmp_path):
    """Tesseract puts a header into the paragraph printed right under it; the page-break join then
    put 'Ravensholm Gazette' into the middle of the sentence that runs over the break."""
    sheets = _sheets(tmp_path, ".png")
    for path in (make_files.image_pdf(tmp_path / "scan.pdf", sheets), _multi_page_tiff(tmp_path / "scan.tif", sheets)):
        document = read(path)
        assert "can be seen from 22 nautical miles away" in document.text, path.name
        assert "Gazette" not in document.text and "file" not in document.text, path.name
        assert len(document.pages) == 2 and document.text[document.pages[1][0]:].startswith("from 22"), path.name
        assert {w.page for w in document.words} == {1, 2}


def test_a_header_on_a_single_photographed_page_stands_apart_from_the_text(tmp_path):
    """A lone page cannot tell its header from text by repeats, but the header is not the text's
    first sentence: it stays a paragraph of its own."""
    sheet = _sheets(tmp_path, ".png")[1]
    document = read(make_files.photographed(tmp_path / "page-2.jpg", sheet))
    starts = [document.text[b.start:b.end] for b in document.blocks]
    assert any(block.startswith("from 22 nautical miles away") for block in starts), starts


def test_an_arabic_comma_read_as_a_full_stop_is_a_comma_again(tmp_path):
    """Tesseract's Arabic model has no '،': it reads it as ',' or, in Chromium's Arabic face, as '.',
    which cut these two sentences into seven."""
    sentences = ["وقد منح على الفور زعيمهم المنتخب، ويليام ذو الساعد الحديدية، لقب كونت في عاصمته ميلفي.",
                 "وقد ضم الخط أيضاً المدافع المخضرم جاريد ألان، وهو لاعب اختير خمس مرات، إلى جانب كوني إيلي."]
    page = make_files.page_image(tmp_path / "commas.png", [" ".join(sentences)], rtl=True, dpi=200,
                                 font_path=make_files.NOTO_SANS_ARABIC)
    text = read(page).text
    assert "المنتخب، ويليام ذو الساعد الحديدية، لقب كونت" in text and "ألان، وهو" in text
    assert text.count(".") == 2 and text.endswith("إيلي.")


@pytest.mark.parametrize("printed, read_as, expected", [
    ("(الحديقة الساكسونية)،", "(الحديقة الساكسونية).", "(الحديقة الساكسونية)،"),
    ("(الحديقة الساكسونية).", "(الحديقة الساكسونية).", "(الحديقة الساكسونية)."),
])
def test_a_comma_after_a_closing_bracket_is_told_from_a_full_stop(printed, read_as, expected):
    """The mark is judged after a closing bracket or quote too (it stands left of the bracket)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(make_files.NOTO_SANS_ARABIC), 33)  # 12 pt at 200 dpi
    width = round(font.getlength(printed, direction="rtl")) + 8
    image = Image.new("L", (width, 60), 255)
    ImageDraw.Draw(image).text((4, 4), printed, font=font, fill=0, direction="rtl")
    word = ocr.Word(read_as, (0.0, 0.0, 1.0, 1.0))
    assert ocr._arabic_comma(word, image, usual=44, arabic_page=True) == expected



def test_latin_inside_an_arabic_line_is_read_again_as_latin(tmp_path):
    """The Arabic model reads '(WSE)' as '(1/55!)' and 'Panthers' as '311817615"': those lines are
    read again with the English model too, and the Latin words it finds take the garbage's place."""
    page = make_files.mixed_line_image(tmp_path / "mixed.png", [
        ["اليوم، تعد بورصة وارسو", "(WSE)", "أكبر سوق في المنطقة، مع 374 شركة مدرجة."],
        ["وقد ضم خط", "Panthers", "أيضاً المدافع الأخير المخضرم جاريد ألان."]])
    document = read(page)
    assert "تعد بورصة وارسو (WSE) أكبر سوق" in document.text and "وقد ضم خط Panthers أيضاً" in document.text
    wse = next(w for w in document.words if document.text[w.start:w.end] == "(WSE)")
    tall = next(w for w in document.words if document.text[w.start:w.end] == "وارسو")
    assert wse.left + wse.width < tall.left and abs(wse.top - tall.top) < tall.height  # its own place on the line


@pytest.mark.parametrize("word, confidence, again", [
    ("(5]2/لا)،", 42, True),  # '(WSE)'
    ("5615", 34, True),  # 'Panthers', a number read with little confidence
    ("311817615\"", 60, True),
    ("[بحاجة", 50, False),  # Arabic in brackets: Wikipedia's 'citation needed'
    ("أيار/مايو", 50, False),
    ("1903،", 55, False),  # a year read with fair confidence
    ("و9", 90, False),
])
def test_which_words_send_their_line_to_be_read_again(word, confidence, again):
    """Each line read again costs about a second: on a 50-page Arabic scan the first rule sent 157
    lines, 28 % of the time, two thirds of them for nothing (citation brackets, years)."""
    assert ocr._garbled(word, confidence) is again
