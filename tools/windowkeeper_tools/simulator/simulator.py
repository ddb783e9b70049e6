"""The simulated Meta: a Graph API that enforces the window from its own record of customers.

``Simulator`` holds the state and the rules; ``server.SimulatorServer`` puts it on HTTP. It
never asks Windowkeeper whether a message may go: it remembers every customer message it played
(``customer_writes`` and friends) and answers a send the way Meta would, so a gate bug shows up
as Meta's error instead of being trusted.

Rules it enforces (its own copy, deliberately not the engine's, meta-policy.md §1.3-1.6, 2, 3.1):

* Messenger / Instagram ``RESPONSE`` / ``UPDATE``: within 24 h of the customer's last action,
  else ``10/2018278`` (Instagram ``10/2534022``); a contact that never wrote: ``100/2018001``.
* ``MESSAGE_TAG`` + ``HUMAN_AGENT``: within 7 days, else the window error; Instagram accepts no
  other tag (``100``); ``CUSTOMER_FEEDBACK``: Messenger, 7 days, feedback template only;
  ``CONFIRMED_EVENT_UPDATE`` / ``ACCOUNT_UPDATE`` / ``POST_PURCHASE_UPDATE``: ``100`` "Invalid
  parameter" from 2026-04-27 (legacy 2020 tags from 2020-03-04).
* ``UTILITY`` (Messenger utility template) and marketing tokens: accepted at any time.
* Private replies (``recipient.comment_id``): one per comment within 7 days, else ``100/2534025``.
* WhatsApp: templates at any time (checked against the account's template list when the account
  is registered: missing ``132001``, paused ``132015``, disabled ``132016``); anything else within
  24 h of the customer's last message or call, else ``131047``.

Its notion of "now" is a clock function (``clock=`` / ``set_now``), so a test can play a
customer "two days ago" and send "now", or freeze time entirely.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from windowkeeper.accounts import AccountConfig
from windowkeeper.clock import system_clock
from windowkeeper.policy.model import Channel, TemplateStatus
from windowkeeper_tools.simulator import payloads as p

logger = logging.getLogger(__name__)

DEFAULT_APP_SECRET = "windowkeeper-simulator-app-secret"
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
TAGS_RETIRED_2026 = frozenset({"CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE"})
TAGS_RETIRED_2020 = frozenset(
    {
        "BUSINESS_PRODUCTIVITY",
        "COMMUNITY_ALERT",
        "CONFIRMED_EVENT_REMINDER",
        "PAIRING_UPDATE",
        "APPLICATION_UPDATE",
        "PAYMENT_UPDATE",
        "PERSONAL_FINANCE_UPDATE",
        "SHIPPING_UPDATE",
        "RESERVATION_UPDATE",
        "ISSUE_RESOLUTION",
        "APPOINTMENT_UPDATE",
        "GAME_EVENT",
        "TRANSPORTATION_UPDATE",
        "FEATURE_FUNCTIONALITY_UPDATE",
        "TICKET_UPDATE",
    }
)
RETIRED_2026_ON = date(2026, 4, 27)
RETIRED_2020_ON = date(2020, 3, 4)
THREAD_CONTROL_EDGES = frozenset(
    {"pass_thread_control", "take_thread_control", "release_thread_control", "request_thread_control"}
)


def _fbtrace() -> str:
    return "A" + secrets.token_urlsafe(16)


def graph_error_body(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    details: str | None = None,
    is_transient: bool | None = None,
) -> dict[str, Any]:
    """Meta's error envelope: ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``."""
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if is_transient is not None:
        error["is_transient"] = is_transient
    error["fbtrace_id"] = _fbtrace()
    return {"error": error}


@dataclass
class SimResponse:
    status: int
    body: dict[str, Any] | None  # None with disconnect=True: the connection is dropped unanswered
    disconnect: bool = False


@dataclass
class RecordedRequest:
    """One Graph API call the simulator received (the token is not kept, only whether one came)."""

    at: datetime
    method: str
    path: str
    node: str | None
    edge: str | None
    channel: Channel | None
    query: dict[str, str]
    body: Any
    token_present: bool
    status: int
    response: dict[str, Any] | None
    fault: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        out["channel"] = self.channel.value if self.channel else None
        return out


