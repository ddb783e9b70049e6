"""Telegram end to end over HTTP: the simulator plays a user's signed updates into the local stack,
the bot's replies are decided by the gate and delivered through the simulated Bot API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import http
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

BOT = "acme_support_bot"


def play(stack: LocalStack, contact: str, kind: str, text: str = "", ago_seconds: int = 0) -> dict[str, Any]:
    """One update from the user, ``ago_seconds`` before the simulator's now (Telegram stamps seconds)."""
    reply = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {
            "channel": "telegram",
            "account_id": BOT,
            "contact_id": contact,
            "kind": kind,
            "text": text,
            "ago_seconds": ago_seconds,
        },
    )
    assert reply.status == 200, reply.body
    assert reply.body["webhook"]["status_code"] == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def send(stack: LocalStack, token: str, contact: str, text: str) -> Any:
    return http(
        "POST",
        f"{stack.api_url}/v1/messages",
        {
            "channel": "telegram",
            "account_id": BOT,
            "contact_id": contact,
            "content": {"type": "text", "text": text},
        },
        token=token,
    )


def delivered(stack: LocalStack, contact: str) -> list[dict[str, Any]]:
    reply = http("GET", f"{stack.simulator_url}/_sim/requests?edge=sendMessage")
    return [
        r for r in reply.body["requests"] if r["status"] == 200 and str(r["body"].get("chat_id")) == contact
    ]


def test_a_user_who_started_the_bot_gets_its_reply_through_the_bot_api(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "7100001"
    play(stack, contact, "start")
    check = http(
        "POST",
        f"{stack.api_url}/v1/messages/check",
        {
            "channel": "telegram",
            "account_id": BOT,
            "contact_id": contact,
            "content": {"type": "text", "text": "Hi!"},
        },
        token=bot_token,
    )
    assert check.status == 200 and check.body["decision"]["path"] == "direct", check.body
    sent = send(stack, bot_token, contact, "Welcome to Acme support!")
    assert sent.status == 200 and sent.body["status"] == "sent", sent.body
    [call] = delivered(stack, contact)
    assert call["body"]["text"] == "Welcome to Acme support!"
    contact_view = http("GET", f"{stack.api_url}/v1/contacts/telegram/{BOT}/{contact}", token=bot_token)
    assert contact_view.status == 200 and contact_view.body["contact"]["display_name"], contact_view.body


def test_a_user_who_never_wrote_is_unknown_and_nothing_reaches_telegram(
    stack: LocalStack, bot_token: str
) -> None:
    reply = send(stack, bot_token, "7100002", "Hello?")
    assert (reply.status, reply.body["reason"]) == (404, "unknown_contact"), reply.body
    assert delivered(stack, "7100002") == []


def test_stop_is_honoured_and_the_refusal_says_why(stack: LocalStack, bot_token: str) -> None:
    contact = "7100003"
    play(stack, contact, "message", "Where is my order?", ago_seconds=60)
    play(stack, contact, "stop")
    reply = send(stack, bot_token, contact, "Your order ships today")
    assert reply.body["status"] == "refused", reply.body
    assert "opted_out" in reply.body["decision"]["reasons"]
    assert "opted out" in reply.body["decision"]["explanation"]
    assert delivered(stack, contact) == []


def test_a_user_who_blocked_the_bot_is_not_written_to_until_they_unblock_it(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "7100004"
    play(stack, contact, "start", ago_seconds=300)
    play(stack, contact, "block", ago_seconds=200)
    refused = send(stack, bot_token, contact, "Are you still there?")
    assert refused.body["status"] == "refused", refused.body
    play(stack, contact, "unblock", ago_seconds=100)
    sent = send(stack, bot_token, contact, "Welcome back")
    assert sent.body["status"] == "sent", sent.body
    assert len(delivered(stack, contact)) == 1


def test_an_update_without_the_secret_token_is_refused(stack: LocalStack) -> None:
    reply = http(
        "POST",
        f"{stack.webhook_url}/telegram/{BOT}",
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}, "date": 1}},
        headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
    )
    assert (reply.status, reply.body["reason"]) == (401, "signature_mismatch")
