"""What a webhook POST writes on a contact item: the plan behind one conditional ``UpdateItem``.

``store.contact_writer`` writes the plan (one ``UpdateItem`` per contact per POST, no read first);
``asof`` uses the same plan to fold a contact's journal. No I/O here.

The delta is split into parts. Identity attributes (keys, tenant, shard, ``subscribed``...) are
always safe to write. Every other part is *guarded* by the stored instant it would move:

===================  =============================  =========================================
part                 guard (must be older/absent)   attributes
===================  =============================  =========================================
window               ``last_customer_action_ms``    kind, event id, ``due_*``
entry point          ``entry_point_ms``             ``entry_point``
ad start             ``ad_conversation_started_ms`` itself
consent, per fact    ``consent_<scope>_<out|in>_ms`` itself (one guard per scope and polarity)
opt-in tokens        none: ``ADD`` to a string set  ``marketing_opt_in_set``
consent on record    none: only ever set true       ``consent_on_record``
backoff              ``marketing_backoff_until_ms`` itself
closed early         ``window_closed_early_ms``     itself
unreachable          ``unreachable_since_ms``       reason
comment              ``pending_comment_ms``         comment id, ``pending_comment_replied=false``
owner                ``routing_changed_ms``         owner, last activity (newest event naming one)
thread app           ``routing_app_changed_ms``     ``routing_owner_app_id`` (take / pass / release)
owner since          ``routing_explicit_ms`` / min  ``owner_since_ms`` (see ``owner_since``)
inbox activity       ``last_activity_ms``           itself (GSI ``inbox-index``'s range key)
message preview      ``last_message_key``           ``last_message_*`` (``store.message_preview``)
===================  =============================  =========================================

Consent is kept per fact with its own instant, never as one list behind one guard: an older STOP
delivered after a newer, unrelated consent event still lands, and an opt-out is only undone by
a newer opt-in of the same scope (``store.contacts.consent_attribute``), whatever the order.

The first attempt is blind: all parts, every guard ANDed. When a guard fails, DynamoDB hands
back the stored item (``ReturnValuesOnConditionCheckFailure=ALL_OLD``); the parts that are still
newer are recomputed against it and written in one more attempt (a retried, duplicate or late
event costs one failed conditional write and, if anything is still news, one more).
``ReturnValues=ALL_NEW`` gives the item after the write: who owns the conversation, and the full
state the ``due_*`` notice is checked against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from windowkeeper.ingest.delta import ContactDelta
from windowkeeper.store.contact_item import OPT_IN_SET, ContactRecord, consent_attribute, encode_opt_in
from windowkeeper.store.keys import account_shard_key, contact_pk
from windowkeeper.store.message_preview import is_newer_preview

DUE_ATTRIBUTES = ("due_bucket", "due_at_ms", "due_kind", "due_window_ms")

Item = dict[str, Any]
DueFor = Callable[[ContactRecord], dict[str, Any] | None]
"""The ``due_*`` attributes for a contact's state (None: no notice to queue)."""


@dataclass
class Part:
    set: dict[str, Any] = field(default_factory=dict)
    set_if_absent: dict[str, Any] = field(default_factory=dict)
    append: dict[str, list[Any]] = field(default_factory=dict)
    add: dict[str, frozenset[str]] = field(default_factory=dict)  # DynamoDB ADD to a string set
    remove: tuple[str, ...] = ()
    newer: dict[str, int | str] = field(default_factory=dict)  # attribute must be absent or < value
    older: dict[str, int] = field(default_factory=dict)  # attribute must be absent or > value
    equals: dict[str, Any] = field(default_factory=dict)  # attribute must equal value (None: absent)

    def merge(self, other: Part) -> None:
        self.set.update(other.set)
        self.set_if_absent.update(other.set_if_absent)
        self.append.update(other.append)
        self.add.update(other.add)
        self.remove = (*self.remove, *other.remove)
        self.newer.update(other.newer)
        self.older.update(other.older)
        self.equals.update(other.equals)

    @property
    def empty(self) -> bool:
        return not (self.set or self.set_if_absent or self.append or self.add or self.remove)


@dataclass(frozen=True)
class WriteResult:
    item: Item | None  # the contact item after this POST (None: nothing written, nothing known)
    writes: int  # UpdateItem calls made (failed conditional ones included: they cost capacity)
    window_applied: bool  # the window moved forward (a new ``due_*`` notice was queued)
    entry_applied: bool = False  # an entry point or ad start landed (it may move the notice)


def _stored(old: Item | None, attribute: str) -> Any:
    return None if old is None else old.get(attribute)


def _newer(old: Item | None, attribute: str, at_ms: int) -> bool:
    stored = _stored(old, attribute)
    return stored is None or int(stored) < at_ms


