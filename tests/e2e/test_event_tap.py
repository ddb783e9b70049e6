"""The local event tap over HTTP: what the stack puts on its bus, seen at GET /_local/events and
printed by ``windowkeeper events`` (a rule on moto's bus -> an SQS queue -> the tap)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.helpers import http
from tests.support.event_schemas import schema_problems
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

MESSENGER_PAGE = "1111"


def events_for(
    stack: LocalStack, contact: str, token: str | None = None, wait_for: str | None = None
) -> list[dict[str, Any]]:
    """The tap's events about ``contact``; waits (up to 10 s) until one of ``wait_for`` is there."""
    deadline = time.monotonic() + 10
    while True:
        mine = [e for e in all_events(stack, token) if e["detail"].get("contact_id") == contact]
        if wait_for is None or any(e["detail_type"] == wait_for for e in mine) or time.monotonic() > deadline:
            return mine
        time.sleep(0.25)


def latest_cursor(stack: LocalStack) -> int:
    """The cursor after every event the tap holds now."""
    cursor = 0
    while True:
        body = http("GET", f"{stack.events_url}?after={cursor}").body
        cursor = body["cursor"]
        if not body["more"]:
            return int(cursor)


def all_events(stack: LocalStack, token: str | None) -> list[dict[str, Any]]:
    """Every event the tap keeps, page after page (a page holds at most 200)."""
    found: list[dict[str, Any]] = []
    cursor = 0
    while True:
        reply = http("GET", f"{stack.events_url}?after={cursor}", token=token)
        assert reply.status == 200, reply.body
        found += reply.body["events"]
        cursor = reply.body["cursor"]
        if not reply.body["more"]:
            return found


def test_a_window_closing_soon_reaches_the_tap_and_the_events_command(
    stack: LocalStack, agent_token: str, other_tenant_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from windowkeeper_tools.cli import main

    assert stack.simulator is not None
    contact = "psid-e2e-tap"
    # The customer wrote 23 h 30 min ago: the window closes in 30 minutes, inside the hour's lead.
    at = datetime.now(UTC) - timedelta(hours=23, minutes=30)
    delivery = stack.simulator.simulator.customer_writes(
        Channel.MESSENGER, MESSENGER_PAGE, contact, "still there?", at
    )
    assert delivery.status_code == 200
    stack.invoke_scheduler({"kind": "sweep"})  # what the loop does every minute

    events = events_for(stack, contact, token=agent_token, wait_for="window.closing_soon")
    kinds = [e["detail_type"] for e in events]
    assert "customer.action" in kinds and "window.closing_soon" in kinds, kinds
    closing = next(e for e in events if e["detail_type"] == "window.closing_soon")
    assert closing["tenant_id"] == "acme"
    assert "closes at" in closing["detail"]["message"]
    for event in events:
        assert schema_problems(event["detail_type"], event["detail"]) == []
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)

    # Another tenant's token sees none of acme's events.
    assert events_for(stack, contact, token=other_tenant_token) == []
    # After the last cursor there is nothing new about this contact.
    later = http("GET", f"{stack.events_url}?after={cursors[-1]}", token=agent_token)
    assert [e for e in later.body["events"] if e["detail"].get("contact_id") == contact] == []

    capsys.readouterr()
    code = main(
        ["events", "--events-url", stack.events_url, "--type", "window.closing_soon", "--tenant", "acme"]
    )
    assert code == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if contact in line]
    assert len(lines) == 1
    assert "!window.closing_soon" in lines[0] and "closes at" in lines[0]

    code = main(["events", "--events-url", stack.events_url, "--json", "--type", "customer.action"])
    assert code == 0
    parsed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(p["detail"]["contact_id"] == contact and p["detail"]["text"] == "still there?" for p in parsed)


def test_follow_prints_an_event_that_comes_after_it_started(stack: LocalStack, bot_token: str) -> None:
    import subprocess
    import sys

    contact = "psid-e2e-follow"
    start = latest_cursor(stack)  # only what comes after now: other tests' refusals are older
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "windowkeeper_tools.cli",
            "events",
            "--follow",
            "--interval",
            "0.2",
            "--events-url",
            stack.events_url,
            "--after",
            str(start),
            "--type",
            "message.refused",
            "--limit",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stack.simulator is not None
        at = datetime.now(UTC) - timedelta(days=2)
        stack.simulator.simulator.customer_writes(Channel.MESSENGER, MESSENGER_PAGE, contact, "hello?", at)
        refused = http(
            "POST",
            f"{stack.api_url}/v1/messages",
            {
                "channel": "messenger",
                "account_id": MESSENGER_PAGE,
                "contact_id": contact,
                "content": {"type": "text", "text": "Any news?"},
            },
            token=bot_token,
        )
        assert refused.status == 409
        out, _ = follower.communicate(timeout=20)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0
    assert "!message.refused" in out and contact in out and "reasons=" in out


def test_the_tap_answers_bad_cursors_with_400_and_bad_tokens_with_401(stack: LocalStack) -> None:
    bad = http("GET", f"{stack.events_url}?after=soon")
    assert bad.status == 400 and bad.body["reason"] == "invalid_cursor"
    assert http("GET", f"{stack.events_url}?limit=0").status == 400
    assert http("GET", stack.events_url, token="not-a-jwt").status == 401
    assert http("POST", stack.events_url, {}).status == 405
