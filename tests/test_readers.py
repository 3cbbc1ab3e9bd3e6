"""Every format and encoding users bring, and every way a file can be bad."""
import os

import pytest

from rag.read import ReadError, discover, read_document

import make_files

LIMIT = 50_000_000
ARABIC = "تسعى الإدارة الأمريكية لإقناع باكستان بالمشاركة في قوة حفظ السلام."


def read(path, limit=LIMIT):
    return read_document(path, path.name, limit)


@pytest.mark.parametrize("encoding, prefix", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1256", b""),
])
def test_text_encodings(tmp_path, encoding, prefix):
    path = tmp_path / "doc.txt"
    path.write_bytes(prefix + (ARABIC + "\nسطر ثانٍ عن الأمم المتحدة.").encode(encoding))
    doc = read(path)
    assert doc.text.startswith(ARABIC) and "الأمم المتحدة" in doc.text
    assert "\ufeff" not in doc.text


def test_presentation_forms_are_folded_to_letters(tmp_path):
    path = tmp_path / "old.txt"
    path.write_text("\ufeb3\ufefc\ufee1 عليكم", encoding="utf-8")
    assert read(path).text == "سلام عليكم"


def test_html_keeps_text_and_drops_boilerplate(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>t</title><style>p{color:red}</style><script>var x = 'tracking';</script></head>"
        "<body><nav>Home | About</nav><main><h1>Gaza plan</h1><p>Pakistan may join the <b>force</b>.</p>"
        "<ul><li>5,000 troops</li></ul></main><footer>© 2026 Site</footer></body></html>",
        encoding="utf-8",
    )
    text = read(path).text
    assert text.startswith("Gaza plan\n\nPakistan may join the force.")
    assert "5,000 troops" in text
    for noise in ("tracking", "color:red", "Home | About", "© 2026"):
        assert noise not in text


def test_pdf_pages_are_kept(tmp_path):
    path = make_files.pdf(tmp_path / "report.pdf", ["First page about penguins.", "Second page about Pakistan.", ARABIC])
    doc = read(path)
    assert len(doc.pages) == 3
    second = doc.text.index("Second page")
    assert doc.page_at(second) == 2
    assert doc.page_at(doc.text.index("First page")) == 1
    assert "باكستان" in doc.text


def test_docx_paragraphs_and_tables(tmp_path):
    path = make_files.docx(tmp_path / "memo.docx", ["Memo title", ARABIC], table=[["Country", "Troops"], ["Pakistan", "5000"]])
    text = read(path).text
    assert ARABIC in text and "Pakistan | 5000" in text


@pytest.mark.parametrize("make, reason", [
    (lambda d: _write(d / "empty.txt", b""), "empty file"),
    (lambda d: _write(d / "blob.txt", bytes(range(256)) * 64), "binary data"),
    (lambda d: _truncate(make_files.pdf(d / "cut.pdf", ["Some text here. " * 50] * 3)), "damaged or truncated PDF"),
    (lambda d: make_files.pdf(d / "locked.pdf", ["secret"], password="pw"), "encrypted PDF"),
    (lambda d: make_files.scanned_pdf(d / "scan.pdf"), "no extractable text"),
    (lambda d: _write(d / "fake.docx", b"this is not a zip file"), "damaged .docx"),
    (lambda d: _fifo(d / "pipe.txt"), "not a regular file"),
    (lambda d: _dangling(d / "gone.txt"), "cannot read"),
])
def test_bad_files_fail_with_a_reason_naming_the_file(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(ReadError) as caught:
        read(path)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(path.name + ": ")


def test_size_limit(tmp_path):
    path = _write(tmp_path / "big.txt", b"word " * 300_000)
    with pytest.raises(ReadError, match="too large .*--max-file-mb"):
        read(path, limit=1_000_000)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = _write(tmp_path / "private.txt", b"secret")
    path.chmod(0)
    with pytest.raises(ReadError, match="cannot read"):
        read(path)


def test_discover_reports_symlink_loops_and_skips_other_types(tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    _write(tmp_path / "docs" / "a.txt", b"alpha")
    _write(tmp_path / "docs" / "sub" / "b.md", b"beta")
    _write(tmp_path / "docs" / "tool.exe", b"MZ")
    (tmp_path / "docs" / "sub" / "loop").symlink_to(tmp_path / "docs")
    (tmp_path / "docs" / "x.txt").symlink_to(tmp_path / "docs" / "y.txt")
    (tmp_path / "docs" / "y.txt").symlink_to(tmp_path / "docs" / "x.txt")
    errors = []
    found = discover([tmp_path / "docs"], lambda source, reason: errors.append((source, reason)))
    names = sorted(path.name for path, _ in found)
    assert names == ["a.txt", "b.md"]
    reasons = " ".join(reason for _, reason in errors)
    assert "symlink loop" in reasons and "x.txt" in " ".join(s for s, _ in errors)


def _write(path, data):
    path.write_bytes(data)
    return path


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _fifo(path):
    os.mkfifo(path)
    return path


def _dangling(path):
    path.symlink_to(path.parent / "nowhere.txt")
    return path
