"""Reading a contact's stored state (``store.contact_table.ContactTable`` when deployed)."""

from __future__ import annotations

from typing import Protocol

from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord


class ContactReader(Protocol):
    def get(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord | None:
        """The contact as last written (read strongly consistent), or None if it never was."""
        ...

    def recent(self, channel: Channel, account_id: str, *, tenant_id: str, limit: int) -> list[ContactRecord]:
        """The account's contacts of ``tenant_id`` with the most recent customer actions: at least
        the newest ``limit`` of them (in no particular order; callers sort and cut)."""
        ...
