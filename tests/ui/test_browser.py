"""The UI in a real browser: Playwright driving Debian's Chromium against the launched app.

A practitioner pastes a post, watches the answer stream in, sees the highlighted evidence and the
numbered sources, reviews and exports the draft, and triages a small file in the Batch tab.
Screenshots go to ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
POST = (
    "For two months I have felt empty and hopeless. I can't get out of bed, I stopped seeing "
    "friends and nothing I used to enjoy interests me. I feel worthless and sleep badly."
)
CRISIS = "I feel hopeless and I'm going to kill myself tonight. I bought a rope yesterday."


@pytest.fixture(scope="module")
def page(ui_url: str) -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (run `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(ui_url)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_chat_streams_a_draft_with_evidence_and_sources(page: Any, artifacts_dir: Path) -> None:
    from playwright.sync_api import expect

    banner = page.locator("#ms-banner")
    expect(banner).to_contain_text("signals, not a diagnosis")
    expect(banner).to_contain_text("Authentication is off: local use only.")

    page.locator("#ms-message textarea").fill(POST)
    page.locator("#ms-send").click()
    chat = page.locator("#ms-chat")
    # The analysis panel fills before the draft is finished.
    expect(page.locator("#ms-evidence")).to_contain_text("hopeless", timeout=120_000)
    page.screenshot(path=str(artifacts_dir / "ui_chat_streaming.png"), full_page=True)
    expect(chat).to_contain_text("Sources", timeout=240_000)
    expect(chat).to_contain_text("not a diagnosis")
    expect(page.locator("#ms-sources")).to_contain_text(re.compile(r"\[1\]"))
    # Evidence spans are highlighted (a labelled span, not just the plain post).
    highlighted = page.locator("#ms-evidence").get_by_text("hopeless", exact=False).first
    expect(highlighted).to_be_visible()
    expect(page.locator("#ms-editor textarea")).not_to_have_value("")
    page.screenshot(path=str(artifacts_dir / "ui_chat.png"), full_page=True)

    # Review and export.
    page.get_by_label("I have reviewed this draft").check()
    page.get_by_role("button", name="Export Markdown, JSON and PDF").click()
    expect(page.get_by_text(re.compile(r"Exported case .* \(reviewed\)"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"mindsignal-.*\.pdf")).first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "ui_export.png"), full_page=True)


def test_bad_input_shows_a_message_in_the_chat(page: Any, artifacts_dir: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="New case").click()
    page.locator("#ms-message textarea").fill("   ")
    page.locator("#ms-send").click()
    expect(page.locator("#ms-chat")).to_contain_text("empty", timeout=60_000)
    expect(page.locator("#ms-chat")).not_to_contain_text("Traceback")
    page.screenshot(path=str(artifacts_dir / "ui_bad_input.png"), full_page=True)


def test_batch_tab_summarises_a_file_and_opens_a_row(
    page: Any, artifacts_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    posts = tmp_path / "posts.csv"
    posts.write_text(
        f'id,text\nalpha,"{POST}"\nbeta,"{CRISIS}"\ngamma,\n'
        "delta,I worry all the time and panic in crowds; I feel anxious every day.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Batch").click()
    page.locator("#ms-batch-file input[type=file]").set_input_files(str(posts))
    page.get_by_role("button", name="Analyse file").click()
    # The summary, not the progress bar's "n/4 posts" that shows while the batch runs.
    expect(page.locator("#ms-batch-summary")).to_contain_text(
        re.compile(r"4\s+posts:\s+3\s+analysed"), timeout=120_000
    )
    expect(page.get_by_text("URGENT").first).to_be_visible()
    page.locator("#ms-batch-table").get_by_text("beta", exact=True).first.click()
    expect(page.locator("#ms-row-status")).to_contain_text("Post beta")
    expect(page.locator("#ms-row-status")).to_contain_text("URGENT")
    page.screenshot(path=str(artifacts_dir / "ui_batch.png"), full_page=True)
