"""One-time ``at(...)`` schedules: the rules for their instant, expression and name (no I/O).

Scheduler accepts (and moto stores) any expression string, including malformed ones and instants
in the past, so the expression and the instant are validated here before ``CreateSchedule``
(``windowkeeper.schedules`` is the adapter that creates them).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# Scheduler runs one-time schedules at minute granularity; asking for less than a minute ahead
# is asking for "now", which the send API already does.
MIN_LEAD = timedelta(seconds=60)
MAX_AHEAD = timedelta(days=365)
SCHEDULE_NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
AT_EXPRESSION = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


class ScheduleError(ValueError):
    """The instant or expression cannot be scheduled (answered 400 by the API)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def at_expression(instant: datetime) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` in UTC (the schedule's timezone is set to UTC as well)."""
    if instant.tzinfo is None:
        raise ScheduleError("naive_instant", "The instant has no timezone offset.")
    return f"at({instant.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def parse_at_expression(expression: str) -> datetime:
    match = AT_EXPRESSION.match(expression)
    if not match:
        raise ScheduleError(
            "invalid_expression", f"{expression!r} is not an at(yyyy-mm-ddThh:mm:ss) expression."
        )
    try:
        return datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError as error:
        raise ScheduleError("invalid_expression", f"{expression!r} names no real instant.") from error


def validate_one_time(send_at: datetime, now: datetime) -> str:
    """The ``at()`` expression for ``send_at``, after checking it is far enough ahead and not too far."""
    if send_at.tzinfo is None or send_at.utcoffset() is None:
        raise ScheduleError("naive_instant", "send_at needs a timezone offset, e.g. 2026-07-01T09:00:00Z.")
    if send_at < now + MIN_LEAD:
        raise ScheduleError(
            "send_at_not_in_future",
            f"send_at must be at least {int(MIN_LEAD.total_seconds())} seconds in the future.",
        )
    if send_at > now + MAX_AHEAD:
        raise ScheduleError("send_at_too_far", f"send_at must be within {MAX_AHEAD.days} days.")
    expression = at_expression(send_at)
    parse_at_expression(expression)  # round-trip: what we send is what Scheduler will parse
    return expression
