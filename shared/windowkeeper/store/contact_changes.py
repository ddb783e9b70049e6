"""Agent-made changes on the contact item: conversation ownership (handover) and consent.

Every write here is an ``UpdateItem`` that SETs/REMOVEs only the attributes it owns, so the
webhook's concurrent writes to the window, entry point, due-* attributes... are never lost. The
changes are read-modify-write (a consent scope is added to or removed from the stored list), so
they join the contact item's optimistic-locking protocol (see ``store/send_claims.py``): the
condition requires the ``version`` that was read and the write bumps it. A writer that does not
use ``version`` (the webhook's consent keywords and handover events) is caught by also requiring
the attributes the change depends on to be unchanged (``guard``): the consent fact's own instant
for consent, the owner attributes for handover. On a conflict the old item comes back with the
error (``ReturnValuesOnConditionCheckFailure``), the change is recomputed from it and tried
again, a few times.

Consent is stored per fact (``store.contacts.consent_attribute``), never as one list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.policy.model import ConsentScope
from windowkeeper.store.contact_item import (
    MARKETING_OPT_INS_KEPT,
    ContactRecord,
    StoredOptIn,
    consent_attribute,
    plain,
)
from windowkeeper.store.keys import STATE_SK

MAX_WRITE_ATTEMPTS = 5

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


class ContactNotFoundError(LookupError):
    """There is no contact item under this key (or it disappeared while we were writing)."""


class ContactConflictError(RuntimeError):
    """Every attempt lost the race against other writers of the same contact item."""


@dataclass(frozen=True)
class ContactChange:
    """Attributes to SET and REMOVE, and the attributes that must still hold what was read."""

    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    guard: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactUpdate:
    before: ContactRecord  # the item the change was computed from
    after: ContactRecord  # the item as written (``before`` when there was nothing to write)
    changed: bool
    attempts: int


Plan = Callable[[ContactRecord], ContactChange | None]


def read_contact_item(table_name: str, pk: str) -> dict[str, Any] | None:
    """The contact item as stored (plain Python values), read strongly consistent."""
    item = aws.table(table_name).get_item(Key={"pk": pk, "sk": STATE_SK}, ConsistentRead=True).get("Item")
    return plain(item) if item else None


def create_contact_if_absent(table_name: str, identity: dict[str, Any]) -> bool:
    """Put a contact item holding only its identity, unless one exists; True when it was created.

    For a consent given elsewhere by someone who has never written (a WhatsApp number whose
    opt-in was collected on a web form): the consent fact is then written by ``update_contact``
    like any other. Conditional on ``attribute_not_exists(pk)``, so a webhook's item is never
    replaced.
    """
    try:
        aws.table(table_name).put_item(
            Item={**identity, "sk": STATE_SK}, ConditionExpression="attribute_not_exists(pk)"
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True


def update_contact(table_name: str, pk: str, plan: Plan) -> ContactUpdate:
    """Apply ``plan(current record)`` as one guarded update; recompute and retry on a conflict.

    ``plan`` returns None when the record already says what the caller wants (nothing written).
    """
    raw = read_contact_item(table_name, pk)
    if raw is None:
        raise ContactNotFoundError(pk)
    table = aws.table(table_name)
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        current = ContactRecord.from_item(raw)
        change = plan(current)
        if change is None:
            return ContactUpdate(before=current, after=current, changed=False, attempts=attempt)
        try:
            response = table.update_item(**_update_arguments(pk, raw, current.version, change))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            if not old:
                raise ContactNotFoundError(pk) from error
            raw = plain(_deserialise(old))
            continue
        after = ContactRecord.from_item(response["Attributes"])
        return ContactUpdate(before=current, after=after, changed=True, attempts=attempt)
    raise ContactConflictError(f"{MAX_WRITE_ATTEMPTS} attempts lost the race on {pk}")


def _update_arguments(pk: str, raw: dict[str, Any], version: int, change: ContactChange) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {":next_version": version + 1}

    def name(attribute: str) -> str:
        # Every attribute goes through a placeholder: "owner" is a DynamoDB reserved word.
        placeholder = f"#n{len(names)}"
        names[placeholder] = attribute
        return placeholder

    sets = ["version = :next_version"]
    for index, (attribute, value) in enumerate(change.set.items()):
        values[f":s{index}"] = value
        sets.append(f"{name(attribute)} = :s{index}")
    expression = "SET " + ", ".join(sets)
    if change.remove:
        expression += " REMOVE " + ", ".join(name(a) for a in change.remove)

    conditions = ["attribute_exists(pk)"]
    if "version" in raw:
        conditions.append("version = :version")
        values[":version"] = version  # only when used: DynamoDB rejects unused values
    else:
        conditions.append("attribute_not_exists(version)")
    # Guards compare with the stored values, not the model's defaults (a missing "owner" reads
    # as "bot" in the model but must be guarded as missing).
    for index, attribute in enumerate(change.guard):
        placeholder = name(attribute)
        if raw.get(attribute) is None:
            conditions.append(f"attribute_not_exists({placeholder})")
        else:
            values[f":g{index}"] = raw[attribute]
            conditions.append(f"{placeholder} = :g{index}")
    return {
        "Key": {"pk": pk, "sk": STATE_SK},
        "UpdateExpression": expression,
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _deserialise(item: dict[str, Any]) -> dict[str, Any]:
    """The old item in a ClientError comes in the low-level (typed) attribute format."""
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


# --- ownership -----------------------------------------------------------------------------------


def human_owner_change(agent_id: str, at_ms: int, *, routing_owner_app_id: str | None) -> ContactChange:
    """A person takes the conversation (a fresh hold: since = last activity = ``at_ms``)."""
    values: dict[str, Any] = {
        "owner": "human",
        "owner_agent_id": agent_id,
        "owner_since_ms": at_ms,
        "owner_last_activity_ms": at_ms,
    }
    if routing_owner_app_id is not None:
        values["routing_owner_app_id"] = routing_owner_app_id
    return ContactChange(set=values, guard=OWNER_ATTRIBUTES)


def bot_owner_change(at_ms: int, *, routing_owner_app_id: str | None, routing_changed: bool) -> ContactChange:
    """The conversation goes back to the bot (``owner_since_ms`` = when it did).

    ``routing_changed``: a thread-control call moved Meta's thread to ``routing_owner_app_id``
    (None = released to idle).
    """
    values: dict[str, Any] = {"owner": "bot", "owner_since_ms": at_ms}
    remove: tuple[str, ...] = ("owner_agent_id", "owner_last_activity_ms")
    if routing_changed and routing_owner_app_id is not None:
        values["routing_owner_app_id"] = routing_owner_app_id
    elif routing_changed:
        remove = (*remove, "routing_owner_app_id")
    return ContactChange(set=values, remove=remove, guard=OWNER_ATTRIBUTES)


def activity_change(at_ms: int) -> ContactChange:
    """The holding agent acted again: only the idle clock moves."""
    return ContactChange(set={"owner_last_activity_ms": at_ms}, guard=OWNER_ATTRIBUTES)


# --- consent -------------------------------------------------------------------------------------


def consent_change(
    record: ContactRecord,
    *,
    scope: ConsentScope,
    opt_out: bool,
    at_ms: int,
    recorded_by: str,
) -> ContactChange | None:
    """Record one consent fact: the newest opt-out (or opt-in) of ``scope`` is now ``at_ms``.

    The fact keeps its own instant (``consent_<scope>_<out|in>_ms``), as the webhook writes it, so
    an agent's change and a customer's STOP resolve per scope by their instants, whatever order
    they land in (a marketing opt-out recorded by an agent never hides a customer's STOP). The
    instant only moves forward and is guarded on what was read. None when the stored fact is
    already as new.

    An opt-in recorded by an agent also files what it is evidence of: a marketing opt-in on
    record (WhatsApp marketing needs one; a Messenger marketing message still needs Meta's token,
    which only the customer's own opt-in gives) and, for ``all``, consent on record (SMS/e-mail).
    """
    attribute = consent_attribute(scope, opt_out)
    stored: int | None = getattr(record, attribute)
    values: dict[str, Any] = {}
    if stored is None or stored < at_ms:
        values[attribute] = at_ms
    if not opt_out and scope is ConsentScope.MARKETING:
        opt_in = StoredOptIn(purpose="marketing", token=None, opted_in_ms=at_ms).model_dump(mode="json")
        opt_in["recorded_by"] = recorded_by  # extra attribute: readers ignore it, audits use it
        kept = [o.model_dump(mode="json", exclude_none=True) for o in record.marketing_opt_ins]
        if not any(o.opted_in_ms == at_ms and o.token is None for o in record.marketing_opt_ins):
            values["marketing_opt_ins"] = [*kept, {k: v for k, v in opt_in.items() if v is not None}][
                -MARKETING_OPT_INS_KEPT:
            ]
    if not opt_out and scope is ConsentScope.ALL and not record.consent_on_record:
        values["consent_on_record"] = True
    if not values:
        return None
    return ContactChange(set=values, guard=(attribute,))
