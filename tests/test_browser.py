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
  const lines = range.getClientRects();
  const last = lines[lines.length - 1];
  const style = getComputedStyle(el);
  return {text: el.textContent, direction: style.direction, align: style.textAlign,
          gapStart: last.left - box.left, gapEnd: box.right - last.right};
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

    # The English tab goes on in Arabic: one conversation in both directions (docs/screenshot.png is this picture).
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
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "documents.png", full_page=True)

    page.get_by_role("tab", name="Chat · المحادثة").click()
    ask(page, "Who painted the Zephyrine lighthouse green?")
    message = answer(page, 1)
    open_sources(page)
    assert "Ansel Brandt" in message.locator("blockquote").first.inner_text()
    page.screenshot(path=ARTIFACTS / "chat-upload.png", full_page=True)
