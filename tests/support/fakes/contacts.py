"""``ContactReader`` in memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord


@dataclass
class InMemoryContacts:
    records: dict[tuple[Channel, str, str], ContactRecord] = field(default_factory=dict)

    def put(self, record: ContactRecord) -> None:
        self.records[(record.channel, record.account_id, record.contact_id)] = record

    def get(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord | None:
        return self.records.get((channel, account_id, contact_id))
