"""The webhook's half of the consent ledger: one audit record per consent fact a webhook carries.

Keywords (STOP/START), WhatsApp ``user_preferences``, Messenger marketing opt-ins and stops, and
WhatsApp error 131050 each become a ``consent`` record in the contact's audit trail (``DEC#``),
with the source and the event's own instant. The record's id is derived from the event id, so a
redelivered or duplicated webhook puts the very same item (``BatchWriteItem`` puts are
idempotent by key) and the ledger never holds a fact twice.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.observations import Observation
from windowkeeper.instants import from_ms
from windowkeeper.store.audit_records import AuditEntry, consent_ledger_item

META_SOURCES = frozenset({"error_131050"})  # Meta's own verdicts, not the customer's words


def consent_ledger_record(observation: Observation, account: AccountConfig) -> dict[str, Any] | None:
    """The ``DEC#`` item for a consent observation (None: the observation is not a consent fact)."""
    change = observation.consent
    if change is None:
        return None
    at = from_ms(observation.at_ms)
    assert at is not None
    actions = [f"opt_out:{s.value}" for s in sorted(change.opt_out)]
    actions += [f"opt_in:{s.value}" for s in sorted(change.opt_in)]
    if change.marketing_opt_in:
        actions.append("marketing_opt_in:token" if change.token else "marketing_opt_in")
    by_meta = change.source in META_SOURCES
    entry = AuditEntry(
        audit_id="wh-" + hashlib.sha256(observation.event_id.encode()).hexdigest()[:24],
        kind="consent",
        at_ms=observation.at_ms,
        principal_subject="meta" if by_meta else "customer",
        principal_kind="meta" if by_meta else "customer",
        tenant_id=account.tenant_id,
        account_tenant_id=account.tenant_id,
        channel=account.channel.value,
        account_id=account.account_id,
        contact_id=observation.key.contact_id,
        outcome="recorded",
        reasons=actions,
        explanation=f"{', '.join(actions)} from {change.source} (webhook).",
        source=change.source,
        expires_at=int((at + timedelta(days=account.audit_retention_days)).timestamp()),
    )
    key = observation.key
    return consent_ledger_item(key.channel, key.account_id, key.contact_id, entry)
