"""The service's one wall clock, and the type of a clock.

Time is data here: a window runs from the customer's own timestamp, and every decision can be
asked "as of" any instant. So the wall clock is read once, at the edge (a Lambda handler, the
CLI, the local stack, the Meta simulator), and the instant is passed down as ``now``. Nothing
below the edge has a default clock. ``tests/unit/test_clock_guard.py`` fails the build when a
module outside its allow-list reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns an aware UTC instant. Edges hold one; everything else receives ``now``."""


def system_clock() -> datetime:
    """The wall clock in UTC: the one call that reads it (edges take it as their ``Clock``)."""
    return datetime.now(UTC)
