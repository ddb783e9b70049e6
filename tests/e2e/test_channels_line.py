"""LINE end to end over HTTP: signed webhook events into the local stack, pushes decided by the gate
and delivered through the simulated Messaging API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import http
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

CHANNEL = "2000000001"


def play(stack: LocalStack, contact: str, kind: str, text: str = "", ago_seconds: int = 0) -> None:
    reply = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {
            "channel": "line",
            "account_id": CHANNEL,
            "contact_id": contact,
            "kind": kind,
            "text": text,
            "ago_seconds": ago_seconds,
        },
    )
    assert reply.status == 200 and reply.body["webhook"]["status_code"] == 200, reply.body


def push(stack: LocalStack, token: str, contact: str, text: str = "Your order is ready for pickup") -> Any:
    return http(
        "POST",
        f"{stack.api_url}/v1/messages",
        {
            "channel": "line",
            "account_id": CHANNEL,
            "contact_id": contact,
            "content": {"type": "text", "text": text},
        },
        token=token,
    )


def pushed(stack: LocalStack, contact: str) -> list[dict[str, Any]]:
    calls = http("GET", f"{stack.simulator_url}/_sim/requests?edge=push").body["requests"]
    return [c for c in calls if c["status"] == 200 and c["body"]["to"] == contact]


def test_a_friend_gets_a_push_days_later_because_line_has_no_window(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "Ue2e0000000000000000000000000001"
    play(stack, contact, "follow", ago_seconds=5 * 24 * 3600)
    play(stack, contact, "message", "Do you have size 42?", ago_seconds=4 * 24 * 3600)
    reply = push(stack, bot_token, contact)
    assert reply.body["status"] == "sent" and reply.body["decision"]["path"] == "direct", reply.body
    assert len(pushed(stack, contact)) == 1


def test_a_user_who_blocked_the_account_is_refused_until_they_add_it_again(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "Ue2e0000000000000000000000000002"
    play(stack, contact, "follow", ago_seconds=600)
    play(stack, contact, "unfollow", ago_seconds=300)
    refused = push(stack, bot_token, contact)
    assert refused.status == 409 and "opted_out" in refused.body["decision"]["reasons"], refused.body
    play(stack, contact, "follow", ago_seconds=60)
    assert push(stack, bot_token, contact).body["status"] == "sent"
    assert len(pushed(stack, contact)) == 1


def test_stop_is_honoured(stack: LocalStack, bot_token: str) -> None:
    contact = "Ue2e0000000000000000000000000003"
    play(stack, contact, "follow", ago_seconds=120)
    play(stack, contact, "stop", ago_seconds=60)
    reply = push(stack, bot_token, contact)
    assert reply.body["status"] == "refused" and "opted_out" in reply.body["decision"]["reasons"]
    assert pushed(stack, contact) == []


def test_a_forged_event_is_refused(stack: LocalStack) -> None:
    reply = http(
        "POST",
        f"{stack.webhook_url}/line/{CHANNEL}",
        {"destination": "U1", "events": []},
        headers={"X-Line-Signature": "bm90LXRoZS1zaWduYXR1cmU="},
    )
    assert (reply.status, reply.body["reason"]) == (401, "signature_mismatch")
