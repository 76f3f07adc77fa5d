"""The practitioner UI: the chat event as a client drives it, the banner, launch safety, uploads.

The chat tests call the UI's own ``/chat`` event with ``gradio_client`` against the real app
launched in-process (``tests/ui/conftest.py``); launch-refusal tests need no server at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from assistant.draft import DISCLAIMER
from assistant.pipeline import InputError
from assistant.settings import load_settings
from assistant.workbench import UnsafeLaunchError, Workbench, launch_auth

DEPRESSED_POST = (
    "For two months I have felt empty and hopeless. I can't get out of bed, I stopped seeing "
    "friends and nothing I used to enjoy interests me. I feel worthless and sleep badly."
)
CRISIS_POST = (
    "I can't do this anymore. I feel hopeless and I'm going to kill myself tonight. "
    "I bought a rope yesterday and wrote a goodbye note."
)
# Order of the /chat outputs (the session State is not part of the API).
CHAT, MESSAGE, STATUS, BADGES, SCORES, SUMMARY, EVIDENCE, SOURCES, GROUNDING, EDITOR = range(10)


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _chat(client: Client, text: str, history: list[Any] | None = None, **kw: Any) -> list[Any]:
    """Every streamed output of one chat turn."""
    job = client.submit(text, history or [], api_name="/chat", **kw)
    job.result()
    return list(job.outputs())


# ---- launch safety (no server needed) ----------------------------------------------------------
@pytest.fixture
def no_auth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINDSIGNAL_AUTH", raising=False)
    monkeypatch.delenv("MINDSIGNAL_UI__AUTH", raising=False)


@pytest.mark.usefixtures("no_auth_env")
@pytest.mark.parametrize(
    ("ui", "where"),
    [({"host": "0.0.0.0"}, "host '0.0.0.0'"), ({"share": True}, "a share link")],
    ids=["public-bind", "share-link"],
)
def test_exposed_launch_without_users_is_refused(ui: dict[str, Any], where: str) -> None:
    from assistant.app import build_app
    from ui.app import launch_ui

    settings = load_settings(ui=ui)
    with pytest.raises(UnsafeLaunchError, match="MINDSIGNAL_UI__AUTH"):
        launch_auth(settings)
    mind = build_app(settings)
    with pytest.raises(SystemExit) as info:
        launch_ui(mind)
    assert where in str(info.value) and "without authentication" in str(info.value)
    assert "llm_backend" not in mind.__dict__, "refused before anything was started"


@pytest.mark.usefixtures("no_auth_env")
def test_exposed_launch_with_users_and_local_launch_are_allowed() -> None:
    settings = load_settings(ui={"host": "0.0.0.0", "auth": "ana:s3cret,ben:pw"})
    assert launch_auth(settings) == [("ana", "s3cret"), ("ben", "pw")]
    assert launch_auth(load_settings(ui={"host": "127.0.0.1"})) is None
    assert launch_auth(load_settings(ui={"host": "::1"})) is None


# ---- uploads at the chat boundary ------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"I feel low \xff\xfe and tired", "not valid UTF-8"),
        (b"hello\x00world binary", "NUL"),
        (b"   \n ", "empty"),
        (b"x" * 1_000_001, "limit for one post"),
    ],
    ids=["bad-utf8", "nul", "empty", "too-big"],
)
def test_uploaded_post_file_errors_are_clear(tmp_path: Path, data: bytes, message: str) -> None:
    from assistant.app import build_app

    workbench = Workbench(build_app(load_settings(data_dir=tmp_path)))
    post = tmp_path / "post.txt"
    post.write_bytes(data)
    with pytest.raises(InputError, match=message):
        workbench.read_post_file(post)


def test_uploaded_post_file_with_bom_is_read(tmp_path: Path) -> None:
    from assistant.app import build_app

    workbench = Workbench(build_app(load_settings(data_dir=tmp_path)))
    post = tmp_path / "post.txt"
    post.write_bytes("\ufeffJe me sens épuisée, Привет".encode())
    assert workbench.read_post_file(post) == "Je me sens épuisée, Привет"


# ---- the pasted post as the chat shows it -----------------------------------------------------
MARKUP_POST = (
    "<b>bold</b> I feel **hopeless** ![x](http://tracker.example/p.png) "
    "<img src=http://tracker.example/q.png> [click](https://example.org) &amp; $$x$$\n"
    "# Heading\n> quote\n1. one\n- item\n| a | b |\n|---|---|\nTitle\n=====\n`code` \\ end"
)


def test_pasted_post_is_echoed_literally_without_markup_or_remote_images() -> None:
    """A post holding HTML or Markdown is shown as typed: no tag, heading, link or image."""
    import html
    import re

    from markdown_it import MarkdownIt

    from ui.app import _echo

    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(_echo(MARKUP_POST))
    assert set(re.findall(r"<(\w+)", rendered)) == {"p"}, rendered
    assert "tracker.example" not in re.sub(r"\s", "", "".join(re.findall(r"<[^>]+>", rendered)))
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert shown.split() == MARKUP_POST.split(), "every character is shown as typed"


# ---- the running UI ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(ui_url: str) -> Client:
    return Client(ui_url, verbose=False)


@pytest.mark.integration
def test_page_shows_the_disclaimer_backend_and_auth_status(ui_url: str, ui_mind: Any) -> None:
    config = httpx.get(ui_url + "config", timeout=30).text
    assert "drafts for practitioner review - signals, not a diagnosis" in config
    assert "Not for emergencies" in config
    assert ui_mind.llm_backend.description in config
    assert "Authentication is off: local use only." in config


@pytest.mark.integration
@pytest.mark.slow
def test_chat_streams_a_draft_and_fills_the_analysis_panel(client: Client) -> None:
    outputs = _chat(client, DEPRESSED_POST)
    final = outputs[-1]
    history = final[CHAT]
    assert [m["role"] for m in history] == ["user", "assistant"]
    answer = _text(history[-1])
    assert len(outputs) > 3, "the answer arrived in several streamed updates"
    partials = [_text(out[CHAT][-1]) for out in outputs if out[CHAT]]
    assert any(p and p != answer for p in partials), "intermediate, growing answers"
    assert "**Sources**" in answer and "\\[1\\]" in answer and DISCLAIMER in answer
    # Analysis panel: scores, badges, evidence highlights, numbered sources with citations.
    assert "depression" in [c["label"] for c in final[SCORES]["confidences"]]
    assert "Severity" in final[BADGES] and "Suicide risk" in final[BADGES]
    labelled = [span for span in final[EVIDENCE] if span["class_or_confidence"]]
    assert any("hopeless" in span["token"].lower() for span in labelled)
    assert "".join(span["token"] for span in final[EVIDENCE]).startswith("For two months")
    assert "1. \\[1\\]" in final[SOURCES] and "http" in final[SOURCES]
    assert final[EDITOR].strip(), "the draft is in the review editor"
    assert "" in [out[MESSAGE] for out in outputs], "the input box is cleared"


@pytest.mark.integration
@pytest.mark.slow
def test_follow_up_continues_the_case(client: Client) -> None:
    first = _chat(client, DEPRESSED_POST)[-1]
    follow = _chat(client, "Make it shorter, please.", first[CHAT])[-1]
    history = follow[CHAT]
    assert [m["role"] for m in history] == ["user", "assistant"] * 2
    assert _text(history[-1]).strip()
    # Same case: the analysis of the post is kept for the follow-up.
    assert "depression" in [c["label"] for c in follow[SCORES]["confidences"]]


@pytest.mark.integration
@pytest.mark.slow
def test_a_chat_call_without_history_is_a_new_case(client: Client) -> None:
    """A script that sends one post after another (each with no history) gets each post's own
    analysis, not a follow-up on the session's previous case."""
    _chat(client, DEPRESSED_POST)
    final = _chat(client, "I binge and then make myself throw up after every meal.")[-1]
    assert [m["role"] for m in final[CHAT]] == ["user", "assistant"]
    labels = [c["label"] for c in final[SCORES]["confidences"]]
    assert "eating_disorder" in labels and "depression" not in labels
    assert "binge" in "".join(span["token"] for span in final[EVIDENCE])


