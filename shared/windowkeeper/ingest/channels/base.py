"""What every non-Meta channel's inbound reader shares: the request, its refusal, the answer, and
an event builder that speaks in customer terms (a message, a follow, an unfollow).

A channel reader (``ingest/channels/<channel>.py``) implements ``ChannelInbound``:

* ``verify`` checks the platform's own proof over the exact bytes (an HMAC header, a secret
  token, a signature of token/timestamp/nonce) with the account's credentials, constant-time,
  and raises ``InboundRefused`` (401) when it fails;
* ``parse`` turns the body into observations through ``ChannelEvents`` (one per thing the event
  says about one contact), or raises ``UnparsableBody`` so the authentic body is quarantined
  whole; events of kinds it does not know are counted in ``out.unknown_kinds`` (quarantined too);
* ``ack`` is the answer the platform expects (WeChat wants the text ``success``);
* ``handshake`` answers a platform's GET verification (WeChat's ``echostr``), if it has one.

Everything after ``parse`` (one conditional write per contact, the conversation log, the bus,
quarantine, deferral) is the webhook's, shared with Meta's path (``ingest/service.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.normalize.common import EventBuilder, event_hash
from windowkeeper.ingest.observations import ConsentChange, LogLine
from windowkeeper.ingest.scrub import may_hold_lone_surrogate, scrub_lone_surrogates
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind


@dataclass(frozen=True)
class InboundRequest:
    """One HTTP request as the platform sent it: exact body bytes, header names lower-cased."""

    method: str
    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class InboundRefused(Exception):
    """The request is not the platform's (401): a missing or wrong signature, token or secret."""

    def __init__(self, reason: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


class UnparsableBody(Exception):
    """An authentic body we cannot read at all: kept whole in quarantine, answered 200."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ChannelAnswer:
    """What the platform expects back (a JSON object, or a text such as WeChat's ``success``)."""

    status: int
    body: dict[str, Any] | str


Credentials = Mapping[str, Any]


class ChannelInbound(Protocol):
    channel: Channel

    def verify(self, request: InboundRequest, credentials: Credentials, now: datetime) -> None:
        """Raise ``InboundRefused`` unless the platform signed or authenticated this request."""
        ...

    def parse(self, request: InboundRequest, account: AccountConfig, out: ChannelEvents) -> None:
        """File what the body says through ``out``; raise ``UnparsableBody`` when it cannot be read."""
        ...

    def ack(self, events: int) -> ChannelAnswer:
        """The answer for a body that was taken (``events`` parsed)."""
        ...

    def handshake(self, request: InboundRequest, credentials: Credentials) -> ChannelAnswer | None:
        """A GET the platform makes to prove the URL (None: the channel has none: 405)."""
        ...


def credential(credentials: Credentials, name: str) -> str:
    """A credential by name; ``InboundRefused`` (503-free: a 401 the operator can read) if absent."""
    value = credentials.get(name)
    if not isinstance(value, str) or not value:
        raise InboundRefused(
            "credentials_missing",
            f"The account's credentials secret has no '{name}'; the request cannot be verified.",
        )
    return value


def hmac_sha256(key: str, body: bytes) -> bytes:
    return hmac.new(key.encode(), body, hashlib.sha256).digest()


def same(expected: str | bytes, received: str | bytes) -> bool:
    """Constant-time comparison of two secrets or signatures."""
    a = expected.encode() if isinstance(expected, str) else expected
    b = received.encode() if isinstance(received, str) else received
    return hmac.compare_digest(a, b)


def check_header(request: InboundRequest, header: str, expected: str, *, what: str) -> None:
    """The header must equal ``expected`` (constant-time); ``what`` says what it should be."""
    received = request.header(header.lower())
    if received is None:
        raise InboundRefused("signature_missing", f"The {header} header is missing.")
    if not same(expected, received.strip()):
        raise InboundRefused("signature_mismatch", f"The {header} header is not {what}.")


class JsonPlatform:
    """The answers of a platform that posts JSON and wants a 200 back, with no GET handshake."""

    def ack(self, events: int) -> ChannelAnswer:
        return ChannelAnswer(200, {"status": "ok", "events": events})

    def handshake(self, request: InboundRequest, credentials: Credentials) -> ChannelAnswer | None:
        return None  # the platform proves the URL with a signed POST (or not at all)


STOP_SCOPES = frozenset({ConsentScope.ALL})


class ChannelEvents(EventBuilder):
    """The observation builder for one channel POST, with the customer's vocabulary.

    Every method files observations for one contact of ``account``; ``event_id`` is the platform's
    own id for the event when it has one (stable across its retries), else ``stable_id(...)``.
    """

    def __init__(self, account: AccountConfig, *, received_ms: int) -> None:
        super().__init__(lambda _object, _entry: [account])
        self.account = account
        # When the request arrived: only for the rare event a platform sends without its own
        # instant (a Telegram button tap); everything else is filed at the platform's timestamp.
        self.received_ms = received_ms
        self.unencodable = 0  # lone surrogates replaced by U+FFFD (the body is quarantined to show them)

    def json_body(self, body: bytes) -> Any:
        """The body as JSON, text no store accepts replaced; ``UnparsableBody`` when it is not JSON."""
        try:
            payload = json.loads(body)
        except RecursionError as error:
            raise UnparsableBody("json_too_deep", "the body nests too deep to parse") from error
        except ValueError as error:
            raise UnparsableBody("invalid_json", "the body is not JSON") from error
        if may_hold_lone_surrogate(body):
            payload, replaced = scrub_lone_surrogates(payload)
            self.unencodable += replaced
        return payload

    @staticmethod
    def stable_id(channel: Channel, *parts: Any) -> str:
        """An id for an event the platform gives none (the same event hashes the same)."""
        return f"{channel.value}:{event_hash(*parts)}"

    def customer_message(
        self,
        contact_id: str,
        *,
        at_ms: int,
        event_id: str,
        text: str | None,
        message_kind: str = "text",
        action: CustomerActionKind = CustomerActionKind.MESSAGE,
        display_name: str | None = None,
        detail: Mapping[str, Any] | None = None,
        country_code: str | None = None,
    ) -> None:
        """The customer wrote (or tapped a button, a menu): opens what the channel's rules say it
        opens, goes to the conversation log, and a whole-message STOP/START changes consent."""
        self._action(
            contact_id,
            at_ms,
            event_id,
            action,
            _detail(event_id, message_kind, text, action) | dict(detail or {}),
            log=LogLine(event_id, "in", message_kind, text, "customer"),
            display_name=display_name,
            country_code=country_code,
        )
        if text is not None and action is CustomerActionKind.MESSAGE:
            self._keyword(self.account, contact_id, at_ms, event_id, text)

    def _action(
        self,
        contact_id: str,
        at_ms: int,
        event_id: str,
        action: CustomerActionKind,
        detail: dict[str, Any],
        **fields: Any,
    ) -> None:
        """One customer action: it opens what the channel's rules say it opens, published as
        ``customer.action``."""
        self.out.events += 1
        self._observe(
            self.account,
            contact_id,
            kind=action.value,
            at_ms=at_ms,
            event_id=event_id,
            detail_type=DetailType.CUSTOMER_ACTION,
            detail=detail,
            action=action,
            opens_window=True,
            **fields,
        )

    def followed(
        self,
        contact_id: str,
        *,
        at_ms: int,
        event_id: str,
        display_name: str | None = None,
        action: CustomerActionKind = CustomerActionKind.FOLLOW,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """The customer subscribed to / followed / (un)blocked and started the bot: a customer
        action (it opens what the channel's rules say a follow opens) and consent to messages
        from the bot, filed at the follow's own instant so it and an unfollow land in either
        order with the newest winning (the consent ledger's rule)."""
        self._action(
            contact_id,
            at_ms,
            event_id,
            action,
            _detail(event_id, action.value, None, action) | dict(detail or {}),
            display_name=display_name,
        )
        change = ConsentChange(source=f"{self.account.channel.value}_follow", opt_in=STOP_SCOPES)
        self._consent(self.account, contact_id, at_ms, event_id, change)

    def unfollowed(self, contact_id: str, *, at_ms: int, event_id: str, source: str) -> None:
        """The customer unsubscribed, unfollowed or blocked the bot: no message may reach them until
        they follow again. Filed as an opt-out of every message at the event's instant
        (``source`` names it: ``viber_unsubscribed``, ``telegram_blocked``...)."""
        self.out.events += 1
        change = ConsentChange(source=source, opt_out=STOP_SCOPES)
        self._consent(self.account, contact_id, at_ms, event_id, change)

    def consent(
        self,
        contact_id: str,
        *,
        at_ms: int,
        event_id: str,
        opt_out: frozenset[ConsentScope] = frozenset(),
        opt_in: frozenset[ConsentScope] = frozenset(),
        source: str,
        consent_on_record: bool = False,
    ) -> None:
        """A consent change the platform or the business's own system reports (not a keyword)."""
        self.out.events += 1
        change = ConsentChange(
            source=source, opt_out=opt_out, opt_in=opt_in, consent_on_record=consent_on_record
        )
        self._consent(self.account, contact_id, at_ms, event_id, change)

    def status(self, contact_id: str, *, at_ms: int, event_id: str, detail: Mapping[str, Any]) -> None:
        """Delivered / seen / failed for one of our messages: published, no window effect."""
        self.out.events += 1
        self._observe(
            self.account,
            contact_id,
            kind="status",
            at_ms=at_ms,
            event_id=event_id,
            detail_type=DetailType.MESSAGE_STATUS,
            detail=dict(detail),
        )

    def ignored(self) -> None:
        """A known event with nothing to do (a platform's own set-up callback, a typing notice)."""
        self.out.events += 1
        self.out.ignored += 1

    def unknown(self, kind: str) -> None:
        """An event kind this reader does not know: counted, and the body is quarantined to look at."""
        self.out.events += 1
        # Named with the account: the quarantined body's URL, which said whose it was, is not kept.
        self.out.unknown_kinds.append(f"{self.account.channel.value}/{self.account.account_id}:{kind}")


def _detail(event_id: str, message_kind: str, text: str | None, action: CustomerActionKind) -> dict[str, Any]:
    """The ``customer.action`` detail every channel shares with Meta's (docs/events)."""
    return {"message_id": event_id, "message_kind": message_kind, "text": text, "action": action.value}
