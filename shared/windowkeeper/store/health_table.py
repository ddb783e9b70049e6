"""Account health items (``A#<channel>#<account_id>`` / ``HEALTH``): ``ports.accounts.AccountHealthLog``."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import plain
from windowkeeper.store.health_records import AccountHealth
from windowkeeper.store.keys import account_health_key


@dataclass(frozen=True)
class AccountHealthTable:
    table_name: str

    def get(self, channel: Channel, account_id: str) -> AccountHealth | None:
        item = (
            aws.table(self.table_name)
            .get_item(Key=account_health_key(channel, account_id), ConsistentRead=True)
            .get("Item")
        )
        return AccountHealth.model_validate(plain(item)) if item else None

    def record(self, health: AccountHealth) -> bool:
        """Store ``health`` unless a newer fact is stored already; True when it was stored."""
        try:
            aws.table(self.table_name).put_item(
                Item={
                    **account_health_key(health.channel, health.account_id),
                    **health.model_dump(mode="json", exclude_none=True),
                },
                ConditionExpression="attribute_not_exists(pk) OR changed_ms < :changed",
                ExpressionAttributeValues={":changed": health.changed_ms},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True