@dataclass
class Fault:
    """Answer the next ``remaining`` Graph calls (of ``channel``, if set) with this instead."""

    kind: str  # "server_error" | "throttle" | "error" | "disconnect"
    remaining: int = 1
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    message: str | None = None
    channel: Channel | None = None

    def answer(self, channel: Channel | None) -> SimResponse:
        if self.kind == "disconnect":
            return SimResponse(0, None, disconnect=True)
        if self.kind == "server_error":
            body = graph_error_body(
                self.code or 2,
                self.message or "An unexpected error has occurred. Please retry your request later.",
                is_transient=True,
            )
            return SimResponse(self.status or 500, body)
        if self.kind == "throttle":
            if channel is Channel.WHATSAPP:
                code, message = self.code or 130429, self.message or "(#130429) Rate limit hit"
            else:
                code, message = self.code or 4, self.message or "(#4) Application request limit reached"
            return SimResponse(self.status or 400, graph_error_body(code, message, is_transient=True))
        if self.kind == "error":
            if self.code is None:
                raise ValueError("an 'error' fault needs a code")
            body = graph_error_body(
                self.code, self.message or f"(#{self.code}) Simulated error", subcode=self.subcode
            )
            return SimResponse(self.status or 400, body)
        raise ValueError(f"unknown fault kind {self.kind!r}")


@dataclass(frozen=True)
class AccountRef:
    """What the simulator needs to know about a business account."""

    channel: Channel
    account_id: str  # Page id / IG account id / WhatsApp phone_number_id
    webhook_id: str  # entry[].id: the same, or the WABA id for WhatsApp
    display_phone_number: str = "15550100001"
    config: AccountConfig | None = None

    @classmethod
    def of(cls, account: AccountConfig) -> AccountRef:
        return cls(account.channel, account.account_id, account.webhook_account_id, config=account)


@dataclass
class WebhookDelivery:
    """A webhook the simulator built (and POSTed, when it has a webhook URL)."""

    payload: dict[str, Any]
    body: bytes
    signature: str
    status_code: int | None = None
    response_text: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "object": self.payload.get("object"),
            "status_code": self.status_code,
            "response": self.response_text,
            "bytes": len(self.body),
        }


@dataclass
class _Comment:
    channel: Channel
    account_id: str
    contact_id: str
    at: datetime
    replied: bool = False


@dataclass
class _State:
    last_action: dict[tuple[Channel, str, str], datetime] = field(default_factory=dict)
    comments: dict[str, _Comment] = field(default_factory=dict)
    marketing_stopped: set[tuple[str, str]] = field(default_factory=set)
    thread_owner: dict[tuple[str, str], str] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    webhooks: list[WebhookDelivery] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


