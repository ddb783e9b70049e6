"""What the scheduler's services need: the send core, the engine, their stores and Scheduler.

The scheduler never decides or delivers by itself: it asks ``SendService.check`` / ``.send`` (the
send core, which runs the engine and the Graph client) and ``window_closings`` (the engine).
Typing those as Protocols keeps the scheduler's unit tests on small fakes and its production
wiring on the real objects, with mypy checking that both fit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from windowkeeper.auth import Principal
from windowkeeper.policy.model import AccountProfile, Channel, ContactState, Decision
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.store.followup_records import FollowupRecord, FollowupStatus
from windowkeeper.store.job_records import JobRecord, ResultRecord


class SendOutcomeLike(Protocol):
    """``windowkeeper.sending.service.SendOutcome`` as far as the scheduler reads it."""

    @property
    def status(self) -> str: ...  # "sent" | "refused" | "failed" | "unknown" (may have been delivered)

    @property
    def decision(self) -> Decision | None: ...

    @property
    def platform_message_id(self) -> str | None: ...


class SendPort(Protocol):
    def send(self, principal: Principal, request: SendRequest, now: datetime) -> SendOutcomeLike: ...

    def check(
        self, principal: Principal, request: SendRequest, *, at: datetime, now: datetime
    ) -> Decision: ...


class WindowClosingsLike(Protocol):
    """``windowkeeper.policy.engine.WindowClosings`` as far as the sweep reads it."""

    @property
    def free_form_closes_at(self) -> datetime | None: ...

    @property
    def human_agent_closes_at(self) -> datetime | None: ...


class WindowClosingsFn(Protocol):
    def __call__(self, contact: ContactState, account: AccountProfile, /) -> WindowClosingsLike: ...


class ScheduleCreator(Protocol):
    """One-time schedules that invoke the scheduler function (``schedules.ScheduleClient``)."""

    @property
    def group_name(self) -> str: ...

    def create_one_time(self, name: str, at: datetime, payload: dict[str, Any], description: str) -> bool:
        """Create it; False if one with this name exists already (a retried create)."""
        ...

    def delete(self, name: str) -> bool:
        """Delete it; False if it was already gone."""
        ...


class FollowupRepository(Protocol):
    """Follow-ups and their status transitions (``store.followup_table.FollowupStore``)."""

    def create(self, record: FollowupRecord) -> None:
        """Store a new follow-up; raises ``FollowupExists`` for an id already stored."""
        ...

    def get(self, followup_id: str) -> FollowupRecord | None: ...

    def list_for_contact(
        self, channel: Channel, account_id: str, contact_id: str
    ) -> list[FollowupRecord]: ...

    def start_firing(self, record: FollowupRecord, now_ms: int) -> FollowupRecord:
        """``scheduled`` -> ``firing`` once only; raises ``StatusConflict`` when someone else moved it."""
        ...

    def transition(
        self,
        record: FollowupRecord,
        *,
        from_status: FollowupStatus,
        to_status: FollowupStatus,
        changes: dict[str, Any] | None = None,
    ) -> FollowupRecord:
        """Move from one status to another; raises ``StatusConflict`` if it is no longer ``from_status``."""
        ...

    def mark_published(self, record: FollowupRecord) -> None: ...


class JobRepository(Protocol):
    """Re-engagement jobs and their per-contact results (``store.job_table.JobStore``)."""

    def create(self, job: JobRecord) -> bool: ...

    def get(self, job_id: str) -> JobRecord | None: ...

    def start_run(self, job_id: str, cutoff_ms: int | None, now_ms: int) -> JobRecord: ...

    def finish(self, job_id: str, now_ms: int) -> None: ...

    def claim(self, job_id: str, contact_pk_value: str, contact_id: str, now_ms: int) -> bool:
        """Claim a contact for this job once; False when it was claimed before."""
        ...

    def save_result(self, job_id: str, result: ResultRecord) -> None: ...

    def mark_published(self, job_id: str, contact_pk_value: str) -> None: ...

    def results(self, job_id: str) -> list[ResultRecord]: ...

    def results_page(
        self, job_id: str, *, limit: int | None, after: str | None
    ) -> tuple[list[ResultRecord], str | None]: ...

    def silent_contacts(
        self, channel: Channel, account_id: str, cutoff_ms: int
    ) -> Iterator[tuple[str, str]]: ...


class StuckMarker(Protocol):
    """Moves a send that never finished to ``stuck`` (``store.stuck_table.StuckStore``)."""

    def mark_stuck(
        self,
        pk: str,
        sk: str,
        *,
        expected_status: str,
        expected_due_at_ms: int,
        explanation: str,
        now_ms: int,
    ) -> bool: ...


@dataclass
class DueQueryStats:
    """What the sweep's due-index queries cost (filled in by the store)."""

    queries: int = 0
    items_read: int = 0


class DueNotices(Protocol):
    """The sweep's cursor and the due-index by minute bucket (``store.sweep_table.SweepStore``)."""

    def cursor(self) -> str | None: ...

    def advance_cursor(self, minute: str, swept_at_ms: int) -> bool: ...

    def due_items(
        self, minute: str, *, due_until_ms: int | None, stats: DueQueryStats
    ) -> Iterator[dict[str, Any]]:
        """The items whose notice is queued for ``minute`` (``instants.minute_of``)."""
        ...

    def move_notice(
        self,
        pk: str,
        *,
        expected_kind: str,
        expected_window_ms: int,
        next_due: dict[str, Any] | None,
    ) -> bool: ...
