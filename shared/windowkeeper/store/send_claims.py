"""What the send path writes on the contact item: claims, Meta's verdicts, agent ownership.

Every write is one ``UpdateItem`` that SETs only the attributes the send path owns, so the
webhook's concurrent writes to other attributes are never lost. Two kinds of protection:

* ``version`` (optimistic locking) serialises the send path's own read-modify-writes: the
  ``outbound`` list is read, appended to (or an entry removed) and trimmed to the newest
  ``OUTBOUND_KEPT``. Only the send path writes ``outbound`` and every such write bumps
  ``version``.
* Attributes the webhook (or an agent) also writes are never computed from a stale read: the
  webhook does not bump ``version``, so each value we derive from what we read is *guarded* on
  that read (``attribute = :seen`` or ``attribute_not_exists``). The marketing opt-out instant
  (``consent_marketing_out_ms``) on itself (it only moves forward), ``unreachable_since_ms`` on
  itself and ``last_customer_action_ms``, ``window_closed_early_ms`` and
  ``marketing_backoff_until_ms`` on themselves (they only move forward), the owner attributes on
  themselves (``store/ownership.OWNER_ATTRIBUTES``).

On ``ConditionalCheckFailed`` the item comes back with the error (``ALL_OLD``), the change is
recomputed from it and tried again, a few times.

The claim (``claim_send``) is written *before* Meta is called: the decided message goes on the
``outbound`` list under the ``version`` that was decided on, so a concurrent send to the same
contact either sees it (and the one-shot or capped rule refuses) or loses the race on
``version`` and decides again. If Meta certainly did not take the message the claim is released
(``record_send(release=...)``, together with Meta's verdicts); if it may have, the entry stays.

A private reply's claim also sets ``pending_comment_replied`` (guarded on the comment id), so the
one reply a comment allows is remembered after its ``outbound`` entry is trimmed away.

Meta's verdicts (from a refused or failed delivery) become state the engine reads next time:
``window_closed_early_ms`` (131047, 2018278, 2534022), ``unreachable_*`` (551, 1545041, 131026),
the marketing opt-out instant (131050, 1893015) and ``marketing_backoff_until_ms`` (131049).

Errors and log lines never carry the contact key (it holds the customer's phone number on
WhatsApp): they name the contact by ``contact_ref(pk)``, a short hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.instants import to_ms
from windowkeeper.ownership import effective_owner
from windowkeeper.policy.model import AccountProfile, Channel, ConsentScope, Path, TemplateCategory
from windowkeeper.store.contact_changes import OWNER_ATTRIBUTES
from windowkeeper.store.contact_item import OUTBOUND_KEPT, ContactRecord, StoredOutbound, consent_attribute
from windowkeeper.store.conversation_log import message_item
from windowkeeper.store.keys import STATE_SK

MAX_WRITE_ATTEMPTS = 5


def contact_ref(pk: str) -> str:
    """A short, stable name for a contact key that reveals no id (for errors and logs)."""
    return hashlib.sha256(pk.encode()).hexdigest()[:12]


class ContactMissingError(LookupError):
    """The contact item disappeared between reading and writing it (named by ``contact_ref``)."""

    def __init__(self, pk: str) -> None:
        self.contact_ref = contact_ref(pk)
        super().__init__(f"contact item {self.contact_ref} does not exist")


class ContactWriteConflictError(RuntimeError):
    """Every attempt lost the race (sustained concurrent writes to one contact)."""


class ClaimConflictError(RuntimeError):
    """Another send (or agent change) wrote the contact since it was read: decide again.

    ``current`` is the item as it is now (from the failed write), so no extra read is needed.
    """

    def __init__(self, current: ContactRecord) -> None:
        super().__init__(f"contact item {contact_ref(current.pk)} changed since it was read")
        self.current = current


@dataclass(frozen=True)
class MetaVerdicts:
    """What Meta's answer says about the contact, in the table's terms. Empty = nothing to record."""

    window_closed_early_at: datetime | None = None
    unreachable_reason: str | None = None  # set → the contact is unreachable since the send
    marketing_opted_out: bool = False
    marketing_backoff_until: datetime | None = None

    @property
    def empty(self) -> bool:
        return (
            self.window_closed_early_at is None
            and self.unreachable_reason is None
            and not self.marketing_opted_out
            and self.marketing_backoff_until is None
        )


@dataclass(frozen=True)
class SentMessage:
    at: datetime
    path: Path
    tag: str | None = None
    template_category: TemplateCategory | None = None
    by_human: bool = False
    comment_id: str | None = None  # a private reply: the comment it answers (not kept on outbound)

    def stored(self) -> StoredOutbound:
        return StoredOutbound(
            at_ms=to_ms(self.at),
            path=self.path,
            tag=self.tag,
            template_category=self.template_category,
            by_human=self.by_human,
        )


@dataclass(frozen=True)
class AgentActivity:
    """A human agent's send: takes the conversation over unless a person already holds it."""

    agent_id: str
    at: datetime
    account: AccountProfile  # its human_idle_return_seconds decides whether a person still holds it


