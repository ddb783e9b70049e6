"""The contact's journal: every fact that changed its state, each with its own instant.

The ``STATE`` item holds only the newest of each fact, which is all a decision "now" needs. A
question "as of" an earlier instant needs what was known then: the customer's earlier message,
the consent before a later opt-in. So every state-changing fact is also appended here, under the
contact's partition, keyed by the fact's own instant (``H#<epoch_ms>#<entry id>``):

* the webhook: customer actions, comments, consent words, Meta's statuses (131047/131049/131026);
* the send path: Meta's verdicts on a send (window closed early, unreachable, back-off, stop);
* the contacts API: consent an agent records.

Entries are idempotent puts (a retried webhook writes the same key), so the journal ends the same
whatever the order or duplication of deliveries. Customer actions expire with the account's audit
retention; consent and Meta's verdicts never do, because they stay in force until something newer
undoes them (an opt-out from three years ago still holds). ``windowkeeper.asof`` folds entries into
the state as of an instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key

from windowkeeper import aws
from windowkeeper.store.contact_item import plain
from windowkeeper.store.history_records import HistoryEntry, history_item
from windowkeeper.store.keys import HISTORY_SK_PREFIX, history_sk_after


def put_history_item(table_name: str, item: dict[str, Any]) -> None:
    """Write one journal item (a put of the same key again is harmless). The webhook writes its
    entries in the same ``BatchWriteItem`` rounds as the conversation log instead."""
    aws.table(table_name).put_item(Item=item)


def read_history(table_name: str, pk: str, *, until_ms: int) -> list[HistoryEntry]:
    """Every entry stamped at or before ``until_ms``, oldest first (strongly consistent)."""
    table = aws.table(table_name)
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(pk)
        & Key("sk").between(HISTORY_SK_PREFIX, history_sk_after(until_ms)),
        "ConsistentRead": True,
    }
    entries: list[HistoryEntry] = []
    while True:
        page = table.query(**kwargs)
        entries.extend(HistoryEntry.model_validate(plain(item)) for item in page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return entries
        kwargs["ExclusiveStartKey"] = last


@dataclass(frozen=True)
class HistoryTable:
    """``ports.sending.ContactHistory`` on the table."""

    table_name: str

    def put(self, pk: str, entry: HistoryEntry, *, retention_days: int) -> None:
        put_history_item(self.table_name, history_item(pk, entry, retention_days=retention_days))

    def read(self, pk: str, *, until_ms: int) -> list[HistoryEntry]:
        return read_history(self.table_name, pk, until_ms=until_ms)
