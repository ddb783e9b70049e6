"""The local stack's scheduler loop fires due one-time schedules from (moto's) EventBridge Scheduler
with their target Input, deletes them when asked to, leaves future ones alone, and sends an
invocation that keeps failing to the schedule's dead-letter queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from windowkeeper import aws as wk_aws
from windowkeeper_tools.aws_resources import Resources
from windowkeeper_tools.local.scheduler_loop import Periodic, SchedulerLoop, parse_at_expression

NOW = datetime(2026, 11, 19, 10, 0, 30, tzinfo=UTC)


def create_followup_schedule(
    resources: Resources, name: str, due: datetime, payload: dict[str, Any], *, delete_after: bool = True
) -> None:
    wk_aws.client("scheduler").create_schedule(
        Name=name,
        GroupName=resources.schedule_group_name,
        ScheduleExpression=f"at({due.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE" if delete_after else "NONE",
        Target={
            "Arn": resources.scheduler_target_arn,
            "RoleArn": resources.scheduler_role_arn,
            "Input": json.dumps(payload),
            "DeadLetterConfig": {"Arn": resources.scheduler_dlq_arn},
            "RetryPolicy": {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 3600},
        },
    )


def schedule_names(resources: Resources) -> set[str]:
    page = wk_aws.client("scheduler").list_schedules(GroupName=resources.schedule_group_name)
    return {s["Name"] for s in page["Schedules"]}


def test_due_schedule_fires_with_its_input_and_is_deleted(aws: Resources) -> None:
    resources = aws
    invoked: list[tuple[str, dict[str, Any]]] = []
    create_followup_schedule(
        resources,
        "followup-due",
        NOW - timedelta(seconds=20),
        {"kind": "followup.fire", "followup_id": "f-1"},
    )
    create_followup_schedule(
        resources, "followup-later", NOW + timedelta(hours=2), {"kind": "followup.fire", "followup_id": "f-2"}
    )
    loop = SchedulerLoop(
        group_name=resources.schedule_group_name,
        invoke_target=lambda arn, payload: invoked.append((arn, payload)),
        clock=lambda: NOW,
    )

    assert loop.tick() == 1
    assert invoked == [(resources.scheduler_target_arn, {"kind": "followup.fire", "followup_id": "f-1"})]
    assert schedule_names(resources) == {"followup-later"}
    # A second tick must not fire anything again.
    assert loop.tick() == 0 and len(invoked) == 1


def test_schedule_kept_after_completion_fires_only_once(aws: Resources) -> None:
    resources = aws
    invoked: list[dict[str, Any]] = []
    create_followup_schedule(
        resources,
        "followup-keep",
        NOW - timedelta(minutes=1),
        {"kind": "followup.fire", "followup_id": "f-3"},
        delete_after=False,
    )
    loop = SchedulerLoop(
        group_name=resources.schedule_group_name,
        invoke_target=lambda _arn, p: invoked.append(p),
        clock=lambda: NOW,
    )
    loop.tick()
    loop.tick()
    assert invoked == [{"kind": "followup.fire", "followup_id": "f-3"}]
    assert schedule_names(resources) == {"followup-keep"}


def test_failing_invocation_is_retried_then_dead_lettered(aws: Resources) -> None:
    resources = aws
    attempts: list[dict[str, Any]] = []

    def failing(_arn: str, payload: dict[str, Any]) -> None:
        attempts.append(payload)
        raise RuntimeError("scheduler function crashed")

    create_followup_schedule(
        resources,
        "followup-broken",
        NOW - timedelta(seconds=5),
        {"kind": "followup.fire", "followup_id": "f-4"},
    )
    loop = SchedulerLoop(group_name=resources.schedule_group_name, invoke_target=failing, clock=lambda: NOW)
    loop.tick()
    assert schedule_names(resources) == {"followup-broken"}  # kept for the retry
    loop.tick()  # MaximumRetryAttempts=1: two attempts in all
    loop.tick()
    assert len(attempts) == 2
    assert schedule_names(resources) == set()
    messages = aws_messages(resources)
    assert [json.loads(m["Body"]) for m in messages] == [{"kind": "followup.fire", "followup_id": "f-4"}]
    assert messages[0]["MessageAttributes"]["ScheduleName"]["StringValue"] == "followup-broken"


def aws_messages(resources: Resources) -> list[dict[str, Any]]:
    response = wk_aws.client("sqs").receive_message(
        QueueUrl=resources.scheduler_dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return list(response.get("Messages", []))


def test_periodic_sweep_fires_once_per_period(aws: Resources) -> None:
    resources = aws
    clock = [NOW]
    sweeps: list[dict[str, Any]] = []
    loop = SchedulerLoop(
        group_name=resources.schedule_group_name,
        invoke_target=lambda _arn, _p: None,
        clock=lambda: clock[0],
        periodic=[
            Periodic(
                name="sweep", every=timedelta(minutes=1), payload={"kind": "sweep"}, invoke=sweeps.append
            )
        ],
    )
    loop.tick()  # arms the first period
    clock[0] = NOW + timedelta(seconds=30)
    loop.tick()
    assert sweeps == []
    clock[0] = NOW + timedelta(seconds=61)
    loop.tick()
    clock[0] = NOW + timedelta(seconds=70)
    loop.tick()
    assert sweeps == [{"kind": "sweep"}]


@pytest.mark.parametrize(
    ("expression", "timezone", "expected"),
    [
        ("at(2026-11-19T10:00:00)", None, datetime(2026, 11, 19, 10, 0, tzinfo=UTC)),
        ("at(2026-11-19T10:00:00)", "Europe/Berlin", datetime(2026, 11, 19, 9, 0, tzinfo=UTC)),
        ("rate(1 minute)", None, None),
        ("at(garbage)", None, None),
    ],
)
def test_at_expressions(expression: str, timezone: str | None, expected: datetime | None) -> None:
    assert parse_at_expression(expression, timezone) == expected
