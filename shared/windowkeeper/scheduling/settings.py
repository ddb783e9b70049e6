"""The scheduler function's configuration: the environment the SAM template sets, validated once."""

from __future__ import annotations

from pydantic import Field

from windowkeeper.settings import EnvSettings


class SchedulerSettings(EnvSettings):
    table_name: str = Field(min_length=1)
    schedule_group_name: str = Field(min_length=1)
    scheduler_target_arn: str = Field(
        min_length=1
    )  # the scheduler function, invoked with the schedule's Input
    scheduler_role_arn: str = Field(min_length=1)  # the role Scheduler assumes to invoke it
    scheduler_dlq_arn: str = Field(min_length=1)  # SQS queue for invocations Scheduler gave up on

    @property
    def target_arn(self) -> str:
        return self.scheduler_target_arn

    @property
    def role_arn(self) -> str:
        return self.scheduler_role_arn

    @property
    def dead_letter_arn(self) -> str:
        return self.scheduler_dlq_arn
