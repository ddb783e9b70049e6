"""Refused cross-tenant attempts, counted under the caller's own tenant.

A principal that names another tenant's account is refused (403 ``forbidden_tenant``). What it
tried is kept, but never in the other tenant's space and never as one new item per request: the
record is one counter per (caller tenant, caller, account, UTC day), under ``V#<caller tenant>``.
However many made-up contact ids a caller sends, it adds to its own counter; the number of such
items is bounded by the accounts that exist (an unknown account is a 404 before this) times the
days. The account, the caller and the last contact id named are attributes, for whoever
investigates; the log line and the ``TenantViolations`` metric (alarmed on) say it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from windowkeeper import aws
from windowkeeper.instants import to_ms
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import violation_key

VIOLATION_RETENTION_DAYS = 400


def record_tenant_violation(
    table_name: str,
    *,
    caller_tenant_id: str,
    caller_subject: str,
    caller_kind: str,
    channel: str,
    account_id: str,
    account_tenant_id: str,
    contact_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Add one attempt to the caller's counter for this account and day; returns the item after."""
    day = now.astimezone(UTC).strftime("%Y-%m-%d")
    latest: dict[str, Any] = {  # every attempt overwrites these; "attempts" and "first_at_ms" add up
        "kind": "tenant_violation",
        "tenant_id": caller_tenant_id,
        "principal_subject": caller_subject,
        "principal_kind": caller_kind,
        "channel": channel,
        "account_id": account_id,
        "account_tenant_id": account_tenant_id,
        "last_at_ms": to_ms(now),
        "expires_at": int((now + timedelta(days=VIOLATION_RETENTION_DAYS)).timestamp()),
    }
    if contact_id is not None:
        latest["last_contact_id"] = contact_id
    names = {f"#a{i}": name for i, name in enumerate(latest)} | {"#n": "attempts", "#f": "first_at_ms"}
    values = {f":v{i}": value for i, value in enumerate(latest.values())} | {":one": 1, ":now": to_ms(now)}
    sets = [f"#a{i} = :v{i}" for i in range(len(latest))] + ["#f = if_not_exists(#f, :now)"]
    response = aws.table(table_name).update_item(
        Key=violation_key(caller_tenant_id, day, channel, account_id, caller_subject),
        UpdateExpression="SET " + ", ".join(sets) + " ADD #n :one",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    item: dict[str, Any] = plain(response["Attributes"])
    return item


@dataclass(frozen=True)
class ViolationTable:
    """``ports.sending.TenantViolations`` on the table."""

    table_name: str

    def record(
        self,
        *,
        caller_tenant_id: str,
        caller_subject: str,
        caller_kind: str,
        channel: str,
        account_id: str,
        account_tenant_id: str,
        contact_id: str | None,
        now: datetime,
    ) -> str:
        item = record_tenant_violation(
            self.table_name,
            caller_tenant_id=caller_tenant_id,
            caller_subject=caller_subject,
            caller_kind=caller_kind,
            channel=channel,
            account_id=account_id,
            account_tenant_id=account_tenant_id,
            contact_id=contact_id,
            now=now,
        )
        return f"{item['pk']}/{item['sk']}"
