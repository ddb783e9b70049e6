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

    def recent(self, channel: Channel, account_id: str, *, tenant_id: str, limit: int) -> list[ContactRecord]:
        mine = [
            r
            for (c, a, _), r in self.records.items()
            if c is channel and a == account_id and r.tenant_id == tenant_id
        ]
        mine.sort(key=lambda r: (r.last_customer_action_ms or 0, r.pk), reverse=True)
        return mine[:limit]
