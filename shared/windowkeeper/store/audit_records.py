"""The audit trail's records (``store.audit_table`` writes and lists them; see there for the layout)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.keys import DECISION_SK_PREFIX, audit_day, audit_shard_key, contact_pk, sortable_ms

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
    return {
        "pk": pk,
        "sk": audit_sk(at, entry.audit_id),
        **index_attributes(entry),
        **entry.model_dump(mode="json", exclude_none=True),
    }


# --- the tenant's audit trail (``audit-index``) -------------------------------------------------------
TENANT_AUDIT_MAX_DAYS = 31  # one query spans at most this many days (UTC), so a page stays bounded
TENANT_AUDIT_READ_BUDGET = 5_000  # records read per page before it stops at a day boundary


def index_attributes(entry: AuditEntry) -> dict[str, str]:
    """What files a record on the tenant's audit index: under the account's tenant, by its instant."""
    at = from_ms(entry.at_ms)
    assert at is not None
    return {"audit_shard": audit_shard_key(entry.account_tenant_id or entry.tenant_id, at, entry.audit_id)}


@dataclass(frozen=True)
class AuditQuery:
    """``GET /v1/audit``: a tenant's records in ``[since, until)``, newest first, filtered."""

    tenant_id: str
    since: datetime
    until: datetime
    limit: int
    agent: str | None = None  # the acting principal's subject (an agent, or an automation)
    path: str | None = None
    reason: str | None = None
    kind: str | None = None
    outcome: str | None = None
    channel: str | None = None
    account_id: str | None = None
    before_sk: str | None = None  # from the cursor: only records older than this one

    def matches(self, entry: AuditEntry) -> bool:
        wanted = {
            "principal_subject": self.agent,
            "path": self.path,
            "kind": self.kind,
            "outcome": self.outcome,
            "channel": self.channel,
            "account_id": self.account_id,
        }
        if any(value is not None and getattr(entry, name) != value for name, value in wanted.items()):
            return False
        return self.reason is None or self.reason in entry.reasons

    @property
    def lowest_sk(self) -> str:
        return audit_sk_floor(self.since)

    @property
    def highest_sk(self) -> str:
        """Exclusive: a record at ``until`` sorts after ``DEC#<until>`` (its id follows)."""
        ceiling = audit_sk_floor(self.until)
        return min(ceiling, self.before_sk) if self.before_sk is not None else ceiling

    def days(self) -> list[str]:
        """The UTC days the range touches, newest first (from the cursor's day on)."""
        newest = self.until - timedelta(milliseconds=1)
        if self.before_sk is not None:
            newest = min(newest, from_ms(int(self.before_sk.split("#")[1])) or newest)
        day, oldest, out = audit_day(newest), audit_day(self.since), []
        current = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
        while audit_day(current) >= oldest:
            out.append(audit_day(current))
            current -= timedelta(days=1)
        return out


def audit_sk_floor(at: datetime) -> str:
    """The key just below every record at or after ``at``: a cursor that resumes before ``at``."""
    return f"{DECISION_SK_PREFIX}{sortable_ms(at)}"


def encode_audit_cursor(tenant_id: str, before_sk: str) -> str:
    raw = json.dumps({"tenant": tenant_id, "before": before_sk}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_audit_cursor(cursor: str, tenant_id: str) -> str:
    """The ``before`` record key a tenant-audit cursor carries; ``InvalidCursorError`` otherwise."""
    try:
        decoded: Any = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursorError("the cursor is not one this API handed out") from error
    if (
        not isinstance(decoded, dict)
        or decoded.get("tenant") != tenant_id
        or not isinstance(decoded.get("before"), str)
        or not decoded["before"].startswith(DECISION_SK_PREFIX)
        or not decoded["before"].split("#")[1].isdigit()
    ):
        raise InvalidCursorError("the cursor belongs to another listing")
    return str(decoded["before"])
