"""The EventBridge adapter: puts ``BusEvent``s on the bus (``ports.bus.EventPublisher``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from windowkeeper import aws
from windowkeeper.events import BusEvent, PublishError

PUT_EVENTS_BATCH = 10  # PutEvents accepts at most 10 entries per call


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
