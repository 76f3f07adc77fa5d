"""One chat message at a time per case: the page and the ``/chat`` API, against a launched UI.

The UI is the real Gradio app and queue over the real pipeline (rules classifier, real gate),
with a fixed retriever and a scripted chat model that can be held mid-draft, so a second message
can be sent while the first is certainly still being written.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.session import BUSY_MESSAGE
from tests.assistant.workbenches import HeldChat, fake_workbench
from tests.ui.conftest import free_port

POST = "I feel hopeless and empty; I stopped seeing friends."
OTHER_POST = "I binge and then make myself throw up after every meal."
REPLY = "- Write down what you do each hour and rate your mood from 0 to 10 [1]."


@pytest.fixture
def held_ui(tmp_path: Path) -> Iterator[tuple[str, HeldChat]]:
    """URL of a launched UI whose chat model holds each draft until ``chat.go()``."""
    from ui.app import CONCURRENCY_LIMIT, QUEUE_MAX_SIZE, build_ui

    chat = HeldChat(REPLY)
    workbench = fake_workbench(tmp_path, chat)
    demo = build_ui(workbench.mind, workbench)
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        yield f"http://127.0.0.1:{port}/", chat
    finally:
        chat.go()
        demo.close()


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def test_an_api_message_sent_while_the_case_is_drafted_is_refused_at_once(
    held_ui: tuple[str, HeldChat],
) -> None:
    """A script sending a second message on its session while the first draft is written gets a
    clear error at once; the draft finishes untouched, and the follow-up then works."""
    url, chat = held_ui
    client = Client(url, verbose=False)
    first = client.submit(POST, [], api_name="/chat")
    assert chat.answering.wait(60), "the first draft is being written"
    t0 = time.perf_counter()
    with pytest.raises(AppError) as refused:
        client.predict("Make it shorter, please.", [], api_name="/chat")
    assert time.perf_counter() - t0 < 10, "refused at once, not after the draft"
    assert str(refused.value) == BUSY_MESSAGE
    chat.go()
    history = first.result(timeout=60)[0]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "Sources" in _text(history[-1])
    assert len(chat.calls) == 1, "the refused message never reached the LLM"

    follow = client.predict("Make it shorter, please.", history, api_name="/chat")[0]
    assert [m["role"] for m in follow] == ["user", "assistant"] * 2
    case_line = [line for line in _text(history[-1]).splitlines() if line.startswith("Case `")]
    assert case_line and case_line[0] in _text(follow[-1]), "a follow-up on the same case"


@pytest.mark.integration
@pytest.mark.slow
def test_the_page_sends_one_message_at_a_time_and_new_case_stops_the_draft(
    held_ui: tuple[str, HeldChat],
) -> None:
    """In the browser: Enter and then Send at once start one draft; while it is written the Send
    button says so and a further message stays in the box; New case stops the draft for good."""
    from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (run `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    url, chat = held_ui
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(url)
            box = page.locator("#ms-message textarea")
            send = page.locator("#ms-send")
            chat_panel = page.locator("#ms-chat")

            box.fill(POST)
            box.press("Shift+Enter")  # a multi-line box submits with Shift+Enter
            # Straight after, the same message again (unless Send is already disabled).
            with contextlib.suppress(sync_api.TimeoutError):
                send.click(timeout=1000)
            assert chat.answering.wait(60)
            expect(send).to_be_disabled()
            expect(send).to_have_text("Writing the draft...")
            box.fill("Make it shorter, please.")
            box.press("Shift+Enter")
            page.wait_for_timeout(1000)
            expect(box).to_have_value("Make it shorter, please.")
            assert len(chat.calls) == 1, "one draft, however the message was sent"

            page.get_by_role("button", name="New case").click()
            expect(chat_panel).not_to_contain_text("hopeless")
            chat.go()
            expect(send).to_be_enabled()
            expect(send).to_have_text("Analyse and draft")
            page.wait_for_timeout(1000)
            expect(chat_panel).not_to_contain_text("hopeless")  # the stopped draft stays gone

            box.fill(OTHER_POST)
            send.click()
            expect(chat_panel).to_contain_text("Sources", timeout=60_000)
            expect(chat_panel).to_contain_text("binge")
            expect(chat_panel).not_to_contain_text("hopeless")
        finally:
            browser.close()


def test_two_api_messages_sent_at_once_from_a_new_client_take_turns(
    held_ui: tuple[str, HeldChat],
) -> None:
    """Both arrive before the client has a session stored: one is drafted, the other refused."""
    url, chat = held_ui
    client = Client(url, verbose=False)
    jobs = [client.submit(text, [], api_name="/chat") for text in (POST, OTHER_POST)]
    assert chat.answering.wait(60)
    time.sleep(1)  # the other message has arrived by now
    chat.go()
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(_text(job.result(timeout=60)[0][-1]))
        except AppError as exc:
            outcomes.append(str(exc))
    assert sorted(o == BUSY_MESSAGE for o in outcomes) == [False, True], outcomes
    assert len(chat.calls) == 1
