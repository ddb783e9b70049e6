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

from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from pydantic import BaseModel, ConfigDict

from windowkeeper import aws
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import ConsentScope, CustomerActionKind, EntryPoint
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import HISTORY_SK_PREFIX, history_sk, history_sk_after


class HistoryEntry(BaseModel):
    """One fact about one contact, as its source reported it (no Meta or HTTP shapes)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    entry_id: str  # stable across retries: mid / wamid / event hash, or the send's decision id
    at_ms: int  # the fact's own instant
    source: str  # webhook | send | agent | api
    kind: str  # message, postback, comment, status, consent, meta_verdict...
    action: CustomerActionKind | None = None
    opens_window: bool = False
    entry_point: EntryPoint | None = None
    ad_started: bool = False
    comment_id: str | None = None
    # Consent words: scopes opted out of / into, a marketing opt-in (with its token), consent on record.
    opt_out: tuple[ConsentScope, ...] = ()
    opt_in: tuple[ConsentScope, ...] = ()
    consent_source: str | None = None
    marketing_opt_in: bool = False
    token: str | None = None
    consent_on_record: bool = False
    # Meta's verdicts.
    backoff_until_ms: int | None = None
    closed_early: bool = False
    unreachable_reason: str | None = None

    @property
    def lasts(self) -> bool:
        """Consent and Meta's verdicts hold until undone, however old: never expire them."""
        return bool(
            self.opt_out
            or self.opt_in
            or self.marketing_opt_in
            or self.consent_on_record
            or self.closed_early
            or self.unreachable_reason
            or self.backoff_until_ms is not None
        )


def history_item(pk: str, entry: HistoryEntry, *, retention_days: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": pk,
        "sk": history_sk(entry.at_ms, entry.entry_id),
        **entry.model_dump(mode="json", exclude_defaults=True),
        "entry_id": entry.entry_id,
        "at_ms": entry.at_ms,
    }
    if not entry.lasts:
        at = from_ms(entry.at_ms)
        assert at is not None
        item["expires_at"] = int((at + timedelta(days=retention_days)).timestamp())
    return item


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
