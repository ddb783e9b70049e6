"""Domain events on the EventBridge bus, for the bot, agent UIs and the scheduler.

Delivery is at least once: every event carries a stable ``event_id`` (derived from what caused
it, e.g. the Meta message id) so consumers de-duplicate. EventBridge's own entry id is random per
``PutEvents`` call, so it cannot serve as that key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from windowkeeper import aws

SOURCE = "windowkeeper"
PUT_EVENTS_BATCH = 10  # PutEvents accepts at most 10 entries per call


class DetailType:
    """Every detail-type we publish. Consumers filter on these."""

    CUSTOMER_ACTION = "customer.action"  # a customer wrote/acted (for the bot unless a human owns it)
    CONSENT_CHANGED = "contact.consent_changed"
    CONTACT_UNREACHABLE = "contact.unreachable"
    MESSAGE_STATUS = "message.status"  # delivered / read / failed from Meta
    MESSAGE_SENT = "message.sent"
    MESSAGE_REFUSED = "message.refused"
    HANDOVER = "conversation.handover"
    WINDOW_CLOSING_SOON = "window.closing_soon"
    WINDOW_CLOSED = "window.closed"
    HUMAN_AGENT_WINDOW_CLOSING_SOON = "human_agent_window.closing_soon"
    HUMAN_AGENT_WINDOW_CLOSED = "human_agent_window.closed"
    FOLLOWUP_SENT = "followup.sent"
    FOLLOWUP_REFUSED = "followup.refused"
    FOLLOWUP_FAILED = "followup.failed"  # not sent for a reason that is no refusal (Meta down, send error)
    REENGAGEMENT_RESULT = "reengagement.result"
    # A send that started and never finished (the invocation died): maybe delivered, maybe not.
    FOLLOWUP_STUCK = "followup.stuck"
    REENGAGEMENT_STUCK = "reengagement.stuck"


@dataclass(frozen=True)
class BusEvent:
    detail_type: str
    event_id: str  # stable de-duplication key, repeated in detail["event_id"]
    detail: dict[str, Any] = field(default_factory=dict)
    time: datetime | None = None

    def entry(self, bus_name: str) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Detail": json.dumps({**self.detail, "event_id": self.event_id}, default=str),
            "EventBusName": bus_name,
        }
        if self.time is not None:
            entry["Time"] = self.time
        return entry


class PublishError(RuntimeError):
    """Some entries were not accepted; the caller answers 5xx so the cause is retried."""


def bus_name() -> str:
    return os.environ["EVENT_BUS_NAME"]


def publish(events: Iterable[BusEvent], bus: str | None = None) -> int:
    """Put events on the bus in batches of 10; raises ``PublishError`` if any entry failed."""
    target = bus or bus_name()
    pending: Sequence[BusEvent] = list(events)
    published = 0
    for start in range(0, len(pending), PUT_EVENTS_BATCH):
        batch = pending[start : start + PUT_EVENTS_BATCH]
        response = aws.client("events").put_events(Entries=[e.entry(target) for e in batch])
        if response.get("FailedEntryCount", 0):
            failed = [r.get("ErrorCode") for r in response["Entries"] if r.get("ErrorCode")]
            raise PublishError(f"{len(failed)} of {len(batch)} events were not accepted: {failed}")
        published += len(batch)
    return published
