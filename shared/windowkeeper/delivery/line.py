"""LINE Messaging API push messages (fact sheet O4).

``POST {base}/v2/bot/message/push`` with ``Authorization: Bearer <channel access token>`` and
``{"to", "messages": [{"type": "text", "text"}]}``. A push is sent with ``X-Line-Retry-Key`` (a new
UUID per send), so LINE itself refuses to deliver the same request twice. Answers: 200
``{"sentMessages": [{"id"}]}``, or an HTTP error with ``{"message", "details"}``.
"""

from __future__ import annotations

import uuid
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

DEFAULT_BASE_URL = "https://api.line.me"

# LINE's codes are HTTP statuses; the text tells a monthly limit from throttling.
ERRORS: tuple[PlatformErrorRule, ...] = (
    PlatformErrorRule(
        429,
        "The account's monthly message limit is reached (its plan's free messages and any paid ones).",
        "O4",
        reason=ReasonCode.QUOTA_EXHAUSTED,
        text="monthly limit",
    ),
    PlatformErrorRule(429, "Too many requests: LINE asks to slow down.", "O4", transient=True),
    PlatformErrorRule(
        401,
        "The channel access token is invalid or expired: no push works until it is replaced.",
        "O4",
        effects=ContactEffects(token_invalid=True),
    ),
    PlatformErrorRule(403, "The channel may not use this API (plan or permission).", "O4"),
    PlatformErrorRule(400, "LINE refused the request (an unknown user id, an invalid message).", "O4"),
)


def read_answer(response: httpx.Response) -> PlatformAnswer:
    try:
        body: Any = response.json()
    except ValueError:
        return PlatformAnswer(ok=False, code=response.status_code, text=response.text[:200], readable=False)
    if response.status_code == 200 and isinstance(body, dict):
        sent = body.get("sentMessages")
        first = sent[0] if isinstance(sent, list) and sent and isinstance(sent[0], dict) else {}
        return PlatformAnswer(ok=True, message_id=str(first.get("id")) if first.get("id") else None)
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    return PlatformAnswer(ok=False, code=response.status_code, text=message, readable=isinstance(body, dict))


class LineSender(TextSender):
    channel = Channel.LINE
    label = "LINE"
    required = ("channel_access_token",)

    def __init__(self, base: str = DEFAULT_BASE_URL, **options: Any) -> None:
        self.http = PlatformHttp(Channel.LINE, base, ERRORS, read_answer, **options)

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        headers = {
            "Authorization": f"Bearer {credentials['channel_access_token']}",
            "X-Line-Retry-Key": str(uuid.uuid4()),
        }
        body = {"to": contact.contact_id, "messages": [{"type": "text", "text": text}]}
        return self.http.deliver(PlatformRequest("POST", "/v2/bot/message/push", json=body, headers=headers))


def from_env() -> LineSender:
    return LineSender(base_url(Channel.LINE, DEFAULT_BASE_URL))
