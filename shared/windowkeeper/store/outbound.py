"""What the send path writes on the contact item: recent sends, Meta's verdicts, agent ownership.

One ``UpdateItem`` per send, guarded by the item's ``version`` (optimistic locking): the
``outbound`` list is read, appended to and trimmed to the newest ``OUTBOUND_KEPT``, which is a
read-modify-write that two concurrent sends must not interleave. On a conflict the item is read
again and the update recomputed (a few attempts). Only the attributes the send path owns are
SET, so the webhook's concurrent writes to other attributes are never lost.

Meta's verdicts (from a refused or failed delivery) become state the engine reads next time:
``window_closed_early_ms`` (131047, 2018278, 2534022), ``unreachable_*`` (551, 1545041, 131026),
``opted_out`` += marketing (131050, 1893015) and ``marketing_backoff_until_ms`` (131049).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.conversations import effective_owner
from windowkeeper.policy.model import AccountProfile, Channel, ConsentScope, Path, TemplateCategory
from windowkeeper.store.contacts import OUTBOUND_KEPT, ContactRecord, StoredOutbound
from windowkeeper.store.conversation import message_item
from windowkeeper.store.keys import STATE_SK, to_ms

MAX_WRITE_ATTEMPTS = 5


class ContactMissingError(LookupError):
    """The contact item disappeared between reading and writing it."""


class ContactWriteConflictError(RuntimeError):
    """Every attempt lost the race on ``version`` (sustained concurrent sends to one contact)."""


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


def _read(table_name: str, pk: str) -> ContactRecord:
    item = aws.table(table_name).get_item(Key={"pk": pk, "sk": STATE_SK}, ConsistentRead=True).get("Item")
    if item is None:
        raise ContactMissingError(pk)
    return ContactRecord.from_item(item)


def _update_expression(
    record: ContactRecord,
    sent: SentMessage | None,
    verdicts: MetaVerdicts,
    activity: AgentActivity | None,
    at: datetime,
) -> tuple[list[str], dict[str, Any], bool]:
    sets: list[str] = ["version = :next_version"]
    values: dict[str, Any] = {":next_version": record.version + 1}
    if sent is not None:
        outbound = [*record.outbound, sent.stored()][-OUTBOUND_KEPT:]
        sets.append("outbound = :outbound")
        values[":outbound"] = [o.model_dump(mode="json", exclude_none=True) for o in outbound]
    if verdicts.window_closed_early_at is not None:
        sets.append("window_closed_early_ms = :closed_early")
        values[":closed_early"] = to_ms(verdicts.window_closed_early_at)
    if verdicts.unreachable_reason is not None:
        # Keep the first instant: "unreachable since" is when it started, not the latest refusal.
        sets.append("unreachable_since_ms = if_not_exists(unreachable_since_ms, :at)")
        sets.append("unreachable_reason = :unreachable_reason")
        values[":at"] = to_ms(at)
        values[":unreachable_reason"] = verdicts.unreachable_reason
    if verdicts.marketing_opted_out and ConsentScope.MARKETING not in record.opted_out:
        sets.append("opted_out = :opted_out")
        values[":opted_out"] = [s.value for s in (*record.opted_out, ConsentScope.MARKETING)]
    if verdicts.marketing_backoff_until is not None:
        current = record.marketing_backoff_until_ms or 0
        sets.append("marketing_backoff_until_ms = :backoff")
        values[":backoff"] = max(current, to_ms(verdicts.marketing_backoff_until))
    took_over = False
    if activity is not None:
        activity_ms = to_ms(activity.at)
        sets.append("owner_last_activity_ms = :activity")
        values[":activity"] = activity_ms
        # A person who still holds the conversation keeps it; the bot's (or an idle one) is taken.
        if effective_owner(record, activity.account, activity.at).owner != "human":
            took_over = True
            sets.append("#owner = :human, owner_agent_id = :agent, owner_since_ms = :activity")
            values[":human"] = "human"
            values[":agent"] = activity.agent_id
    return sets, values, took_over


def record_send(
    table_name: str,
    pk: str,
    *,
    at: datetime,
    sent: SentMessage | None = None,
    verdicts: MetaVerdicts = MetaVerdicts(),
    activity: AgentActivity | None = None,
    record: ContactRecord | None = None,
) -> ContactWrite:
    """Record a delivered message, Meta's verdicts and/or agent activity on the contact item.

    ``record`` (the item as read for the decision) saves one read when nobody wrote since.
    """
    table = aws.table(table_name)
    current = record or _read(table_name, pk)
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        sets, values, took_over = _update_expression(current, sent, verdicts, activity, at)
        if current.version == 0:
            condition = "attribute_exists(pk) AND (attribute_not_exists(version) OR version = :version)"
        else:
            condition = "attribute_exists(pk) AND version = :version"
        values[":version"] = current.version
        kwargs: dict[str, Any] = {
            "Key": {"pk": pk, "sk": STATE_SK},
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if any("#owner" in s for s in sets):
            kwargs["ExpressionAttributeNames"] = {"#owner": "owner"}
        try:
            table.update_item(**kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old: Any = error.response.get("Item")
            if not isinstance(old, dict) or not old:
                raise ContactMissingError(pk) from error
            current = ContactRecord.from_item(_deserialise(old))
            continue
        return ContactWrite(record=current, took_over=took_over, attempts=attempt)
    raise ContactWriteConflictError(f"{MAX_WRITE_ATTEMPTS} attempts lost the race on version")


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
) -> None:
    """The conversation-log item of a delivered message (the console shows it)."""
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
            status="sent",
        )
    )
