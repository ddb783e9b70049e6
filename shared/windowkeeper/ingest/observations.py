"""What one webhook event tells us about one contact, in the table's terms (no Meta shapes left).

The normaliser (``normalize.py``) turns each Meta event into an ``Observation``; ``delta.py``
collapses all observations of one contact in a POST into one ``ContactDelta``; ``store/contact_writer.py``
turns that into a single conditional ``UpdateItem``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind, EntryPoint
from windowkeeper.store.template_records import TemplateChange

OwnerKind = Literal["bot", "human"]


@dataclass(frozen=True, order=True)
class ContactKey:
    channel: Channel
    account_id: str
    contact_id: str


@dataclass(frozen=True)
class ConsentChange:
    """Scopes added to / removed from ``opted_out``; an opt-in may bring a Messenger token."""

    source: str  # keyword, user_preferences, error_131050, marketing_optin, marketing_stop...
    opt_out: frozenset[ConsentScope] = frozenset()
    opt_in: frozenset[ConsentScope] = frozenset()
    marketing_opt_in: bool = False  # file a marketing opt-in (token may be None)
    token: str | None = None
    consent_on_record: bool = False  # the customer's own words are consent on record (START)


@dataclass(frozen=True)
class LogLine:
    """A conversation-log item (``MSG#...``) for the agent console."""

    message_id: str
    direction: Literal["in", "out"]
    kind: str
    text: str | None
    sender: str


@dataclass(frozen=True)
class RoutingChange:
    """Conversation routing / handover as Meta reports it."""

    owner_app_id: str | None  # the app now holding the thread; None = released (idle)
    owner: OwnerKind | None  # None: an app that is neither us nor Meta's inbox holds it
    human_activity: bool = False  # a person typed in Meta's inbox (Page Inbox echo)


@dataclass(frozen=True)
class Observation:
    key: ContactKey
    tenant_id: str
    event_id: str  # stable across Meta's retries: mid / wamid / hash of the event
    kind: str  # message, postback, echo, delivery, status, ... (metrics and bus detail)
    at_ms: int  # the event's own timestamp, epoch ms
    action: CustomerActionKind | None = None  # the customer did something
    opens_window: bool = False  # ... and it opens or renews the messaging window
    standby: bool = False  # Messenger/IG: our app is not the thread owner
    entry_point: EntryPoint | None = None
    ad_started: bool = False  # first message after a Click-to-Messenger / Click-to-Direct ad
    comment_id: str | None = None  # a comment that may get one private reply
    consent: ConsentChange | None = None
    backoff_until_ms: int | None = None  # WhatsApp 131049
    closed_early: bool = False  # WhatsApp 131047
    unreachable_reason: str | None = None  # WhatsApp 131026
    routing: RoutingChange | None = None
    country_code: str | None = None
    whatsapp_user_id: str | None = None
    display_name: str | None = None
    log: LogLine | None = None
    detail_type: str | None = None  # the bus event to publish, if any
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def changes_state(self) -> bool:
        return bool(
            self.opens_window
            or self.action is not None
            or self.comment_id
            or self.consent
            or self.backoff_until_ms is not None
            or self.closed_early
            or self.unreachable_reason
            or self.routing
        )


@dataclass(frozen=True)
class EntryRejection:
    """An entry (or WhatsApp change) we refuse: unknown account, or a shape we cannot parse."""

    reason: str  # unknown_account | schema_invalid
    webhook_object: str
    entry_id: str
    detail: str = ""


@dataclass(frozen=True)
class PageNotice:
    """Meta's ``messaging_policy_enforcement`` for an account: ``warning``, ``block`` or ``unblock``."""

    account: AccountConfig
    action: str | None
    reason: str | None
    at_ms: int


@dataclass(frozen=True)
class TemplateNotice:
    """Meta's word on a template of a WABA: it holds for every number of the WABA we serve."""

    accounts: tuple[AccountConfig, ...]
    change: TemplateChange


@dataclass
class Normalized:
    events: int = 0  # Meta events seen (each messaging item, comment, WhatsApp message/status/...)
    accounts: dict[tuple[Channel, str], AccountConfig] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    rejections: list[EntryRejection] = field(default_factory=list)
    unknown_kinds: list[str] = field(default_factory=list)  # kept (quarantined) and counted
    ignored: int = 0  # known events with nothing to do (our own echoes, policy notices...)
    page_notices: list[PageNotice] = field(default_factory=list)
    template_notices: list[TemplateNotice] = field(default_factory=list)
