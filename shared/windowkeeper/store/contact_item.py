"""The stored contact item and its translation to the engine's ``ContactState``.

Attribute names here are the table's attribute names. Instants are stored as integer epoch
milliseconds (``*_ms``) so that conditional updates can compare them ("only move forward") and
so that Messenger's millisecond timestamps survive unchanged.

Who writes what:

* the webhook (``windowkeeper.ingest``) moves ``last_customer_action_ms`` forward, sets entry point,
  consent, unreachability, comments and conversation ownership from handover events, and moves the
  ``due_*`` attributes the minute sweep reads;
* the send path (``windowkeeper.sending``) appends to ``outbound`` and records Meta's verdicts
  (window closed early, unreachable, back-off, marketing stop), and handover by agents;
* the scheduler clears ``due_*`` once a notice is published and writes the next one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.instants import from_ms
from windowkeeper.policy.model import (
    Channel,
    Comment,
    ConsentScope,
    ContactState,
    CustomerActionKind,
    EntryPoint,
    HumanOwner,
    MarketingOptIn,
    OutboundRecord,
    Path,
    TemplateCategory,
)
from windowkeeper.store.keys import STATE_SK, contact_pk

OUTBOUND_KEPT = 50  # recent sends kept on the item: enough for every per-window count a rule needs

# What a handover depends on. ``routing_changed_ms`` is the webhook's instant for Meta's routing
# events (its guard), so a routing event landing mid-request is noticed too.
OWNER_ATTRIBUTES = (
    "owner",
    "owner_agent_id",
    "owner_since_ms",
    "owner_last_activity_ms",
    "routing_owner_app_id",
    "routing_changed_ms",
    "routing_app_changed_ms",
    "routing_explicit_ms",
)
MARKETING_OPT_INS_KEPT = 10  # newest opt-ins the engine sees; older ones add nothing to a decision
OPT_IN_SET = "marketing_opt_in_set"  # the webhook's opt-ins: a string set, added to (never read first)


def consent_attribute(scope: ConsentScope, opt_out: bool) -> str:
    """The newest instant of one consent fact: ``consent_<scope>_out_ms`` / ``consent_<scope>_in_ms``.

    Each (scope, polarity) keeps its own instant and only ever moves forward, so every writer
    (webhook, send path, agents) can record a fact without reading the others, in any order. A
    scope is opted out when its newest opt-out is at least as new as its newest opt-in (a tie
    keeps the opt-out): an opt-out is only ever undone by a newer opt-in of the same scope.
    """
    return f"consent_{scope.value}_{'out' if opt_out else 'in'}_ms"


def encode_opt_in(opt_in: StoredOptIn) -> str:
    """One element of ``marketing_opt_in_set``: ``<opted_in_ms>|<purpose>|<token>``."""
    return f"{opt_in.opted_in_ms}|{opt_in.purpose}|{opt_in.token or ''}"


def decode_opt_in(element: str) -> StoredOptIn | None:
    parts = element.split("|", 2)
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    return StoredOptIn(purpose=parts[1] or "marketing", token=parts[2] or None, opted_in_ms=int(parts[0]))


class StoredOutbound(BaseModel):
    model_config = ConfigDict(extra="ignore")

    at_ms: int
    path: Path
    tag: str | None = None
    template_category: TemplateCategory | None = None
    by_human: bool = False


class StoredOptIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    purpose: str = "marketing"
    token: str | None = None
    opted_in_ms: int


class ContactRecord(BaseModel):
    """One ``STATE`` item. Unknown attributes are ignored so older code reads newer items."""

    model_config = ConfigDict(extra="ignore")

    pk: str
    sk: str = STATE_SK
    tenant_id: str
    channel: Channel
    account_id: str
    contact_id: str
    display_name: str | None = None

    # The window: moved only forward by the webhook (conditional update on this attribute).
    last_customer_action_ms: int | None = None
    last_customer_action_kind: CustomerActionKind | None = None
    last_inbound_event_id: str | None = None  # mid / wamid of the newest customer action
    entry_point: EntryPoint | None = None
    ad_conversation_started_ms: int | None = None
    pending_comment_id: str | None = None
    pending_comment_ms: int | None = None
    pending_comment_replied: bool = False
    subscribed: bool = False
    consent_on_record: bool = False  # set once, never unset: no guard, so any order gives the same

    # Consent, one instant per fact (``consent_attribute``): the newest opt-out and the newest
    # opt-in of each scope. ``opted_out`` and ``consent_changed_ms`` are the older single-guard
    # form, still read: a listed scope counts as an opt-out at ``consent_changed_ms``.
    consent_all_out_ms: int | None = None
    consent_all_in_ms: int | None = None
    consent_marketing_out_ms: int | None = None
    consent_marketing_in_ms: int | None = None
    consent_outside_window_out_ms: int | None = None
    consent_outside_window_in_ms: int | None = None
    opted_out: list[ConsentScope] = Field(default_factory=list)
    consent_changed_ms: int | None = None
    marketing_opt_ins: list[StoredOptIn] = Field(default_factory=list)  # agents' (and older) opt-ins
    marketing_opt_in_set: list[str] = Field(default_factory=list)  # the webhook's (``encode_opt_in``)
    # Entry point with its own instant (newest wins), apart from the window's guard.
    entry_point_ms: int | None = None

    recipient_country_code: str | None = None
    recipient_region: str | None = None
    whatsapp_user_id: str | None = None  # business-scoped user id (BSUID), when Meta sends one
    marketing_backoff_until_ms: int | None = None
    unreachable_since_ms: int | None = None
    unreachable_reason: str | None = None
    window_closed_early_ms: int | None = None

    outbound: list[StoredOutbound] = Field(default_factory=list)

    # Conversation ownership (bot -> human -> bot handover).
    owner: Literal["bot", "human"] = "bot"
    owner_agent_id: str | None = None
    owner_since_ms: int | None = None
    owner_last_activity_ms: int | None = None
    routing_owner_app_id: str | None = None  # Meta conversation routing: the app holding the thread
    routing_changed_ms: int | None = None  # newest Meta handover/inbox event applied (webhook's guard)
    routing_explicit_ms: int | None = None  # newest Meta take/pass/release: owner_since_ms's guard
    routing_app_changed_ms: int | None = None  # newest take/pass/release: routing_owner_app_id's guard

    # Minute sweep (sparse GSI "due-index"): the next notice to publish for this contact.
    due_bucket: str | None = None
    due_at_ms: int | None = None
    due_kind: str | None = None
    due_window_ms: int | None = None  # last_customer_action_ms the notice was computed from

    # Account listing (GSI "account-index"; GSI "inbox-index" on last_activity_ms).
    account_shard: str | None = None
    # The newest customer activity of any kind the inbox lists (a message, a comment...): set
    # with the window and with a comment, so comment-only contacts are in "inbox-index".
    last_activity_ms: int | None = None
    # No User Profile API lookup for the name before this instant (the last one gave nothing).
    profile_retry_after_ms: int | None = None

    # The inbox's preview of the newest message either way (``store.message_preview``): the
    # webhook's one contact write and the send path set it, newest ``last_message_key`` wins.
    last_message_key: str | None = None
    last_message_ms: int | None = None
    last_message_direction: Literal["in", "out"] | None = None
    last_message_kind: str | None = None
    last_message_text: str | None = None

    version: int = 0

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ContactRecord:
        return cls.model_validate(plain(item))

    def consent_instant(self, scope: ConsentScope, opt_out: bool) -> int | None:
        value: int | None = getattr(self, consent_attribute(scope, opt_out))
        if value is None and opt_out and scope in self.opted_out:
            return self.consent_changed_ms or 0  # the older list: an opt-out as of its last change
        return value

    def scopes_opted_out(self) -> frozenset[ConsentScope]:
        """The scopes opted out now: per scope, the newest opt-out is at least the newest opt-in."""
        out = set()
        for scope in ConsentScope:
            out_ms = self.consent_instant(scope, True)
            in_ms = self.consent_instant(scope, False)
            if out_ms is not None and (in_ms is None or out_ms >= in_ms):
                out.add(scope)
        return frozenset(out)

    def consent_changed_at_ms(self) -> int | None:
        """The newest consent fact of any scope."""
        instants = [self.consent_changed_ms] + [
            self.consent_instant(scope, out) for scope in ConsentScope for out in (True, False)
        ]
        return max((i for i in instants if i is not None), default=None)

    def all_marketing_opt_ins(self) -> list[StoredOptIn]:
        """Every opt-in on record (agents' list and the webhook's set), oldest first, newest kept."""
        found = {(o.opted_in_ms, o.purpose, o.token): o for o in self.marketing_opt_ins}
        for element in self.marketing_opt_in_set:
            decoded = decode_opt_in(element)
            if decoded is not None:
                found.setdefault((decoded.opted_in_ms, decoded.purpose, decoded.token), decoded)
        ordered = sorted(found.values(), key=lambda o: (o.opted_in_ms, o.purpose, o.token or ""))
        return ordered[-MARKETING_OPT_INS_KEPT:]

    def to_state(self) -> ContactState:
        pending = None
        if self.pending_comment_id and self.pending_comment_ms is not None:
            pending = Comment(
                comment_id=self.pending_comment_id,
                at=_dt(self.pending_comment_ms),
                replied=self.pending_comment_replied,
            )
        return ContactState(
            channel=self.channel,
            account_id=self.account_id,
            contact_id=self.contact_id,
            last_customer_action_at=from_ms(self.last_customer_action_ms),
            last_customer_action_kind=self.last_customer_action_kind,
            entry_point=self.entry_point,
            ad_conversation_started_at=from_ms(self.ad_conversation_started_ms),
            pending_comment=pending,
            subscribed=self.subscribed,
            consent_on_record=self.consent_on_record,
            opted_out=self.scopes_opted_out(),
            marketing_opt_ins=tuple(
                MarketingOptIn(purpose=o.purpose, token=o.token, opted_in_at=_dt(o.opted_in_ms))
                for o in self.all_marketing_opt_ins()
            ),
            recipient_country_code=self.recipient_country_code,
            recipient_region=self.recipient_region,
            marketing_backoff_until=from_ms(self.marketing_backoff_until_ms),
            unreachable_since=from_ms(self.unreachable_since_ms),
            unreachable_reason=self.unreachable_reason,
            window_closed_early_at=from_ms(self.window_closed_early_ms),
            outbound=tuple(
                OutboundRecord(
                    at=_dt(o.at_ms),
                    path=o.path,
                    tag=o.tag,
                    template_category=o.template_category,
                    by_human=o.by_human,
                )
                for o in self.outbound
            ),
            human_owner=self.human_owner(),
        )

    def human_owner(self) -> HumanOwner | None:
        """The person holding the conversation as stored (idle return is the engine's to judge)."""
        if self.owner != "human":
            return None
        return HumanOwner(
            agent_id=self.owner_agent_id,
            since=from_ms(self.owner_since_ms),
            last_activity_at=from_ms(self.owner_last_activity_ms),
        )


def new_contact_state(channel: Channel, account_id: str, contact_id: str) -> ContactState:
    """The state of a contact we have never heard from (the engine answers never_contacted)."""
    return ContactState(channel=channel, account_id=account_id, contact_id=contact_id)


def contact_item_key(channel: Channel, account_id: str, contact_id: str) -> dict[str, str]:
    return {"pk": contact_pk(channel, account_id, contact_id), "sk": STATE_SK}


def _dt(epoch_ms: int) -> datetime:
    value = from_ms(epoch_ms)
    assert value is not None
    return value


_SCALARS = frozenset({str, int, bool, float, type(None), bytes})


def plain(value: Any) -> Any:
    """boto3's resource layer returns Decimal for numbers and set for SS; make them plain."""
    # Exact-type checks first: every contact item passes through here on each write, and most of
    # its values are strings and ints (isinstance against a union is several times slower).
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [plain(v) for v in value]
    return value
