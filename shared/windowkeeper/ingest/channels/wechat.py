"""WeChat Official Account messages and events (fact sheet O2), plaintext mode.

Verification: the URL's query carries ``signature``, ``timestamp`` and ``nonce``; ``signature`` is
the SHA-1 of the three strings token, timestamp and nonce sorted and joined, with the account's
``token`` credential, compared constant-time. The GET that proves the URL echoes ``echostr``.
In plaintext mode the signature does not cover the body, so a request is also refused when its
``timestamp`` is more than ``MAX_SKEW`` from now: a captured URL cannot be replayed later with
another body. (Safe mode, ``encrypt_type=aes``, is not supported: such a body is kept in
quarantine with that reason and answered ``success``, so WeChat does not retry it.)

Bodies are XML. They are parsed with the standard library after refusing any DOCTYPE or entity
declaration (no entity expansion, no external fetch), within the webhook's body-size bound.

* ``MsgType`` text, image, voice, video, shortvideo, location, link: the follower wrote. It opens
  the 48 h window in which 5 customer-service messages may go (O2, since 2023-06-12).
* ``event`` ``subscribe``: a follow; ``SCAN`` and ``CLICK``: a QR scan and a menu click. Each
  allows 3 messages within 1 minute (O2). ``unsubscribe``: the follower left. ``VIEW`` (a menu
  link opened), ``LOCATION``, ``TEMPLATESENDJOBFINISH``: nothing to keep.
* Ids: ``MsgId`` for messages; ``FromUserName`` + ``CreateTime`` + ``Event`` for events, as WeChat
  advises for de-duplicating its retries.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from xml.etree import ElementTree

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import (
    ChannelAnswer,
    ChannelEvents,
    Credentials,
    InboundRefused,
    InboundRequest,
    UnparsableBody,
    credential,
    same,
)
from windowkeeper.policy.model import Channel, CustomerActionKind

MAX_SKEW = timedelta(minutes=5)
MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link", "file"})
IGNORED_EVENTS = frozenset(
    {"VIEW", "LOCATION", "TEMPLATESENDJOBFINISH", "MASSSENDJOBFINISH", "view_miniprogram"}
)
SUCCESS = ChannelAnswer(200, "success")


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme


def _check(request: InboundRequest, token: str) -> None:
    query = request.query
    received, timestamp, nonce = query.get("signature"), query.get("timestamp"), query.get("nonce")
    if not received or not timestamp or not nonce:
        raise InboundRefused("signature_missing", "The URL needs WeChat's signature, timestamp and nonce.")
    if not same(signature(token, timestamp, nonce), received.lower()):
        raise InboundRefused(
            "signature_mismatch", "The signature is not WeChat's over the token, timestamp and nonce."
        )


class WeChatInbound:
    channel = Channel.WECHAT

    def verify(self, request: InboundRequest, credentials: Credentials, now: datetime) -> None:
        _check(request, credential(credentials, "token"))
        try:
            sent_at = datetime.fromtimestamp(int(request.query["timestamp"]), now.tzinfo)
        except (KeyError, ValueError, OverflowError) as error:
            raise InboundRefused("timestamp_invalid", "The URL's timestamp is not Unix seconds.") from error
        if abs(now - sent_at) > MAX_SKEW:
            raise InboundRefused(
                "timestamp_stale",
                f"The URL's timestamp is more than {int(MAX_SKEW.total_seconds() // 60)} minutes from now; "
                "a signed WeChat URL is not accepted again later.",
            )

    def handshake(self, request: InboundRequest, credentials: Credentials) -> ChannelAnswer | None:
        _check(request, credential(credentials, "token"))
        return ChannelAnswer(200, request.query.get("echostr", ""))

    def ack(self, events: int) -> ChannelAnswer:
        return SUCCESS

    def parse(self, request: InboundRequest, account: AccountConfig, out: ChannelEvents) -> None:
        if request.query.get("encrypt_type", "raw") != "raw":
            raise UnparsableBody("encrypted_mode_unsupported", "safe mode (AES) bodies are not read")
        fields = _fields(request.body)
        sender = fields.get("FromUserName")
        kind = fields.get("MsgType")
        try:
            at_ms = int(fields.get("CreateTime", "")) * 1000
        except ValueError as error:
            raise UnparsableBody("schema_invalid", "CreateTime is not Unix seconds") from error
        if not sender or not kind:
            raise UnparsableBody("schema_invalid", "FromUserName and MsgType are required")
        if kind in MESSAGE_TYPES:
            msg_id = fields.get("MsgId") or out.stable_id(
                Channel.WECHAT, sender, at_ms, fields.get("Content")
            )
            out.customer_message(
                sender,
                at_ms=at_ms,
                event_id=f"wechat:{msg_id}",
                text=fields.get("Content") if kind == "text" else None,
                message_kind=kind,
            )
            return
        if kind != "event":
            out.unknown(kind)
            return
        event = fields.get("Event", "")
        event_id = f"wechat:{sender}:{at_ms}:{event}"
        if event == "subscribe":
            out.followed(sender, at_ms=at_ms, event_id=event_id)
        elif event == "unsubscribe":
            out.unfollowed(sender, at_ms=at_ms, event_id=event_id, source="wechat_unsubscribe")
        elif event in ("CLICK", "SCAN", "scancode_push", "scancode_waitmsg"):
            out.customer_message(
                sender,
                at_ms=at_ms,
                event_id=event_id,
                text=fields.get("EventKey"),
                message_kind=event.lower(),
                action=CustomerActionKind.POSTBACK,
            )
        elif event in IGNORED_EVENTS:
            out.ignored()
        else:
            out.unknown(f"event:{event}")


def _fields(body: bytes) -> dict[str, str]:
    """The ``<xml>`` element's children as text; declarations that could expand are refused."""
    head = body[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in body.upper():
        raise UnparsableBody("xml_declarations_refused", "the body declares a DOCTYPE or entities")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - declarations refused above; size bounded by the route
    except ElementTree.ParseError as error:
        raise UnparsableBody("invalid_xml", f"the body is not XML: {error}") from error
    if root.tag != "xml":
        raise UnparsableBody("schema_invalid", f"the root element is <{root.tag}>, not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


READER = WeChatInbound()
