"""The UI's service layer: per-session options, chat turns, friendly failures, launch safety.

The app's pipeline is the real :class:`CarePipeline` with the rules classifier, the real gate and
crisis resources, a fixed retriever and a scripted chat model.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from assistant.safety import SafetyGate
from assistant.session import BUSY_MESSAGE
from assistant.settings import load_settings
from assistant.workbench import (
    ChatUpdate,
    SessionOptions,
    auth_status_line,
    private_run_folder,
    remove_stale_run_folders,
)
from tests.assistant.workbenches import PROJECT_ROOT, HeldChat
from tests.assistant.workbenches import fake_workbench as _workbench
from tests.fakes import FakeChat

SECRET_POST = "My name is Zebedee Quill. I'm going to kill myself tonight, I bought a rope."
REPLY = "- Write down what you do each hour and rate your mood from 0 to 10 [1]."


def test_invalid_option_values_fall_back_to_the_configured_ones(tmp_path: Path) -> None:
    wb = _workbench(tmp_path, FakeChat(REPLY))
    assert wb.options("abc", "xx-XX", "shout") == wb.default_options()
    assert wb.options(99, "en-GB", "remove") == SessionOptions(20, "en-GB", "remove")
    assert wb.options(0).top_k == 1


def test_session_options_change_that_session_only(tmp_path: Path) -> None:
    wb = _workbench(tmp_path, FakeChat(REPLY))
    base = wb.pipeline_for(None)
    uk = wb.pipeline_for(wb.options(2, "en-GB", "remove"))
    assert uk is wb.pipeline_for(wb.options(2, "en-GB", "remove")), "variants are cached"
    assert uk is not base and uk.config.top_k == 2 and uk.grounding.mode == "remove"
    assert base.config.top_k == 4 and base.grounding.mode == "flag"
    uk_draft = uk.analyze(SECRET_POST)
    us_draft = base.analyze(SECRET_POST)
    assert "Samaritans" in uk_draft.recommendation and "988" not in uk_draft.recommendation
    assert "988" in us_draft.recommendation
    assert len(uk_draft.passages) == 2 and len(us_draft.passages) == 4


def test_a_session_with_another_locale_keeps_the_language_check(tmp_path: Path) -> None:
    """The gate of a per-session variant must still say it cannot read a Spanish text."""
    from assistant.language import LangidLanguageDetector

    wb = _workbench(tmp_path, FakeChat(REPLY))
    base = wb.pipeline_for(None)
    base.gate = SafetyGate(base.gate.resources, language=LangidLanguageDetector())
    uk = wb.pipeline_for(wb.options(4, "en-GB", "flag"))
    draft = uk.analyze("No quiero vivir más. Tengo las pastillas preparadas para esta noche.")
    assert draft.gate.language == "es"
    assert "Samaritans" in draft.recommendation


def test_chat_streams_then_finishes_and_follow_up_keeps_the_case(tmp_path: Path) -> None:
    wb = _workbench(tmp_path, FakeChat(REPLY))
    session = wb.new_session()
    updates = list(wb.chat(session, "I feel hopeless and empty; I stopped seeing friends."))
    kinds = [u.kind for u in updates]
    assert kinds[:2] == ["started", "analysis"] and kinds[-1] == "final" and "token" in kinds
    tokens = [u.text for u in updates if u.kind == "token"]
    assert tokens == sorted(tokens, key=len), "token updates carry the growing text"
    case_id = updates[-1].draft.case_id if updates[-1].draft else None
    follow = list(wb.chat(session, "Make it shorter, please."))
    assert follow[-1].kind == "final" and follow[-1].draft is not None
    assert follow[-1].draft.case_id == case_id


def test_unexpected_failure_gives_a_reference_and_logs_no_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wb = _workbench(tmp_path, FakeChat(REPLY))

    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"failed on {SECRET_POST}")

    wb.mind.pipeline.gate.decide = explode  # type: ignore[method-assign]
    session = wb.new_session()
    with caplog.at_level(logging.DEBUG):
        updates = list(wb.chat(session, SECRET_POST))
    assert [u.kind for u in updates] == ["started", "error"]
    assert "reference" in updates[1].message and "Traceback" not in updates[1].message
    assert "Zebedee" not in caplog.text and "rope" not in caplog.text
    assert "RuntimeError" in caplog.text
    assert not session.busy, "a failed turn frees the session for the next message"


def test_bad_input_is_an_error_update(tmp_path: Path) -> None:
    wb = _workbench(tmp_path, FakeChat(REPLY))
    for text in ("", " \n", "a\x00b is binary", "x" * 5001, None):
        updates = list(wb.chat(wb.new_session(), text))
        assert [u.kind for u in updates] == ["started", "error"], text
        assert updates[1].message.startswith("⚠️")


def test_export_writes_reviewed_files_privately(tmp_path: Path) -> None:
    wb = _workbench(tmp_path, FakeChat(REPLY))
    draft = wb.mind.pipeline.recommend(SECRET_POST)
    final, files = wb.export(draft, "My edit.", True, "ok")
    assert final.reviewed and final.recommendation.startswith("## Safety first")
    assert files.pdf.is_file() and files.pdf.parent.stat().st_mode & 0o077 == 0


def test_auth_status_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINDSIGNAL_AUTH", raising=False)
    assert auth_status_line(load_settings()) == "Authentication is off: local use only."
    assert "on (1 user" in auth_status_line(load_settings(ui={"auth": "ana:pw"}))


def test_degraded_crisis_answer_keeps_the_crisis_block_first(tmp_path: Path) -> None:
    from assistant.views import answer_markdown, status_markdown

    # A reply the evidence cannot support: the pipeline falls back to passage excerpts.
    wb = _workbench(tmp_path, FakeChat("Nothing useful here at all, really, none."))
    draft = wb.mind.pipeline.recommend(SECRET_POST)
    assert draft.degraded and draft.gate.crisis
    answer = answer_markdown(draft)
    assert answer.startswith("## Safety first")
    assert answer.index("Degraded mode") > answer.index("Safety plan outline")
    assert status_markdown(draft).index("URGENT") < status_markdown(draft).index("Degraded")


def test_batch_messages_name_the_upload_and_give_advice_the_batch_tab_can_follow(
    tmp_path: Path,
) -> None:
    """The Batch tab has no --text-col or --encoding: its messages say what to do there, and
    name the uploaded file rather than the server's temporary copy."""
    from assistant.batch import BatchInputError

    wb = _workbench(tmp_path, FakeChat(REPLY))
    upload = tmp_path / "gradio" / "0f3a9c" / "clinic export.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text("id,body\n1,I feel low\n", encoding="utf-8")
    with pytest.raises(BatchInputError) as info:
        wb.run_batch(upload, "text")
    message = str(info.value)
    assert message.startswith("clinic export.csv has no column 'text' (columns: id, body)")
    assert "choose it under 'Text column'" in message
    assert str(upload.parent) not in message and "--" not in message

    upload.write_bytes(b"id,text\n1,tr\xe8s triste and I feel low\n2,I feel anxious all the time\n")
    rows = wb.run_batch(upload, "text").rows
    assert rows[0].error == (
        "row at line 2 contains bytes that are not valid utf-8; save it as UTF-8 "
        "(in Excel: Save As 'CSV UTF-8') and upload it again"
    )
    assert rows[1].error is None and rows[1].labels


