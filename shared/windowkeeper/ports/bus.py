"""Publishing domain events (``windowkeeper.bus.publish`` on EventBridge when deployed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from windowkeeper.events import BusEvent


class EventPublisher(Protocol):
    def __call__(self, events: Sequence[BusEvent], /) -> int:
        """Publish every event (at least once) and answer how many; raises
        ``events.PublishError`` when any was not accepted, so the caller can answer 5xx."""
        ...
