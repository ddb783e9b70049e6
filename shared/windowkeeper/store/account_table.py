"""Account profiles in the table, cached per container.

Each account is one ``PROFILE`` item under ``A#<channel>#<account_id>``. WhatsApp webhooks name
the WABA (``entry[].id``) rather than the phone number, so an account also gets an alias item
``W#<object>#<webhook id>`` pointing at its profile. A handful of accounts per deployment and a
short cache mean a webhook pays at most one small read per account per minute.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from windowkeeper import aws
from windowkeeper.accounts import WEBHOOK_OBJECT, AccountConfig
from windowkeeper.policy.model import Channel
from windowkeeper.store.keys import PROFILE_SK, account_pk

CACHE_SECONDS = 60.0


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def webhook_alias_pk(webhook_object: str, webhook_account_id: str) -> str:
    return f"W#{webhook_object}#{webhook_account_id}"


@dataclass
class AccountStore:
    table_name: str
    cache_seconds: float = CACHE_SECONDS
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    def _cached(self, key: str, load: Any) -> Any:
        now = time.monotonic()  # cache ageing only; never used for policy time
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        value = load()
        self._cache[key] = (now, value)
        return value

    def get(self, channel: Channel, account_id: str) -> AccountConfig | None:
        pk = account_pk(channel, account_id)

        def load() -> AccountConfig | None:
            item = aws.table(self.table_name).get_item(Key={"pk": pk, "sk": PROFILE_SK}).get("Item")
            return AccountConfig.model_validate_json(str(item["config"])) if item else None

        result: AccountConfig | None = self._cached(pk, load)
        return result

    def get_for_webhook(self, webhook_object: str, webhook_account_id: str) -> list[AccountConfig]:
        """Accounts behind a webhook entry id (a WABA can hold several phone numbers)."""
        alias = webhook_alias_pk(webhook_object, webhook_account_id)

        def load() -> list[AccountConfig]:
            item = aws.table(self.table_name).get_item(Key={"pk": alias, "sk": PROFILE_SK}).get("Item")
            if not item:
                return []
            configs = [
                self.get(Channel(ref["channel"]), ref["account_id"])
                for ref in json.loads(str(item["accounts"]))
            ]
            return [c for c in configs if c is not None]

        result: list[AccountConfig] = self._cached(alias, load)
        return result

    def put_all(self, accounts: Iterable[AccountConfig]) -> int:
        """Write profiles and their webhook aliases (``windowkeeper accounts load`` and the local stack)."""
        aliases: dict[str, list[dict[str, str]]] = {}
        count = 0
        with aws.table(self.table_name).batch_writer() as batch:
            for account in accounts:
                batch.put_item(
                    Item={
                        "pk": account_pk(account.channel, account.account_id),
                        "sk": PROFILE_SK,
                        "tenant_id": account.tenant_id,
                        "channel": account.channel.value,
                        "account_id": account.account_id,
                        "config": account.model_dump_json(),
                    }
                )
                # Tenant membership item: lists a tenant's accounts with one Query.
                batch.put_item(
                    Item={
                        "pk": tenant_pk(account.tenant_id),
                        "sk": account_pk(account.channel, account.account_id),
                    }
                )
                count += 1
                webhook_object = WEBHOOK_OBJECT.get(account.channel)
                if webhook_object:
                    alias = webhook_alias_pk(webhook_object, account.webhook_account_id)
                    aliases.setdefault(alias, []).append(
                        {"channel": account.channel.value, "account_id": account.account_id}
                    )
            for alias, refs in aliases.items():
                batch.put_item(Item={"pk": alias, "sk": PROFILE_SK, "accounts": json.dumps(refs)})
        self._cache.clear()
        return count

    def list_for_tenant(self, tenant_id: str) -> list[AccountConfig]:
        """All accounts of a tenant (console, re-engagement jobs)."""
        table = aws.table(self.table_name)
        refs: list[str] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :tenant",
            "ExpressionAttributeValues": {":tenant": tenant_pk(tenant_id)},
        }
        while True:
            page = table.query(**kwargs)
            refs.extend(str(item["sk"]) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        configs = []
        for ref in refs:
            _, channel, account_id = ref.split("#", 2)
            config = self.get(Channel(channel), account_id)
            if config is not None:
                configs.append(config)
        return configs