class ContactPlanner:
    """The update a ``ContactDelta`` makes on a contact item, planned against what is stored."""

    def __init__(self, due_for: DueFor) -> None:
        self.due_for = due_for

    def identity(self, delta: ContactDelta, old: Item | None) -> Part:
        key = delta.key
        values: dict[str, Any] = {
            "tenant_id": delta.tenant_id,
            "channel": key.channel.value,
            "account_id": key.account_id,
            "contact_id": key.contact_id,
            "account_shard": account_shard_key(key.channel, key.account_id, key.contact_id),
            "recipient_country_code": delta.country_code,
            "whatsapp_user_id": delta.whatsapp_user_id,
            "display_name": delta.display_name,
        }
        if delta.customer_event:
            values["subscribed"] = True
        # On a retry only what differs is worth writing (identity attributes rarely do).
        return Part(set={k: v for k, v in values.items() if v is not None and _stored(old, k) != v})

    def window(self, delta: ContactDelta, old: Item | None, due: dict[str, Any] | None) -> Part | None:
        change = delta.window
        if change is None or not _newer(old, "last_customer_action_ms", change.at_ms):
            return None
        part = Part(
            set={
                "last_customer_action_ms": change.at_ms,
                "last_customer_action_kind": change.kind.value,
                "last_inbound_event_id": change.event_id,
            },
            newer={"last_customer_action_ms": change.at_ms},
        )
        if due:
            part.set.update(due)
        else:
            part.remove = DUE_ATTRIBUTES
        return part

    def entry(self, delta: ContactDelta, old: Item | None) -> Part | None:
        """Entry point and ad start, each guarded by its own instant, not by the window's."""
        change = delta.entry
        if change is None:
            return None
        part = Part()
        if change.entry_point is not None and _newer(old, "entry_point_ms", change.entry_point[0]):
            at_ms, entry_point = change.entry_point
            part.set.update({"entry_point": entry_point.value, "entry_point_ms": at_ms})
            part.newer["entry_point_ms"] = at_ms
        started = change.ad_started_ms
        if started is not None and _newer(old, "ad_conversation_started_ms", started):
            part.set["ad_conversation_started_ms"] = started
            part.newer["ad_conversation_started_ms"] = started
        return part if not part.empty else None

    def consent(self, delta: ContactDelta, old: Item | None) -> Part | None:
        change = delta.consent
        if change is None:
            return None
        part = Part()
        for opt_out, facts in ((True, change.opted_out_ms), (False, change.opted_in_ms)):
            for scope, at_ms in facts:
                attribute = consent_attribute(scope, opt_out)
                if _newer(old, attribute, at_ms):
                    part.set[attribute] = at_ms
                    part.newer[attribute] = at_ms
        if change.opt_ins:
            stored = set(_stored(old, "marketing_opt_in_set") or [])
            new = {encode_opt_in(o) for o in change.opt_ins} - stored
            if new:
                part.add[OPT_IN_SET] = frozenset(new)
        if change.consent_on_record and _stored(old, "consent_on_record") is not True:
            part.set["consent_on_record"] = True
        return part if not part.empty else None

    def instants(self, delta: ContactDelta, old: Item | None) -> Part:
        part = Part()
        if delta.backoff_until_ms is not None and _newer(
            old, "marketing_backoff_until_ms", delta.backoff_until_ms
        ):
            part.set["marketing_backoff_until_ms"] = delta.backoff_until_ms
            part.newer["marketing_backoff_until_ms"] = delta.backoff_until_ms
        if delta.closed_early_ms is not None and _newer(old, "window_closed_early_ms", delta.closed_early_ms):
            part.set["window_closed_early_ms"] = delta.closed_early_ms
            part.newer["window_closed_early_ms"] = delta.closed_early_ms
        if delta.unreachable is not None and _newer(old, "unreachable_since_ms", delta.unreachable[0]):
            since, reason = delta.unreachable
            part.set.update({"unreachable_since_ms": since, "unreachable_reason": reason})
            part.newer["unreachable_since_ms"] = since
        if delta.comment is not None and _newer(old, "pending_comment_ms", delta.comment[0]):
            at_ms, comment_id = delta.comment
            part.set.update(
                {
                    "pending_comment_ms": at_ms,
                    "pending_comment_id": comment_id,
                    "pending_comment_replied": False,
                }
            )
            part.newer["pending_comment_ms"] = at_ms
        return part

    def routing(self, delta: ContactDelta, old: Item | None) -> Part | None:
        """Who owns the conversation (newest event that says) and the app holding Meta's thread."""
        change = delta.routing
        if change is None:
            return None
        part = Part()
        owner_at = change.owner_at_ms
        if owner_at is not None and _newer(old, "routing_changed_ms", owner_at):
            part.set["routing_changed_ms"] = owner_at
            part.newer["routing_changed_ms"] = owner_at
            if change.owner == "bot":
                part.set["owner"] = "bot"
                part.remove = ("owner_agent_id", "owner_last_activity_ms")
            else:
                part.set.update({"owner": "human", "owner_last_activity_ms": owner_at})
        app_at = change.app_changed_ms
        if app_at is not None and _newer(old, "routing_app_changed_ms", app_at):
            part.set["routing_app_changed_ms"] = app_at
            part.newer["routing_app_changed_ms"] = app_at
            if change.owner_app_id is None:
                part.remove = (*part.remove, "routing_owner_app_id")
            else:
                part.set["routing_owner_app_id"] = change.owner_app_id
        return part if not part.empty else None

    def owner_since(self, delta: ContactDelta, old: Item | None) -> Part | None:
        """``owner_since_ms``: the newest explicit handover, else the first activity of a person.

        Its own guards (``routing_explicit_ms`` moves forward; an activity only lowers it while no
        explicit handover is known), so a late or repeated handover event lands the same way.
        """
        change = delta.routing
        if change is None:
            return None
        explicit = change.explicit_ms
        if explicit is not None:
            if not _newer(old, "routing_explicit_ms", explicit):
                return None
            return Part(
                set={"owner_since_ms": explicit, "routing_explicit_ms": explicit},
                newer={"routing_explicit_ms": explicit},
            )
        first = change.first_activity_ms
        if first is None or _stored(old, "routing_explicit_ms") is not None:
            return None
        stored = _stored(old, "owner_since_ms")
        if stored is not None and int(stored) <= first:
            return None
        return Part(
            set={"owner_since_ms": first},
            older={"owner_since_ms": first},
            equals={"routing_explicit_ms": None},
        )

    def inbox(self, delta: ContactDelta, old: Item | None) -> Part | None:
        """The inbox's sort instant and message preview, each on its own guard."""
        part = Part()
        activity = delta.activity_ms
        if activity is not None and _newer(old, "last_activity_ms", activity):
            part.set["last_activity_ms"] = activity
            part.newer["last_activity_ms"] = activity
        preview = delta.preview
        if preview is not None and is_newer_preview(_stored(old, "last_message_key"), preview.key):
            values = preview.attributes()
            part.set.update(values)
            part.newer["last_message_key"] = preview.key  # a string: DynamoDB compares it as one
            if "last_message_text" not in values:
                part.remove = ("last_message_text",)
        return part if not part.empty else None

    def plan(self, delta: ContactDelta, old: Item | None, due: dict[str, Any] | None) -> tuple[Part, bool]:
        """The whole update against ``old`` (None: blind); also whether the window part is in it."""
        part = self.identity(delta, old)
        window = self.window(delta, old, due)
        for guarded in (
            window,
            self.entry(delta, old),
            self.consent(delta, old),
            self.instants(delta, old),
            self.routing(delta, old),
            self.owner_since(delta, old),
            self.inbox(delta, old),
        ):
            if guarded is not None:
                part.merge(guarded)
        return part, window is not None

    def projected(self, delta: ContactDelta) -> ContactRecord:
        """The contact as this POST alone describes it: what the first write's notice is based on."""
        window = delta.window
        assert window is not None
        return ContactRecord(
            pk=contact_pk(delta.key.channel, delta.key.account_id, delta.key.contact_id),
            tenant_id=delta.tenant_id,
            channel=delta.key.channel,
            account_id=delta.key.account_id,
            contact_id=delta.key.contact_id,
            last_customer_action_ms=window.at_ms,
            last_customer_action_kind=window.kind,
            entry_point=delta.entry.entry_point[1] if delta.entry and delta.entry.entry_point else None,
            ad_conversation_started_ms=delta.entry.ad_started_ms if delta.entry else None,
        )


# What a contact's next notice depends on: ``next_due`` reads the key, channel and window instant,
# ``window_closings`` the action kind, entry point, ad start, pending comment and early close. When
# the stored item matches the POST's projection on all of them, the notice already written is the
# one the full state gives, and computing it a second time is skipped (most writes).
_DUE_INPUTS: tuple[tuple[str, Any], ...] = (
    ("pk", None),
    ("channel", None),
    ("last_customer_action_ms", None),
    ("last_customer_action_kind", None),
    ("entry_point", None),
    ("ad_conversation_started_ms", None),
    ("pending_comment_id", None),
    ("pending_comment_ms", None),
    ("pending_comment_replied", False),
    ("window_closed_early_ms", None),
)


def same_due_inputs(projected: ContactRecord, item: Item) -> bool:
    return all(item.get(name, default) == getattr(projected, name) for name, default in _DUE_INPUTS)
