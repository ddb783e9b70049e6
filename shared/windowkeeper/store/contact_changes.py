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

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_change_records import (
    ContactChange,
    ContactConflictError,
    ContactNotFoundError,
    ContactUpdate,
    Plan,
)
from windowkeeper.store.contact_item import ContactRecord, plain
from windowkeeper.store.keys import STATE_SK, account_shard_key, contact_pk

MAX_WRITE_ATTEMPTS = 5


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


@dataclass(frozen=True)
class ContactChangesTable:
    """``ports.sending.ContactChanges`` on the table."""

    table_name: str

    def create_if_absent(
        self,
        channel: Channel,
        account_id: str,
        contact_id: str,
        *,
        tenant_id: str,
        recipient_country_code: str | None = None,
    ) -> bool:
        identity: dict[str, Any] = {
            "pk": contact_pk(channel, account_id, contact_id),
            "tenant_id": tenant_id,
            "channel": channel.value,
            "account_id": account_id,
            "contact_id": contact_id,
            "account_shard": account_shard_key(channel, account_id, contact_id),
        }
        if recipient_country_code is not None:
            identity["recipient_country_code"] = recipient_country_code
        return create_contact_if_absent(self.table_name, identity)

    def update(self, record: ContactRecord, plan: Plan) -> ContactUpdate:
        return update_contact(self.table_name, record.pk, plan)
