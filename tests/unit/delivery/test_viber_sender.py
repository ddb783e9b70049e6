"""Viber's send_message through an httpx MockTransport: the request, and every error-table row."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.viber import ERRORS, ViberSender
from windowkeeper.policy.model import Channel, ContactState, Content, ContentKind, Decision, Path

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BOT = AccountConfig(
    tenant_id="acme", channel=Channel.VIBER, account_id="acmeoutdoor", display_name="Acme Outdoor (Viber bot)"
)
USER = ContactState(
    channel=Channel.VIBER, account_id=BOT.account_id, contact_id="01234567890A=", subscribed=True
)
ALLOWED = Decision(
    allowed=True,
    path=Path.BOT_INITIATED,
    rule=None,
    reasons=(),
    explanation="ok",
    decided_at=AT,
    valid_until=None,
)
HELLO = Content(kind=ContentKind.TEXT, text="Your tent is ready for pickup")


def sender(answer: dict[str, Any]) -> tuple[ViberSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)  # Viber answers 200 whatever happened

    return ViberSender(transport=httpx.MockTransport(handle), sleep=lambda _s: None), seen


def test_the_message_goes_with_the_auth_token_in_its_header_and_a_sender_name_viber_accepts() -> None:
    viber, seen = sender({"status": 0, "status_message": "ok", "message_token": 5491891239876543210})
    result = viber.send(BOT, USER, ALLOWED, HELLO, {"auth_token": "tok-1"})
    assert result.ok and result.platform_message_id == "5491891239876543210"
    assert seen[0].url.path == "/pa/send_message" and seen[0].headers["x-viber-auth-token"] == "tok-1"
    body = json.loads(seen[0].content)
    assert body["receiver"] == "01234567890A=" and body["type"] == "text" and body["text"] == HELLO.text
    assert len(body["sender"]["name"]) <= 28


@pytest.mark.parametrize("row", ERRORS, ids=lambda row: str(row.code))
def test_each_status_is_read_through_its_row(row: Any) -> None:
    viber, seen = sender({"status": row.code, "status_message": row.meaning.split(":")[0]})
    result = viber.send(BOT, USER, ALLOWED, HELLO, {"auth_token": "tok-1"})
    assert not result.ok and result.known_error
    assert result.reason is row.reason and result.effects == row.effects
    assert result.error is not None and (result.error.code, result.error.type) == (row.code, "viber")
    assert len(seen) == (3 if row.transient else 1)  # tooManyRequests is retried, the rest are final


def test_a_status_not_in_the_table_is_reported_verbatim() -> None:
    viber, _ = sender({"status": 99, "status_message": "somethingNew"})
    result = viber.send(BOT, USER, ALLOWED, HELLO, {"auth_token": "tok-1"})
    assert not result.known_error and result.error is not None and result.error.message == "somethingNew"
