"""The audit trail's records (``store.audit_table`` writes and lists them; see there for the layout)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.keys import DECISION_SK_PREFIX, contact_pk, sortable_ms

AUDIT_LIST_MAX = 100


class InvalidCursorError(ValueError):
    """A pagination cursor that this store did not hand out (or for another contact)."""


class AuditEntry(BaseModel):
    """One audit record, as stored (attribute names = table attribute names)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    audit_id: str
    kind: str  # decision | tenant_violation | consent | ...
    at_ms: int
    principal_subject: str
    # who acted: a person or an automation of the tenant, or (consent ledger) the customer
    # (keywords, Meta's opt-in/stop controls) or Meta (its errors, e.g. WhatsApp 131050)
    principal_kind: Literal["human", "automation", "customer", "meta"]
    automation_kind: str | None = None
    tenant_id: str  # the principal's tenant
    account_tenant_id: str | None = None  # the account's tenant (differs on a violation)
    channel: str
    account_id: str
    contact_id: str
    outcome: str  # sent | refused | failed | allowed | forbidden | recorded
    allowed: bool | None = None
    path: str | None = None
    send_fields: dict[str, Any] = Field(default_factory=dict)
    rule_id: str | None = None
    rule_sources: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    explanation: str | None = None
    content_kind: str | None = None
    template_name: str | None = None
    text_sha256: str | None = None
    tag: str | None = None
    purpose: str | None = None
    confirm_not_promotional: bool = False
    platform_message_id: str | None = None
    graph_error: dict[str, Any] | None = None
    note_sha256: str | None = None  # free-text notes (e.g. consent) hashed like message text
    source: str | None = None  # consent: keyword, user_preferences, error_131050, marketing_stop, agent...
    expires_at: int | None = None


def text_hash(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def expires_at(at: datetime, retention_days: int) -> int:
    return int((at + timedelta(days=retention_days)).timestamp())


def audit_sk(at: datetime, audit_id: str) -> str:
    return f"{DECISION_SK_PREFIX}{sortable_ms(at)}#{audit_id}"


def consent_ledger_item(
    channel: Channel, account_id: str, contact_id: str, entry: AuditEntry
) -> dict[str, Any]:
    """A webhook consent record: keyed by instant and event (a redelivery puts the same item)."""
    at = from_ms(entry.at_ms)
    assert at is not None
    pk = contact_pk(channel, account_id, contact_id)
    return {"pk": pk, "sk": audit_sk(at, entry.audit_id), **entry.model_dump(mode="json", exclude_none=True)}
