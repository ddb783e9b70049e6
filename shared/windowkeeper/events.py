"""Domain events on the EventBridge bus, for the bot, agent UIs and the scheduler.

Models only: ``windowkeeper.bus`` puts them on EventBridge (``ports.bus.EventPublisher``).
Delivery is at least once: every event carries a stable ``event_id`` (derived from what caused
it, e.g. the Meta message id) so consumers de-duplicate. EventBridge's own entry id is random per
``PutEvents`` call, so it cannot serve as that key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SOURCE = "windowkeeper"


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
    # Meta rejected the account's token, restricted or blocked it, or it works again.
    ACCOUNT_HEALTH_CHANGED = "account.health_changed"


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