@pytest.mark.integration
@pytest.mark.slow
def test_a_follow_up_never_uses_the_case_of_another_conversation_in_the_session(
    ui_url: str,
) -> None:
    """One client running two cases (two conversations, one session): a follow-up sent with the
    first conversation must not be answered from, nor show, the second person's post."""
    client = Client(ui_url, verbose=False)
    first = _chat(client, DEPRESSED_POST)[-1]
    other = "I binge and then make myself throw up after every meal."
    _chat(client, other)  # the other conversation's post: now the session's case
    follow = _chat(client, "Make it shorter, please.", first[CHAT])[-1]
    shown = "".join(span["token"] for span in follow[EVIDENCE] or [])
    assert "binge" not in shown and "binge" not in _text(follow[CHAT][-1])
    labels = [c["label"] for c in (follow[SCORES] or {}).get("confidences", [])]
    assert "eating_disorder" not in labels


@pytest.mark.integration
def test_clearing_the_chat_ends_the_case(ui_mind: Any) -> None:
    """The chat's Clear button resets the case as New case does, so the next short post is a
    new case, not a follow-up on a conversation no longer on screen."""
    from ui.app import build_ui

    demo = build_ui(ui_mind)
    # uploads and downloads do not outlive the configured age (nor a restart)
    age = ui_mind.settings.ui.temp_file_max_age_s
    assert demo.delete_cache == (age, age) and age <= 3600
    chatbot = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "ms-chat")
    on_clear = [f for f in demo.fns.values() if (chatbot._id, "clear") in f.targets]
    handlers = [f for f in on_clear if f.fn is not None]  # the others cancel a running draft
    assert len(handlers) == 1, "the chat's Clear button has a handler"
    session = Workbench(ui_mind).new_session()
    session.start_case(Workbench(ui_mind).analyze(DEPRESSED_POST))
    note = "They also binge and then make themselves sick after meals."
    assert session.is_follow_up(note)
    outputs = handlers[0].fn(session, None)  # no sign-in: no request user
    assert not session.has_case
    assert not session.is_follow_up(note)
    assert outputs[0] == [] and outputs[2] == "" and outputs[9] == "", "chat, status, draft"


