"""The range of instants accepted from outside: request bodies, query strings, webhook timestamps.

A ``datetime`` can name 0001-01-01T00:00:00+14:00, whose UTC value does not exist (converting it
raises ``OverflowError``), and 9999-12-31T23:59:59-14:00, whose UTC value does not either. No
question about a messaging window needs an instant before Meta's platforms or in the next century,
so every instant that comes in is checked against ``[EARLIEST, LATEST)`` before any arithmetic,
and refused with a sentence otherwise (a 400 on the API; a quarantined entry on the webhook).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive
EARLIEST_MS = int(EARLIEST.timestamp() * 1000)
LATEST_MS = int(LATEST.timestamp() * 1000)
LATEST_S = int(LATEST.timestamp())

OUT_OF_RANGE = f"instants must lie from {EARLIEST:%Y-%m-%d} up to (not including) {LATEST:%Y-%m-%d} UTC"


class InstantError(ValueError):
    """An instant from outside that is naive, or outside the accepted range (the message says which)."""


def bounded_instant(value: datetime) -> datetime:
    """``value`` in UTC, if it has an offset and lies in range; ``InstantError`` otherwise.

    The range is checked on the local fields first (a year is enough), so the conversion to UTC
    that follows can never overflow.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise InstantError(
            "the instant must be timezone-aware, with an offset (e.g. 2026-11-21T10:00:00Z): "
            "local time is ambiguous"
        )
    if not EARLIEST.year - 1 < value.year < LATEST.year + 1:
        raise InstantError(OUT_OF_RANGE)
    utc = value.astimezone(UTC)
    if not EARLIEST <= utc < LATEST:
        raise InstantError(OUT_OF_RANGE)
    return utc


def parse_instant(raw: str) -> datetime:
    """An ISO 8601 instant from a query string or a command line, bounded like the rest."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as error:
        raise InstantError(f"'{raw[:64]}' is not an ISO 8601 instant") from error
    return bounded_instant(value)


InputInstant = Annotated[datetime, AfterValidator(bounded_instant)]
"""A request field holding an instant: aware, in range, normalised to UTC."""

EpochMs = Annotated[int, Field(ge=0, lt=LATEST_MS)]
"""A webhook timestamp in epoch milliseconds (or seconds, where Meta mixes them): never past LATEST."""
EpochSeconds = Annotated[int, Field(ge=0, lt=LATEST_S)]
"""A webhook timestamp in epoch seconds (WhatsApp)."""


def to_ms(instant: datetime) -> int:
    """Epoch milliseconds: how instants are stored, compared in conditions and sorted."""
    return int(instant.timestamp() * 1000)


def from_ms(epoch_ms: int | float | None) -> datetime | None:
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(int(epoch_ms) / 1000, tz=UTC)


def minute_of(instant: datetime) -> str:
    """The UTC minute ``instant`` falls in, as ``YYYY-MM-DDTHH:MM``: how the sweep names minutes
    (its cursor, its reports and the due-index buckets)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
