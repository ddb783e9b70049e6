"""Viber REST Bot API callbacks (fact sheet O1).

Verification: ``X-Viber-Content-Signature`` is the hex HMAC-SHA256 of the exact body with the
bot's auth token (the account's ``auth_token`` credential), compared constant-time.

What each callback tells us (``timestamp`` is epoch ms, the event's own instant):

* ``message``: the user wrote (``sender.id``); it opens the 24 h session and makes the contact a
  subscriber (the bot may write first later). It does not undo an earlier STOP or unsubscribe:
  only a ``subscribed`` callback (or START) opts back in, so an opt-out is never lost to a chat.
* ``subscribed`` / ``unsubscribed``: the user followed / left the bot (``user.id`` / ``user_id``).
* ``conversation_started``: the user opened the chat. Not a subscription and not a message: Viber
  allows one welcome message in the callback's own answer, outside this gate; nothing is kept.
* ``delivered`` / ``seen`` / ``failed``: statuses of our messages (``message_token``), published.
* ``webhook``: Viber's check when the webhook is set: answered 200, nothing kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

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
from windowkeeper.policy.model import Channel

SIGNATURE_HEADER = "X-Viber-Content-Signature"
STATUS_EVENTS = frozenset({"delivered", "seen", "failed"})
IGNORED_EVENTS = frozenset({"webhook", "conversation_started", "client_status"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ViberUser(_Model):
    id: str
    name: str | None = None
    country: str | None = None
    language: str | None = None


class ViberMessage(_Model):
    type: str = "text"
    text: str | None = None
    media: str | None = None


class ViberCallback(_Model):
    event: str
    timestamp: int  # epoch ms
    message_token: int | None = None
    sender: ViberUser | None = None  # message
    user: ViberUser | None = None  # subscribed, conversation_started
    user_id: str | None = None  # unsubscribed, delivered, seen, failed
    message: ViberMessage | None = None
    desc: str | None = None  # failed


class ViberInbound(JsonPlatform):
    channel = Channel.VIBER

    def verify(self, request: InboundRequest, credentials: Credentials, now: datetime) -> None:
        signed = hmac_sha256(credential(credentials, "auth_token"), request.body).hex()
        check_header(request, SIGNATURE_HEADER, signed, what="the body signed with the bot's auth token")

    def parse(self, request: InboundRequest, account: AccountConfig, out: ChannelEvents) -> None:
        payload = out.json_body(request.body)
        try:
            callback = ViberCallback.model_validate(payload)
        except ValidationError as error:
            raise UnparsableBody("schema_invalid", first_problem(error)) from error
        event = callback.event
        if event == "message" and callback.sender is not None:
            self._message(callback, callback.sender, out)
        elif event == "subscribed" and callback.user is not None:
            out.followed(
                callback.user.id,
                at_ms=callback.timestamp,
                event_id=f"viber:subscribed:{callback.user.id}:{callback.timestamp}",
                display_name=callback.user.name,
            )
        elif event == "unsubscribed" and callback.user_id is not None:
            out.unfollowed(
                callback.user_id,
                at_ms=callback.timestamp,
                event_id=f"viber:unsubscribed:{callback.user_id}:{callback.timestamp}",
                source="viber_unsubscribed",
            )
        elif event in STATUS_EVENTS and callback.user_id is not None:
            detail: dict[str, Any] = {"message_id": str(callback.message_token), "status": event}
            if callback.desc:
                detail["error"] = callback.desc
            out.status(
                callback.user_id,
                at_ms=callback.timestamp,
                event_id=f"viber:{event}:{callback.message_token}:{callback.user_id}",
                detail=detail,
            )
        elif event in IGNORED_EVENTS:
            out.ignored()
        else:
            out.unknown(event)

    @staticmethod
    def _message(callback: ViberCallback, sender: ViberUser, out: ChannelEvents) -> None:
        message = callback.message or ViberMessage()
        event_id = (
            f"viber:{callback.message_token}"
            if callback.message_token
            else out.stable_id(Channel.VIBER, sender.id, callback.timestamp, message.model_dump())
        )
        out.customer_message(
            sender.id,
            at_ms=callback.timestamp,
            event_id=event_id,
            text=message.text,
            message_kind=message.type,
            display_name=sender.name,
        )


READER = ViberInbound()
