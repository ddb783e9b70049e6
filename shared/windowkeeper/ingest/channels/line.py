"""LINE Messaging API webhooks (fact sheet O4).

Verification: ``X-Line-Signature`` is the base64 HMAC-SHA256 of the exact body with the channel
secret (the account's ``channel_secret`` credential), compared constant-time. A body with no
events is LINE's own check of the URL ("Verify" in the console): answered 200, nothing kept.

Each event carries ``webhookEventId`` (the same on a redelivery: the event id here) and
``timestamp`` (epoch ms, the instant). Events from groups and rooms are not one customer's and are
ignored; events in ``standby`` mode (another module of the channel is active) are still the
customer's own actions and are kept.

* ``message`` / ``postback``: the customer wrote or tapped; ``follow``: added the account (or
  unblocked it); ``unfollow``: blocked it. LINE has no window: only users who added the account
  can be pushed to, so follow and unfollow decide.
* ``accountLink``, ``things``, ``beacon``, ``memberJoined``... and delivery reports: not a
  customer's conversation: ignored; an unknown type is counted and kept for inspection.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import (
    ChannelEvents,
    Credentials,
    InboundRequest,
    JsonPlatform,
    UnparsableBody,
    check_header,
    credential,
    hmac_sha256,
)
from windowkeeper.ingest.normalize.common import first_problem
from windowkeeper.policy.model import Channel, CustomerActionKind

SIGNATURE_HEADER = "X-Line-Signature"
IGNORED_TYPES = frozenset(
    {
        "accountLink",
        "things",
        "beacon",
        "join",
        "leave",
        "memberJoined",
        "memberLeft",
        "unsend",
        "videoPlayComplete",
        "delivery",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class LineSource(_Model):
    type: str
    user_id: str | None = Field(default=None, alias="userId")


class LineMessage(_Model):
    id: str
    type: str
    text: str | None = None


class LinePostback(_Model):
    data: str = ""


class LineEvent(_Model):
    type: str
    timestamp: int
    mode: str = "active"
    webhook_event_id: str = Field(alias="webhookEventId")
    source: LineSource | None = None
    message: LineMessage | None = None
    postback: LinePostback | None = None


class LineWebhook(_Model):
    destination: str
    events: list[dict[str, Any]]


class LineInbound(JsonPlatform):
    channel = Channel.LINE

    def verify(self, request: InboundRequest, credentials: Credentials, now: datetime) -> None:
        signed = base64.b64encode(
            hmac_sha256(credential(credentials, "channel_secret"), request.body)
        ).decode()
        check_header(request, SIGNATURE_HEADER, signed, what="the body signed with the channel secret")

    def parse(self, request: InboundRequest, account: AccountConfig, out: ChannelEvents) -> None:
        payload = out.json_body(request.body)
        try:
            webhook = LineWebhook.model_validate(payload)
        except ValidationError as error:
            raise UnparsableBody("schema_invalid", first_problem(error)) from error
        problems: list[str] = []
        for raw in webhook.events:
            try:
                event = LineEvent.model_validate(raw)
            except ValidationError as error:
                problems.append(first_problem(error))
                continue
            self._event(event, out)
        if problems and not out.out.observations:
            raise UnparsableBody("schema_invalid", "; ".join(problems))
        for problem in problems:  # the rest of the batch still lands; the body is kept to look at
            out.unknown(f"invalid_event ({problem})")

    @staticmethod
    def _event(event: LineEvent, out: ChannelEvents) -> None:
        user = event.source.user_id if event.source is not None and event.source.type == "user" else None
        if event.type in IGNORED_TYPES or user is None:
            out.ignored()  # group and room events are not one customer's conversation
            return
        event_id = f"line:{event.webhook_event_id}"
        if event.type == "message":
            message = event.message
            out.customer_message(
                user,
                at_ms=event.timestamp,
                event_id=event_id,
                text=message.text if message is not None else None,
                message_kind=message.type if message is not None else "message",
            )
        elif event.type == "postback":
            out.customer_message(
                user,
                at_ms=event.timestamp,
                event_id=event_id,
                text=event.postback.data if event.postback is not None else None,
                message_kind="postback",
                action=CustomerActionKind.POSTBACK,
            )
        elif event.type == "follow":
            out.followed(user, at_ms=event.timestamp, event_id=event_id)
        elif event.type == "unfollow":
            out.unfollowed(user, at_ms=event.timestamp, event_id=event_id, source="line_unfollow")
        else:
            out.unknown(event.type)


READER = LineInbound()
