"""Business accounts by id, by webhook entry and by tenant."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.model import Channel
from windowkeeper.store.health_records import AccountHealth
from windowkeeper.store.template_records import TemplateChange, TemplateState


class AccountDirectory(Protocol):
    """Where account profiles live (``store.account_table.AccountStore`` when deployed)."""

    def get(self, channel: Channel, account_id: str) -> AccountConfig | None:
        """The account, or None when no such account is configured."""
        ...

    def get_for_webhook(self, webhook_object: str, webhook_account_id: str) -> list[AccountConfig]:
        """The accounts behind a webhook entry id (a WhatsApp Business Account holds several numbers)."""
        ...

    def list_for_tenant(self, tenant_id: str) -> list[AccountConfig]:
        """Every account of a tenant, in no particular order."""
        ...

    def put_all(self, accounts: Iterable[AccountConfig]) -> int:
        """Store profiles (replacing same-id ones) and their webhook aliases; how many were stored."""
        ...


class AccountHealthLog(Protocol):
    """Accounts' health as Meta last told it (``store.health_table.AccountHealthTable``)."""

    def get(self, channel: Channel, account_id: str) -> AccountHealth | None:
        """The last recorded health (read strongly consistent), or None: nothing ever went wrong."""
        ...

    def record(self, health: AccountHealth) -> bool:
        """Keep ``health`` unless a newer fact is kept; True when it was kept."""
        ...


class TemplateStates(Protocol):
    """Meta's facts about WhatsApp templates (``store.template_table.TemplateStateTable``)."""

    def get(self, channel: Channel, account_id: str, name: str, language: str) -> TemplateState | None:
        """The template's state (read strongly consistent), or None: Meta said nothing yet."""
        ...

    def list(self, channel: Channel, account_id: str) -> dict[tuple[str, str], TemplateState]:
        """Every template state of the account, by (name, language)."""
        ...

    def apply(self, channel: Channel, account_id: str, change: TemplateChange) -> bool:
        """Keep the change's fact unless a newer one of its kind is kept; True when kept."""
        ...
