"""The simulator's records (requests, faults, deliveries), its state and its clock."""

from __future__ import annotations

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
    # An answer that is not JSON (SNS's query API answers XML): sent as is, with this type.
    text: str | None = None
    content_type: str = "application/json; charset=UTF-8"


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
class SimComment:
    channel: Channel
    account_id: str
    contact_id: str
    at: datetime
    replied: bool = False


@dataclass
class _State:
    last_action: dict[tuple[Channel, str, str], datetime] = field(default_factory=dict)
    comments: dict[str, SimComment] = field(default_factory=dict)
    marketing_stopped: set[tuple[str, str]] = field(default_factory=set)
    thread_owner: dict[tuple[str, str], str] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    webhooks: list[WebhookDelivery] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Template statuses Meta changed since registration (played status updates), by (number, name, language).
    template_status: dict[tuple[str, str, str], TemplateStatus] = field(default_factory=dict)


class SimulatorBase:
    """The simulator's state, clock, configuration and inspection; ``Simulator`` adds the Graph
    API (``graph_api.GraphApi``) and the customers it plays (``customers.CustomerPlay``)."""

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
