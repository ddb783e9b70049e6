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
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from windowkeeper import aws
from windowkeeper.instants import to_ms
from windowkeeper.store.audit_records import AUDIT_LIST_MAX, AuditEntry, InvalidCursorError, audit_sk
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import DECISION_SK_PREFIX


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


@dataclass(frozen=True)
class AuditTable:
    """``ports.sending.AuditLog`` on the table."""

    table_name: str

    def append(self, pk: str, at: datetime, entry: AuditEntry) -> None:
        append_audit(self.table_name, pk, at, entry)

    def list(
        self, pk: str, limit: int, cursor: str | None, *, now: datetime
    ) -> tuple[list[AuditEntry], str | None]:
        return list_decisions(self.table_name, pk, limit, cursor, now=now)
