"""Follow-up items: one scheduled message to one contact, and the pointer that finds it by id.

Two items per follow-up:

* the follow-up itself, under the contact's partition (``sk = FUP#<send_at_ms:015d>#<id>``), so one
  Query lists a contact's follow-ups in send order;
* a pointer ``pk = F#<id>, sk = FOLLOWUP`` holding the follow-up's key and tenant, so GET/DELETE
  by id and the fire path need no index.

Both are written in one transaction with ``attribute_not_exists`` so a retried create never
duplicates. Status moves only along ``scheduled -> firing -> sent|refused|failed|cancelled``,
``scheduled -> cancelled`` or, for a send that died mid-way, ``firing -> stuck`` (the minute
sweep), each step a conditional update: a retried Scheduler invocation finds the follow-up no
longer ``scheduled`` and sends nothing twice. Entering ``firing`` also writes a "check back at"
key on the due-index and every step out of it removes that key (``windowkeeper.store.stuck_table``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import plain
from windowkeeper.store.followup_records import (
    FollowupExists,
    FollowupRecord,
    FollowupStatus,
    StatusConflict,
)
from windowkeeper.store.keys import FOLLOWUP_SK_PREFIX, POINTER_SK, contact_pk, pointer_pk
from windowkeeper.store.stuck_records import CHECK_FOLLOWUP
from windowkeeper.store.stuck_table import CHECK_ATTRIBUTES, check_attributes


@dataclass(frozen=True)
class FollowupStore:
    table_name: str

    def _table(self) -> Any:
        return aws.table(self.table_name)

    def create(self, record: FollowupRecord) -> None:
        """Write the follow-up and its pointer atomically; ``FollowupExists`` if already there."""
        pointer = {
            "pk": pointer_pk(record.followup_id),
            "sk": POINTER_SK,
            "target_pk": record.pk,
            "target_sk": record.sk,
            "tenant_id": record.tenant_id,
        }
        client = aws.client("dynamodb")
        serializer = _serializer()
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {k: serializer.serialize(v) for k, v in record.item().items()},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {k: serializer.serialize(v) for k, v in pointer.items()},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise FollowupExists(record.followup_id) from error
            raise

    def get(self, followup_id: str) -> FollowupRecord | None:
        pointer = self._table().get_item(Key={"pk": pointer_pk(followup_id), "sk": POINTER_SK}).get("Item")
        if not pointer:
            return None
        item = (
            self._table()
            .get_item(Key={"pk": pointer["target_pk"], "sk": pointer["target_sk"]}, ConsistentRead=True)
            .get("Item")
        )
        return FollowupRecord.model_validate(plain(item)) if item else None

    def list_for_contact(self, channel: Channel, account_id: str, contact_id: str) -> list[FollowupRecord]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": contact_pk(channel, account_id, contact_id),
                ":prefix": FOLLOWUP_SK_PREFIX,
            },
        }
        records: list[FollowupRecord] = []
        while True:
            page = self._table().query(**kwargs)
            records.extend(FollowupRecord.model_validate(plain(i)) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def start_firing(self, record: FollowupRecord, now_ms: int) -> FollowupRecord:
        """``scheduled -> firing`` with the due-index key that reports it if it never finishes."""
        return self.transition(
            record,
            from_status="scheduled",
            to_status="firing",
            changes={"fired_at_ms": now_ms, **check_attributes(CHECK_FOLLOWUP, record.pk, record.sk, now_ms)},
        )

    def transition(
        self,
        record: FollowupRecord,
        *,
        from_status: FollowupStatus,
        to_status: FollowupStatus,
        changes: dict[str, Any] | None = None,
    ) -> FollowupRecord:
        """Move ``from_status -> to_status`` (and set ``changes``) only if still ``from_status``.

        Leaving ``firing`` removes the stuck-check key: the send finished, nothing to report."""
        values = {"status": to_status, **(changes or {})}
        names = {f"#a{i}": name for i, name in enumerate(values)}
        attrs = {f":v{i}": _json_ready(value) for i, value in enumerate(values.values())}
        update = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values)))
        if from_status == "firing":
            names.update({f"#r{i}": name for i, name in enumerate(CHECK_ATTRIBUTES)})
            update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(CHECK_ATTRIBUTES)))
        try:
            response = self._table().update_item(
                Key={"pk": record.pk, "sk": record.sk},
                UpdateExpression=update,
                ConditionExpression="#status = :from",
                ExpressionAttributeNames={**names, "#status": "status"},
                ExpressionAttributeValues={**attrs, ":from": from_status},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                old: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
                current = FollowupRecord.model_validate(plain(_deserialize(old))) if old else None
                raise StatusConflict(current) from error
            raise
        return FollowupRecord.model_validate(plain(response["Attributes"]))

    def mark_published(self, record: FollowupRecord) -> None:
        self._table().update_item(
            Key={"pk": record.pk, "sk": record.sk},
            UpdateExpression="SET event_published = :yes",
            ExpressionAttributeValues={":yes": True},
        )


def _json_ready(value: Any) -> Any:
    """Plain values for the resource layer (which refuses float; we store none)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value


def _serializer() -> TypeSerializer:
    return TypeSerializer()


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}
