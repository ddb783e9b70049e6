"""``AccountDirectory`` in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from windowkeeper.accounts import WEBHOOK_OBJECT, AccountConfig
from windowkeeper.policy.model import Channel


@dataclass
class InMemoryAccounts:
    accounts: dict[tuple[Channel, str], AccountConfig] = field(default_factory=dict)

    @classmethod
    def of(cls, *accounts: AccountConfig) -> InMemoryAccounts:
        directory = cls()
        directory.put_all(accounts)
        return directory

    def get(self, channel: Channel, account_id: str) -> AccountConfig | None:
        return self.accounts.get((channel, account_id))

    def get_for_webhook(self, webhook_object: str, webhook_account_id: str) -> list[AccountConfig]:
        return [
            account
            for account in self.accounts.values()
            if WEBHOOK_OBJECT.get(account.channel) == webhook_object
            and account.webhook_account_id == webhook_account_id
        ]

    def list_for_tenant(self, tenant_id: str) -> list[AccountConfig]:
        return [account for account in self.accounts.values() if account.tenant_id == tenant_id]

    def put_all(self, accounts: Iterable[AccountConfig]) -> int:
        count = 0
        for account in accounts:
            self.accounts[(account.channel, account.account_id)] = account
            count += 1
        return count