class Simulator:
    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        app_secret: str = DEFAULT_APP_SECRET,
        accounts: Iterable[AccountConfig] = (),
        clock: Callable[[], datetime] | None = None,
        expected_tokens: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self._clock = clock or system_clock
        self._expected_tokens = dict(expected_tokens or {})
        self._http = http or httpx.Client(timeout=15.0)
        self._lock = threading.RLock()
        self._accounts: dict[str, AccountRef] = {}
        self._state = _State()
        for account in accounts:
            self.register_account(account)

    # --- configuration ----------------------------------------------------------------------

    def register_account(self, account: AccountConfig | AccountRef) -> AccountRef:
        ref = account if isinstance(account, AccountRef) else AccountRef.of(account)
        with self._lock:
            self._accounts[ref.account_id] = ref
        return ref

    def now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def set_clock(self, clock: Callable[[], datetime] | None) -> None:
        self._clock = clock or system_clock

    def set_now(self, at: datetime | None) -> None:
        """Freeze the simulator's "now" at ``at`` (None: back to the system clock)."""
        if at is None:
            self.set_clock(None)
            return
        frozen = at.astimezone(UTC)
        self.set_clock(lambda: frozen)

    def reset(self) -> None:
        """Forget customers, requests, webhooks and faults (accounts and clock stay)."""
        with self._lock:
            self._state = _State()

    def close(self) -> None:
        self._http.close()

    # --- inspection -------------------------------------------------------------------------

    def requests(self, *, edge: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._state.requests if edge is None or r.edge == edge]

    def delivered(self, contact_id: str | None = None) -> list[RecordedRequest]:
        """Messages Meta accepted (2xx on ``/messages``), optionally to one contact."""
        return [
            r
            for r in self.requests(edge="messages")
            if 200 <= r.status < 300 and (contact_id is None or _recipient(r.body) == contact_id)
        ]

    def webhooks(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._state.webhooks)

    def last_customer_action(self, channel: Channel, account_id: str, contact_id: str) -> datetime | None:
        with self._lock:
            return self._state.last_action.get((channel, account_id, contact_id))

    def add_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        message: str | None = None,
        channel: Channel | None = None,
    ) -> Fault:
        fault = Fault(kind, count, status, code, subcode, message, channel)
        fault.answer(channel)  # validate now rather than at the first call
        with self._lock:
            self._state.faults.append(fault)
        return fault

    # --- the Graph API ------------------------------------------------------------------------

    def handle_graph(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any
    ) -> SimResponse:
        """Answer one Graph API call and record it. ``headers`` keys are lower-case."""
        token = _bearer(headers) or query.get("access_token")
        safe_query = {k: v for k, v in query.items() if k != "access_token"}
        node, edge = _node_edge(path)
        with self._lock:
            channel = self._channel_of(node, body)
            fault = self._take_fault(channel)
            if fault is not None:
                response = fault.answer(channel)
            else:
                response = self._answer(method, node, edge, channel=channel, token=token, body=body)
            self._state.requests.append(
                RecordedRequest(
                    at=self.now(),
                    method=method,
                    path=path,
                    node=node,
                    edge=edge,
                    channel=channel,
                    query=safe_query,
                    body=body,
                    token_present=bool(token),
                    status=response.status,
                    response=response.body,
                    fault=fault is not None,
                )
            )
        return response

    def _take_fault(self, channel: Channel | None) -> Fault | None:
        for fault in self._state.faults:
            if fault.channel is None or fault.channel is channel:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._state.faults.remove(fault)
                return fault
        return None

    def _channel_of(self, node: str | None, body: Any) -> Channel | None:
        if isinstance(body, dict) and body.get("messaging_product") == "whatsapp":
            return Channel.WHATSAPP
        ref = self._accounts.get(node or "")
        if ref is not None:
            return ref.channel
        if node is None or node.startswith("act_"):
            return Channel.MESSENGER if node else None
        known = {channel for (channel, account_id, _) in self._state.last_action if account_id == node}
        return Channel.INSTAGRAM if known == {Channel.INSTAGRAM} else Channel.MESSENGER

    def _answer(
        self,
        method: str,
        node: str | None,
        edge: str | None,
        *,
        channel: Channel | None,
        token: str | None,
        body: Any,
    ) -> SimResponse:
        if not token:
            return SimResponse(
                400, graph_error_body(104, "An access token is required to request this resource.")
            )
        expected = self._expected_tokens.get(node or "")
        if expected is not None and token != expected:
            return SimResponse(
                401, graph_error_body(190, "Invalid OAuth access token - Cannot parse access token")
            )
        if method != "POST" or node is None or not isinstance(body, dict):
            return _unsupported(method, node)
        if edge == "messages" and node.startswith("act_"):
            return self._marketing_api(body)
        if edge == "messages" and channel is Channel.WHATSAPP:
            return self._whatsapp(node, body)
        if edge == "messages":
            assert channel is not None
            return self._messenger(channel, node, body)
        if edge in THREAD_CONTROL_EDGES:
            return self._thread_control(node, edge, body)
        return _unsupported(method, node)

    # --- Messenger / Instagram --------------------------------------------------------------

    def _messenger(self, channel: Channel, node: str, body: dict[str, Any]) -> SimResponse:
        recipient = body.get("recipient")
        message = body.get("message")
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            return _invalid("(#100) param recipient and message must be objects")
        now = self.now()
        if recipient.get("comment_id"):
            return self._private_reply(channel, node, str(recipient["comment_id"]), now)
        if recipient.get("notification_messages_token"):
            return SimResponse(200, {"recipient_id": _numeric_id(), "message_id": p.messenger_mid()})
        contact_id = str(recipient.get("id") or "")
        last = self._state.last_action.get((channel, node, contact_id))
        if last is None:
            return SimResponse(400, graph_error_body(100, "(#100) No matching user found", subcode=2018001))
        age = now - last
        messaging_type = body.get("messaging_type", "RESPONSE")
        tag = body.get("tag")
        if messaging_type in ("RESPONSE", "UPDATE"):
            if age > STANDARD_WINDOW:
                return _window_error(channel)
        elif messaging_type == "MESSAGE_TAG":
            refusal = self._tag_refusal(channel, str(tag or ""), age, message, now)
            if refusal is not None:
                return refusal
        elif messaging_type == "UTILITY":
            if channel is not Channel.MESSENGER or not isinstance(message.get("template"), dict):
                return _invalid("(#100) Invalid parameter")
        else:
            return _invalid(
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, UTILITY}"
            )
        mid = p.instagram_mid() if channel is Channel.INSTAGRAM else p.messenger_mid()
        return SimResponse(200, {"recipient_id": contact_id, "message_id": mid})

    def _tag_refusal(
        self, channel: Channel, tag: str, age: timedelta, message: dict[str, Any], now: datetime
    ) -> SimResponse | None:
        if not tag:
            return _invalid("(#100) Tag is required for MESSAGE_TAG messaging type")
        if channel is Channel.INSTAGRAM and tag != "HUMAN_AGENT":
            return _invalid("(#100) Invalid parameter")
        if tag in TAGS_RETIRED_2026:
            return _invalid("(#100) Invalid parameter") if now.date() >= RETIRED_2026_ON else None
        if tag in TAGS_RETIRED_2020:
            return _invalid("(#100) Invalid parameter") if now.date() >= RETIRED_2020_ON else None
        if tag == "HUMAN_AGENT":
            return _window_error(channel) if age > HUMAN_AGENT_WINDOW else None
        if tag == "CUSTOMER_FEEDBACK":
            attachment = message.get("attachment")
            payload = attachment.get("payload") if isinstance(attachment, dict) else None
            if not isinstance(payload, dict) or payload.get("template_type") != "customer_feedback":
                return _invalid(
                    "(#100) The CUSTOMER_FEEDBACK tag can only be used with the customer feedback template"
                )
            return _window_error(channel) if age > HUMAN_AGENT_WINDOW else None
        if tag == "NON_PROMOTIONAL_SUBSCRIPTION":
            return SimResponse(
                400,
                graph_error_body(10, "(#10) This Page needs the News Messaging permission.", subcode=2018065),
            )
        return _invalid("(#100) Invalid parameter")

    def _private_reply(self, channel: Channel, node: str, comment_id: str, now: datetime) -> SimResponse:
        comment = self._state.comments.get(comment_id)
        if (
            comment is None
            or comment.account_id != node
            or comment.replied
            or now - comment.at > PRIVATE_REPLY_WINDOW
        ):
            return SimResponse(
                400, graph_error_body(100, "(#100) Invalid comment for private reply", subcode=2534025)
            )
        comment.replied = True
        mid = p.instagram_mid() if channel is Channel.INSTAGRAM else p.messenger_mid()
        return SimResponse(200, {"recipient_id": comment.contact_id, "message_id": mid})

    def _marketing_api(self, body: dict[str, Any]) -> SimResponse:
        delivery = body.get("messenger_delivery_data")
        if (
            not body.get("message_id")
            or not isinstance(delivery, dict)
            or not delivery.get("subscription_token")
        ):
            return _invalid("(#100) message_id and messenger_delivery_data.subscription_token are required")
        return SimResponse(200, {"success": True, "marketing_message_tracking_id": _uuid_like()})

    def _thread_control(self, node: str, edge: str, body: dict[str, Any]) -> SimResponse:
        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or not recipient.get("id"):
            return _invalid("(#100) param recipient must be non-empty.")
        key = (node, str(recipient["id"]))
        if edge == "pass_thread_control":
            if not body.get("target_app_id"):
                return _invalid("(#100) param target_app_id must be non-empty.")
            self._state.thread_owner[key] = str(body["target_app_id"])
        elif edge == "take_thread_control":
            self._state.thread_owner[key] = "self"
        elif edge == "release_thread_control":
            self._state.thread_owner.pop(key, None)
        return SimResponse(200, {"success": True})

    # --- WhatsApp -----------------------------------------------------------------------------

    def _whatsapp(self, node: str, body: dict[str, Any]) -> SimResponse:
        to = str(body.get("to") or "")
        message_type = body.get("type", "text")
        if not to or not isinstance(body.get(message_type), dict):
            return _invalid("(#100) Invalid parameter")
        now = self.now()
        if message_type == "template":
            refusal = self._template_refusal(node, body["template"])
            if refusal is not None:
                return refusal
        else:
            last = self._state.last_action.get((Channel.WHATSAPP, node, to))
            if last is None or now - last > STANDARD_WINDOW:
                return SimResponse(
                    400,
                    graph_error_body(
                        131047,
                        "(#131047) Re-engagement message",
                        details="Message failed to send because more than 24 hours have passed since the "
                        "customer last replied to this number.",
                    ),
                )
        message: dict[str, Any] = {"id": p.wamid()}
        if message_type == "template":
            message["message_status"] = "accepted"
        return SimResponse(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [message],
            },
        )

    def _template_refusal(self, node: str, template: dict[str, Any]) -> SimResponse | None:
        ref = self._accounts.get(node)
        if ref is None or ref.config is None:
            return None  # an unregistered number: the simulator knows no templates to check
        name = str(template.get("name") or "")
        language = template.get("language")
        code = str(language.get("code") or "") if isinstance(language, dict) else ""
        known = ref.config.template(name, code)
        if known is None or known.status in (
            TemplateStatus.REJECTED,
            TemplateStatus.PENDING,
            TemplateStatus.DELETED,
        ):
            return SimResponse(
                404,
                graph_error_body(
                    132001,
                    "(#132001) Template name does not exist in the translation",
                    details=f"template name ({name}) does not exist in {code}",
                ),
            )
        if known.status is TemplateStatus.PAUSED:
            return SimResponse(400, graph_error_body(132015, "(#132015) Template is Paused"))
        if known.status is TemplateStatus.DISABLED:
            return SimResponse(400, graph_error_body(132016, "(#132016) Template is Disabled"))
        return None

    # --- playing the customer ---------------------------------------------------------------------

    def account(self, channel: Channel | str, account: AccountConfig | AccountRef | str) -> AccountRef:
        channel = Channel(channel)
        if isinstance(account, AccountConfig | AccountRef):
            ref = account if isinstance(account, AccountRef) else AccountRef.of(account)
            with self._lock:
                self._accounts.setdefault(ref.account_id, ref)
        else:
            with self._lock:
                ref = self._accounts.get(account) or AccountRef(channel, account, account)
                self._accounts.setdefault(ref.account_id, ref)
        if ref.channel is not channel:
            raise ValueError(
                f"account {ref.account_id} is a {ref.channel.value} account, not {channel.value}"
            )
        return ref

    def customer_writes(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        text: str,
        at: datetime | None = None,
    ) -> WebhookDelivery:
        """The customer sends ``text`` at ``at`` (default: the simulator's now)."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            payload = p.whatsapp_text(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                text,
                at,
                display_phone_number=ref.display_phone_number,
            )
        else:
            payload = p.messenger_message(ref.account_id, contact_id, text, at, obj=_object(ref.channel))
        self._customer_acted(ref, contact_id, at)
        return self.deliver(payload)

    def customer_clicks_ad(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        text: str,
        at: datetime | None = None,
        *,
        ad_id: str = "120210000000042",
    ) -> WebhookDelivery:
        """The first message after a Click-to-Messenger / -Direct / -WhatsApp ad."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            payload = p.whatsapp_ad_message(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                text,
                at,
                ad_id=ad_id,
                display_phone_number=ref.display_phone_number,
            )
        else:
            payload = p.messenger_ad_message(
                ref.account_id, contact_id, text, at, ad_id=ad_id, obj=_object(ref.channel)
            )
        self._customer_acted(ref, contact_id, at)
        return self.deliver(payload)

    def customer_postback(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        title: str = "Get Started",
        payload: str = "GET_STARTED",
        *,
        at: datetime | None = None,
    ) -> WebhookDelivery:
        """A button tap: Messenger/Instagram postback, WhatsApp interactive button reply."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            body = p.whatsapp_button_reply(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                title,
                at,
                reply_id=payload,
                display_phone_number=ref.display_phone_number,
            )
        else:
            body = p.messenger_postback(
                ref.account_id, contact_id, title, payload, at, obj=_object(ref.channel)
            )
        self._customer_acted(ref, contact_id, at)
        return self.deliver(body)

    def customer_reacts(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        target_message_id: str,
        at: datetime | None = None,
        *,
        emoji: str = "\u2764\ufe0f",
    ) -> WebhookDelivery:
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            body = p.whatsapp_reaction(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                target_message_id,
                at,
                emoji=emoji,
                display_phone_number=ref.display_phone_number,
            )
        else:
            body = p.messenger_reaction(
                ref.account_id, contact_id, target_message_id, at, emoji=emoji, obj=_object(ref.channel)
            )
        self._customer_acted(ref, contact_id, at)
        return self.deliver(body)

    def customer_calls(
        self, account: AccountConfig | AccountRef | str, wa_id: str, at: datetime | None = None
    ) -> WebhookDelivery:
        """A WhatsApp user call: opens the customer service window, answered or not (W16)."""
        ref = self.account(Channel.WHATSAPP, account)
        at = self._instant(at)
        payload = p.whatsapp_call(
            ref.webhook_id, ref.account_id, wa_id, at, display_phone_number=ref.display_phone_number
        )
        self._customer_acted(ref, wa_id, at)
        return self.deliver(payload)

    def customer_comments(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        comment_id: str,
        text: str,
        *,
        at: datetime | None = None,
    ) -> WebhookDelivery:
        """A comment on a post: allows one private reply within 7 days, not a full window."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.INSTAGRAM:
            payload = p.instagram_comment(ref.account_id, contact_id, comment_id, text, at)
        elif ref.channel is Channel.MESSENGER:
            payload = p.messenger_comment(ref.account_id, contact_id, comment_id, text, at)
        else:
            raise ValueError("comments exist on Messenger and Instagram only")
        with self._lock:
            self._state.comments[comment_id] = _Comment(ref.channel, ref.account_id, contact_id, at)
        return self.deliver(payload)

    def customer_marketing_preference(
        self, account: AccountConfig | AccountRef | str, wa_id: str, value: str, at: datetime | None = None
    ) -> WebhookDelivery:
        """WhatsApp Stop / Resume of marketing messages (``user_preferences``, W9)."""
        ref = self.account(Channel.WHATSAPP, account)
        at = self._instant(at)
        payload = p.whatsapp_user_preferences(
            ref.webhook_id, ref.account_id, wa_id, value, at, display_phone_number=ref.display_phone_number
        )
        with self._lock:
            if value == "stop":
                self._state.marketing_stopped.add((ref.account_id, wa_id))
            else:
                self._state.marketing_stopped.discard((ref.account_id, wa_id))
        return self.deliver(payload)

    def message_status(
        self,
        account: AccountConfig | AccountRef | str,
        wa_id: str,
        message_wamid: str,
        status: str,
        at: datetime | None = None,
        *,
        error_code: int | None = None,
        error_title: str = "",
    ) -> WebhookDelivery:
        """A WhatsApp status webhook (delivered / read / failed with an error code)."""
        ref = self.account(Channel.WHATSAPP, account)
        payload = p.whatsapp_status(
            ref.webhook_id,
            ref.account_id,
            wa_id,
            message_wamid,
            self._instant(at),
            status=status,
            display_phone_number=ref.display_phone_number,
            error_code=error_code,
            error_title=error_title,
        )
        return self.deliver(payload)

    def customer_opts_in(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        at: datetime | None = None,
        *,
        token: str | None = None,
    ) -> WebhookDelivery:
        """A marketing opt-in: Messenger/Instagram ``messaging_optins`` with a token, WhatsApp Resume."""
        ref = self.account(channel, account)
        if ref.channel is Channel.WHATSAPP:
            return self.customer_marketing_preference(ref, contact_id, "resume", at)
        at = self._instant(at)
        payload = p.messenger_marketing_opt_in(ref.account_id, contact_id, token or _marketing_token(), at)
        if ref.channel is Channel.INSTAGRAM:
            payload["object"] = p.INSTAGRAM_OBJECT
        return self.deliver(payload)

    def messenger_status(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        status: str,
        at: datetime | None = None,
        *,
        message_ids: list[str] | None = None,
    ) -> WebhookDelivery:
        """Messenger/Instagram ``message_deliveries`` (delivered, with mids) or ``message_reads``."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if status == "delivered":
            payload = p.messenger_delivery(ref.account_id, contact_id, message_ids or [], at)
        elif status == "read":
            payload = p.messenger_read(ref.account_id, contact_id, at)
        else:
            raise ValueError("Messenger and Instagram report 'delivered' and 'read'; 'failed' is WhatsApp's")
        payload["object"] = _object(ref.channel)
        return self.deliver(payload)

    def template_status_update(
        self,
        account: AccountConfig | AccountRef | str,
        template_name: str,
        event: str,
        at: datetime | None = None,
        *,
        language: str | None = None,
        reason: str = "NONE",
    ) -> WebhookDelivery:
        """Meta's ``message_template_status_update`` for one of the number's templates (W12)."""
        ref = self.account(Channel.WHATSAPP, account)
        known = next(
            (t for t in (ref.config.templates if ref.config else []) if t.name == template_name), None
        )
        payload = p.whatsapp_template_status_update(
            ref.webhook_id,
            template_name,
            language or (known.language if known else "en_US"),
            event.upper(),
            self._instant(at),
            reason=reason,
        )
        return self.deliver(payload)

    def policy_enforcement(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        action: str,
        at: datetime | None = None,
        *,
        reason: str = "",
    ) -> WebhookDelivery:
        """Meta warns, blocks or unblocks a Page's (or Instagram account's) messaging."""
        ref = self.account(channel, account)
        if ref.channel is Channel.WHATSAPP:
            raise ValueError("messaging_policy_enforcement is a Messenger/Instagram webhook")
        payload = p.messenger_policy_enforcement(
            ref.account_id, self._instant(at), action=action, reason=reason, obj=_object(ref.channel)
        )
        return self.deliver(payload)

    def deliver(self, payload: dict[str, Any]) -> WebhookDelivery:
        """Serialise like Meta, sign with the app secret and POST to the webhook URL (if any)."""
        body = p.serialize(payload)
        delivery = WebhookDelivery(payload=payload, body=body, signature=p.signature(body, self.app_secret))
        if self.webhook_url:
            response = self._http.post(
                self.webhook_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": delivery.signature,
                    "X-Hub-Signature": p.signature_sha1(body, self.app_secret),
                    "User-Agent": "facebookexternalua",
                },
            )
            delivery.status_code = response.status_code
            delivery.response_text = response.text
        with self._lock:
            self._state.webhooks.append(delivery)
        return delivery

    def _customer_acted(self, ref: AccountRef, contact_id: str, at: datetime) -> None:
        key = (ref.channel, ref.account_id, contact_id)
        with self._lock:
            previous = self._state.last_action.get(key)
            if previous is None or at > previous:  # the window runs from the latest action
                self._state.last_action[key] = at

    def _instant(self, at: datetime | None) -> datetime:
        if at is None:
            return self.now()
        if at.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        return at.astimezone(UTC)


# --- helpers ----------------------------------------------------------------------------------


def _marketing_token() -> str:
    return "mmt_" + secrets.token_hex(16)


def _object(channel: Channel) -> str:
    return p.INSTAGRAM_OBJECT if channel is Channel.INSTAGRAM else p.PAGE_OBJECT


def _window_error(channel: Channel) -> SimResponse:
    if channel is Channel.INSTAGRAM:
        return SimResponse(
            400,
            graph_error_body(
                10,
                "(#10) This message is sent outside of allowed window. You can only send messages within "
                "24 hours of receiving the customer's message.",
                subcode=2534022,
            ),
        )
    return SimResponse(
        400,
        graph_error_body(
            10,
            "(#10) This message is sent outside of allowed window. Learn more about the new policy here: "
            "https://developers.facebook.com/docs/messenger-platform/policy-overview",
            subcode=2018278,
        ),
    )


def _invalid(message: str) -> SimResponse:
    return SimResponse(400, graph_error_body(100, message))


def _unsupported(method: str, node: str | None) -> SimResponse:
    return SimResponse(
        400,
        graph_error_body(
            100,
            f"Unsupported {method.lower()} request. Object with ID '{node or ''}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            subcode=33,
            error_type="GraphMethodException",
        ),
    )


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _node_edge(path: str) -> tuple[str | None, str | None]:
    """``/v25.0/{node}/{edge}`` → (node, edge); anything else → (None, None)."""
    parts = [part for part in path.split("/") if part]
    if len(parts) < 2 or not parts[0].startswith("v"):
        return None, None
    return parts[1], (parts[2] if len(parts) > 2 else None)


def _recipient(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if body.get("to"):
        return str(body["to"])
    recipient = body.get("recipient")
    if isinstance(recipient, dict):
        for key in ("id", "comment_id", "notification_messages_token"):
            if recipient.get(key):
                return str(recipient[key])
    return None


def _numeric_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def _uuid_like() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
