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
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from windowkeeper import aws
from windowkeeper.instants import to_ms
from windowkeeper.store.audit_records import (
    AUDIT_LIST_MAX,
    TENANT_AUDIT_READ_BUDGET,
    AuditEntry,
    AuditQuery,
    InvalidCursorError,
    audit_sk,
    audit_sk_floor,
    encode_audit_cursor,
    index_attributes,
)
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import AUDIT_INDEX, DECISION_SK_PREFIX, audit_shard_keys


def append_audit(table_name: str, pk: str, at: datetime, entry: AuditEntry) -> dict[str, Any]:
    """Write one record; refuses to overwrite (``attribute_not_exists``). Returns the item."""
    if entry.at_ms != to_ms(at):
        raise ValueError("entry.at_ms must be the instant the record is filed under")
    item: dict[str, Any] = {
        "pk": pk,
        "sk": audit_sk(at, entry.audit_id),
        **index_attributes(entry),
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


def query_tenant_audit(
    table_name: str, query: AuditQuery, *, now: datetime
) -> tuple[list[AuditEntry], str | None]:
    """A tenant's matching records, newest first, and the cursor of the next page (None: done).

    Day by day, newest first: every shard of the day is read newest first until it yields
    ``limit + 1`` matches (or runs out), and the shards are merged by record key. A page ends
    when it has more than ``limit`` matches, or at the end of a day once it has read
    ``TENANT_AUDIT_READ_BUDGET`` records (a filter matching little must not read a month at
    once): its cursor then continues with the next older day.
    """
    table = aws.table(table_name)
    now_s = int(now.timestamp())
    found: list[tuple[str, AuditEntry]] = []
    read = 0
    for day in query.days():
        day_found: list[tuple[str, AuditEntry]] = []
        for shard in audit_shard_keys(query.tenant_id, day):
            matched = 0
            kwargs: dict[str, Any] = {
                "IndexName": AUDIT_INDEX,
                "KeyConditionExpression": Key("audit_shard").eq(shard)
                & Key("sk").between(query.lowest_sk, query.highest_sk),
                "ScanIndexForward": False,
                "Limit": min(100, query.limit + 1),
            }
            while matched <= query.limit:
                page = table.query(**kwargs)
                for raw in page["Items"]:
                    read += 1
                    item = plain(raw)
                    if item["sk"] == query.highest_sk or int(item.get("expires_at", now_s + 1)) <= now_s:
                        continue
                    entry = AuditEntry.model_validate(item)
                    if query.matches(entry):
                        day_found.append((str(item["sk"]), entry))
                        matched += 1
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found.extend(sorted(day_found, key=lambda pair: pair[0], reverse=True))
        if len(found) > query.limit:
            break
        if read >= TENANT_AUDIT_READ_BUDGET and day != query.days()[-1]:
            day_start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
            return [e for _, e in found], encode_audit_cursor(query.tenant_id, audit_sk_floor(day_start))
    page_entries = found[: query.limit]
    more = len(found) > query.limit
    next_cursor = encode_audit_cursor(query.tenant_id, page_entries[-1][0]) if more else None
    return [e for _, e in page_entries], next_cursor


@dataclass(frozen=True)
class AuditTable:
    """``ports.sending.AuditLog`` on the table."""

    table_name: str

    def append(self, pk: str, at: datetime, entry: AuditEntry) -> None:
        append_audit(self.table_name, pk, at, entry)

    def query_tenant(self, query: AuditQuery, *, now: datetime) -> tuple[list[AuditEntry], str | None]:
        return query_tenant_audit(self.table_name, query, now=now)

    def list(
        self, pk: str, limit: int, cursor: str | None, *, now: datetime
    ) -> tuple[list[AuditEntry], str | None]:
        return list_decisions(self.table_name, pk, limit, cursor, now=now)
