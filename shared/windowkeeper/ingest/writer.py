"""The contact-state writer: one conditional ``UpdateItem`` per contact per POST, no read first.

The delta is split into parts. Identity attributes (keys, tenant, shard, ``subscribed``...) are
always safe to write. Every other part is *guarded* by the stored instant it would move:

===============  =============================  =============================================
part             guard (must be older/absent)   attributes
===============  =============================  =============================================
window           ``last_customer_action_ms``    kind, event id, entry point, ad start, ``due_*``
consent          ``consent_changed_ms``         ``opted_out`` (+ equals the stored list),
                                                ``marketing_opt_ins``, ``consent_on_record``
backoff          ``marketing_backoff_until_ms`` itself
closed early     ``window_closed_early_ms``     itself
unreachable      ``unreachable_since_ms``       reason
comment          ``pending_comment_ms``         comment id, ``pending_comment_replied=false``
routing          ``routing_changed_ms``         owner, owner instants, ``routing_owner_app_id``
===============  =============================  =============================================

The first attempt is blind: all parts, every guard ANDed, and ``opted_out`` assumed absent (the
overwhelmingly common case; it is a list that the send path and agents also write, so it is
replaced whole, never patched). When a guard fails, DynamoDB hands back the stored item
(``ReturnValuesOnConditionCheckFailure=ALL_OLD``); the parts that are still newer are recomputed
against it and written in one more attempt (a retried, duplicate or late event costs one failed
conditional write and, if anything is still news, one more). ``ReturnValues=ALL_NEW`` gives the
item after the write: who owns the conversation, and the full state the ``due_*`` notice is
checked against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.ingest.delta import ContactDelta
from windowkeeper.store.contacts import ContactRecord, plain
from windowkeeper.store.keys import STATE_SK, account_shard_key

MAX_ATTEMPTS = 4
MARKETING_OPT_INS_KEPT = 10
DUE_ATTRIBUTES = ("due_bucket", "due_at_ms", "due_kind", "due_window_ms")

Item = dict[str, Any]
DueFor = Callable[[ContactRecord], dict[str, Any] | None]
"""The ``due_*`` attributes for a contact's state (None: no notice to queue)."""


@dataclass
class Part:
    set: dict[str, Any] = field(default_factory=dict)
    set_if_absent: dict[str, Any] = field(default_factory=dict)
    append: dict[str, list[Any]] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    newer: dict[str, int] = field(default_factory=dict)  # attribute must be absent or < value
    equals: dict[str, Any] = field(default_factory=dict)  # attribute must equal value (None: absent)

    def merge(self, other: Part) -> None:
        self.set.update(other.set)
        self.set_if_absent.update(other.set_if_absent)
        self.append.update(other.append)
        self.remove = (*self.remove, *other.remove)
        self.newer.update(other.newer)
        self.equals.update(other.equals)

    @property
    def empty(self) -> bool:
        return not (self.set or self.set_if_absent or self.append or self.remove)


@dataclass(frozen=True)
class WriteResult:
    item: Item | None  # the contact item after this POST (None: nothing written, nothing known)
    writes: int  # UpdateItem calls made (failed conditional ones included: they cost capacity)
    window_applied: bool  # the window moved forward (a new ``due_*`` notice was queued)


def _stored(old: Item | None, attribute: str) -> Any:
    return None if old is None else old.get(attribute)


def _newer(old: Item | None, attribute: str, at_ms: int) -> bool:
    stored = _stored(old, attribute)
    return stored is None or int(stored) < at_ms