def test_export_and_batch_files_do_not_outlive_their_age_or_the_server(tmp_path: Path) -> None:
    """The originals behind the downloads hold a person's case: they go once older than the
    temporary-file age (as Gradio's copies do), and all of them when the workbench closes."""
    import os

    wb = _workbench(tmp_path, FakeChat(REPLY))
    wb._export_root = None  # the server's default: a private temporary folder
    draft = wb.mind.pipeline.recommend(SECRET_POST)
    _, old = wb.export(draft, "", False)
    hour_ago = old.json.parent.stat().st_mtime - wb.settings.ui.temp_file_max_age_s - 60
    os.utime(old.json.parent, (hour_ago, hour_ago))
    _, new = wb.export(draft, "", True)
    assert not old.json.parent.exists(), "an export older than the age is removed"
    assert new.json.is_file()
    root = new.json.parent.parent
    assert root.stat().st_mode & 0o077 == 0, "the folder of all exports is private"
    wb.close()
    assert not root.exists(), "nothing is left behind when the server stops"


def test_a_follow_up_is_answered_only_from_the_case_its_conversation_shows(
    tmp_path: Path,
) -> None:
    """Two conversations in one session (an API client running two cases at once): the session's
    case is the one that finished last, and the other conversation must not follow up on it."""
    from assistant.views import answer_markdown

    wb = _workbench(tmp_path, FakeChat(REPLY))
    session = wb.new_session()
    first = list(wb.chat(session, "I feel hopeless and empty; I stopped seeing friends."))[-1]
    assert first.draft is not None
    chat_a: list[dict[str, Any]] = [
        {"role": "user", "content": "I feel hopeless and empty; I stopped seeing friends."},
        {"role": "assistant", "content": [{"type": "text", "text": answer_markdown(first.draft)}]},
    ]
    assert wb.continues_case(session, chat_a), "its own conversation continues the case"
    # The other conversation's post (its chat is empty, so, as the UI does, a new case).
    assert not wb.continues_case(session, [])
    session.reset()
    second = list(wb.chat(session, SECRET_POST))[-1]
    assert second.draft is not None and second.draft.case_id != first.draft.case_id
    assert not wb.continues_case(session, chat_a), "conversation A no longer shows this case"
    assert not wb.continues_case(session, None)
    chat_b = [{"role": "assistant", "content": answer_markdown(second.draft)}]
    assert wb.continues_case(session, chat_b)


