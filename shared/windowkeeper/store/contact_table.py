"""Reading contact items from the table (``ports.contacts.ContactReader``)."""

from __future__ import annotations

from dataclasses import dataclass

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord, contact_item_key, plain
from windowkeeper.store.keys import ACCOUNT_INDEX, account_shard_keys


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
