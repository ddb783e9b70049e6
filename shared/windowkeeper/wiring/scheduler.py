"""The scheduler function's wiring: its services on the real adapters, once per container.

The services (``followup_service``, ``sweep_service``, ``job_service``) take their collaborators
as arguments; this module builds the real ones from the environment (``SchedulerSettings``): the
table stores, the Scheduler client, the send core (the send function's own, from
``wiring.send``, built only when a follow-up fires or a job runs, see ``LazySendPort``) and the
engine's ``window_closings``.
Tests and the local stack swap the send core (e.g. a Graph client on an httpx ``MockTransport``)
with ``use_send_service`` and the closings with ``use_window_closings``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import Field

from windowkeeper import bus
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.policy.model import Channel, Decision
from windowkeeper.ports.scheduling import SendOutcomeLike, SendPort, WindowClosingsFn
from windowkeeper.schedules import ScheduleClient
from windowkeeper.scheduling.followup_service import FollowupService
from windowkeeper.scheduling.job_service import JobService
from windowkeeper.scheduling.stuck_service import StuckReporter
from windowkeeper.scheduling.sweep_service import Sweeper
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.settings import EnvSettings
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.contact_table import ContactTable
from windowkeeper.store.followup_table import FollowupStore
from windowkeeper.store.job_table import JobStore
from windowkeeper.store.stuck_table import StuckStore
from windowkeeper.store.sweep_table import SweepStore


class SchedulerSettings(EnvSettings):
    """The environment the template gives the scheduler function."""

    table_name: str = Field(min_length=1)
    schedule_group_name: str = Field(min_length=1)
    scheduler_target_arn: str = Field(min_length=1)  # this function: Scheduler invokes it with the Input
    scheduler_role_arn: str = Field(min_length=1)  # the role Scheduler assumes to invoke it
    scheduler_dlq_arn: str = Field(min_length=1)  # SQS queue for invocations Scheduler gave up on


_send_service: SendPort | None = None
_window_closings: WindowClosingsFn | None = None


def use_send_service(service: SendPort | None) -> None:
    global _send_service  # noqa: PLW0603  (one send core per container; tests inject theirs)
    _send_service = service


def use_window_closings(closings: WindowClosingsFn | None) -> None:
    global _window_closings  # noqa: PLW0603
    _window_closings = closings


def reset() -> None:
    """Forget everything built from the environment (tests switch environments)."""
    from windowkeeper.wiring import send as send_wiring  # noqa: PLC0415

    send_wiring.reset()
    use_send_service(None)
    use_window_closings(None)
    settings.cache_clear()
    account_store.cache_clear()
    contact_table.cache_clear()
    schedule_client.cache_clear()


@cache
def settings() -> SchedulerSettings:
    return SchedulerSettings.from_env()


@cache
def account_store() -> AccountStore:
    return AccountStore(settings().table_name)


@cache
def schedule_client() -> ScheduleClient:
    config = settings()
    return ScheduleClient(
        group_name=config.schedule_group_name,
        target_arn=config.scheduler_target_arn,
        role_arn=config.scheduler_role_arn,
        dead_letter_arn=config.scheduler_dlq_arn,
    )


@cache
def contact_table() -> ContactTable:
    return ContactTable(settings().table_name)


def lookup_account(channel: Channel, account_id: str) -> AccountConfig | None:
    return account_store().get(channel, account_id)


def load_contact(channel: Channel, account_id: str, contact_id: str) -> ContactRecord | None:
    return contact_table().get(channel, account_id, contact_id)


def send_service() -> SendPort:
    """The send function's own send core (``wiring.send``), unless a test put another in."""
    if _send_service is not None:
        return _send_service
    from windowkeeper.wiring import send as send_wiring  # noqa: PLC0415  (the Graph client: on first use)

    return send_wiring.send_service()


class LazySendPort:
    """The send core, built on the first ``check``/``send``: reading a follow-up or a job, or
    cancelling one, never needs it, and building it costs the Graph client (httpx) on a cold start."""

    def send(self, principal: Principal, request: SendRequest, now: datetime) -> SendOutcomeLike:
        return send_service().send(principal, request, now)

    def check(self, principal: Principal, request: SendRequest, *, at: datetime, now: datetime) -> Decision:
        return send_service().check(principal, request, at=at, now=now)


def window_closings() -> WindowClosingsFn:
    if _window_closings is not None:
        return _window_closings
    from windowkeeper.policy.engine import window_closings as engine_closings  # noqa: PLC0415  (rule data on import)

    return engine_closings


def _publisher() -> Callable[[Any], int]:
    return bus.publish


def followup_service() -> FollowupService:
    return FollowupService(
        store=FollowupStore(settings().table_name),
        schedules=schedule_client(),
        sender=LazySendPort(),
        accounts=lookup_account,
        contacts=load_contact,
        publish=_publisher(),
    )


def job_service(time_left: Callable[[], float] | None = None) -> JobService:
    return JobService(
        store=JobStore(settings().table_name),
        schedules=schedule_client(),
        sender=LazySendPort(),
        accounts=lookup_account,
        publish=_publisher(),
        time_left=time_left,
    )


def sweeper(time_left: Callable[[], float] | None = None) -> Sweeper:
    return Sweeper(
        store=SweepStore(settings().table_name),
        accounts=lookup_account,
        closings=window_closings(),
        publish=_publisher(),
        stuck=StuckReporter(StuckStore(settings().table_name), JobStore(settings().table_name).get),
        time_left=time_left,
    )
