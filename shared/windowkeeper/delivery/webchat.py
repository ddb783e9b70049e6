"""Web chat delivery: the service is the platform.

There is no third-party API to push to: a web-chat reply is delivered when it is in the visitor's
conversation log, which the send gate writes after every delivered send and the site's widget
reads (``GET /webhook/webchat/{account_id}/messages`` with the visitor's token). So a send the
gate allowed is delivered here by giving it an id; nothing can refuse it afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.platform import TextSender
from windowkeeper.graph.results import NO_EFFECTS, DeliveryResult
from windowkeeper.policy.model import Channel, ContactState


class WebChatSender(TextSender):
    channel = Channel.WEBCHAT
    label = "Web chat"

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        return DeliveryResult(
            ok=True,
            platform_message_id=f"webchat-{uuid.uuid4().hex}",
            http_status=None,
            error=None,
            reason=None,
            effects=NO_EFFECTS,
            known_error=True,
            attempts=1,
        )


def from_env() -> WebChatSender:
    return WebChatSender()
