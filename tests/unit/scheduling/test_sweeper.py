"""The minute sweep on in-memory ports: which notices it publishes, moves on, or drops.

The items are the send gate's fakes' contact items with the ``due_*`` attributes the webhook
would queue (``ingest.due.next_due``); ``InMemoryDueNotices`` reads them by minute. The same
sweep runs on moto's due-index in ``tests/integration/scheduler/test_sweep.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tests.support.accounts import PAGE_ID, TENANT, messenger_page
from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.scheduling import InMemoryDueNotices
from tests.support.fakes.sending import stored_item
from tests.support.seed import contact_record
from windowkeeper.events import BusEvent
from windowkeeper.ingest.due import next_due
from windowkeeper.instants import minute_of, to_ms
from windowkeeper.policy.engine import window_closings
from windowkeeper.policy.model import Channel
from windowkeeper.scheduling.stuck_service import StuckReporter
from windowkeeper.scheduling.sweep_service import Sweeper

WROTE_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PAGE = messenger_page()
LEAD = timedelta(seconds=PAGE.expiry_lead_time_seconds)
CLOSES_AT = WROTE_AT + timedelta(hours=24)


class NoStuckSends:
    def mark_stuck(self, pk: str, sk: str, **_: object) -> bool:
        raise AssertionError("no send is unfinished in these cases")


class Sweep:
    def __init__(self) -> None:
        record = contact_record(Channel.MESSENGER, PAGE_ID, "psid-anna", tenant_id=TENANT, wrote_at=WROTE_AT)
        item = stored_item(record)
        item.update(next_due(record, PAGE.profile(), WROTE_AT) or {})
        self.pk = record.pk
        self.items = {record.pk: item}
        self.due = InMemoryDueNotices(self.items, swept_to=minute_of(CLOSES_AT - LEAD - timedelta(minutes=2)))
        self.published: list[BusEvent] = []
        self.sweeper = Sweeper(
            store=self.due,
            accounts=InMemoryAccounts.of(PAGE).get,
            closings=window_closings,
            publish=self._publish,
            stuck=StuckReporter(store=NoStuckSends(), jobs=lambda _job_id: None),
        )

    def _publish(self, events: Sequence[BusEvent]) -> int:
        self.published.extend(events)
        return len(events)

    def kinds(self) -> list[str]:
        return [e.detail_type for e in self.published]


def test_closing_soon_is_published_once_and_the_next_notice_is_queued() -> None:
    sweep = Sweep()
    assert sweep.items[sweep.pk]["due_kind"] == "window.closing_soon"
    at = CLOSES_AT - LEAD + timedelta(minutes=1)

    report = sweep.sweeper.run(at)
    again = sweep.sweeper.run(at + timedelta(minutes=1))

    assert sweep.kinds() == ["window.closing_soon"]
    [event] = sweep.published
    assert event.detail["closes_at"] == CLOSES_AT.isoformat() and event.detail["contact_id"] == "psid-anna"
    assert report.published == 1 and again.published == 0
    assert sweep.items[sweep.pk]["due_kind"] != "window.closing_soon"  # moved on to the next notice
    assert report.caught_up and report.cursor == minute_of(at - timedelta(minutes=1))
    assert sweep.due.cursor() == minute_of(at)  # the second run swept one more whole minute


def test_a_customer_who_wrote_again_makes_the_queued_notice_stale() -> None:
    sweep = Sweep()
    sweep.items[sweep.pk]["last_customer_action_ms"] = to_ms(WROTE_AT + timedelta(hours=20))
    report = sweep.sweeper.run(CLOSES_AT - LEAD + timedelta(minutes=1))
    assert (report.stale, report.published) == (1, 0)


def test_a_sweep_that_comes_after_the_close_does_not_say_closing_soon() -> None:
    sweep = Sweep()
    report = sweep.sweeper.run(CLOSES_AT + timedelta(minutes=30))
    assert "window.closing_soon" not in sweep.kinds()
    assert report.late_skipped == 1