@dataclass(frozen=True)
class ContactWrite:
    record: ContactRecord  # the item as it was just before our successful write
    took_over: bool  # the agent became the owner with this write
    attempts: int
    written: bool = True  # False: nothing was left to write (e.g. the release found no entry)


@dataclass
class _Change:
    """SET clauses and the read values they were computed from (``guards``: attribute → value)."""

    sets: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    guards: dict[str, Any] = field(default_factory=dict)
    took_over: bool = False

    def set(self, attribute: str, value: Any) -> None:
        placeholder = f"#s{len(self.names)}"
        self.names[placeholder] = attribute  # placeholders for all: "owner" is a reserved word
        self.values[f":s{len(self.values)}"] = value
        self.sets.append(f"{placeholder} = :s{len(self.values) - 1}")

    def guard(self, record: ContactRecord, *attributes: str) -> None:
        for attribute in attributes:
            # A field the item did not carry reads as its default in the model: guard it as absent.
            stored = getattr(record, attribute) if attribute in record.model_fields_set else None
            if attribute == "opted_out" and stored is not None:
                stored = [scope.value for scope in stored]  # as stored: a list of scope names
            self.guards[attribute] = stored


def _read(table_name: str, pk: str) -> ContactRecord:
    item = aws.table(table_name).get_item(Key={"pk": pk, "sk": STATE_SK}, ConsistentRead=True).get("Item")
    if item is None:
        raise ContactMissingError(pk)
    return ContactRecord.from_item(item)


def _without(outbound: list[StoredOutbound], entry: StoredOutbound) -> list[StoredOutbound] | None:
    """``outbound`` minus the newest entry equal to ``entry`` (None: there is none).

    Equal entries are interchangeable (same instant, path, tag...), so removing any one of them
    releases exactly one claim.
    """
    for index in range(len(outbound) - 1, -1, -1):
        if outbound[index] == entry:
            return [*outbound[:index], *outbound[index + 1 :]]
    return None


def _plan(
    record: ContactRecord,
    *,
    sent: SentMessage | None,
    release: SentMessage | None,
    verdicts: MetaVerdicts,
    activity: AgentActivity | None,
    at: datetime,
) -> _Change:
    change = _Change()
    outbound = list(record.outbound)
    outbound_changed = False
    if release is not None and (remaining := _without(outbound, release.stored())) is not None:
        outbound, outbound_changed = remaining, True
    if sent is not None:
        outbound, outbound_changed = [*outbound, sent.stored()][-OUTBOUND_KEPT:], True
    if outbound_changed:  # send-path only: the version condition protects it
        change.set("outbound", [o.model_dump(mode="json", exclude_none=True) for o in outbound])
    _plan_comment_reply(change, record, sent=sent, release=release)
    _plan_verdicts(change, record, verdicts, at)
    if activity is not None:
        activity_ms = to_ms(activity.at)
        change.guard(record, *OWNER_ATTRIBUTES)
        change.set("owner_last_activity_ms", activity_ms)
        # A person who still holds the conversation keeps it; the bot's (or an idle one) is taken.
        if effective_owner(record, activity.account, activity.at).owner != "human":
            change.took_over = True
            change.set("owner", "human")
            change.set("owner_agent_id", activity.agent_id)
            change.set("owner_since_ms", activity_ms)
    return change


def _plan_comment_reply(
    change: _Change, record: ContactRecord, *, sent: SentMessage | None, release: SentMessage | None
) -> None:
    """A private reply marks its comment replied (a released one unmarks it).

    The flag outlives the ``outbound`` entry, which is trimmed after ``OUTBOUND_KEPT`` later sends.
    Guarded on the comment id read: the webhook replaces the pending comment (and resets the
    flag) when the customer comments again, and that newer comment must stay open.
    """
    if sent is not None and sent.comment_id is not None:
        change.guard(record, "pending_comment_id")  # a new comment meanwhile: decide again
        if record.pending_comment_id == sent.comment_id:
            change.set("pending_comment_replied", True)
    if (
        release is not None
        and release.comment_id is not None
        and record.pending_comment_id == release.comment_id
        and record.pending_comment_replied
    ):
        change.guard(record, "pending_comment_id")
        change.set("pending_comment_replied", False)


