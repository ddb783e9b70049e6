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
  themselves (``store/contact_item.OWNER_ATTRIBUTES``).

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

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.store.claim_records import (
    MAX_WRITE_ATTEMPTS,
    AgentActivity,
    ClaimChange,
    ClaimConflictError,
    ContactMissingError,
    ContactWrite,
    ContactWriteConflictError,
    MetaVerdicts,
    SentMessage,
    contact_ref,
    plan_change,
)
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.keys import STATE_SK


def _read(table_name: str, pk: str) -> ContactRecord:
    item = aws.table(table_name).get_item(Key={"pk": pk, "sk": STATE_SK}, ConsistentRead=True).get("Item")
    if item is None:
        raise ContactMissingError(pk)
    return ContactRecord.from_item(item)


def _arguments(pk: str, record: ContactRecord, change: ClaimChange) -> dict[str, Any]:
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
    change = plan_change(record, sent=sent, release=None, verdicts=MetaVerdicts(), activity=None, at=sent.at)
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
    verdicts: MetaVerdicts | None = None,
    activity: AgentActivity | None = None,
    record: ContactRecord | None = None,
) -> ContactWrite:
    """Record a sent message, a released claim, Meta's verdicts and/or agent activity.

    ``record`` (the item as last read or written) saves one read when nobody wrote since.
    ``release``: the claim of a message Meta certainly did not take, removed from ``outbound``.
    """
    verdicts = verdicts or MetaVerdicts()
    table = aws.table(table_name)
    current = record or _read(table_name, pk)
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        change = plan_change(current, sent=sent, release=release, verdicts=verdicts, activity=activity, at=at)
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


@dataclass(frozen=True)
class SendClaimsTable:
    """``ports.sending.SendClaims`` on the table: the send path's writes to contact items."""

    table_name: str

    def claim(self, record: ContactRecord, sent: SentMessage) -> ContactRecord:
        return claim_send(self.table_name, record, sent)

    def record(
        self,
        record: ContactRecord,
        *,
        at: datetime,
        release: SentMessage | None = None,
        verdicts: MetaVerdicts | None = None,
        activity: AgentActivity | None = None,
    ) -> ContactWrite:
        return record_send(
            self.table_name,
            record.pk,
            at=at,
            record=record,
            release=release,
            verdicts=verdicts,
            activity=activity,
        )
