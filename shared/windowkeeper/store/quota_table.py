"""Account quotas kept as state: Viber's monthly count of bot-initiated messages (fact sheet O1).

One item per account, quota and UTC month: ``A#<channel>#<account_id>`` / ``QUOTA#<name>#<YYYY-MM>``
with ``used``. ``take`` is a conditional ``ADD`` (``used < :limit``): however many sends race for
the last free message, DynamoDB lets exactly ``limit`` through in the month, and a new month is a
new item (the quota resets, nothing rolls over). ``give_back`` undoes a take whose message the
platform certainly did not accept. Items expire a year after their month (TTL ``expires_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.keys import account_pk
from windowkeeper.store.quota_records import quota_sk

KEPT_SECONDS = 400 * 24 * 3600


@dataclass(frozen=True)
class QuotaTable:
    """``ports.sending.QuotaCounters`` on the table."""

    table_name: str

    def used(self, channel: Channel, account_id: str, name: str, month: str) -> int:
        key = {"pk": account_pk(channel, account_id), "sk": quota_sk(name, month)}
        item = aws.table(self.table_name).get_item(Key=key, ConsistentRead=True).get("Item")
        used = item.get("used") if item else None
        return int(str(used)) if used is not None else 0

    def take(
        self, channel: Channel, account_id: str, name: str, month: str, *, limit: int, now: datetime
    ) -> bool:
        try:
            aws.table(self.table_name).update_item(
                Key={"pk": account_pk(channel, account_id), "sk": quota_sk(name, month)},
                UpdateExpression="ADD used :one SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": limit,
                    ":expires": int(now.timestamp()) + KEPT_SECONDS,
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def give_back(self, channel: Channel, account_id: str, name: str, month: str) -> None:
        try:
            aws.table(self.table_name).update_item(
                Key={"pk": account_pk(channel, account_id), "sk": quota_sk(name, month)},
                UpdateExpression="ADD used :minus_one",
                ConditionExpression="used > :zero",
                ExpressionAttributeValues={":minus_one": -1, ":zero": 0},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
