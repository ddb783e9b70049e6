"""Reading contact items from the table (``ports.contacts.ContactReader``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord, contact_item_key, plain
from windowkeeper.store.inbox_records import ShardRead, SortKey, activity_key
from windowkeeper.store.keys import ACCOUNT_INDEX, INBOX_INDEX, account_shard_keys


@dataclass(frozen=True)
class ContactTable:
    table_name: str

    def get(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord | None:
        # Strongly consistent: a send decides on what the webhook wrote a moment ago.
        item = (
            aws.table(self.table_name)
            .get_item(Key=contact_item_key(channel, account_id, contact_id), ConsistentRead=True)
            .get("Item")
        )
        return ContactRecord.from_item(plain(item)) if item else None

    def recent(self, channel: Channel, account_id: str, *, tenant_id: str, limit: int) -> list[ContactRecord]:
        """Up to ``limit`` contacts per shard of the account, most recent customer action first.

        Reads GSI ``account-index`` (one Query per shard); the caller merges the shards.
        """
        table = aws.table(self.table_name)
        found: list[ContactRecord] = []
        for shard in account_shard_keys(channel, account_id):
            page = table.query(
                IndexName=ACCOUNT_INDEX,
                KeyConditionExpression="account_shard = :shard",
                ExpressionAttributeValues={":shard": shard},
                ScanIndexForward=False,
                Limit=limit,
            )
            for item in page["Items"]:
                record = ContactRecord.from_item(item)
                if record.tenant_id == tenant_id:  # defensive: the index holds every tenant
                    found.append(record)
        return found

    def inbox(
        self,
        channel: Channel,
        account_id: str,
        *,
        tenant_id: str,
        after: SortKey | None,
        accept: Callable[[ContactRecord], bool],
        want: int,
        budget: int,
    ) -> list[ShardRead]:
        """Each shard of GSI ``inbox-index`` read newest first below ``after`` (see
        ``store.inbox_records``): until ``want`` accepted records or ``budget`` items read, then on
        to the end of the last millisecond read."""
        table = aws.table(self.table_name)
        reads = []
        for shard in account_shard_keys(channel, account_id):
            arguments: dict[str, Any] = {
                "IndexName": INBOX_INDEX,
                "KeyConditionExpression": "account_shard = :shard"
                + (" AND last_activity_ms <= :after" if after else ""),
                "ExpressionAttributeValues": {":shard": shard, **({":after": after[0]} if after else {})},
                "ScanIndexForward": False,
                "Limit": min(want + 1, budget),
            }
            reads.append(
                _read_shard(table, arguments, tenant_id, after=after, accept=accept, want=want, budget=budget)
            )
        return reads

    def acted_since(
        self, channel: Channel, account_id: str, *, tenant_id: str, since_ms: int, cap: int
    ) -> tuple[list[ContactRecord], bool]:
        """The account's contacts whose customer acted at or after ``since_ms`` (GSI
        ``account-index``), at most ``cap`` items read; also whether that was all of them."""
        table = aws.table(self.table_name)
        found: list[ContactRecord] = []
        read = 0
        for shard in account_shard_keys(channel, account_id):
            arguments: dict[str, Any] = {
                "IndexName": ACCOUNT_INDEX,
                "KeyConditionExpression": "account_shard = :shard AND last_customer_action_ms >= :since",
                "ExpressionAttributeValues": {":shard": shard, ":since": since_ms},
            }
            while True:
                if read >= cap:
                    return found, False
                page = table.query(**arguments, Limit=cap - read)
                read += len(page["Items"])
                for item in page["Items"]:
                    record = ContactRecord.from_item(item)
                    if record.tenant_id == tenant_id:
                        found.append(record)
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found, True

    def fill_display_name(
        self, channel: Channel, account_id: str, contact_id: str, *, name: str | None, retry_after_ms: int
    ) -> None:
        """Never overwrites a name (the webhook's is the customer's newest) nor creates an item."""
        if name is not None:
            update = "SET display_name = :value"
            condition = "attribute_exists(pk) AND attribute_not_exists(display_name)"
            value: Any = name
        else:
            update = "SET profile_retry_after_ms = :value"
            condition = "attribute_exists(pk)"
            value = retry_after_ms
        try:
            aws.table(self.table_name).update_item(
                Key=contact_item_key(channel, account_id, contact_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues={":value": value},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise


def _read_shard(
    table: Any,
    arguments: dict[str, Any],
    tenant_id: str,
    *,
    after: SortKey | None,
    accept: Callable[[ContactRecord], bool],
    want: int,
    budget: int,
) -> ShardRead:
    result = ShardRead()
    stop_ms: int | None = None  # once set: read only the rest of this millisecond
    while True:
        page = table.query(**arguments)
        for item in page["Items"]:
            record = ContactRecord.from_item(item)
            key = activity_key(record)
            if stop_ms is not None and key[0] != stop_ms:
                result.frontier = (stop_ms, "")
                return result
            result.read += 1
            if after is not None and key >= after:
                continue  # at the cursor's millisecond, already listed
            if record.tenant_id == tenant_id and accept(record):  # tenant: defensive
                result.matches.append(record)
            if stop_ms is None and (len(result.matches) >= want or result.read >= budget):
                stop_ms = key[0]
        if "LastEvaluatedKey" not in page:
            return result  # exhausted: frontier None
        arguments = {**arguments, "ExclusiveStartKey": page["LastEvaluatedKey"]}
