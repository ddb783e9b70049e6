"""Viber end to end over HTTP: signed callbacks into the local stack, replies decided by the gate and
delivered through the simulated REST Bot API, and the free monthly quota running out exactly at its
limit under concurrent sends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.helpers import http
from windowkeeper import aws
from windowkeeper.store.quota_records import month_of
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

BOT = "acmeoutdoor"
FREE_QUOTA = 10_000


def play(stack: LocalStack, contact: str, kind: str, text: str = "", ago_seconds: int = 0) -> None:
    reply = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {
            "channel": "viber",
            "account_id": BOT,
            "contact_id": contact,
            "kind": kind,
            "text": text,
            "ago_seconds": ago_seconds,
        },
    )
    assert reply.status == 200 and reply.body["webhook"]["status_code"] == 200, reply.body


def send(stack: LocalStack, token: str, contact: str, text: str = "Your tent is ready for pickup") -> Any:
    return http(
        "POST",
        f"{stack.api_url}/v1/messages",
        {
            "channel": "viber",
            "account_id": BOT,
            "contact_id": contact,
            "content": {"type": "text", "text": text},
        },
        token=token,
    )


def delivered(stack: LocalStack, contact: str) -> list[dict[str, Any]]:
    calls = http("GET", f"{stack.simulator_url}/_sim/requests?edge=send_message").body["requests"]
    return [
        c
        for c in calls
        if c["response"] and c["response"].get("status") == 0 and c["body"]["receiver"] == contact
    ]


def test_a_reply_inside_the_session_goes_free_form_and_after_it_as_bot_initiated(
    stack: LocalStack, bot_token: str
) -> None:
    fresh, silent = "viber-e2e-fresh=", "viber-e2e-silent="
    play(stack, fresh, "message", "Do you ship to Lviv?")
    play(stack, silent, "message", "Thanks!", ago_seconds=3 * 24 * 3600)
    inside = send(stack, bot_token, fresh)
    assert inside.body["status"] == "sent" and inside.body["decision"]["path"] == "free_form", inside.body
    outside = send(stack, bot_token, silent)
    assert outside.body["status"] == "sent" and outside.body["decision"]["path"] == "bot_initiated", (
        outside.body
    )
    assert "free left this month" in outside.body["decision"]["explanation"]
    assert len(delivered(stack, fresh)) == 1 and len(delivered(stack, silent)) == 1


def test_an_unsubscribed_user_is_refused_with_the_reason_and_viber_is_never_called(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "viber-e2e-left="
    play(stack, contact, "message", "Hello", ago_seconds=600)
    play(stack, contact, "unsubscribe", ago_seconds=300)
    reply = send(stack, bot_token, contact)
    assert reply.status == 409 and reply.body["status"] == "refused", reply.body
    assert "opted_out" in reply.body["decision"]["reasons"]
    assert delivered(stack, contact) == []


def test_stop_is_honoured(stack: LocalStack, bot_token: str) -> None:
    contact = "viber-e2e-stop="
    play(stack, contact, "message", "Hi", ago_seconds=60)
    play(stack, contact, "stop")
    reply = send(stack, bot_token, contact)
    assert reply.body["status"] == "refused" and "opted_out" in reply.body["decision"]["reasons"], reply.body
    assert delivered(stack, contact) == []


def test_the_last_free_messages_of_the_month_go_to_exactly_as_many_racing_sends(
    stack: LocalStack, bot_token: str
) -> None:
    contacts = [f"viber-e2e-quota-{n}=" for n in range(8)]
    for contact in contacts:
        play(stack, contact, "message", "Hi", ago_seconds=2 * 24 * 3600)  # outside the 24 h session
    left = 3
    month = month_of(datetime.now(UTC))
    assert stack.resources is not None
    aws.table(stack.resources.table_name).put_item(
        Item={"pk": f"A#viber#{BOT}", "sk": f"QUOTA#bot_initiated#{month}", "used": FREE_QUOTA - left}
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda c: send(stack, bot_token, c, "Spring trails are open"), contacts))
    sent = [a for a in answers if a.body["status"] == "sent"]
    refused = [a for a in answers if a.body["status"] == "refused"]
    assert len(sent) == left, [a.body for a in answers]
    assert len(refused) == len(contacts) - left
    assert all("quota_exhausted" in a.body["decision"]["reasons"] for a in refused)
    assert sum(len(delivered(stack, c)) for c in contacts) == left
    item = aws.table(stack.resources.table_name).get_item(
        Key={"pk": f"A#viber#{BOT}", "sk": f"QUOTA#bot_initiated#{month}"}
    )
    assert str(item["Item"]["used"]) == str(FREE_QUOTA)
