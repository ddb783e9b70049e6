"""Viber REST Bot API ``send_message`` (fact sheet O1).

``POST {base}/pa/send_message`` with ``X-Viber-Auth-Token``; body ``{"receiver", "type": "text",
"text", "sender": {"name"}, "min_api_version"}``. Viber answers HTTP 200 whatever happened; the
outcome is the body's ``status`` (0 ok, with ``message_token``) and ``status_message``.
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

DEFAULT_BASE_URL = "https://chatapi.viber.com"
SENDER_NAME_MAX = 28  # Viber's limit on sender.name

ERRORS: tuple[PlatformErrorRule, ...] = (
    PlatformErrorRule(
        2,
        "invalidAuthToken: the bot's auth token is wrong or was replaced.",
        "O1",
        effects=ContactEffects(token_invalid=True),
    ),
    PlatformErrorRule(3, "badData: Viber could not read the request.", "O1"),
    PlatformErrorRule(4, "missingData: a required field is missing.", "O1"),
    PlatformErrorRule(
        5,
        "receiverNotRegistered: the user has no Viber account (any more).",
        "O1",
        reason=ReasonCode.UNREACHABLE,
        effects=ContactEffects(unreachable=True, unreachable_reason="viber:not_registered"),
    ),
    PlatformErrorRule(
        6,
        "receiverNotSubscribed: the user is not subscribed to the bot.",
        "O1",
        reason=ReasonCode.NEVER_CONTACTED,
    ),
    PlatformErrorRule(
        7,
        "publicAccountBlocked: Viber blocked the bot.",
        "O1",
        effects=ContactEffects(account_restricted=True),
    ),
    PlatformErrorRule(
        8, "publicAccountNotFound: no such bot.", "O1", effects=ContactEffects(account_restricted=True)
    ),
    PlatformErrorRule(
        9,
        "publicAccountSuspended: Viber suspended the bot.",
        "O1",
        effects=ContactEffects(account_restricted=True),
    ),
    PlatformErrorRule(10, "webhookNotSet: Viber sends nothing until the bot's webhook is set.", "O1"),
    PlatformErrorRule(
        11,
        "receiverNoSuitableDevice: the user's Viber cannot receive it.",
        "O1",
        reason=ReasonCode.UNREACHABLE,
        effects=ContactEffects(unreachable=True, unreachable_reason="viber:no_suitable_device"),
    ),
    PlatformErrorRule(12, "tooManyRequests: Viber asks to slow down.", "O1", transient=True),
    PlatformErrorRule(
        23,
        "freeMessagesExceeded: the month's free bot-initiated messages are used up.",
        "O1",
        reason=ReasonCode.QUOTA_EXHAUSTED,
    ),
)


def read_answer(response: httpx.Response) -> PlatformAnswer:
    try:
        body: Any = response.json()
    except ValueError:
        return PlatformAnswer(ok=False, code=response.status_code, text=response.text[:200], readable=False)
    if not isinstance(body, dict) or not isinstance(body.get("status"), int):
        return PlatformAnswer(ok=False, code=response.status_code, readable=False)
    if body["status"] == 0:
        return PlatformAnswer(ok=True, message_id=str(body.get("message_token")))
    return PlatformAnswer(ok=False, code=int(body["status"]), text=str(body.get("status_message") or ""))


class ViberSender(TextSender):
    channel = Channel.VIBER
    label = "Viber"
    required = ("auth_token",)

    def __init__(self, base: str = DEFAULT_BASE_URL, **options: Any) -> None:
        self.http = PlatformHttp(Channel.VIBER, base, ERRORS, read_answer, **options)

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        name = str(credentials.get("sender_name") or account.display_name or account.account_id)
        body = {
            "receiver": contact.contact_id,
            "min_api_version": 1,
            "sender": {"name": name[:SENDER_NAME_MAX]},
            "type": "text",
            "text": text,
        }
        headers = {"X-Viber-Auth-Token": credentials["auth_token"]}
        return self.http.deliver(PlatformRequest("POST", "/pa/send_message", json=body, headers=headers))


def from_env() -> ViberSender:
    return ViberSender(base_url(Channel.VIBER, DEFAULT_BASE_URL))