def test_a_session_is_only_used_by_the_user_it_belongs_to(tmp_path: Path) -> None:
    """Gradio keys session state by a random session id, not by the signed-in user: a request
    by bob that arrives with alice's session (a leaked id) gets a session of his own."""
    wb = _workbench(tmp_path, FakeChat(REPLY))
    alice = wb.session_for(None, "alice")
    assert alice.owner == "alice" and wb.session_for(alice, "alice") is alice
    alice.start_case(wb.analyze("I haven't enjoyed anything in months and I sleep all day."))
    bobs = wb.session_for(alice, "bob")
    assert bobs is not alice and bobs.owner == "bob" and not bobs.has_case
    # without sign-in every request is nobody's, as before
    anyone = wb.session_for(None, None)
    assert wb.session_for(anyone, None) is anyone


# ---- one chat turn at a time per session -------------------------------------------------------
POST = "I feel hopeless and empty; I stopped seeing friends."


def _in_thread(updates: Iterator[ChatUpdate]) -> tuple[threading.Thread, list[ChatUpdate]]:
    """Run a chat turn on another thread (as Gradio's workers do); its updates fill the list."""
    seen: list[ChatUpdate] = []
    thread = threading.Thread(target=lambda: seen.extend(updates), daemon=True)
    thread.start()
    return thread, seen


def test_a_message_sent_while_the_case_is_drafted_is_refused_and_the_case_kept(
    tmp_path: Path,
) -> None:
    """Two messages of one session at once (an API client, or Enter and then Send): the second
    is answered at once that it has to wait; it neither runs beside the draft nor resets the
    case, and the draft finishes as if it had been alone."""
    chat = HeldChat(REPLY)
    wb = _workbench(tmp_path, chat)
    session = wb.new_session()
    thread, first = _in_thread(wb.chat(session, POST, conversation=[]))
    assert chat.answering.wait(30), "the first draft is being written"
    try:
        # From another conversation (empty chat: would start a new case) and as a follow-up.
        for conversation in ([], None):
            t0 = time.perf_counter()
            second = list(wb.chat(session, "Make it shorter, please.", conversation=conversation))
            assert time.perf_counter() - t0 < 5, "refused at once, not after the draft"
            assert [(u.kind, u.message) for u in second] == [("busy", BUSY_MESSAGE)]
            assert session.busy and not session.has_case and session.history == []
    finally:
        chat.go()
        thread.join(30)
    assert [u.kind for u in first][:2] == ["started", "analysis"] and first[-1].kind == "final"
    case = first[-1].draft
    assert case is not None and session.draft == case and session.history == []
    assert len(chat.calls) == 1, "the LLM was asked once"
    assert not session.busy

    # Once the draft is finished the follow-up is taken, on the same case.
    follow = list(wb.chat(session, "Make it shorter, please."))
    assert follow[-1].kind == "final" and follow[-1].draft is not None
    assert follow[-1].draft.case_id == case.case_id and len(session.history) == 2


