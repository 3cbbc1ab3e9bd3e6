"""Slides, spreadsheets, tables, OpenDocument and e-books, in Arabic and English: each answers a
question with a citation whose offsets point into its text, and opens in the viewer at that place."""
from __future__ import annotations

import zipfile

import pytest
from bs4 import BeautifulSoup

import make_files
from make_files import LIGHTHOUSE_AR, LIGHTHOUSE_EN
from rag.read import ReadError, read_document

NOTES_EN = "The keeper's logbook is kept in the Hallow museum."
NOTES_AR = "يُحفظ سجل حارس المنارة في متحف هالو."


def _files(folder):
    return [
        make_files.pptx(folder / "lighthouse.pptx", "Ravensholm lighthouse",
                        [("History", LIGHTHOUSE_EN[:1], ""), ("The keeper", LIGHTHOUSE_EN[1:], NOTES_EN)]),
        make_files.pptx(folder / "منارة.pptx", "منارة رافنسهولم",
                        [("التاريخ", LIGHTHOUSE_AR[:1], ""), ("الحارس", LIGHTHOUSE_AR[1:], NOTES_AR)]),
        make_files.xlsx(folder / "ports.xlsx", {
            "Ports": [["Port", "Ships a year", "Opened"], ["Hallow", 420, 1830], ["Kelby", 95, 1902], ["Marren", 260, 1876]],
            "Keepers": [["Name", "Years of service"], ["Thomas Hale", 31], ["Ada Morrow", 12]]}),
        make_files.xlsx(folder / "الموانئ.xlsx", {
            "الموانئ": [["الميناء", "عدد السفن في العام", "سنة الافتتاح"], ["هالو", 420, 1830], ["كيلبي", 95, 1902]]}),
        make_files.csv_file(folder / "stations.csv", [
            ["Station", "Platforms", "Opened"], ["Northgate", 4, 1901], ["Southmere", 7, 1922], ["Eastfold", 2, 1950]]),
        make_files.csv_file(folder / "المحطات.csv", [
            ["المحطة", "عدد الأرصفة", "سنة الافتتاح"], ["البوابة الشمالية", 4, 1901], ["البحيرة الجنوبية", 7, 1922]],
            delimiter=";"),
        make_files.odt(folder / "bridge.odt", "The Tamar bridge", [
            "The Tamar bridge was opened in 1961 and carries four lanes of traffic over the river.",
            "Its towers are 73 metres tall and stand on concrete caissons sunk into the riverbed."], ["steel", "concrete"]),
        make_files.odt(folder / "جسر.odt", "جسر تامار", [
            "افتُتح جسر تامار عام 1961 ويحمل أربعة مسارات للسيارات فوق النهر.",
            "يبلغ ارتفاع أبراجه 73 متراً وتقوم على قواعد خرسانية غُرست في قاع النهر."]),
        make_files.epub(folder / "orchard.epub", "The old orchard", [
            ("Planting", ["Orange trees were planted in the old orchard in 1920 by the Farrow family.",
                          "A small stream watered them through the long summers."]),
            ("Sale", ["The orchard was sold to the town in 1975 and became a public garden."])]),
        make_files.epub(folder / "البستان.epub", "البستان القديم", [
            ("الغرس", ["غرست عائلة فارو أشجار البرتقال في البستان القديم عام 1920.",
                       "وكان جدول صغير يسقيها طوال الصيف."]),
            ("البيع", ["بيع البستان للبلدة عام 1975 فصار حديقة عامة."])], language="ar"),
    ]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from rag import Sanad, load_settings

    folder = tmp_path_factory.mktemp("office")
    docs = folder / "docs"
    docs.mkdir()
    _files(docs)
    engine = Sanad(load_settings(index_dir=folder / "index"))
    report = engine.index([docs])
    assert not report.failed and len(report.added) == 10
    return engine


