"""The EventBridge Scheduler adapter (``ports.scheduling.ScheduleCreator``).

One-time ``at(...)`` schedules that invoke the scheduler function. Names are deterministic
(derived from the follow-up or job id): a retried create meets a ``ConflictException``, which
means "already scheduled", not an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.schedule_rules import SCHEDULE_NAME, ScheduleError, at_expression, parse_at_expression

# Retries for an invocation that errors (throttling, a DynamoDB hiccup): a few, within the hour.
# Beyond that the invocation goes to the dead-letter queue instead of Scheduler's default 185
# attempts over 24 hours. Retries are safe: every fire path is idempotent.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5}


@dataclass(frozen=True)
class ScheduleClient:
    group_name: str
    target_arn: str  # the scheduler function: Scheduler invokes it with the schedule's Input
    role_arn: str  # the role Scheduler assumes to invoke it
    dead_letter_arn: str  # SQS queue for invocations Scheduler gave up on

    def create_one_time(self, name: str, at: datetime, payload: dict[str, Any], description: str) -> bool:
        """Create the schedule; ``False`` if one with this name exists already (a retried create)."""
        if not SCHEDULE_NAME.match(name):
            raise ScheduleError("invalid_schedule_name", f"{name!r} is not a valid schedule name.")
        expression = at_expression(at)
        parse_at_expression(expression)
        try:
            aws.client("scheduler").create_schedule(
                Name=name,
                GroupName=self.group_name,
                ScheduleExpression=expression,
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                # A one-time schedule that stays after it ran counts against the account quota.
                ActionAfterCompletion="DELETE",
                State="ENABLED",
                Description=description[:512],
                Target={
                    "Arn": self.target_arn,
                    "RoleArn": self.role_arn,
                    "Input": json.dumps(payload, separators=(",", ":")),
                    "RetryPolicy": RETRY_POLICY,
                    "DeadLetterConfig": {"Arn": self.dead_letter_arn},
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
            aws.client("scheduler").delete_schedule(Name=name, GroupName=self.group_name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True