def _plan_verdicts(change: _Change, record: ContactRecord, verdicts: MetaVerdicts, at: datetime) -> None:
    if verdicts.window_closed_early_at is not None:
        closed_ms = to_ms(verdicts.window_closed_early_at)
        if record.window_closed_early_ms is None or record.window_closed_early_ms < closed_ms:
            change.guard(record, "window_closed_early_ms")  # only forward, as the webhook moves it
            change.set("window_closed_early_ms", closed_ms)
    if verdicts.unreachable_reason is not None:
        since = record.unreachable_since_ms
        last_action = record.last_customer_action_ms
        # "Unreachable since" is when the current episode started: kept while it lasts, moved to
        # now when there is none or the customer wrote after it (the engine's "reachable again").
        change.guard(record, "unreachable_since_ms", "last_customer_action_ms")
        if since is None or (last_action is not None and last_action > since):
            change.set("unreachable_since_ms", to_ms(at))
        change.set("unreachable_reason", verdicts.unreachable_reason)
    if verdicts.marketing_opted_out:
        # A consent fact with its own instant (as the webhook's 131050): only moves forward.
        attribute = consent_attribute(ConsentScope.MARKETING, True)
        stored = getattr(record, attribute)
        if stored is None or stored < to_ms(at):
            change.guard(record, attribute)
            change.set(attribute, to_ms(at))
    if verdicts.marketing_backoff_until is not None:
        backoff_ms = to_ms(verdicts.marketing_backoff_until)
        if record.marketing_backoff_until_ms is None or record.marketing_backoff_until_ms < backoff_ms:
            change.guard(record, "marketing_backoff_until_ms")
            change.set("marketing_backoff_until_ms", backoff_ms)


def _arguments(pk: str, record: ContactRecord, change: _Change) -> dict[str, Any]:
    names = dict(change.names)
    values = {**change.values, ":next_version": record.version + 1}
    values[":version"] = record.version
    if record.version == 0:  # items written before versioning carry none
        conditions = ["attribute_exists(pk)", "(attribute_not_exists(version) OR version = :version)"]
    else:
        conditions = ["attribute_exists(pk)", "version = :version"]
    for index, (attribute, seen) in enumerate(change.guards.items()):
        placeholder = f"#g{index}"
        names[placeholder] = attribute
        if seen is None:
            conditions.append(f"attribute_not_exists({placeholder})")
        else:
            values[f":g{index}"] = seen
            conditions.append(f"{placeholder} = :g{index}")
    return {
        "Key": {"pk": pk, "sk": STATE_SK},
        "UpdateExpression": "SET " + ", ".join(["version = :next_version", *change.sets]),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _conflict(pk: str, error: ClientError) -> ContactRecord:
    """The item as it is now, from a failed conditional write (or ContactMissingError)."""
    if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
        raise error
    old: Any = error.response.get("Item")
    if not isinstance(old, dict) or not old:
        raise ContactMissingError(pk) from None
    return ContactRecord.from_item(_deserialise(old))


def claim_send(table_name: str, record: ContactRecord, sent: SentMessage) -> ContactRecord:
    """Put the decided message on ``outbound`` before delivery, if nobody wrote since ``record``.

    Returns the item after the claim. Raises ``ClaimConflictError`` (with the current item) when
    another send or agent change got there first: the caller decides again on what is stored now.
    """
    change = _plan(record, sent=sent, release=None, verdicts=MetaVerdicts(), activity=None, at=sent.at)
    try:
        response = aws.table(table_name).update_item(**_arguments(record.pk, record, change))
    except ClientError as error:
        raise ClaimConflictError(_conflict(record.pk, error)) from None
    return ContactRecord.from_item(response["Attributes"])


def record_send(
    table_name: str,
    pk: str,
    *,
    at: datetime,
    sent: SentMessage | None = None,
    release: SentMessage | None = None,
    verdicts: MetaVerdicts = MetaVerdicts(),
    activity: AgentActivity | None = None,
    record: ContactRecord | None = None,
) -> ContactWrite:
    """Record a sent message, a released claim, Meta's verdicts and/or agent activity.

    ``record`` (the item as last read or written) saves one read when nobody wrote since.
    ``release``: the claim of a message Meta certainly did not take, removed from ``outbound``.
    """
    table = aws.table(table_name)
    current = record or _read(table_name, pk)
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        change = _plan(current, sent=sent, release=release, verdicts=verdicts, activity=activity, at=at)
        if not change.sets:
            return ContactWrite(record=current, took_over=False, attempts=attempt, written=False)
        try:
            table.update_item(**_arguments(pk, current, change))
        except ClientError as error:
            current = _conflict(pk, error)
            continue
        return ContactWrite(record=current, took_over=change.took_over, attempts=attempt)
    raise ContactWriteConflictError(
        f"{MAX_WRITE_ATTEMPTS} attempts lost the race on contact item {contact_ref(pk)}"
    )


def _deserialise(item: dict[str, Any]) -> dict[str, Any]:
    """``ALL_OLD`` in a ClientError comes in the low-level (typed) attribute format."""
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415  (rare path)

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


def log_outbound_message(
    table_name: str,
    *,
    channel: Channel,
    account_id: str,
    contact_id: str,
    message_id: str,
    at: datetime,
    kind: str,
    text: str | None,
    sender: str,
    retention_days: int,
    path: str | None,
    status: str = "sent",
) -> None:
    """The conversation-log item of a sent message (the console shows it).

    ``status``: ``sent``, or ``unknown`` when Meta may or may not have delivered it.
    """
    aws.table(table_name).put_item(
        Item=message_item(
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            message_id=message_id,
            direction="out",
            at=at,
            kind=kind,
            text=text,
            sender=sender,
            retention_days=retention_days,
            path=path,
            status=status,
        )
    )