@pytest.mark.parametrize("question, source, fact", [
    ("Where is the keeper's logbook kept?", "lighthouse.pptx", "Hallow museum"),  # from the speaker notes
    ("أين يُحفظ سجل حارس المنارة؟", "منارة.pptx", "متحف هالو"),
    ("When did the port of Hallow open?", "ports.xlsx", "Opened: 1830"),
    ("متى افتتح ميناء هالو؟", "الموانئ.xlsx", "سنة الافتتاح: 1830"),
    ("How many platforms does Northgate station have?", "stations.csv", "Platforms: 4"),
    ("كم عدد أرصفة محطة البوابة الشمالية؟", "المحطات.csv", "عدد الأرصفة: 4"),
    ("When was the Tamar bridge opened?", "bridge.odt", "1961"),
    ("متى افتتح جسر تامار؟", "جسر.odt", "1961"),
    ("When were the orange trees planted in the orchard?", "orchard.epub", "1920"),
    ("متى غرست أشجار البرتقال في البستان؟", "البستان.epub", "1920"),
])
def test_each_format_answers_with_a_citation_that_opens_in_the_viewer(engine, question, source, fact):
    from ui.reference import Reference
    from ui.viewer import view

    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    citation = answer.citations[0]
    assert citation.source.endswith(source) and fact in answer.text and not citation.ocr
    document = engine.document(citation.source)
    assert document.text[citation.start:citation.end] == citation.text
    quoted = [citation.text[a:b] for a, b in citation.highlights]
    assert any(fact in q for q in quoted)
    page = BeautifulSoup(view(engine, Reference.of(citation).encode()), "html.parser")
    assert [m.get_text() for m in page.select(".sanad-doc mark")] == quoted
    scroll = page.select_one(".sanad-doc p.sanad-scroll-to")
    assert scroll is not None and citation.text.split("\n")[0][:30] in scroll.get_text()


def test_slides_are_pages_with_their_titles_as_headings(tmp_path):
    path = make_files.pptx(tmp_path / "deck.pptx", "Deck", [("History", ["First slide text."], "Notes one."),
                                                            ("The keeper", ["Second slide text."], "")])
    document = read_document(path, path.name, 10**8)
    assert len(document.pages) == 3
    second = document.text[slice(*document.pages[1])]
    assert second.startswith("History") and "Notes one." in second and "The keeper" not in second
    headings = [document.text[b.start:b.end] for b in document.blocks if b.kind == "heading"]
    assert headings == ["Deck", "History", "The keeper"] and document.title == "Deck"


def test_a_sheet_is_a_section_and_each_row_names_its_columns(tmp_path):
    path = make_files.xlsx(tmp_path / "book.xlsx", {"Ports": [["Port", "Opened"], ["Hallow", 1830.0]],
                                                    "Keepers": [["Name", "Years"], ["Thomas Hale", 31]]})
    text = read_document(path, path.name, 10**8).text
    assert text == "Ports\n\nPort: Hallow | Opened: 1830\n\nKeepers\n\nName: Thomas Hale | Years: 31"


def test_rows_beyond_the_limit_are_left_out_with_a_note(tmp_path, monkeypatch):
    from rag.read import sheet

    monkeypatch.setattr(sheet, "MAX_ROWS", 5)
    path = make_files.csv_file(tmp_path / "big.csv", [["n", "square"]] + [[n, n * n] for n in range(100)])
    text = read_document(path, path.name, 10**8).text
    assert text.count("square:") == 5 and "only its first 5 rows" in text


@pytest.mark.parametrize("suffix", [".pptx", ".xlsx", ".odt", ".epub"])
def test_a_zip_bomb_or_a_damaged_file_is_refused_by_name(tmp_path, suffix):
    bomb = tmp_path / f"bomb{suffix}"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("content.xml", b"\0" * 60_000_000)
    with pytest.raises(ReadError, match=f"refused: the \\{suffix} unpacks"):
        read_document(bomb, bomb.name, 10**8)
    damaged = tmp_path / f"damaged{suffix}"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError, match=f"damaged \\{suffix}"):
        read_document(damaged, damaged.name, 10**8)
