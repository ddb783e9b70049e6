"""Telegram Bot API ``sendMessage`` (fact sheet O3).

``POST {base}/bot<token>/sendMessage`` ``{"chat_id", "text"}``; the bot token is part of the URL
path, as the Bot API prescribes (so URLs are never logged here). Answers ``{"ok": true, "result":
Message}`` or ``{"ok": false, "error_code", "description", "parameters": {"retry_after"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.platform import (
    PlatformAnswer,
    PlatformErrorRule,
    PlatformHttp,
    PlatformRequest,
    TextSender,
    base_url,
)
from windowkeeper.graph.results import ContactEffects, DeliveryResult
from windowkeeper.policy.model import Channel, ContactState, ReasonCode

DEFAULT_BASE_URL = "https://api.telegram.org"

# Telegram's codes are HTTP statuses; one status covers several cases, told apart by the text.
ERRORS: tuple[PlatformErrorRule, ...] = (
    PlatformErrorRule(
        403,
        "The user blocked the bot: nothing reaches them until they unblock it.",
        "O3",
        reason=ReasonCode.UNREACHABLE,
        effects=ContactEffects(unreachable=True, unreachable_reason="telegram:blocked"),
        text="bot was blocked by the user",
    ),
    PlatformErrorRule(
        403,
        "The user never started the bot: a bot cannot write first.",
        "O3",
        reason=ReasonCode.NEVER_CONTACTED,
        text="can't initiate conversation",
    ),
    PlatformErrorRule(
        403,
        "The user's account is deactivated.",
        "O3",
        reason=ReasonCode.UNREACHABLE,
        effects=ContactEffects(unreachable=True, unreachable_reason="telegram:deactivated"),
        text="user is deactivated",
    ),
    PlatformErrorRule(
        400,
        "Telegram knows no such chat for this bot.",
        "O3",
        reason=ReasonCode.NEVER_CONTACTED,
        text="chat not found",
    ),
    PlatformErrorRule(400, "Telegram refused the request as malformed.", "O3"),
    PlatformErrorRule(
        401,
        "The bot token was revoked or is wrong: no send works until it is replaced.",
        "O3",
        effects=ContactEffects(token_invalid=True),
    ),
    PlatformErrorRule(429, "Flood control: Telegram asks to wait (retry_after).", "O3", transient=True),
)


def read_answer(response: httpx.Response) -> PlatformAnswer:
    try:
        body: Any = response.json()
    except ValueError:
        return PlatformAnswer(ok=False, code=response.status_code, text=response.text[:200], readable=False)
    if not isinstance(body, dict):
        return PlatformAnswer(ok=False, code=response.status_code, readable=False)
    if body.get("ok") is True and isinstance(body.get("result"), dict):
        return PlatformAnswer(ok=True, message_id=str(body["result"].get("message_id")))
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return PlatformAnswer(
        ok=False,
        code=int(body.get("error_code") or response.status_code),
        text=str(body.get("description") or ""),
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )


class TelegramSender(TextSender):
    channel = Channel.TELEGRAM
    label = "Telegram"
    required = ("bot_token",)

    def __init__(self, base_url: str = DEFAULT_BASE_URL, **options: Any) -> None:
        self.http = PlatformHttp(Channel.TELEGRAM, base_url, ERRORS, read_answer, **options)

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        request = PlatformRequest(
            "POST",
            f"/bot{credentials['bot_token']}/sendMessage",
            json={"chat_id": contact.contact_id, "text": text},
        )
        return self.http.deliver(request)


def from_env() -> TelegramSender:
    return TelegramSender(base_url(Channel.TELEGRAM, DEFAULT_BASE_URL))
