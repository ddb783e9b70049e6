"""Moving and freezing the process clock in tests (time-machine).

Two tools, both built on time-machine, which patches ``datetime.now``/``time.time`` and friends
but leaves ``time.monotonic`` and ``time.sleep`` alone, so loops that wait (the local
scheduler loop, botocore's retries, thread joins) keep working (libfaketime does not: it hangs
the scheduler loop).

* ``WINDOWKEEPER_TEST_CLOCK`` moves the whole test process to another date for the session,
  ticking: ``+400d`` (days from the real date) or an ISO instant (``2025-06-01T00:00:00Z``).
  ``scripts/test`` runs the unit and integration tiers again under two such dates, so a test or
  a module that reads the wall clock where it should take ``now`` fails today rather than on
  the day the calendar reaches it.
* ``freeze(at)`` stops the clock at a suite's fixed ``NOW`` (integration and end-to-end tiers):
  a forgotten wall-clock read then gives that exact instant, which a test can assert.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import time_machine

CLOCK_ENV = "WINDOWKEEPER_TEST_CLOCK"
_SHIFT = re.compile(r"^(?P<sign>[+-])(?P<days>\d+)d$")


def session_instant(value: str, real_now: datetime) -> datetime:
    """Where ``WINDOWKEEPER_TEST_CLOCK`` puts the clock: ``+400d``/``-30d`` or an ISO instant."""
    shift = _SHIFT.match(value.strip())
    if shift:
        days = int(shift["days"]) * (1 if shift["sign"] == "+" else -1)
        return real_now + timedelta(days=days)
    instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"{CLOCK_ENV} needs an offset or Z: {value!r}")
    return instant.astimezone(UTC)


def start_session_clock(real_now: datetime) -> time_machine.travel | None:
    """Move the process clock as ``WINDOWKEEPER_TEST_CLOCK`` says (ticking); None when unset."""
    value = os.environ.get(CLOCK_ENV, "").strip()
    if not value:
        return None
    traveller = time_machine.travel(session_instant(value, real_now), tick=True)
    traveller.start()
    return traveller


@contextmanager
def freeze(at: datetime) -> Iterator[None]:
    """The process clock stopped at ``at`` (nested inside a session move, if any)."""
    with time_machine.travel(at, tick=False):
        yield
