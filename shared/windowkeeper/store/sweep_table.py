"""The minute sweep's table access: its cursor, the due-index queries and the notice transition.

* Cursor ``pk = SWEEP, sk = CURSOR``: the last minute (``yyyy-mm-ddTHH:MM``) swept completely.
  Moved forward only (conditional), so an overlapping slow sweep cannot move it back.
* ``due-index`` (sparse; hash ``due_bucket`` = minute + shard, range ``due_at_ms``): one Query
  per shard per minute reads exactly the contacts with a notice due in that minute.
* The transition to the next notice is conditional on ``due_kind`` and ``due_window_ms`` still
  being the notice that was read, so a rerun, an overlapping sweep or a webhook that renewed
  the window in between never gets its change overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key
from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.ports.scheduling import DueQueryStats
from windowkeeper.store.contact_item import plain
from windowkeeper.store.contact_write_plan import DUE_ATTRIBUTES
from windowkeeper.store.keys import DUE_INDEX, STATE_SK, due_buckets_for_minute

CURSOR_KEY = {"pk": "SWEEP", "sk": "CURSOR"}


@dataclass(frozen=True)
class SweepStore:
    table_name: str

    def _table(self) -> Any:
        return aws.table(self.table_name)

    def cursor(self) -> str | None:
        item = self._table().get_item(Key=CURSOR_KEY, ConsistentRead=True).get("Item")
        return str(item["minute"]) if item else None

    def advance_cursor(self, minute: str, swept_at_ms: int) -> bool:
        """Set the cursor to ``minute`` unless it is already there or later (string order = time order)."""
        try:
            self._table().put_item(
                Item={**CURSOR_KEY, "minute": minute, "swept_at_ms": swept_at_ms},
                ConditionExpression="attribute_not_exists(pk) OR #minute < :minute",
                ExpressionAttributeNames={"#minute": "minute"},
                ExpressionAttributeValues={":minute": minute},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def due_items(
        self, minute: str, *, due_until_ms: int | None, stats: DueQueryStats
    ) -> Iterator[dict[str, Any]]:
        """Items queued for ``minute`` (``instants.minute_of``), shard by shard of its due bucket
        (optionally only those due by ``due_until_ms``)."""
        for bucket in due_buckets_for_minute(minute):
            condition: ConditionBase = Key("due_bucket").eq(bucket)
            if due_until_ms is not None:
                condition = condition & Key("due_at_ms").lte(due_until_ms)
            kwargs: dict[str, Any] = {"IndexName": DUE_INDEX, "KeyConditionExpression": condition}
            while True:
                page = self._table().query(**kwargs)
                stats.queries += 1
                stats.items_read += len(page["Items"])
                for item in page["Items"]:
                    yield plain(item)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def move_notice(
        self,
        pk: str,
        *,
        expected_kind: str,
        expected_window_ms: int,
        next_due: dict[str, Any] | None,
    ) -> bool:
        """Replace the pending notice by ``next_due`` (or clear it); ``False`` if it changed meanwhile."""
        touched = {*(next_due or DUE_ATTRIBUTES), "due_kind", "due_window_ms"}
        names = {f"#{name}": name for name in touched}
        values: dict[str, Any] = {":kind": expected_kind, ":window": expected_window_ms}
        if next_due:
            sets = ", ".join(f"#{name} = :{name}" for name in next_due)
            values.update({f":{name}": value for name, value in next_due.items()})
            update = f"SET {sets}"
        else:
            update = "REMOVE " + ", ".join(f"#{name}" for name in DUE_ATTRIBUTES)
        try:
            self._table().update_item(
                Key={"pk": pk, "sk": STATE_SK},
                UpdateExpression=update,
                ConditionExpression="#due_kind = :kind AND #due_window_ms = :window",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
