"""The scheduler's ports in memory: follow-ups, Scheduler, and a send core that answers as told."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from windowkeeper.auth import Principal
from windowkeeper.policy.model import Channel, Decision
from windowkeeper.ports.scheduling import DueQueryStats
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.contact_write_plan import DUE_ATTRIBUTES
from windowkeeper.store.followup_records import FollowupExists, FollowupRecord, FollowupStatus, StatusConflict
from windowkeeper.store.job_records import JobRecord, ResultRecord


@dataclass
class InMemoryFollowups:
    """``FollowupRepository``: status moves only from the status the caller expects."""

    records: dict[str, FollowupRecord] = field(default_factory=dict)

    def create(self, record: FollowupRecord) -> None:
        if record.followup_id in self.records:
            raise FollowupExists(record.followup_id)
        self.records[record.followup_id] = record

    def get(self, followup_id: str) -> FollowupRecord | None:
        return self.records.get(followup_id)

    def list_for_contact(self, channel: Channel, account_id: str, contact_id: str) -> list[FollowupRecord]:
        mine = [
            r
            for r in self.records.values()
            if (r.channel, r.account_id, r.contact_id) == (channel, account_id, contact_id)
        ]
        return sorted(mine, key=lambda r: (r.send_at_ms, r.followup_id))

    def start_firing(self, record: FollowupRecord, now_ms: int) -> FollowupRecord:
        return self.transition(
            record, from_status="scheduled", to_status="firing", changes={"fired_at_ms": now_ms}
        )

    def transition(
        self,
        record: FollowupRecord,
        *,
        from_status: FollowupStatus,
        to_status: FollowupStatus,
        changes: dict[str, Any] | None = None,
    ) -> FollowupRecord:
        current = self.records.get(record.followup_id)
        if current is None or current.status != from_status:
            raise StatusConflict(current)
        moved = current.model_copy(update={"status": to_status, **(changes or {})})
        self.records[record.followup_id] = FollowupRecord.model_validate(moved.model_dump())
        return self.records[record.followup_id]

    def mark_published(self, record: FollowupRecord) -> None:
        current = self.records[record.followup_id]
        self.records[record.followup_id] = current.model_copy(update={"event_published": True})


@dataclass
class RecordingSchedules:
    """``ScheduleCreator``: remembers the schedules; a second create of a name answers False."""

    group_name: str = "windowkeeper-followups"
    schedules: dict[str, tuple[datetime, dict[str, Any]]] = field(default_factory=dict)

    def create_one_time(self, name: str, at: datetime, payload: dict[str, Any], description: str) -> bool:
        if name in self.schedules:
            return False
        self.schedules[name] = (at, payload)
        return True

    def delete(self, name: str) -> bool:
        return self.schedules.pop(name, None) is not None


@dataclass(frozen=True)
class Outcome:
    """``SendOutcomeLike``."""

    status: str
    decision: Decision | None
    platform_message_id: str | None = None


@dataclass
class ScriptedSender:
    """``SendPort``: answers each call with the next outcome given (checks answer ``check_answer``)."""

    check_answer: Decision
    outcomes: list[Outcome] = field(default_factory=list)
    sent: list[tuple[Principal, SendRequest, datetime]] = field(default_factory=list)

    def check(self, principal: Principal, request: SendRequest, *, at: datetime, now: datetime) -> Decision:
        return self.check_answer

    def send(self, principal: Principal, request: SendRequest, now: datetime) -> Outcome:
        self.sent.append((principal, request, now))
        return self.outcomes.pop(0)


@dataclass
class InMemoryJobs:
    """``JobRepository``: jobs and per-contact results; a contact is claimed once per job.

    ``contacts`` answers ``silent_contacts`` (the table's account index): the items of the send
    gate's fakes, so a job run on fakes selects the contacts the gate then decides on.
    """

    contacts: Callable[[], Iterable[ContactRecord]] = lambda: ()
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    results_by_job: dict[str, dict[str, ResultRecord]] = field(default_factory=dict)

    def create(self, job: JobRecord) -> bool:
        if job.job_id in self.jobs:
            return False
        self.jobs[job.job_id] = job
        return True

    def get(self, job_id: str) -> JobRecord | None:
        return self.jobs.get(job_id)

    def start_run(self, job_id: str, cutoff_ms: int | None, now_ms: int) -> JobRecord:
        job = self.jobs[job_id]
        self.jobs[job_id] = job.model_copy(
            update={
                "status": "running",
                "runs": job.runs + 1,
                "started_at_ms": job.started_at_ms or now_ms,
                "cutoff_ms": job.cutoff_ms if job.cutoff_ms is not None else cutoff_ms,
            }
        )
        return self.jobs[job_id]

    def finish(self, job_id: str, now_ms: int) -> None:
        self.jobs[job_id] = self.jobs[job_id].model_copy(update={"status": "done", "finished_at_ms": now_ms})

    def claim(self, job_id: str, contact_pk_value: str, contact_id: str, now_ms: int) -> bool:
        results = self.results_by_job.setdefault(job_id, {})
        if contact_pk_value in results:
            return False
        results[contact_pk_value] = ResultRecord(
            contact_pk=contact_pk_value, contact_id=contact_id, claimed_at_ms=now_ms
        )
        return True

    def save_result(self, job_id: str, result: ResultRecord) -> None:
        current = self.results_by_job[job_id][result.contact_pk]
        if current.status != "sending":
            raise RuntimeError(f"result of {result.contact_id} is {current.status}, not sending")
        self.results_by_job[job_id][result.contact_pk] = result

    def mark_published(self, job_id: str, contact_pk_value: str) -> None:
        result = self.results_by_job[job_id][contact_pk_value]
        self.results_by_job[job_id][contact_pk_value] = result.model_copy(update={"event_published": True})

    def results(self, job_id: str) -> list[ResultRecord]:
        return self.results_page(job_id, limit=None, after=None)[0]

    def results_page(
        self, job_id: str, *, limit: int | None, after: str | None
    ) -> tuple[list[ResultRecord], str | None]:
        ordered = [
            r for pk, r in sorted(self.results_by_job.get(job_id, {}).items()) if after is None or pk > after
        ]
        if limit is None or len(ordered) <= limit:
            return ordered, None
        return ordered[:limit], ordered[limit - 1].contact_pk

    def silent_contacts(self, channel: Channel, account_id: str, cutoff_ms: int) -> Iterator[tuple[str, str]]:
        for record in self.contacts():
            if (
                record.channel is channel
                and record.account_id == account_id
                and record.last_customer_action_ms is not None
                and record.last_customer_action_ms <= cutoff_ms
            ):
                yield record.pk, record.contact_id


@dataclass
class InMemoryDueNotices:
    """``DueNotices`` over the contact items of the send gate's fakes (``ContactItems.items``).

    The due-index is the items' ``due_bucket`` (``DUE#<minute>#<shard>``); a notice moves only
    if its kind and window are still the ones read, as the table's condition requires.
    """

    items: dict[str, dict[str, Any]]
    swept_to: str | None = None

    def cursor(self) -> str | None:
        return self.swept_to

    def advance_cursor(self, minute: str, swept_at_ms: int) -> bool:
        if self.swept_to is not None and self.swept_to >= minute:
            return False
        self.swept_to = minute
        return True

    def due_items(
        self, minute: str, *, due_until_ms: int | None, stats: DueQueryStats
    ) -> Iterator[dict[str, Any]]:
        stats.queries += 1
        for item in list(self.items.values()):
            bucket = str(item.get("due_bucket", ""))
            if bucket.startswith(f"DUE#{minute}#") and (
                due_until_ms is None or int(item["due_at_ms"]) <= due_until_ms
            ):
                stats.items_read += 1
                yield dict(item)

    def move_notice(
        self, pk: str, *, expected_kind: str, expected_window_ms: int, next_due: dict[str, Any] | None
    ) -> bool:
        item = self.items.get(pk)
        if (
            item is None
            or item.get("due_kind") != expected_kind
            or item.get("due_window_ms") != expected_window_ms
        ):
            return False
        for attribute in DUE_ATTRIBUTES:
            item.pop(attribute, None)
        item.update(next_due or {})
        return True
