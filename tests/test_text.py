from rag.text import detect_language, fold_forms, logical_order, normalize, sentence_spans


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
    logical = "تسعى الإدارة الأمريكية لإقناع باكستان بنشر 5000 جندي في PDF العام."
    visual = logical[::-1].replace("0005", "5000").replace("FDP", "PDF")  # how some PDF writers store it
    assert logical_order(visual) == logical
    assert logical_order(logical) == logical
    assert logical_order("An English line stays as it is.") == "An English line stays as it is."
