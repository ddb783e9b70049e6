"""The scheduler's configuration, read from the environment the SAM template sets."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class SchedulerSettings:
    table_name: str
    schedule_group_name: str
    target_arn: str  # the scheduler function: Scheduler invokes it with the schedule's Input
    role_arn: str  # the role Scheduler assumes to invoke it
    dead_letter_arn: str  # SQS queue for invocations Scheduler gave up on

    @classmethod
    def from_env(cls) -> SchedulerSettings:
        env = os.environ
        return cls(
            table_name=env["TABLE_NAME"],
            schedule_group_name=env["SCHEDULE_GROUP_NAME"],
            target_arn=env["SCHEDULER_TARGET_ARN"],
            role_arn=env["SCHEDULER_ROLE_ARN"],
            dead_letter_arn=env["SCHEDULER_DLQ_ARN"],
        )
