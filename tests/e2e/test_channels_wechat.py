"""WeChat end to end over HTTP: signed XML into the local stack, customer-service messages decided by
the gate and delivered through the simulated Official Account API, which keeps WeChat's own caps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.helpers import http
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

OA = "gh_acme0000001"


def play(stack: LocalStack, contact: str, kind: str, text: str = "", ago_seconds: int = 0) -> None:
    reply = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {
            "channel": "wechat",
            "account_id": OA,
            "contact_id": contact,
            "kind": kind,
            "text": text,
            "ago_seconds": ago_seconds,
        },
    )
    assert reply.status == 200 and reply.body["webhook"]["status_code"] == 200, reply.body
    assert reply.body["webhook"]["response"] == "success"


def send(stack: LocalStack, token: str, contact: str, text: str = "您的订单已发货") -> Any:
    return http(
        "POST",
        f"{stack.api_url}/v1/messages",
        {
            "channel": "wechat",
            "account_id": OA,
            "contact_id": contact,
            "content": {"type": "text", "text": text},
        },
        token=token,
    )


def delivered(stack: LocalStack, contact: str) -> list[dict[str, Any]]:
    calls = http("GET", f"{stack.simulator_url}/_sim/requests?edge=send").body["requests"]
    return [
        c
        for c in calls
        if c["response"] and c["response"].get("errcode") == 0 and c["body"]["touser"] == contact
    ]


def test_eight_racing_replies_after_a_message_deliver_exactly_five(stack: LocalStack, bot_token: str) -> None:
    contact = "oE2E_cap_follower"
    play(stack, contact, "message", "还有货吗?", ago_seconds=3600)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: send(stack, bot_token, contact, f"回复 {n}"), range(8)))
    sent = [a for a in answers if a.body["status"] == "sent"]
    refused = [a for a in answers if a.body["status"] == "refused"]
    # A send that kept losing its claim to the others answers 409 contact_busy: nothing sent.
    busy = [a for a in answers if a.body.get("reason") == "contact_busy"]
    assert len(sent) == 5, [a.body for a in answers]
    assert all("message_cap_reached" in a.body["decision"]["reasons"] for a in refused)
    assert len(refused) + len(busy) == 3
    assert len(delivered(stack, contact)) == 5  # WeChat's own count agrees: it refused none


def test_after_the_48_hours_a_reply_is_refused_before_wechat_is_called(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "oE2E_late_follower"
    play(stack, contact, "message", "hello", ago_seconds=49 * 3600)
    reply = send(stack, bot_token, contact)
    assert reply.status == 409 and "window_closed" in reply.body["decision"]["reasons"], reply.body
    assert delivered(stack, contact) == []


def test_a_follow_allows_a_welcome_in_the_minute_after_it(stack: LocalStack, bot_token: str) -> None:
    contact = "oE2E_new_follower"
    play(stack, contact, "subscribe", ago_seconds=10)
    reply = send(stack, bot_token, contact, "欢迎关注!")
    assert reply.body["status"] == "sent" and reply.body["decision"]["path"] == "free_form", reply.body


def test_unsubscribe_and_stop_are_honoured(stack: LocalStack, bot_token: str) -> None:
    left, stopped = "oE2E_left", "oE2E_stopped"
    play(stack, left, "message", "hi", ago_seconds=120)
    play(stack, left, "unsubscribe", ago_seconds=60)
    play(stack, stopped, "message", "hi", ago_seconds=120)
    play(stack, stopped, "stop", ago_seconds=60)
    for contact in (left, stopped):
        reply = send(stack, bot_token, contact)
        assert reply.body["status"] == "refused" and "opted_out" in reply.body["decision"]["reasons"], (
            reply.body
        )
        assert delivered(stack, contact) == []


def test_the_url_handshake_and_a_forged_signature(stack: LocalStack) -> None:
    forged = http("GET", f"{stack.webhook_url}/wechat/{OA}?signature=abc&timestamp=1&nonce=2&echostr=hello")
    assert forged.status == 401
