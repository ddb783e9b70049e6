"""Puts of many independent items into the table, 25 per ``BatchWriteItem`` (``ports.webhook.ItemBatch``).

The webhook writes a POST's conversation-log items, journal entries and consent-ledger records
this way: each is keyed by its own event, so a put of the same item again is harmless and a
retried POST converges. boto3's ``batch_writer`` re-sends what DynamoDB leaves unprocessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from windowkeeper import aws


@dataclass(frozen=True)
class BatchPutTable:
    table_name: str

    def put_all(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Put every item (no two with the same key: one batch must not name a key twice)."""
        if not items:
            return
        with aws.table(self.table_name).batch_writer() as batch:
            for item in items:
                batch.put_item(Item=dict(item))
