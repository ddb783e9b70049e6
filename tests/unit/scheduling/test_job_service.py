"""Re-engagement jobs on in-memory ports, deciding and sending through the real send gate.

The job's store is ``InMemoryJobs``; its sender is ``SendService`` on the in-memory stores with a
scripted Graph API, so each contact's result is what the policy engine decides for it. The same
jobs run against moto, Scheduler and the handler in ``tests/integration/scheduler``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.accounts import PAGE_ID, TENANT, messenger_page
from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.graph import ScriptedGraph
from tests.support.fakes.scheduling import InMemoryJobs, RecordingSchedules
from tests.support.fakes.sending import InMemorySendStores
from tests.support.seed import contact_record
from windowkeeper.auth import AGENTS_GROUP, Principal
from windowkeeper.events import BusEvent, DetailType
from windowkeeper.policy.model import Channel
from windowkeeper.scheduling.job_service import JobService, ReengagementIn
from windowkeeper.sending.service import SendService
from windowkeeper.store.contact_item import ContactRecord

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
RUN_AT = NOW + timedelta(minutes=5)
AGENT = Principal(subject="agent-maria", tenant_id=TENANT, groups=frozenset({AGENTS_GROUP}))
TEXT = {"type": "text", "text": "Your order is ready for collection at the Leith store."}


class Jobs:
    def __init__(self, **wrote_ago: timedelta) -> None:
        self.stores = InMemorySendStores()
        for contact_id, ago in wrote_ago.items():
            self.stores.contacts.put(
                contact_record(
                    Channel.MESSENGER, PAGE_ID, contact_id, tenant_id=TENANT, wrote_at=RUN_AT - ago
                )
            )
        accounts = InMemoryAccounts.of(messenger_page())
        self.graph = ScriptedGraph()
        self.published: list[BusEvent] = []
        self.schedules = RecordingSchedules(group_name="windowkeeper-jobs")
        self.jobs = InMemoryJobs(contacts=self._contacts)
        self.time_left = 900.0
        self.service = JobService(
            store=self.jobs,
            schedules=self.schedules,
            sender=SendService(
                stores=self.stores.ports(), accounts=accounts, graph=self.graph, publish=self._publish
            ),
            accounts=accounts.get,
            publish=self._publish,
            time_left=lambda: self.time_left,
        )

    def _contacts(self) -> list[ContactRecord]:
        return [ContactRecord.from_item(item) for item in self.stores.contacts.items.values()]

    def _publish(self, events: Sequence[BusEvent]) -> int:
        self.published.extend(events)
        return len(events)

    def create(self, **selection: Any) -> str:
        body = ReengagementIn.model_validate(
            {
                "channel": "messenger",
                "account_id": PAGE_ID,
                "purpose": "order_update",
                "content_by_path": {"free_form": TEXT},
                **selection,
            }
        )
        job, created = self.service.create(AGENT, body, NOW)
        assert created
        return job.job_id

    def statuses(self, job_id: str) -> dict[str, str]:
        return {r.contact_id: r.status for r in self.jobs.results(job_id)}


def test_a_job_sends_to_whom_the_gate_allows_and_says_why_not_to_the_others() -> None:
    jobs = Jobs(anna=timedelta(hours=2), bob=timedelta(days=3))
    job_id = jobs.create(contact_ids=["anna", "bob", "anna"])
    assert list(jobs.schedules.schedules) == [f"job-{job_id}"]

    report = jobs.service.run(job_id, RUN_AT)

    assert report.finished and (report.selected, report.as_dict()["sent"]) == (2, 1)
    assert jobs.statuses(job_id) == {"anna": "sent", "bob": "refused"}
    [bob] = [r for r in jobs.jobs.results(job_id) if r.contact_id == "bob"]
    assert "window_closed" in bob.reasons
    assert len(jobs.graph.calls) == 1
    results = [e for e in jobs.published if e.detail_type == DetailType.REENGAGEMENT_RESULT]
    assert sorted(e.detail["status"] for e in results) == ["refused", "sent"]
    assert all(r.event_published for r in jobs.jobs.results(job_id))


def test_running_a_job_again_never_sends_twice() -> None:
    jobs = Jobs(anna=timedelta(hours=2))
    job_id = jobs.create(contact_ids=["anna"])
    jobs.service.run(job_id, RUN_AT)
    again = jobs.service.run(job_id, RUN_AT + timedelta(minutes=1))

    assert (again.skipped_existing, again.as_dict()["sent"]) == (1, 0)
    assert len(jobs.graph.calls) == 1


def test_a_run_short_of_time_schedules_its_continuation_and_the_continuation_finishes() -> None:
    jobs = Jobs(anna=timedelta(hours=2), bob=timedelta(hours=3), carl=timedelta(hours=4))
    job_id = jobs.create(contact_ids=["anna", "bob", "carl"])
    calls = len(jobs.graph.calls)

    def one_more_then_out() -> float:
        return 900.0 if len(jobs.graph.calls) == calls else 1.0

    jobs.service.time_left = one_more_then_out
    first = jobs.service.run(job_id, RUN_AT)
    assert not first.finished and first.continuation == f"job-{job_id}-r1"
    assert first.continuation in jobs.schedules.schedules
    assert jobs.statuses(job_id) == {"anna": "sent"}

    jobs.service.time_left = lambda: 900.0
    second = jobs.service.run(job_id, RUN_AT + timedelta(minutes=2))
    assert second.finished and jobs.statuses(job_id) == {"anna": "sent", "bob": "sent", "carl": "sent"}
    assert len(jobs.graph.calls) == 3


def test_silent_for_selects_by_the_cutoff_frozen_at_the_first_run() -> None:
    jobs = Jobs(quiet=timedelta(hours=30), chatty=timedelta(hours=1))
    job_id = jobs.create(silent_for_hours=24)
    jobs.service.run(job_id, RUN_AT)
    assert jobs.statuses(job_id) == {"quiet": "refused"}  # silent 30 h: the window has closed
    cutoff = jobs.jobs.jobs[job_id].cutoff_ms
    jobs.service.run(job_id, RUN_AT + timedelta(hours=6))
    assert jobs.jobs.jobs[job_id].cutoff_ms == cutoff  # a later run does not widen the selection
    assert jobs.statuses(job_id) == {"quiet": "refused"}
