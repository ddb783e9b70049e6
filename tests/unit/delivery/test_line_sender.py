"""LINE's push through an httpx MockTransport: the request and every error-table row."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.line import ERRORS, LineSender
from windowkeeper.policy.model import Channel, ContactState, Content, ContentKind, Decision, Path, ReasonCode

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHANNEL = AccountConfig(tenant_id="acme", channel=Channel.LINE, account_id="2000000001")
USER = ContactState(
    channel=Channel.LINE, account_id="2000000001", contact_id="U4af4980629abc", subscribed=True
)
ALLOWED = Decision(
    allowed=True, path=Path.DIRECT, rule=None, reasons=(), explanation="ok", decided_at=AT, valid_until=None
)
HELLO = Content(kind=ContentKind.TEXT, text="Your order is ready")
CREDENTIALS = {"channel_secret": "s", "channel_access_token": "line-token"}


def sender(status: int, answer: dict[str, Any]) -> tuple[LineSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=answer)

    return LineSender(transport=httpx.MockTransport(handle), sleep=lambda _s: None), seen


def test_a_push_carries_the_bearer_token_and_a_retry_key_and_returns_the_message_id() -> None:
    line, seen = sender(200, {"sentMessages": [{"id": "461230966842064897", "quoteToken": "q"}]})
    result = line.send(CHANNEL, USER, ALLOWED, HELLO, CREDENTIALS)
    assert result.ok and result.platform_message_id == "461230966842064897"
    request = seen[0]
    assert (
        request.url.path == "/v2/bot/message/push" and request.headers["authorization"] == "Bearer line-token"
    )
    assert request.headers["x-line-retry-key"]
    assert json.loads(request.content) == {
        "to": "U4af4980629abc",
        "messages": [{"type": "text", "text": HELLO.text}],
    }


@pytest.mark.parametrize(
    ("status", "message", "reason", "transient", "token_invalid"),
    [
        (429, "You have reached your monthly limit.", ReasonCode.QUOTA_EXHAUSTED, False, False),
        (429, "Too Many Requests", None, True, False),
        (401, "Authentication failed.", None, False, True),
        (403, "Not authorized to use this API.", None, False, False),
        (400, "Failed to send messages", None, False, False),
    ],
)
def test_each_error_row(
    status: int, message: str, reason: ReasonCode | None, transient: bool, token_invalid: bool
) -> None:
    line, seen = sender(status, {"message": message})
    result = line.send(CHANNEL, USER, ALLOWED, HELLO, CREDENTIALS)
    assert not result.ok and result.known_error and result.reason is reason
    assert result.transient is transient and result.effects.token_invalid is token_invalid
    assert len(seen) == (3 if transient else 1)


def test_every_row_names_its_source() -> None:
    assert all(row.source == "O4" for row in ERRORS)
