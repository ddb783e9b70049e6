"""Reading a contact's stored state (``store.contact_table.ContactTable`` when deployed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.inbox_records import ShardRead, SortKey


class ContactReader(Protocol):
    def get(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord | None:
        """The contact as last written (read strongly consistent), or None if it never was."""
        ...

    def recent(self, channel: Channel, account_id: str, *, tenant_id: str, limit: int) -> list[ContactRecord]:
        """The account's contacts of ``tenant_id`` with the most recent customer actions: at least
        the newest ``limit`` of them (in no particular order; callers sort and cut)."""
        ...

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
        """Per shard, the accepted contacts below ``after`` by newest activity, and where each
        shard stopped (``store.inbox_records``)."""
        ...

    def acted_since(
        self, channel: Channel, account_id: str, *, tenant_id: str, since_ms: int, cap: int
    ) -> tuple[list[ContactRecord], bool]:
        """The contacts whose customer acted at or after ``since_ms`` (at most ``cap`` read), and
        whether that was all of them."""
        ...

    def fill_display_name(
        self, channel: Channel, account_id: str, contact_id: str, *, name: str | None, retry_after_ms: int
    ) -> None:
        """Store a looked-up name unless the contact has one (a webhook's is newer), or, with
        ``name=None``, that no lookup is worth trying before ``retry_after_ms``."""
        ...
