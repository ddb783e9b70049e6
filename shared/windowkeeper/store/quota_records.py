"""Quota items' keys and months (``store/quota_table.py``): records only, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime


def quota_sk(name: str, month: str) -> str:
    return f"QUOTA#{name}#{month}"


def month_of(at: datetime) -> str:
    """The UTC calendar month a quota counts in: ``2026-12`` (reset each month, no rollover: O1)."""
    return at.astimezone(UTC).strftime("%Y-%m")
