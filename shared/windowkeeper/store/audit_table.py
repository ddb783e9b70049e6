"""The audit trail: one append-only item per decision, under the contact's partition.

``sk = DEC#<epoch_ms:015d>#<audit id>`` so one Query lists a contact's decisions in time order.
Items are written with ``attribute_not_exists(pk)`` and never updated: a record, once written,
says what was decided then. Message text is kept only as a SHA-256 hash (proves which text was
decided on without storing it); ``expires_at`` (epoch seconds) lets DynamoDB TTL drop records
after the account's ``audit_retention_days`` (readers filter too: TTL deletion is lazy).

Kinds: ``decision`` (a send, allowed or refused, with Meta's answer if we called it),
``tenant_violation`` (a principal tried to act on another tenant's account), and ``consent``: the
consent ledger, one record per consent fact with its source and the instant it took effect, from
agents and the API (``append_audit``) and from the webhook (keywords, ``user_preferences``,
Meta's marketing stop/opt-in, error 131050: ``consent_ledger_item``, put with the conversation
log in one ``BatchWriteItem``, keyed by the event so a redelivery rewrites the same record).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper import aws
from windowkeeper.instants import from_ms, to_ms
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import DECISION_SK_PREFIX, sortable_ms

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


def audit_sk(at: datetime, audit_id: str) -> str:
    return f"{DECISION_SK_PREFIX}{sortable_ms(at)}#{audit_id}"


def expires_at(at: datetime, retention_days: int) -> int:
    return int((at + timedelta(days=retention_days)).timestamp())


def append_audit(table_name: str, pk: str, at: datetime, entry: AuditEntry) -> dict[str, Any]:
    """Write one record; refuses to overwrite (``attribute_not_exists``). Returns the item."""
    if entry.at_ms != to_ms(at):
        raise ValueError("entry.at_ms must be the instant the record is filed under")
    item: dict[str, Any] = {
        "pk": pk,
        "sk": audit_sk(at, entry.audit_id),
        **entry.model_dump(mode="json", exclude_none=True),
    }
    aws.table(table_name).put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    return item


def consent_ledger_item(
    pk: str,
    entry: AuditEntry,
) -> dict[str, Any]:
    """A webhook consent record: keyed by instant and event (a redelivery puts the same item)."""
    at = from_ms(entry.at_ms)
    assert at is not None
    return {"pk": pk, "sk": audit_sk(at, entry.audit_id), **entry.model_dump(mode="json", exclude_none=True)}


def encode_cursor(last_evaluated_key: dict[str, Any]) -> str:
    raw = json.dumps(plain(last_evaluated_key), separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, pk: str) -> dict[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key: Any = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursorError("the cursor is not one this API handed out") from error
    if (
        not isinstance(key, dict)
        or set(key) != {"pk", "sk"}
        or key["pk"] != pk
        or not str(key["sk"]).startswith(DECISION_SK_PREFIX)
    ):
        raise InvalidCursorError("the cursor belongs to another listing")
    return {"pk": str(key["pk"]), "sk": str(key["sk"])}


def list_decisions(
    table_name: str,
    pk: str,
    limit: int = 50,
    cursor: str | None = None,
    *,
    now: datetime | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """A contact's audit records, newest first; ``next_cursor`` is None on the last page.

    ``cursor`` is the opaque value a previous call returned (url-safe base64 of DynamoDB's
    LastEvaluatedKey); a forged or foreign one raises ``InvalidCursorError``. With ``now``,
    records past their retention (not yet removed by TTL) are left out.
    """
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": pk, ":prefix": DECISION_SK_PREFIX},
        "ScanIndexForward": False,
        "Limit": max(1, min(limit, AUDIT_LIST_MAX)),
    }
    if cursor:
        kwargs["ExclusiveStartKey"] = decode_cursor(cursor, pk)
    response = aws.table(table_name).query(**kwargs)
    items = [plain(i) for i in response["Items"]]
    if now is not None:
        now_s = int(now.timestamp())
        items = [i for i in items if int(i.get("expires_at", now_s + 1)) > now_s]
    last_key = response.get("LastEvaluatedKey")
    return [AuditEntry.model_validate(i) for i in items], (encode_cursor(last_key) if last_key else None)
