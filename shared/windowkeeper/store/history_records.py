"""One journal entry of a contact (``store.history_table`` keeps them; see there for why)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind, EntryPoint
from windowkeeper.store.keys import contact_pk, history_sk


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


def contact_history_item(
    channel: Channel, account_id: str, contact_id: str, entry: HistoryEntry, *, retention_days: int
) -> dict[str, Any]:
    """``history_item`` for a contact named by its ids (the webhook knows no keys)."""
    return history_item(contact_pk(channel, account_id, contact_id), entry, retention_days=retention_days)
