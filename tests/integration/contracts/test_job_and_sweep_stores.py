"""``JobRepository`` and ``DueNotices``: the DynamoDB stores and the in-memory fakes answer alike.

The scheduler's unit tests (``tests/unit/scheduling``) run jobs and sweeps on the fakes; these
cases run on both so the fakes keep the tables' rules: a contact is claimed once per job, the
cutoff is frozen at the first run, results page in contact-key order; the sweep reads a minute's
notices, and a notice moves only if it is still the one read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.accounts import PAGE_ID, TENANT, messenger_page
from tests.support.fakes.scheduling import InMemoryDueNotices, InMemoryJobs
from tests.support.fakes.sending import stored_item
from tests.support.seed import contact_record
from windowkeeper import aws as wk_aws
from windowkeeper.ingest.due import next_due
from windowkeeper.instants import minute_of, to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.ports.scheduling import DueNotices, DueQueryStats, JobRepository
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.job_records import JobRecord, ResultRecord
from windowkeeper.store.job_table import JobStore
from windowkeeper.store.sweep_table import SweepStore
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def record(contact_id: str, wrote_ago: timedelta) -> ContactRecord:
    return contact_record(Channel.MESSENGER, PAGE_ID, contact_id, tenant_id=TENANT, wrote_at=NOW - wrote_ago)


@dataclass
class Stores:
    jobs: JobRepository
    due: DueNotices
    put: Callable[[dict[str, Any]], None]
    item: Callable[[str], dict[str, Any]]


@pytest.fixture(params=["in_memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "in_memory":
        items: dict[str, dict[str, Any]] = {}

        def put(item: dict[str, Any]) -> None:
            items[item["pk"]] = dict(item)

        contacts = lambda: [ContactRecord.from_item(i) for i in items.values()]  # noqa: E731
        return Stores(InMemoryJobs(contacts=contacts), InMemoryDueNotices(items), put, lambda pk: items[pk])
    resources: Resources = request.getfixturevalue("aws")
    table = wk_aws.table(resources.table_name)

    def table_put(item: dict[str, Any]) -> None:
        table.put_item(Item=item)

    def table_item(pk: str) -> dict[str, Any]:
        found: dict[str, Any] = table.get_item(Key={"pk": pk, "sk": "STATE"}, ConsistentRead=True)["Item"]
        return found

    return Stores(JobStore(resources.table_name), SweepStore(resources.table_name), table_put, table_item)


def job(job_id: str = "job-1", **fields: Any) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        tenant_id=TENANT,
        channel=Channel.MESSENGER,
        account_id=PAGE_ID,
        purpose="order_update",
        content_by_path={"free_form": {"type": "text", "text": "Your order is ready."}},
        created_at_ms=to_ms(NOW),
        created_by="agent-maria",
        run_at_ms=to_ms(NOW),
        **fields,
    )


def test_a_job_is_created_once_and_its_cutoff_is_frozen_at_the_first_run(stores: Stores) -> None:
    assert stores.jobs.create(job(silent_for_hours=24))
    assert not stores.jobs.create(job(silent_for_hours=24))
    first = stores.jobs.start_run("job-1", to_ms(NOW - timedelta(hours=24)), to_ms(NOW))
    second = stores.jobs.start_run("job-1", to_ms(NOW), to_ms(NOW + timedelta(hours=1)))
    assert (first.runs, second.runs) == (1, 2)
    assert second.cutoff_ms == first.cutoff_ms == to_ms(NOW - timedelta(hours=24))
    assert second.started_at_ms == to_ms(NOW)


def test_a_contact_is_claimed_once_and_its_result_replaces_the_claim(stores: Stores) -> None:
    stores.jobs.create(job())
    anna = record("anna", timedelta(hours=2))
    assert stores.jobs.claim("job-1", anna.pk, "anna", to_ms(NOW))
    assert not stores.jobs.claim("job-1", anna.pk, "anna", to_ms(NOW))
    outcome = ResultRecord(contact_pk=anna.pk, contact_id="anna", status="sent", claimed_at_ms=to_ms(NOW))
    stores.jobs.save_result("job-1", outcome)
    stores.jobs.mark_published("job-1", anna.pk)
    [saved] = stores.jobs.results("job-1")
    assert (saved.status, saved.event_published) == ("sent", True)


def test_results_page_in_contact_key_order(stores: Stores) -> None:
    stores.jobs.create(job())
    keys = sorted(record(name, timedelta(hours=1)).pk for name in ("carl", "anna", "bob"))
    for pk in keys:
        stores.jobs.claim("job-1", pk, pk.rsplit("#", 1)[1], to_ms(NOW))
    page, after = stores.jobs.results_page("job-1", limit=2, after=None)
    rest, end = stores.jobs.results_page("job-1", limit=2, after=after)
    assert [r.contact_pk for r in page + rest] == keys and end is None


def test_silent_contacts_are_those_quiet_since_the_cutoff(stores: Stores) -> None:
    for name, ago in (("quiet", timedelta(hours=30)), ("chatty", timedelta(hours=1))):
        stores.put(stored_item(record(name, ago)))
    found = list(stores.jobs.silent_contacts(Channel.MESSENGER, PAGE_ID, to_ms(NOW - timedelta(hours=24))))
    assert [contact_id for _, contact_id in found] == ["quiet"]


def test_the_sweep_reads_a_minutes_notices_and_moves_one_only_if_unchanged(stores: Stores) -> None:
    anna = record("anna", timedelta(hours=23, minutes=30))
    item = stored_item(anna) | (next_due(anna, messenger_page().profile(), NOW) or {})
    stores.put(item)
    # "Closing soon" was due 30 minutes ago: an overdue notice is queued in the current minute.
    minute = minute_of(NOW)
    stats = DueQueryStats()
    [found] = list(stores.due.due_items(minute, due_until_ms=None, stats=stats))
    assert found["pk"] == anna.pk and stats.items_read == 1
    assert (
        list(stores.due.due_items(minute_of(NOW - timedelta(days=1)), due_until_ms=None, stats=stats)) == []
    )

    kind, window = str(found["due_kind"]), int(found["due_window_ms"])
    assert not stores.due.move_notice(
        anna.pk, expected_kind="window.closed", expected_window_ms=window, next_due=None
    )
    assert stores.due.move_notice(anna.pk, expected_kind=kind, expected_window_ms=window, next_due=None)
    assert "due_kind" not in stores.item(anna.pk)


def test_the_cursor_only_moves_forward(stores: Stores) -> None:
    assert stores.due.cursor() is None
    assert stores.due.advance_cursor("2026-11-21T10:05", to_ms(NOW))
    assert not stores.due.advance_cursor("2026-11-21T10:04", to_ms(NOW))
    assert stores.due.cursor() == "2026-11-21T10:05"