@pytest.mark.integration
@pytest.mark.slow
def test_crisis_post_shows_the_crisis_block_first_with_the_sessions_locale(
    ui_url: str,
) -> None:
    client = Client(ui_url, verbose=False)  # a fresh browser session
    final = _chat(client, CRISIS_POST, loc="en-GB")[-1]
    answer = _text(final[CHAT][-1])
    assert answer.startswith("## Safety first")
    assert "URGENT" in answer and "Samaritans" in answer, "the session's en-GB resources"
    assert "Crisis" in final[STATUS] or "URGENT" in final[STATUS]
    assert "URGENT" in final[BADGES]
    # Another session still gets the configured locale: options never leak globally.
    other = Client(ui_url, verbose=False).predict(CRISIS_POST, api_name="/analyze")
    assert "988" in other["recommendation"] and "Samaritans" not in other["recommendation"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("  \n\t  ", "empty"),
        ("hello\x00world, this is a binary file", "NUL"),
        ("a" * 1_000_001, "limit"),
    ],
    ids=["empty", "whitespace", "nul", "one-megabyte"],
)
def test_bad_chat_input_gets_a_clear_message_not_a_traceback(
    client: Client, text: str, message: str
) -> None:
    final = _chat(client, text)[-1]
    answer = _text(final[CHAT][-1])
    assert answer.startswith("⚠️") and message in answer, answer
    assert "Traceback" not in answer
    echoed = _text(final[CHAT][0])
    assert len(echoed) < 5000, "a huge paste is not echoed back whole"


def test_uploads_and_download_copies_go_to_a_private_folder(ui_url: str, ui_mind: Any) -> None:
    """Gradio's default /tmp/gradio is readable by every user of the host; the launched app's
    uploads and download copies go to a folder only its own user may open."""
    import os
    import stat

    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder())
    assert folder.parent == Path(ui_mind.settings.data_dir).resolve() / "ui-files"
    assert folder.name.startswith("run-"), "a folder of this server run's own"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert os.environ["GRADIO_TEMP_DIR"] == str(folder)


SERVE = """
import sys
from assistant.app import build_app
from assistant.settings import load_settings
from tests.assistant.workbenches import FakeBackend
from ui.app import launch_ui

mind = build_app(load_settings(data_dir=sys.argv[1], ui={"port": int(sys.argv[2])}))
mind.__dict__["llm_backend"] = FakeBackend()  # the banner's backend line starts nothing
launch_ui(mind, quiet=True)  # blocks, as `mindsignal run` does
print("server stopped", flush=True)
"""


@pytest.mark.integration
def test_a_sigterm_stops_the_server_and_removes_its_uploads_and_drafts(tmp_path: Path) -> None:
    """A service manager stops the app with SIGTERM: the server shuts down as on Ctrl+C, and
    the run's private folder (uploaded posts, download copies, exports) goes with it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.ui.conftest import PROJECT_ROOT, free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(tmp_path), str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
        post = tmp_path / "post.txt"
        post.write_text("My name is Zebedee Quill and I feel hopeless.", encoding="utf-8")
        with post.open("rb") as fh:
            uploaded = httpx.post(f"{url}/gradio_api/upload", files={"files": fh}, timeout=30)
        upload = Path(uploaded.json()[0])
        run_folder = upload.parent.parent
        assert upload.is_file() and run_folder.parent == tmp_path.resolve() / "ui-files"
        (run_folder / "exports").mkdir(exist_ok=True)
        (run_folder / "exports" / "draft.md").write_text("draft", encoding="utf-8")

        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    assert server.returncode == 0, output
    assert "server stopped" in output, "launch returned: the server was shut down, not killed"
    assert not run_folder.exists(), "uploads and drafts do not outlive the server"
    assert list((tmp_path / "ui-files").iterdir()) == []
