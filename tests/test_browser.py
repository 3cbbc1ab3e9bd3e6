"""The web chat in headless Chromium: answers, sources and the direction each message is laid out in."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from conftest import PAKISTAN_PARAGRAPH, ROOT  # noqa: E402
from test_ui import FACT, LIMIT_MB, running_chat  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, kept off the network: Playwright drives it and never downloads a browser.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "artifacts"
ANSWER_TIMEOUT_MS = 120_000  # a generous ceiling for a busy 2-core machine, not a speed requirement

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make browser)"),
]

# For each paragraph of a message: its computed direction and alignment, and which side of its box
# its last line hugs (the last line is the short one, so it shows the alignment as laid out).
LAYOUT_JS = """
(message) => [...message.querySelectorAll('p, blockquote')].map((el) => {
  const box = el.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(el);
  const rects = [...range.getClientRects()];
  const bottom = Math.max(...rects.map((r) => r.bottom));
  const last = rects.filter((r) => r.bottom > bottom - 4);  // the last line: its text and any link ([n]) on it
  const left = Math.min(...last.map((r) => r.left)), right = Math.max(...last.map((r) => r.right));
  const style = getComputedStyle(el);
  return {text: el.textContent, direction: style.direction, align: style.textAlign,
          gapStart: left - box.left, gapEnd: box.right - right};
})
"""


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory):
    with running_chat(tmp_path_factory.mktemp("browser-chat")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def context(browser, chat_url):
    """A browser profile that remembers every host the page asked for."""
    context = browser.new_context(viewport={"width": 1280, "height": 1500}, device_scale_factor=1)
    context.hosts = set()
    context.on("request", lambda request: context.hosts.add(urlsplit(request.url).netloc))
    yield context
    context.close()
    assert context.hosts == {urlsplit(chat_url).netloc}  # no CDN, fonts or analytics: localhost only


def open_chat(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.locator("#sanad-chat").wait_for()
    return page


def ask(page, question: str) -> None:
    page.locator("#sanad-question textarea").fill(question)
    page.keyboard.press("Enter")


def answer(page, n: int):
    """The n-th (1-based) finished answer: streaming is over once its sources block is in."""
    message = page.locator("#sanad-chat [data-testid=bot]:has(details.sanad-sources)").nth(n - 1)
    message.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return message


def open_sources(page) -> None:
    page.locator("#sanad-chat details.sanad-sources").evaluate_all("all => all.forEach(d => d.open = true)")


def fit_conversation(page) -> None:
    """Makes the window tall enough that the chat (72% of its height) shows the whole conversation."""
    height = page.locator("#sanad-chat [role=log]").evaluate("log => log.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": int((height + 60) / 0.72)})
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def layout(locator) -> list[dict]:
    return locator.evaluate(LAYOUT_JS)


def assert_laid_out(paragraph: dict, direction: str) -> None:
    assert paragraph["direction"] == direction, paragraph["text"]
    assert paragraph["align"] in ("start", "right" if direction == "rtl" else "left")
    hug, gap = ("gapEnd", "gapStart") if direction == "rtl" else ("gapStart", "gapEnd")
    assert paragraph[hug] < paragraph[gap], paragraph  # right-aligned Arabic, left-aligned English


def test_arabic_and_english_side_by_side(context, chat_url):
    arabic, english = open_chat(context, chat_url), open_chat(context, chat_url)
    arabic.locator("#sanad-chat").get_by_text("لماذا باكستان؟", exact=True).click()  # an example on the empty chat
    ask(english, "Why Pakistan?")  # a second tab, asking while the first is being answered
    assert arabic.locator("#sanad-chat").get_by_text("Sanad · سند").count() == 0  # no label floating over the messages

    for page, summary, lead_direction in ((arabic, "المصادر", "rtl"), (english, "Sources", "ltr")):
        message = answer(page, 1)
        open_sources(page)
        assert message.locator("summary").inner_text().startswith(summary)
        passage = message.locator("blockquote.sanad-passage").first
        assert passage.inner_text().startswith(PAKISTAN_PARAGRAPH)
        assert passage.locator("mark").first.is_visible()
        assert "[1]" in message.locator("p").nth(1).inner_text()
        lead, quotes, *_ = layout(message)
        assert_laid_out(lead, lead_direction)  # "بحسب المستندات:" / "The documents say (quoted in Arabic):"
        assert_laid_out(quotes, "rtl")  # the quotes stay Arabic, in the English answer too
        for source in layout(message.locator("details")):
            assert_laid_out(source, "rtl")

    # The English tab goes on in Arabic: one conversation in both directions.
    ask(english, "كم عدد الجنود في القوة المقترحة؟")
    assert "5 آلاف جندي" in answer(english, 2).inner_text()
    open_sources(english)
    questions = english.locator("#sanad-chat [data-testid=user] p")
    assert questions.evaluate_all("all => all.map(p => getComputedStyle(p).direction)") == ["ltr", "rtl"]

    ARTIFACTS.mkdir(exist_ok=True)
    arabic.screenshot(path=ARTIFACTS / "chat-arabic.png", full_page=True)
    fit_conversation(english)
    english.screenshot(path=ARTIFACTS / "chat.png", full_page=True)


def test_upload_from_the_page(context, chat_url, tmp_path):
    page = open_chat(context, chat_url)
    page.get_by_role("tab", name="Documents · المستندات").click()
    big = tmp_path / "too-big.txt"
    big.write_text("word " * int(LIMIT_MB * 2**20 / 4))
    page.locator("#sanad-upload input[type=file]").set_input_files(big)
    page.get_by_text(re.compile(r"exceed the maximum allowed size.*too-big\.txt")).wait_for()

    note = tmp_path / "keeper.txt"
    note.write_text(FACT)
    page.locator("#sanad-upload input[type=file]").set_input_files(note)
    page.locator("#sanad-docs").get_by_text("keeper.txt").filter(visible=True).first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Added 1" in page.locator("#sanad-docs-status").inner_text()
    # The two-language summary: English, then Arabic, each a line of its own in its own direction.
    lines = page.locator("#sanad-docs-status li").first.locator("p")
    assert lines.evaluate_all("ps => ps.map(p => getComputedStyle(p).direction)") == ["ltr", "rtl"]
    english, arabic = (line.bounding_box() for line in lines.all())
    assert arabic["y"] >= english["y"] + english["height"] - 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "documents.png", full_page=True)

    page.get_by_role("tab", name="Chat · المحادثة").click()
    ask(page, "Who painted the Zephyrine lighthouse green?")
    message = answer(page, 1)
    open_sources(page)
    assert "Ansel Brandt" in message.locator("blockquote").first.inner_text()
    page.screenshot(path=ARTIFACTS / "chat-upload.png", full_page=True)


# The source viewer ----------------------------------------------------------------------------------
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def library_url(tmp_path_factory):
    """The chat over a bilingual library: the Arabic seed article and its English translation
    (tests/data/seed-en), and an Arabic PDF printed by Chromium (issue 9's lighthouse article)."""
    from make_files import LIGHTHOUSE_AR, chromium_pdf

    folder = tmp_path_factory.mktemp("library")
    chromium_pdf(folder / "lighthouse.ar.pdf", LIGHTHOUSE_AR, rtl=True, title="منارة رافنسهولم")
    with running_chat(tmp_path_factory.mktemp("viewer-chat"), also=(folder, ROOT / "tests" / "data" / "seed-en")) as (url, _):
        yield url


@pytest.fixture()
def library(browser, library_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    context.hosts = set()
    context.on("request", lambda request: context.hosts.add(urlsplit(request.url).netloc))
    yield context
    context.close()
    assert context.hosts == {urlsplit(library_url).netloc}  # the page image comes inline, not from elsewhere


def viewer(page):
    return page.locator("#sanad-viewer .sanad-viewer")


def cited_sentences(message) -> list[str]:
    open_sources_of(message)
    return message.locator("blockquote.sanad-passage mark").all_inner_texts()


def open_sources_of(message) -> None:
    message.locator("details.sanad-sources").evaluate_all("all => all.forEach(d => d.open = true)")


def in_view(page, locator) -> bool:
    """Whether the element lies inside the window (its top within the visible height)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and 0 <= box["y"] < size["height"] and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 1


def test_a_citation_opens_the_text_at_the_cited_sentence(library, library_url):
    page = open_chat(library, library_url)
    ask(page, "لماذا باكستان؟")
    message = answer(page, 1)
    quoted = cited_sentences(message)
    link = message.locator("a.sanad-cite").first
    link.focus()
    page.keyboard.press("Enter")  # keyboard reachable: a citation is a link
    viewer(page).wait_for()
    title = viewer(page).locator(".sanad-viewer-title").inner_text()
    assert title.startswith("gaza-stabilisation-force-pakistan.ar.txt") and re.search(r"\[\d+:\d+\]$", title)
    marks = viewer(page).locator(".sanad-doc mark")
    assert marks.all_inner_texts() == quoted  # the highlighted text is the cited sentence(s)
    assert in_view(page, marks.first)  # scrolled to it
    assert viewer(page).locator(".sanad-doc p").count() > 3  # with the text around it
    assert page.evaluate("document.activeElement.dataset.action") == "close"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "viewer-text.png")
    page.keyboard.press("Escape")
    viewer(page).wait_for(state="detached")
    assert page.evaluate("document.activeElement.classList.contains('sanad-cite')")  # back where it was opened


def test_a_pdf_citation_shows_the_page_with_the_sentence_boxed(library, library_url):
    page = open_chat(library, library_url)
    ask(page, "متى بنيت المنارة؟")
    message = answer(page, 1)
    quoted = cited_sentences(message)
    message.locator("a.sanad-source-name", has_text="lighthouse.ar.pdf").first.click()  # its Sources entry
    viewer(page).wait_for()
    image = viewer(page).locator(".sanad-page img")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth > 500")
    assert re.search(r"lighthouse\.ar\.pdf · ص \d+ · \[\d+:\d+\]$", viewer(page).locator(".sanad-viewer-title").inner_text())
    frame = viewer(page).locator(".sanad-page-frame").bounding_box()
    boxes = [b.bounding_box() for b in viewer(page).locator(".sanad-box").all()]
    assert boxes and not viewer(page).locator(".sanad-page figcaption").count()  # every sentence found
    for box in boxes:  # on the page, each the height of a line or two
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
        assert frame["y"] <= box["y"] and 4 < box["height"] < frame["height"] / 10
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "viewer-pdf.png")  # docs/screenshot.png is this picture
    viewer(page).get_by_role("button", name="Text · النص").click()  # the text view, one click away
    marks = viewer(page).locator(".sanad-doc mark")
    assert marks.first.is_visible() and not image.is_visible()
    assert marks.all_inner_texts() == quoted


def test_the_documents_tab_opens_a_document_in_the_viewer(library, library_url):
    page = open_chat(library, library_url)
    page.get_by_role("tab", name="Documents · المستندات").click()
    page.locator("#sanad-docs a.sanad-doc", has_text="gaza-stabilisation-force-pakistan.ar.txt").click()
    viewer(page).wait_for()
    assert viewer(page).locator(".sanad-doc p").first.inner_text().startswith("كشفت تقارير")
    viewer(page).get_by_role("button", name="Close · إغلاق").click()
    viewer(page).wait_for(state="detached")


def test_a_phone_screen_fits_the_question_box_and_gives_the_viewer_the_screen(library, library_url):
    page = open_chat(library, library_url)
    page.set_viewport_size(PHONE)
    box, send = page.locator("#sanad-question textarea"), page.locator("#sanad-send")

    def fits(locator) -> bool:
        b = locator.bounding_box()
        return b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= PHONE["width"] and b["y"] + b["height"] <= PHONE["height"]

    assert fits(box) and fits(send)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    ask(page, "Why Pakistan?")
    message = answer(page, 1)
    assert fits(box) and fits(send)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "phone.png")
    message.locator("a.sanad-cite").first.click()
    viewer(page).wait_for()
    pane = page.locator("#sanad-viewer-column").bounding_box()
    assert (pane["x"], pane["y"], pane["width"], pane["height"]) == (0, 0, PHONE["width"], PHONE["height"])
    close = viewer(page).get_by_role("button", name="Close · إغلاق")
    assert fits(close)
    page.screenshot(path=ARTIFACTS / "phone-viewer.png")
    close.click()
    viewer(page).wait_for(state="detached")
    assert fits(box) and fits(send) and message.is_visible()


def test_a_parser_error_quoting_markdown_stays_text(context, chat_url, tmp_path):
    """Issue 8, item 4: the status shows the .docx's Markdown content type as text: no image fetched
    from 127.0.0.1:9 (the context fixture fails on any other host), no live link."""
    from test_ui import markdown_content_type_docx

    page = open_chat(context, chat_url)
    page.get_by_role("tab", name="Documents · المستندات").click()
    page.locator("#sanad-upload input[type=file]").set_input_files(markdown_content_type_docx(tmp_path / "report.docx"))
    status = page.locator("#sanad-docs-status")
    status.get_by_text("![t](http://127.0.0.1:9/docx.png)", exact=False).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert status.locator("img, a").count() == 0


# Issue 23: a bilingual library at a desktop's and a phone's size -----------------------------------
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": PHONE}

# For each paragraph of the answers: its text, computed direction and the direction its first strong
# letter asks for (what dir="auto" decides), and whether it holds sentences of both scripts.
PARAGRAPHS_JS = r"""
(log) => [...log.querySelectorAll('[data-testid=bot] p')].filter((p) => !p.closest('details')).map((p) => {
  const first = p.textContent.match(/[\u0600-\u06ff]|[A-Za-z]/);
  const sentences = p.textContent.split(/(?<=[.!?؟…])\s+/).filter((s) => /[\u0600-\u06ffA-Za-z]/.test(s));
  const scripts = new Set(sentences.map((s) => /^[^\u0600-\u06ffA-Za-z]*[\u0600-\u06ff]/.test(s) ? 'ar' : 'en'));
  return {text: p.textContent, direction: getComputedStyle(p).direction,
          wanted: first && /[\u0600-\u06ff]/.test(first[0]) ? 'rtl' : 'ltr', scripts: scripts.size};
})
"""


def sized_page(browser, url: str, size: str):
    context = browser.new_context(viewport=SIZES[size], device_scale_factor=1, is_mobile=size == "phone",
                                  has_touch=size == "phone")
    page = context.new_page()
    page.goto(url)
    page.locator("#sanad-chat").wait_for()
    return context, page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"issue23-{name}.png")


@pytest.mark.parametrize("size", SIZES)
def test_a_bilingual_conversation_lays_each_sentence_out_in_its_own_direction(browser, library_url, size):
    context, page = sized_page(browser, library_url, size)
    assert page.locator("#sanad-answerer").is_hidden()  # no "Answers by" switch with nothing to switch to
    for n, question in enumerate(("Why Pakistan?", "and what could go wrong?", "وما المخاطر؟"), 1):
        ask(page, question)
        page.locator("#sanad-chat [data-testid=bot]").nth(n - 1).locator("details.sanad-sources, .sanad-notice").first.wait_for(
            timeout=ANSWER_TIMEOUT_MS)
    paragraphs = page.locator("#sanad-chat [role=log]").evaluate(PARAGRAPHS_JS)
    assert len(paragraphs) >= 4
    for paragraph in paragraphs:
        assert paragraph["direction"] == paragraph["wanted"], paragraph["text"]
        assert paragraph["scripts"] == 1, paragraph["text"]  # an Arabic and an English sentence never share a line box
    if size == "desktop":
        fit_conversation(page)  # the whole conversation in one picture
    shot(page, f"{size}-conversation")
    context.close()


def test_a_mixed_answer_is_laid_out_sentence_by_sentence(browser, library_url):
    """An answer whose one line quotes Arabic and then English (as issue 23 saw) becomes a block per
    language, each aligned to its own side, in the chat's own CSS."""
    from rag import Answer
    from ui import render

    mixed = Answer(question="and what could go wrong?", language="en", abstained=False, citations=[],
                   text="From the documents:\nإذا ما نجحت واشنطن في تمرير هذه الخطة. [1] Choosing Pakistan as a "
                        "candidate did not come out of nowhere. [2] With the destruction of Gaza, the United States "
                        "fears a security vacuum. [3]")
    context, page = sized_page(browser, library_url, "desktop")
    log = page.locator("#sanad-chat")
    log.evaluate("(chat, html) => { const m = document.createElement('div'); m.id = 'mixed'; m.innerHTML = html; chat.append(m); }",
                 render.answer(mixed))
    lead, arabic, english = layout(page.locator("#mixed"))
    assert_laid_out(lead, "ltr")
    assert_laid_out(arabic, "rtl")
    assert_laid_out(english, "ltr")
    assert english["text"].startswith("Choosing Pakistan") and english["text"].endswith("[3]")
    context.close()


# Gradio's progress, caught as it shows: where its text lies, what the status says beneath it, and
# what the points at the table's header and the remove menu's label show.
PROGRESS_JS = r"""
() => {
  const status = document.querySelector('#sanad-docs-status');
  // The innermost element whose text ends in a percentage: "<desc> - 40.0%", in several text nodes.
  const line = status && [...status.querySelectorAll('*')].reverse().find((el) => /\d%$/.test(el.textContent.trim()));
  if (!line) return null;
  const range = document.createRange();
  const rects = [];
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.textContent.length; i++) {
      range.setStart(node, i); range.setEnd(node, i + 1);
      const r = range.getBoundingClientRect();
      if (r.width) rects.push({ch: node.textContent[i], left: r.left, right: r.right});
    }
  }
  const text = {textContent: line.textContent};
  const top = (selector) => { const el = document.querySelector(selector); if (!el) return null;
    el.scrollIntoView({block: 'center'});  // elementFromPoint sees only the window
    const b = el.getBoundingClientRect(); const hit = document.elementFromPoint(b.left + 8, b.top + b.height / 2);
    return Boolean(hit && el.contains(hit)); };
  const percent = rects.filter((r) => r.ch === '%').pop();
  return {text: text.textContent, status: status.innerText, percentRightmost: percent && rects.every((r) => r.right <= percent.right + 0.5),
          headerShows: top('#sanad-docs th'), labelShows: top('#sanad-docs-remove label span, #sanad-docs-remove [data-testid=block-info]'),
          trackers: [...document.querySelectorAll('#sanad-docs [data-testid=status-tracker], #sanad-docs-remove [data-testid=status-tracker]')]
            .filter((el) => getComputedStyle(el).display !== 'none' && !el.classList.contains('hide') && el.getBoundingClientRect().height > 0).length};
}
"""


def upload(page, path: Path):
    page.locator("#sanad-upload input[type=file]").set_input_files(path)


def status_lines(page) -> list[str]:
    return page.locator("#sanad-docs-status li p").all_inner_texts()


@pytest.mark.parametrize("size", SIZES)
def test_uploads_report_progress_and_name_their_files(browser, library_url, size, tmp_path):
    from make_files import LIGHTHOUSE_EN, chromium_pdf, docx

    tag = f" (the {size} copy)"  # each size uploads documents of its own
    pdf = chromium_pdf(tmp_path / f"harbour-{size}.pdf", [p + tag for p in LIGHTHOUSE_EN], title="Harbour lights")
    notes = docx(tmp_path / f"keepers-{size}.docx", [FACT + tag, "The keepers rowed out every Sunday." + tag])
    archive = tmp_path / f"bundle-{size}.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    context, page = sized_page(browser, library_url, size)
    page.get_by_role("tab", name="Documents · المستندات").click()

    upload(page, pdf)
    seen = page.wait_for_function(PROGRESS_JS, timeout=ANSWER_TIMEOUT_MS, polling=50).json_value()
    assert seen["percentRightmost"], seen["text"]  # "… - 40.0%": the sign after the number, at the line's end
    assert seen["headerShows"] and seen["labelShows"] and seen["trackers"] == 0  # progress on the status alone
    assert f"Indexing {pdf.name}" in seen["status"]
    page.locator("#sanad-docs-status").scroll_into_view_if_needed()
    shot(page, f"{size}-upload-progress")
    page.get_by_text(f"{pdf.name}: indexed").wait_for(timeout=ANSWER_TIMEOUT_MS)
    lines = status_lines(page)
    assert f"فُهرس الملف {pdf.name}" in lines  # the success line names the file, in both languages

    upload(page, notes)
    seen = page.wait_for_function(
        f"() => document.querySelector('#sanad-docs-status').innerText.includes('Indexing {notes.name}')",
        timeout=ANSWER_TIMEOUT_MS, polling=50)
    assert pdf.name not in page.locator("#sanad-docs-status").inner_text()  # the last status does not linger
    page.get_by_text(f"{notes.name}: indexed").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#sanad-docs").get_by_text(notes.name).count() == 1

    upload(page, archive)
    page.get_by_text(f"{archive.name}: unsupported file type").wait_for(timeout=ANSWER_TIMEOUT_MS)
    refused = page.locator("#sanad-docs-status li", has_text=archive.name).locator("p")
    assert refused.all_inner_texts() == [f"{archive.name}: unsupported file type", f"نوع ملف غير مدعوم: {archive.name}"]
    assert refused.evaluate_all("ps => ps.map(p => getComputedStyle(p).direction)") == ["ltr", "rtl"]
    assert page.locator(".toast-body").count() == 0  # a status line like every other failure, not a toast
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    page.locator("#sanad-docs-status").scroll_into_view_if_needed()
    shot(page, f"{size}-documents")
    context.close()


def placeholder_fits(page) -> bool:
    """Whether the question box's placeholder fits its line, measured in the placeholder's own font."""
    return page.locator("#sanad-question textarea").evaluate("""(box) => {
      const style = getComputedStyle(box, '::placeholder'), own = getComputedStyle(box);
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const room = box.clientWidth - parseFloat(own.paddingLeft) - parseFloat(own.paddingRight);
      return ctx.measureText(box.placeholder).width <= room;
    }""")


def bar_rows(page) -> int:
    """How many rows the viewer's title and buttons take."""
    tops = viewer(page).locator(".sanad-viewer-title, .sanad-viewer-bar button:visible").evaluate_all(
        "all => all.map(el => Math.round(el.getBoundingClientRect().top))")
    rows = []
    for top in sorted(tops):
        if not rows or top - rows[-1] > 8:
            rows.append(top)
    return len(rows)


@pytest.mark.parametrize("size", SIZES)
def test_the_pdf_page_zooms_and_the_viewer_bar_stays_compact(browser, library_url, size):
    context, page = sized_page(browser, library_url, size)
    assert placeholder_fits(page)
    ask(page, "متى بنيت المنارة؟")
    message = answer(page, 1)
    open_sources_of(message)
    message.locator("a.sanad-source-name", has_text="lighthouse.ar.pdf").first.click()
    frame = viewer(page).locator(".sanad-page-frame")
    frame.wait_for()
    title = viewer(page).locator(".sanad-viewer-title")
    # A Latin file name after an Arabic question: the title reads from the name, left to right.
    assert title.evaluate("p => getComputedStyle(p).direction") == "ltr"
    assert title.inner_text().startswith("lighthouse.ar.pdf")
    name, offsets = title.locator("bdi").first.bounding_box(), title.locator("bdi").last.bounding_box()
    assert name["x"] < offsets["x"]
    assert bar_rows(page) <= 2
    fitted = frame.bounding_box()["width"]
    shot(page, f"{size}-viewer-pdf")
    zoom_in = viewer(page).get_by_role("button", name="Zoom in · تكبير")
    zoom_in.click()
    zoom_in.click()
    zoomed = frame.bounding_box()["width"]
    assert zoomed >= 1.9 * fitted
    box = viewer(page).locator(".sanad-box").first.bounding_box()
    size_px = SIZES[size]
    assert box["y"] < size_px["height"] and box["x"] + box["width"] > 0 and box["x"] < size_px["width"]  # still in view
    shot(page, f"{size}-viewer-pdf-zoomed")
    viewer(page).locator(".sanad-page-frame img").click()  # a tap on a zoomed page fits it again
    assert abs(frame.bounding_box()["width"] - fitted) < 2
    viewer(page).get_by_role("button", name="Text · النص").click()
    assert viewer(page).get_by_role("button", name="Zoom in · تكبير").is_hidden()  # nothing to zoom in the text
    context.close()
