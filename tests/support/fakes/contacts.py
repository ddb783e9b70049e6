"""``ContactReader`` in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.inbox_records import ShardRead, SortKey, activity_key


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
        """One shard holding every listed contact, read whole (no budget in memory)."""
        mine = [
            r
            for (c, a, _), r in self.records.items()
            if c is channel
            and a == account_id
            and r.tenant_id == tenant_id
            and r.last_activity_ms is not None
        ]
        mine.sort(key=activity_key, reverse=True)
        return [
            ShardRead(matches=[r for r in mine if (after is None or activity_key(r) < after) and accept(r)])
        ]

    def fill_display_name(
        self, channel: Channel, account_id: str, contact_id: str, *, name: str | None, retry_after_ms: int
    ) -> None:
        record = self.records.get((channel, account_id, contact_id))
        if record is None:
            return
        if name is not None and record.display_name is None:
            self.put(record.model_copy(update={"display_name": name}))
        elif name is None:
            self.put(record.model_copy(update={"profile_retry_after_ms": retry_after_ms}))

    def acted_since(
        self, channel: Channel, account_id: str, *, tenant_id: str, since_ms: int, cap: int
    ) -> tuple[list[ContactRecord], bool]:
        mine = [
            r
            for (c, a, _), r in self.records.items()
            if c is channel
            and a == account_id
            and r.tenant_id == tenant_id
            and (r.last_customer_action_ms or 0) >= since_ms
        ]
        return mine[:cap], len(mine) <= cap