def test_a_turn_closed_mid_stream_frees_the_session(tmp_path: Path) -> None:
    """A client that disconnects mid-draft: Gradio closes the stream, from another thread than
    the one that ran it; the session is free at once and holds no half-written case."""
    wb = _workbench(tmp_path, FakeChat(REPLY))
    session = wb.new_session()
    updates = wb.chat(session, POST)
    runner = ThreadPoolExecutor(1)
    kinds = []
    while not kinds or kinds[-1] != "token":
        kinds.append(runner.submit(next, updates).result(10).kind)
    runner.shutdown()
    assert session.busy
    closer = threading.Thread(target=updates.close)
    closer.start()
    closer.join(10)
    assert not session.busy, "closing the stream released the session"
    assert not session.has_case, "the abandoned draft was not saved as the case"
    again = list(wb.chat(session, POST))
    assert again[-1].kind == "final" and session.has_case


def test_a_new_case_during_a_draft_gets_a_fresh_session(tmp_path: Path) -> None:
    """New case while a draft is still finishing: resetting would be undone when the draft saves
    its case, so the page goes on with a fresh session; idle, the session is emptied in place."""
    chat = HeldChat(REPLY)
    wb = _workbench(tmp_path, chat)
    session = wb.session_for(None, "alice")
    thread, first = _in_thread(wb.chat(session, POST))
    assert chat.answering.wait(30)
    try:
        fresh = wb.end_case(session, "alice")
        assert fresh is not session and fresh.owner == "alice" and not fresh.busy
    finally:
        chat.go()
        thread.join(30)
    assert first[-1].kind == "final" and session.has_case, "the draft ended on the old session"
    assert not fresh.has_case, "the new case starts empty"
    assert wb.end_case(session, "alice") is session and not session.has_case
    assert wb.end_case(session, "bob") is not session and session.owner == "alice"


# ---- the UI's private files of a server run ------------------------------------------------------
HOLD_RUN_FOLDER = """
import sys
from assistant.settings import load_settings
from assistant.workbench import private_run_folder
print(private_run_folder(load_settings(data_dir=sys.argv[1])), flush=True)
sys.stdin.read()  # serve until told to stop
"""


def _run_holding_a_folder(data_dir: Path) -> tuple[subprocess.Popen[str], Path]:
    """A separate process that made its run folder (the project's own function) and lives on."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_RUN_FOLDER, str(data_dir)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_files_of_a_run_that_was_killed_go_when_the_next_run_starts(tmp_path: Path) -> None:
    """A server killed outright (SIGKILL, a crash) cannot clean up: the uploads and drafts in its
    folder are removed by the next run on the same data dir, and a running server's are not."""
    killed, killed_folder = _run_holding_a_folder(tmp_path)
    running, running_folder = _run_holding_a_folder(tmp_path)
    try:
        assert killed_folder.parent == running_folder.parent == tmp_path.resolve() / "ui-files"
        assert killed_folder != running_folder and killed_folder.stat().st_mode & 0o077 == 0
        (killed_folder / "post.txt").write_text(SECRET_POST, encoding="utf-8")
        assert remove_stale_run_folders(killed_folder.parent, grace_s=0) == []

        killed.kill()
        killed.wait(10)
        assert (killed_folder / "post.txt").is_file(), "nothing ran at the kill"
        settings = load_settings(data_dir=tmp_path)
        new_folder = private_run_folder(settings)  # the next run starts
        assert not killed_folder.exists()
        assert running_folder.is_dir(), "a running server's folder is left alone"
        assert sorted(new_folder.parent.iterdir()) == sorted([running_folder, new_folder])
    finally:
        for proc in (killed, running):
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert remove_stale_run_folders(tmp_path.resolve() / "ui-files", grace_s=0) == [running_folder]


def test_a_run_removes_its_folder_when_it_exits(tmp_path: Path) -> None:
    proc, folder = _run_holding_a_folder(tmp_path)
    assert folder.is_dir()
    proc.communicate("", timeout=30)  # stdin closed: the process ends normally
    assert proc.returncode == 0 and not folder.exists()


def test_messages_sent_together_from_a_new_page_share_one_session(tmp_path: Path) -> None:
    """Before a page's session is stored each message would make one of its own, and the two
    drafts would run side by side: requests of one client get the same new session."""
    wb = _workbench(tmp_path, FakeChat(REPLY))
    first = wb.session_for(None, "alice", client="page-1")
    assert wb.session_for(None, "alice", client="page-1") is first
    assert wb.session_for(None, "alice", client="page-2") is not first
    assert wb.session_for(None, "bob", client="page-1") is not first, "a leaked id is no use"
    with first.turn():
        second = wb.session_for(None, "alice", client="page-1")
        assert [u.kind for u in wb.chat(second, POST)] == ["busy"]
