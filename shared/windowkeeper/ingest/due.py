"""The next expiry notice for a contact (the ``due_*`` attributes the minute sweep reads).

The closing instants come from the engine (``window_closings``), the notice chain and the bucket
layout from the scheduler's ``notices`` module, so the webhook and the sweep agree on both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from windowkeeper.policy.engine import window_closings
from windowkeeper.policy.model import AccountProfile
from windowkeeper.scheduling.notices import due_attributes, first_notice, notice_chain
from windowkeeper.store.contact_item import ContactRecord


def next_due(record: ContactRecord, account: AccountProfile, now: datetime) -> dict[str, Any] | None:
    """``due_*`` for the first notice still worth sending, or None (nothing closes, or all passed)."""
    if record.last_customer_action_ms is None:
        return None
    closings = window_closings(record.to_state(), account)
    lead = timedelta(seconds=account.expiry_lead_time_seconds)
    notice = first_notice(notice_chain(record.channel, closings, lead), now)
    if notice is None:
        return None
    return due_attributes(record.pk, notice, record.last_customer_action_ms, now)