class ContactWriter:
    def __init__(self, table_name: str, due_for: DueFor) -> None:
        self.table_name = table_name
        self.due_for = due_for

    # ------------------------------------------------------------ planning (pure)

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
        if change.entry_point is not None:
            part.set["entry_point"] = change.entry_point.value
        if change.ad_started_ms is not None:
            part.set["ad_conversation_started_ms"] = change.ad_started_ms
        if due:
            part.set.update(due)
        else:
            part.remove = DUE_ATTRIBUTES
        return part

    def consent(self, delta: ContactDelta, old: Item | None) -> Part | None:
        change = delta.consent
        if change is None or not _newer(old, "consent_changed_ms", change.at_ms):
            return None
        stored = _stored(old, "opted_out")
        before = {str(s) for s in stored or []}
        after = (before | {s.value for s in change.opt_out}) - {s.value for s in change.opt_in}
        part = Part(
            set={"consent_changed_ms": change.at_ms},
            newer={"consent_changed_ms": change.at_ms},
            equals={"opted_out": stored},
        )
        if after != before:
            part.set["opted_out"] = sorted(after)
        if change.opt_ins:
            kept = list(_stored(old, "marketing_opt_ins") or [])
            new = [o.model_dump(mode="json", exclude_none=True) for o in change.opt_ins]
            if old is None:
                part.append["marketing_opt_ins"] = new
            else:  # we know the stored list: keep it short
                part.set["marketing_opt_ins"] = [*kept, *new][-MARKETING_OPT_INS_KEPT:]
        if change.consent_on_record:
            part.set["consent_on_record"] = True
        return part

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
        change = delta.routing
        if change is None or not _newer(old, "routing_changed_ms", change.at_ms):
            return None
        part = Part(set={"routing_changed_ms": change.at_ms}, newer={"routing_changed_ms": change.at_ms})
        removes: list[str] = []
        if change.owner_app_changed:
            if change.owner_app_id is None:
                removes.append("routing_owner_app_id")
            else:
                part.set["routing_owner_app_id"] = change.owner_app_id
        if change.owner == "bot":
            part.set.update({"owner": "bot", "owner_since_ms": change.at_ms})
            removes.extend(["owner_agent_id", "owner_last_activity_ms"])
        elif change.owner == "human":
            part.set["owner"] = "human"
            activity = change.human_activity_ms or change.at_ms
            part.set["owner_last_activity_ms"] = activity
            if change.human_activity_ms is None:
                part.set["owner_since_ms"] = change.at_ms  # Meta's inbox took the thread now
            else:
                part.set_if_absent["owner_since_ms"] = activity
        part.remove = tuple(removes)
        return part

    def plan(self, delta: ContactDelta, old: Item | None, due: dict[str, Any] | None) -> tuple[Part, bool]:
        """The whole update against ``old`` (None: blind); also whether the window part is in it."""
        part = self.identity(delta, old)
        window = self.window(delta, old, due)
        for guarded in (
            window,
            self.consent(delta, old),
            self.instants(delta, old),
            self.routing(delta, old),
        ):
            if guarded is not None:
                part.merge(guarded)
        return part, window is not None

    # ------------------------------------------------------------ writing

    def write(self, delta: ContactDelta) -> WriteResult:
        if not delta.needs_write:
            return WriteResult(item=None, writes=0, window_applied=False)
        projected = self._projected(delta) if delta.window else None
        due = self.due_for(projected) if projected is not None else None
        old: Item | None = None
        writes = 0
        for _ in range(MAX_ATTEMPTS):
            part, window_applied = self.plan(delta, old, due)
            if old is not None and part.empty:
                return WriteResult(item=old, writes=writes, window_applied=False)  # nothing new
            writes += 1
            try:
                new = self._update(delta, part)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                raw: Any = error.response.get("Item")
                old = plain(_deserialise(raw)) if raw else {}
                continue
            if window_applied and not (projected and _same_due_inputs(projected, new)):
                writes += self._correct_due(delta, new, due)
            return WriteResult(item=new, writes=writes, window_applied=window_applied)
        raise RuntimeError(f"contact state update lost {MAX_ATTEMPTS} races in a row")

    def _projected(self, delta: ContactDelta) -> ContactRecord:
        """The contact as this POST alone describes it: what the first write's notice is based on."""
        window = delta.window
        assert window is not None
        return ContactRecord(
            pk=delta.key.pk,
            tenant_id=delta.tenant_id,
            channel=delta.key.channel,
            account_id=delta.key.account_id,
            contact_id=delta.key.contact_id,
            last_customer_action_ms=window.at_ms,
            last_customer_action_kind=window.kind,
            entry_point=window.entry_point,
            ad_conversation_started_ms=window.ad_started_ms,
        )

    def _correct_due(self, delta: ContactDelta, new: Item, written: dict[str, Any] | None) -> int:
        """Re-check the notice against the full stored state (e.g. an ad start from an earlier POST).

        Rare: only when state this POST did not carry changes the closing instant. Guarded on the
        window we wrote, so a newer customer action (and its own notice) is never overwritten.
        """
        actual = self.due_for(ContactRecord.from_item(new))
        if actual == written:
            return 0
        names = {"#w": "last_customer_action_ms", **{f"#d{i}": a for i, a in enumerate(DUE_ATTRIBUTES)}}
        values: dict[str, Any] = {":w": new["last_customer_action_ms"]}
        if actual:
            sets = []
            for index, attribute in enumerate(DUE_ATTRIBUTES):
                values[f":d{index}"] = actual[attribute]
                sets.append(f"#d{index} = :d{index}")
            expression = "SET " + ", ".join(sets)
        else:
            expression = "REMOVE " + ", ".join(f"#d{i}" for i in range(len(DUE_ATTRIBUTES)))
        try:
            response = aws.table(self.table_name).update_item(
                Key={"pk": delta.key.pk, "sk": STATE_SK},
                UpdateExpression=expression,
                ConditionExpression="#w = :w",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
            new.clear()
            new.update(plain(response["Attributes"]))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return 1

    def _update(self, delta: ContactDelta, part: Part) -> Item:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}

        def name(attribute: str) -> str:
            placeholder = f"#a{len(names)}"
            names[placeholder] = attribute  # placeholders for all: "owner" is a reserved word
            return placeholder

        def value(content: Any) -> str:
            placeholder = f":v{len(values)}"
            values[placeholder] = content
            return placeholder

        sets = [f"{name(a)} = {value(v)}" for a, v in part.set.items()]
        for attribute, content in part.set_if_absent.items():
            placeholder = name(attribute)
            sets.append(f"{placeholder} = if_not_exists({placeholder}, {value(content)})")
        for attribute, content in part.append.items():
            placeholder = name(attribute)
            sets.append(
                f"{placeholder} = list_append(if_not_exists({placeholder}, {value([])}), {value(content)})"
            )
        expression = "SET " + ", ".join(sets)
        if part.remove:
            expression += " REMOVE " + ", ".join(name(a) for a in part.remove)
        conditions = []
        for attribute, at_ms in part.newer.items():
            placeholder = name(attribute)
            conditions.append(f"(attribute_not_exists({placeholder}) OR {placeholder} < {value(at_ms)})")
        for attribute, expected in part.equals.items():
            placeholder = name(attribute)
            if expected is None:
                conditions.append(f"attribute_not_exists({placeholder})")
            else:
                conditions.append(f"{placeholder} = {value(expected)}")
        arguments: dict[str, Any] = {
            "Key": {"pk": delta.key.pk, "sk": STATE_SK},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            arguments["ExpressionAttributeValues"] = values
        if conditions:
            arguments["ConditionExpression"] = " AND ".join(conditions)
        response = aws.table(self.table_name).update_item(**arguments)
        result: Item = plain(response["Attributes"])
        return result


def _deserialise(item: dict[str, Any]) -> Item:
    """The old item inside a ConditionalCheckFailed error comes in DynamoDB's typed format."""
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


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


def _same_due_inputs(projected: ContactRecord, item: Item) -> bool:
    return all(item.get(name, default) == getattr(projected, name) for name, default in _DUE_INPUTS)
