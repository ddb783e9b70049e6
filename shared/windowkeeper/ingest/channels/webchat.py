"""Web chat: a site's widget posts its visitor's messages (``POST /webhook/webchat/{account_id}``)
and reads the conversation (``GET /webhook/webchat/{account_id}/messages``).

A widget runs in the visitor's browser and cannot hold a secret, so it carries a visitor token
the site's own backend mints: a JWT signed HS256 with the account's ``widget_secret`` credential,
``sub`` = the visitor's id, ``exp`` (and ``iat``; ``name`` optional). The contact is the token's
``sub``, never a field of the body, so one visitor cannot write as, or read, another. Only HS256
is accepted (``none`` and every other algorithm are refused), the signature is compared
constant-time and ``exp`` is checked against the request's ``now`` with ``LEEWAY``.

A message's instant is the request's arrival (the widget posts as the visitor types; a browser
clock is not trusted). The body: ``{"type": "message", "id": <the widget's stable id>, "text"}``;
``opened`` / ``closed`` (the widget's panel) are acknowledged and kept as nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import (
    ChannelEvents,
    Credentials,
    InboundRefused,
    InboundRequest,
    JsonPlatform,
    UnparsableBody,
    credential,
    hmac_sha256,
    same,
)
from windowkeeper.ingest.normalize.common import first_problem
from windowkeeper.policy.model import Channel

LEEWAY = timedelta(seconds=30)
MAX_TOKEN_LIFETIME = timedelta(hours=24)


class WidgetEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["message", "opened", "closed"]
    id: Annotated[str, Field(min_length=1, max_length=200)]
    text: Annotated[str, Field(max_length=4096)] | None = None


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _token(request: InboundRequest) -> tuple[list[str], Any, Any]:
    """The bearer token's three parts and its decoded header and claims (not yet verified)."""
    authorization = request.header("authorization") or ""
    if not authorization.lower().startswith("bearer "):
        raise InboundRefused(
            "token_missing", "The widget must send its visitor token as 'Authorization: Bearer ...'."
        )
    parts = authorization[7:].strip().split(".")
    if len(parts) != 3:
        raise InboundRefused("token_invalid", "The visitor token is not a JWT.")
    try:
        return parts, json.loads(_b64url(parts[0])), json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error) as error:
        raise InboundRefused("token_invalid", "The visitor token is not a JWT.") from error


def visitor_claims(request: InboundRequest, widget_secret: str, now: datetime) -> dict[str, Any]:
    """The verified claims of the request's visitor token; ``InboundRefused`` (401) otherwise."""
    parts, header, claims = _token(request)
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise InboundRefused(
            "token_invalid", "Only visitor tokens signed HS256 with the widget secret are accepted."
        )
    expected = base64.urlsafe_b64encode(hmac_sha256(widget_secret, f"{parts[0]}.{parts[1]}".encode())).rstrip(
        b"="
    )
    if not same(expected, parts[2].encode()):
        raise InboundRefused(
            "signature_mismatch", "The visitor token is not signed with this site's widget secret."
        )
    subject, expires, issued = claims.get("sub"), claims.get("exp"), claims.get("iat", claims.get("exp"))
    if (
        not isinstance(subject, str)
        or not subject
        or not isinstance(expires, int)
        or not isinstance(issued, int)
    ):
        raise InboundRefused("token_invalid", "The visitor token needs 'sub', 'exp' and 'iat'.")
    stamp = now.timestamp()
    if expires + LEEWAY.total_seconds() < stamp:
        raise InboundRefused("token_expired", "The visitor token has expired; the site must mint a new one.")
    if issued - LEEWAY.total_seconds() > stamp or expires - issued > MAX_TOKEN_LIFETIME.total_seconds():
        raise InboundRefused(
            "token_invalid", "The visitor token is issued in the future or lives longer than a day."
        )
    return claims


class WebChatInbound(JsonPlatform):
    channel = Channel.WEBCHAT

    def verify(self, request: InboundRequest, credentials: Credentials, now: datetime) -> None:
        visitor_claims(request, credential(credentials, "widget_secret"), now)

    def parse(self, request: InboundRequest, account: AccountConfig, out: ChannelEvents) -> None:
        # ``verify`` checked this token just before; the visitor is its ``sub``, never the body's.
        _, _, claims = _token(request)
        visitor = str(claims["sub"])
        try:
            event = WidgetEvent.model_validate(out.json_body(request.body))
        except ValidationError as error:
            raise UnparsableBody("schema_invalid", first_problem(error)) from error
        if event.type != "message":
            out.ignored()
            return
        out.customer_message(
            visitor,
            at_ms=out.received_ms,
            event_id=f"webchat:{visitor}:{event.id}",
            text=event.text,
            display_name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )


READER = WebChatInbound()
