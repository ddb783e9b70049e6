"""EventBridge Scheduler adapter: one-time ``at(...)`` schedules that invoke the scheduler function.

Scheduler accepts (and moto stores) any expression string, including malformed ones and instants
in the past, so the expression and the instant are validated here before ``CreateSchedule``.
Names are deterministic (derived from the follow-up or job id): a retried create meets a
``ConflictException``, which means "already scheduled", not an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.scheduling.settings import SchedulerSettings

# Scheduler runs one-time schedules at minute granularity; asking for less than a minute ahead
# is asking for "now", which the send API already does.
MIN_LEAD = timedelta(seconds=60)
MAX_AHEAD = timedelta(days=365)
SCHEDULE_NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
AT_EXPRESSION = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")

# Retries for an invocation that errors (throttling, a DynamoDB hiccup): a few, within the hour.
# Beyond that the invocation goes to the dead-letter queue instead of Scheduler's default 185
# attempts over 24 hours. Retries are safe: every fire path is idempotent.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5}


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


@dataclass(frozen=True)
class ScheduleClient:
    settings: SchedulerSettings

    def create_one_time(self, name: str, at: datetime, payload: dict[str, Any], description: str) -> bool:
        """Create the schedule; ``False`` if one with this name exists already (a retried create)."""
        if not SCHEDULE_NAME.match(name):
            raise ScheduleError("invalid_schedule_name", f"{name!r} is not a valid schedule name.")
        expression = at_expression(at)
        parse_at_expression(expression)
        try:
            aws.client("scheduler").create_schedule(
                Name=name,
                GroupName=self.settings.schedule_group_name,
                ScheduleExpression=expression,
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                # A one-time schedule that stays after it ran counts against the account quota.
                ActionAfterCompletion="DELETE",
                State="ENABLED",
                Description=description[:512],
                Target={
                    "Arn": self.settings.target_arn,
                    "RoleArn": self.settings.role_arn,
                    "Input": json.dumps(payload, separators=(",", ":")),
                    "RetryPolicy": RETRY_POLICY,
                    "DeadLetterConfig": {"Arn": self.settings.dead_letter_arn},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConflictException":
                return False
            raise
        return True

    def delete(self, name: str) -> bool:
        """Delete the schedule; ``False`` if it was already gone (ran, or deleted before)."""
        try:
            aws.client("scheduler").delete_schedule(Name=name, GroupName=self.settings.schedule_group_name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True
