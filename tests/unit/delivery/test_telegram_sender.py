"""Telegram's sendMessage through an httpx MockTransport: every error-table row, retries, ambiguity."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.router import ChannelRouter
from windowkeeper.delivery.telegram import ERRORS, TelegramSender
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.policy.model import (
    Channel,
    ContactState,
    Content,
    ContentKind,
    Decision,
    Path,
    ReasonCode,
)

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BOT = AccountConfig(tenant_id="acme", channel=Channel.TELEGRAM, account_id="acme_support_bot")
USER = ContactState(channel=Channel.TELEGRAM, account_id=BOT.account_id, contact_id="424242", subscribed=True)
CREDENTIALS = {"bot_token": "123456:ABC-token", "webhook_secret_token": "s"}
ALLOWED = Decision(
    allowed=True, path=Path.DIRECT, rule=None, reasons=(), explanation="ok", decided_at=AT, valid_until=None
)
HELLO = Content(kind=ContentKind.TEXT, text="Your order shipped")


def sender(handler: Any, **options: Any) -> tuple[TelegramSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer: httpx.Response = handler(request)
        return answer

    options.setdefault("sleep", lambda _s: None)
    return TelegramSender("https://api.telegram.org", transport=httpx.MockTransport(record), **options), seen


def send(telegram: TelegramSender, content: Content = HELLO) -> DeliveryResult:
    return telegram.send(BOT, USER, ALLOWED, content, CREDENTIALS)


def failure(status: int, description: str, **extra: Any) -> Any:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    return lambda _r: httpx.Response(status, json=body)


def test_a_message_goes_to_the_chat_with_the_token_in_the_path_and_comes_back_with_its_id() -> None:
    telegram, seen = sender(lambda _r: httpx.Response(200, json={"ok": True, "result": {"message_id": 77}}))
    result = send(telegram)
    assert result.ok and result.platform_message_id == "77"
    assert seen[0].url.path == "/bot123456:ABC-token/sendMessage"
    assert json.loads(seen[0].content) == {"chat_id": "424242", "text": "Your order shipped"}


@pytest.mark.parametrize(
    ("status", "description", "reason", "unreachable", "token_invalid"),
    [
        (403, "Forbidden: bot was blocked by the user", ReasonCode.UNREACHABLE, True, False),
        (
            403,
            "Forbidden: bot can't initiate conversation with a user",
            ReasonCode.NEVER_CONTACTED,
            False,
            False,
        ),
        (403, "Forbidden: user is deactivated", ReasonCode.UNREACHABLE, True, False),
        (400, "Bad Request: chat not found", ReasonCode.NEVER_CONTACTED, False, False),
        (400, "Bad Request: message text is empty", None, False, False),
        (401, "Unauthorized", None, False, True),
    ],
)
def test_each_error_row_says_what_it_means(
    status: int, description: str, reason: ReasonCode | None, unreachable: bool, token_invalid: bool
) -> None:
    telegram, seen = sender(failure(status, description))
    result = send(telegram)
    assert not result.ok and len(seen) == 1
    assert result.reason is reason
    assert result.effects.unreachable is unreachable
    assert result.effects.token_invalid is token_invalid
    assert result.known_error and result.error is not None
    assert (result.error.code, result.error.type, result.error.message) == (status, "telegram", description)


def test_every_row_of_the_table_names_its_source() -> None:
    assert all(row.source and row.meaning for row in ERRORS)


def test_flood_control_waits_what_telegram_asks_then_succeeds() -> None:
    answers = iter(
        [
            failure(429, "Too Many Requests: retry after 3", parameters={"retry_after": 3})(None),
            httpx.Response(200, json={"ok": True, "result": {"message_id": 5}}),
        ]
    )
    slept: list[float] = []
    telegram, _ = sender(lambda _r: next(answers), sleep=slept.append)
    result = send(telegram)
    assert result.ok and result.attempts == 2 and slept == [3.0]


def test_a_read_timeout_is_unknown_and_not_retried() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    telegram, seen = sender(timeout)
    result = send(telegram)
    assert result.delivery_unknown and len(seen) == 1


def test_a_refused_connection_is_retried_then_transient() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    telegram, seen = sender(refused)
    result = send(telegram)
    assert result.transient and not result.delivery_unknown and len(seen) == 3


def test_a_template_is_refused_locally_and_nothing_is_sent() -> None:
    telegram, seen = sender(lambda _r: httpx.Response(200, json={"ok": True, "result": {"message_id": 1}}))
    result = send(telegram, Content(kind=ContentKind.MEDIA, media_url="https://x/y.png", media_type="image"))
    assert result.reason is ReasonCode.CHANNEL_UNSUPPORTED and not seen


def test_the_router_sends_telegram_through_its_sender_with_the_accounts_credentials() -> None:
    telegram, _ = sender(lambda _r: httpx.Response(200, json={"ok": True, "result": {"message_id": 9}}))

    class NoMeta:
        def send(self, *_: Any) -> DeliveryResult:
            raise AssertionError("Telegram is not Meta's")

    router = ChannelRouter(NoMeta(), lambda account: CREDENTIALS, {Channel.TELEGRAM: lambda: telegram})
    assert router.send(BOT, USER, ALLOWED, HELLO).platform_message_id == "9"
    line = USER.model_copy(update={"channel": Channel.LINE})
    line_account = BOT.model_copy(update={"channel": Channel.LINE})
    assert router.send(line_account, line, ALLOWED, HELLO).reason is ReasonCode.CHANNEL_UNSUPPORTED
