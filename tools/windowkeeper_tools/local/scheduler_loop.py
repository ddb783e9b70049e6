"""EventBridge Scheduler's firing, which moto does not do: a thread that invokes what is due.

Every ``interval`` seconds it lists the group's schedules, reads each one (``get_schedule`` has
the expression and the target ``Input``), and invokes the target function with the parsed input
when an ``at(...)`` instant has passed, deleting the schedule afterwards when its
``ActionAfterCompletion`` is ``DELETE`` (as the service does). A failed invocation is retried on
the next ticks up to the schedule's ``RetryPolicy`` (at most ``MAX_LOCAL_ATTEMPTS``), then sent
to its dead-letter queue. ``rate(...)`` invocations declared in the template (the minute sweep) fire
on their own period.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from windowkeeper import aws
from windowkeeper.clock import Clock, system_clock

logger = logging.getLogger("windowkeeper.local.scheduler")

MAX_LOCAL_ATTEMPTS = 3
Invoke = Callable[[dict[str, Any]], Any]


def parse_at_expression(expression: str, timezone: str | None = None) -> datetime | None:
    """``at(2026-11-19T10:00:00)`` in the schedule's time zone (UTC by default); None otherwise."""
    text = expression.strip()
    if not (text.startswith("at(") and text.endswith(")")):
        return None
    try:
        naive = datetime.strptime(text[3:-1], "%Y-%m-%dT%H:%M:%S")  # noqa: DTZ007 (zone applied next)
    except ValueError:
        return None
    return naive.replace(tzinfo=ZoneInfo(timezone or "UTC")).astimezone(UTC)


@dataclass
class Periodic:
    """A ``rate(...)`` invocation from the template (the sweep), fired every ``every`` seconds."""

    name: str
    every: timedelta
    payload: dict[str, Any]
    invoke: Invoke
    next_at: datetime | None = None


@dataclass
class SchedulerLoop:
    group_name: str
    invoke_target: Callable[[str, dict[str, Any]], Any]  # (target ARN, input) -> result
    interval_seconds: float = 2.0
    clock: Clock = system_clock  # the local stack's edge: read once per tick
    periodic: list[Periodic] = field(default_factory=list)
    fired: list[tuple[str, datetime]] = field(
        default_factory=list
    )  # (schedule name, fired at), for tests/logs
    _attempts: dict[str, int] = field(default_factory=dict)
    _done: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                logger.exception("scheduler tick failed")
            self._stop.wait(self.interval_seconds)

    def tick(self) -> int:
        """Fire everything due now; returns how many invocations ran."""
        now = self.clock()
        # Follow-ups first: a customer waits on them, while a sweep catching up an hour of
        # minutes (the first one after start) can take seconds against moto's server.
        fired = self._fire_due_schedules(now)
        return fired + self._fire_periodic(now)

    def _fire_periodic(self, now: datetime) -> int:
        count = 0
        for job in self.periodic:
            if job.next_at is None:
                # First run on the next whole period boundary, as rate() schedules drift-free do.
                job.next_at = now + job.every
                continue
            if now >= job.next_at:
                job.next_at = now + job.every
                try:
                    job.invoke(dict(job.payload))
                    count += 1
                except Exception:
                    logger.exception("periodic invocation %s failed", job.name)
        return count

    def _schedule_names(self) -> list[str]:
        client = aws.client("scheduler")
        names: list[str] = []
        kwargs: dict[str, Any] = {"GroupName": self.group_name}
        while True:
            page = client.list_schedules(**kwargs)
            names.extend(
                s["Name"] for s in page.get("Schedules", []) if s.get("State", "ENABLED") == "ENABLED"
            )
            token = page.get("NextToken")
            if not token:
                return names
            kwargs["NextToken"] = token

    def _fire_due_schedules(self, now: datetime) -> int:
        client = aws.client("scheduler")
        count = 0
        for name in self._schedule_names():
            try:
                schedule = client.get_schedule(GroupName=self.group_name, Name=name)
            except client.exceptions.ResourceNotFoundException:
                continue  # deleted between list and get (the function cancelled it)
            due = parse_at_expression(
                schedule.get("ScheduleExpression", ""), schedule.get("ScheduleExpressionTimezone")
            )
            key = f"{name}@{schedule.get('ScheduleExpression')}"
            if due is None or due > now or key in self._done:
                continue
            target = schedule.get("Target") or {}
            try:
                payload = json.loads(target.get("Input") or "{}")
            except json.JSONDecodeError:
                logger.error("schedule %s has an Input that is not JSON; sending it to the DLQ", name)
                self._give_up(schedule, "input_not_json")
                self._complete(client, name, schedule, key)
                continue
            try:
                self.invoke_target(str(target.get("Arn", "")), payload)
            except Exception:
                attempts = self._attempts.get(key, 0) + 1
                self._attempts[key] = attempts
                allowed = 1 + int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 2))
                logger.exception(
                    "schedule %s failed (attempt %d of %d)", name, attempts, min(allowed, MAX_LOCAL_ATTEMPTS)
                )
                if attempts >= min(allowed, MAX_LOCAL_ATTEMPTS):
                    self._give_up(schedule, "invocation_failed")
                    self._complete(client, name, schedule, key)
                continue
            self.fired.append((name, now))
            count += 1
            self._complete(client, name, schedule, key)
        return count

    def _complete(self, client: Any, name: str, schedule: dict[str, Any], key: str) -> None:
        self._done.add(key)
        self._attempts.pop(key, None)
        if schedule.get("ActionAfterCompletion") == "DELETE":
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_schedule(GroupName=self.group_name, Name=name)

    def _give_up(self, schedule: dict[str, Any], reason: str) -> None:
        dlq_arn = ((schedule.get("Target") or {}).get("DeadLetterConfig") or {}).get("Arn")
        if not dlq_arn:
            logger.error(
                "schedule %s dropped (%s): it has no dead-letter queue", schedule.get("Name"), reason
            )
            return
        sqs = aws.client("sqs")
        queue_name = dlq_arn.rsplit(":", 1)[-1]
        queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=(schedule.get("Target") or {}).get("Input") or "{}",
            MessageAttributes={
                "ScheduleName": {"DataType": "String", "StringValue": str(schedule.get("Name"))},
                "Reason": {"DataType": "String", "StringValue": reason},
            },
        )
