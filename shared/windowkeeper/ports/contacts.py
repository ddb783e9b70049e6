"""Reading a contact's stored state (``store.contact_table.ContactTable`` when deployed)."""

from __future__ import annotations

from typing import Protocol

from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord


class ContactReader(Protocol):
    def get(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord | None:
        """The contact as last written (read strongly consistent), or None if it never was."""
        ...
