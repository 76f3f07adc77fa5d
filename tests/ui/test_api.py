"""The named API endpoints, called the way an outside script calls them: ``gradio_client``.

The UI is the real app launched in-process (``tests/ui/conftest.py``): rules classifier, real
Chroma store with real knowledge-base passages, real embeddings, the embedded llama.cpp server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEPRESSED_POST = (
    "For two months I have felt empty and hopeless. I can't get out of bed, I stopped seeing "
    "friends and nothing I used to enjoy interests me. I feel worthless and sleep badly."
)
CRISIS_POST = (
    "I can't do this anymore. I feel hopeless and I'm going to kill myself tonight. "
    "I bought a rope yesterday and wrote a goodbye note."
)


@pytest.fixture(scope="module")
def client(ui_url: str) -> Client:
    return Client(ui_url, verbose=False)


def _check_passages(draft: dict[str, Any]) -> None:
    assert draft["passages"], "retrieval found evidence passages"
    for passage in draft["passages"]:
        assert passage["title"] and passage["citation"], passage
        assert "http" in passage["citation"] or passage["metadata"], passage


def test_named_endpoints_are_listed(client: Client) -> None:
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/analyze", "/recommend", "/batch", "/chat"} <= set(endpoints)


def test_analyze_returns_the_analysis_without_an_llm_draft(client: Client) -> None:
    draft = client.predict(DEPRESSED_POST, api_name="/analyze")
    assert "depression" in [lab["label"] for lab in draft["classification"]["labels"]]
    assert draft["classification"]["severity"]["level"] in ("mild", "moderate", "severe")
    assert draft["gate"]["crisis"] is False
    assert draft["recommendation"] == "" and draft["llm_model"] is None
    evidence = [ev for lab in draft["classification"]["labels"] for ev in lab["evidence"]]
    assert any("hopeless" in ev["text"].lower() for ev in evidence)
    _check_passages(draft)


def test_analyze_of_a_crisis_post_opens_the_gate_with_resources(client: Client) -> None:
    draft = client.predict(CRISIS_POST, api_name="/analyze")
    gate = draft["gate"]
    assert gate["crisis"] is True and gate["urgent"] is True
    assert gate["level"] in ("behavior", "attempt")
    assert draft["recommendation"].startswith("## Safety first")
    assert "988" in draft["recommendation"], "the configured en-US resources are shown"
    assert any("988" in r["contact"] for r in gate["resources"])


def test_recommend_returns_a_grounded_draft_with_citations(client: Client) -> None:
    draft = client.predict(DEPRESSED_POST, api_name="/recommend")
    assert draft["versions"].get("llm"), "the LLM was asked for a draft"
    assert draft["recommendation"].strip()
    if draft["degraded"]:
        # The tiny test model may write nothing the evidence supports: the pipeline then says
        # so and drafts from the passages; either way the practitioner gets a cited draft.
        assert "not grounded" in draft["degraded_reason"] or "LLM" in draft["degraded_reason"]
    else:
        assert draft["llm_model"]
    assert any(s["supported"] and s["citations"] for s in draft["sentences"])
    k = len(draft["passages"])
    assert k >= 1
    for sentence in draft["sentences"]:
        assert all(1 <= n <= k for n in sentence["citations"]), sentence
    _check_passages(draft)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("hello\x00world, this is a binary file", "NUL"),
        ("a" * 1_000_001, "limit"),
    ],
    ids=["empty", "whitespace", "nul", "one-megabyte"],
)
def test_bad_input_gets_a_clear_message(client: Client, text: str, message: str) -> None:
    with pytest.raises(AppError) as info:
        client.predict(text, api_name="/analyze")
    shown = str(info.value)
    assert message in shown, shown
    assert "Traceback" not in shown and 'File "' not in shown


def test_batch_returns_results_file_and_summary_with_bad_rows(
    client: Client, tmp_path: Path
) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_bytes(
        b"id,text\n"
        + f'p1,"{DEPRESSED_POST}"\n'.encode()
        + f'p2,"{CRISIS_POST}"\n'.encode()
        + b"p3,\n"  # empty text
        + b"p4,not,three,fields\n"  # malformed row
        + b"p5,caf\xe9 latin-1 bytes\n"  # not UTF-8
        + b"p6,I worry all the time and panic in crowds; my heart races and I feel anxious.\n"
    )
    results_path, summary = client.predict(handle_file(str(posts)), "text", api_name="/batch")
    rows = [json.loads(line) for line in Path(results_path).read_text("utf-8").splitlines()]
    by_id = {str(row["id"]): row for row in rows}
    assert list(by_id) == ["p1", "p2", "p3", "p4", "p5", "p6"], "one row per post, in order"
    assert "depression" in [lab["label"] for lab in by_id["p1"]["labels"]]
    assert by_id["p2"]["safety"]["crisis"] is True
    assert "empty" in by_id["p3"]["error"]
    assert "malformed" in by_id["p4"]["error"]
    assert "UTF-8" in by_id["p5"]["error"] or "utf-8" in by_id["p5"]["error"]
    assert "anxiety" in [lab["label"] for lab in by_id["p6"]["labels"]]
    assert summary["total"] == 6 and summary["analysed"] == 3 and summary["errors"] == 3
    assert summary["crisis"] == 1
    assert summary["conditions"]["depression"] >= 1 and summary["conditions"]["anxiety"] >= 1
    assert sum(summary["severity"].values()) == 3 and sum(summary["risk"].values()) == 3


def test_batch_with_a_missing_column_says_which_columns_exist(
    client: Client, tmp_path: Path
) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_text("id,body\n1,hello there\n", encoding="utf-8")
    with pytest.raises(AppError, match=r"no column 'text'.*body"):
        client.predict(handle_file(str(posts)), "text", api_name="/batch")


def test_batch_errors_quoting_the_file_stay_out_of_the_server_log(
    client: Client, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A header-less CSV's first post is read as its column names: the caller sees them, the
    server's log (stderr) does not."""
    posts = tmp_path / "posts.csv"
    posts.write_text("I will end it tonight, nobody will notice\nfine today\n", encoding="utf-8")
    capfd.readouterr()
    with pytest.raises(AppError, match="no column 'text'"):
        client.predict(handle_file(str(posts)), "text", api_name="/batch")
    logged = capfd.readouterr()
    assert "end it tonight" not in logged.err + logged.out
