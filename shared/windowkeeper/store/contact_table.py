"""Reading contact items from the table (``ports.contacts.ContactReader``)."""

from __future__ import annotations

from dataclasses import dataclass

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord, contact_item_key, plain


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
