import pytest
from rag.read.pdf_layout import visual_to_logical
from rag.text import detect_language, fold_forms, normalize, sentence_spans


def test_normalize_unifies_arabic_spellings():
    assert normalize("أَحْمَد") == normalize("احمد")
    assert normalize("إلى") == normalize("الي")
    assert normalize("مدرسة") == normalize("مدرسه")
    assert normalize("كـــتاب") == "كتاب"
    assert normalize("٣٠٨") == "308"
    assert normalize("Pakistan") == "pakistan"


def test_presentation_forms_become_letters():
    # "سلام" written with Arabic presentation forms B, as old PDFs and cp1256 exports produce.
    assert fold_forms("\ufeb3\ufefc\ufee1") == "سلام"
    assert normalize("\ufefb") == "لا"


def test_detect_language():
    assert detect_language("لماذا باكستان؟") == "ar"
    assert detect_language("Why Pakistan?") == "en"
    assert detect_language("ما معنى RAG؟") == "ar"


def _sentences(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentences_split_on_arabic_question_mark_and_line_breaks():
    text = "هل تأتي باكستان؟ نعم، ربما. العنوان\nفقرة جديدة هنا."
    assert _sentences(text) == ["هل تأتي باكستان؟", "نعم، ربما.", "العنوان", "فقرة جديدة هنا."]


def test_sentences_keep_abbreviations_and_decimals():
    assert _sentences("The U.S. force has 3.5 units. Why?") == ["The U.S. force has 3.5 units.", "Why?"]


def test_long_sentence_is_cut_at_arabic_comma_and_semicolon():
    clause = "كلمة " * 30
    text = f"{clause.strip()}، {clause.strip()}؛ {clause.strip()}."
    parts = [text[s:e] for s, e in sentence_spans(text, max_chars=200)]
    assert len(parts) == 3
    assert parts[0].endswith("،") and parts[1].endswith("؛")
    assert all(len(p) <= 200 for p in parts)


def test_spans_are_offsets_into_the_text():
    text = "  First one.  Second one!\n\nثالثة؟ "
    for s, e in sentence_spans(text):
        assert text[s:e] == text[s:e].strip() and text[s:e]


def test_visually_ordered_arabic_is_put_back_in_logical_order():
    """Glyphs as a PDF places them, left to right, read back as the bidi algorithm shows them."""
    logical = "تسعى الإدارة لنشر 5000 جندي (PDF 2.0) في العام."
    visual = ".ماعلا يف (PDF 2.0) يدنج 5000 رشنل ةرادإلا ىعست"  # digits and Latin keep their order
    assert "".join(visual_to_logical(list(visual), rtl=True)) == logical  # brackets drawn mirrored, read right
    english = "An English line with مكب ابحرم inside."  # an Arabic phrase inside, drawn right to left
    assert "".join(visual_to_logical(list(english), rtl=False)) == "An English line with مرحبا بكم inside."


@pytest.mark.parametrize("closer", ["(", ")"], ids=["reported-as-opening", "reported-as-closing"])
def test_brackets_of_latin_text_inside_arabic_stay_with_it(closer):
    """f(n) inside an Arabic line is laid out whole, left to right; Chromium reports its closing bracket
    by the shape it drew elsewhere as a mirrored opening one."""
    visual = f".ةلآ ىلع DTIME(f(n{closer}{closer} ةطساوب لحُت f(n{closer} نمزلا يف"
    assert "".join(visual_to_logical(list(visual), rtl=True)) == "في الزمن f(n) تُحل بواسطة DTIME(f(n)) على آلة."


@pytest.mark.parametrize("visual", ["(انيمغ) ةيدلبلا", ")انيمغ( ةيدلبلا", ")انيمغ) ةيدلبلا"],
                         ids=["shapes-drawn", "text-characters", "one-glyph-for-both"])
def test_brackets_between_arabic_words_whatever_the_writer_reports(visual):
    """Chromium reports the shapes it drew (and one glyph for both when its font maps them so), fpdf2
    the text's own characters: where a bracket stands decides which way it faces."""
    assert "".join(visual_to_logical(list(visual), rtl=True)) == "البلدية (غمينا)"
