"""The minute sweep: publish window-expiry notices that are due, then queue each contact's next one.

Invoked every minute by a ``rate(1 minute)`` schedule with Input ``{"kind": "sweep"}``. It sweeps
every minute from the stored cursor + 1 up to the current minute (at most ``max_minutes`` per run,
the rest next run), querying each of the ``DUE_SHARDS`` buckets of a minute on the sparse
``due-index``. Reads therefore grow with what is due, never with the table (no Scan).

Per due contact:

1. stale if ``due_window_ms != last_customer_action_ms`` (the customer renewed the window and the
   webhook queued a fresh notice elsewhere): skipped;
2. the notice is published with a stable event id (contact pk + kind + window), then the item is
   moved to the next notice with a condition on the notice it had. Publishing first makes delivery
   at least once: a crash between the two, or two overlapping sweeps, can publish the same event
   id twice, which consumers de-duplicate (see ``windowkeeper.events``); an update-first order
   would instead lose the notice whenever ``PutEvents`` failed after the item moved on. A rerun
   of a finished minute publishes nothing, because its items have left the bucket.

The current minute is swept up to ``now`` only and the cursor stays before it, so items due later
in that minute are picked up by the next run.

The same buckets hold the "check back at" keys of sends that were claimed (follow-up ``firing``,
re-engagement result ``sending``) and never finished: those items go to ``scheduling.stuck``,
which reports them (``followup.stuck`` / ``reengagement.stuck``) and marks them ``stuck``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from windowkeeper.accounts import AccountConfig
from windowkeeper.events import BusEvent
from windowkeeper.instants import from_ms, minute_of, to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.ports.bus import EventPublisher
from windowkeeper.ports.scheduling import DueNotices, DueQueryStats, WindowClosingsFn
from windowkeeper.scheduling.notices import (
    Notice,
    NoticeKind,
    agent_message,
    due_attributes,
    next_notice,
    notice_chain,
)
from windowkeeper.scheduling.stuck_service import StuckReporter, StuckSend, is_stuck_check
from windowkeeper.store.contact_item import ContactRecord

logger = Logger(child=True)

MAX_MINUTES_PER_RUN = 24 * 60  # a day of backlog per run; a longer outage takes several runs
INITIAL_LOOKBACK = timedelta(hours=1)  # where a brand-new deployment (no cursor) starts
CURSOR_SAVE_EVERY = 60  # minutes: progress survives a run that dies half way through a backlog
SAFETY_MARGIN_SECONDS = 10.0  # stop before the Lambda timeout, leaving time to save the cursor

AccountLookup = Callable[[Channel, str], AccountConfig | None]


@dataclass
class SweepReport:
    first_minute: str | None = None
    last_minute: str | None = None  # the last minute looked at (the current one, when caught up)
    cursor: str | None = None  # the last minute swept completely
    minutes_swept: int = 0
    queries: int = 0
    items_read: int = 0
    published: int = 0
    stale: int = 0  # window renewed since the notice was queued
    late_skipped: int = 0  # "closing soon" found after the close (sweep was late)
    conflicts: int = 0  # the item changed between read and update
    unknown_account: int = 0
    stuck: int = 0  # sends found unfinished and marked stuck (each reported once)
    caught_up: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Planned:
    pk: str
    kind: str
    window_ms: int
    next_due: dict[str, Any] | None
    event: BusEvent | None


@dataclass
class Sweeper:
    store: DueNotices
    accounts: AccountLookup
    closings: WindowClosingsFn
    publish: EventPublisher
    stuck: StuckReporter  # sends that never finished, met on the same due-index
    max_minutes: int = MAX_MINUTES_PER_RUN
    # Seconds left before the invocation times out (the Lambda context's clock); None: unbounded.
    time_left: Callable[[], float] | None = None
    _account_cache: dict[tuple[Channel, str], AccountConfig | None] = field(default_factory=dict)

    def run(self, now: datetime) -> SweepReport:
        now = now.astimezone(UTC)
        current = _floor_minute(now)
        cursor = self.store.cursor()
        start = _parse_minute(cursor) + timedelta(minutes=1) if cursor else current - INITIAL_LOOKBACK
        report = SweepReport(first_minute=minute_of(start), cursor=cursor)
        stats = DueQueryStats()
        minute = start
        saved_cursor = cursor
        while minute <= current and report.minutes_swept < self.max_minutes:
            if self.time_left is not None and self.time_left() < SAFETY_MARGIN_SECONDS:
                logger.warning("sweep stopped for time", extra={"next_minute": minute_of(minute)})
                break
            is_current = minute == current
            self._sweep_minute(
                minute, now, due_until_ms=to_ms(now) if is_current else None, stats=stats, report=report
            )
            report.minutes_swept += 1
            report.last_minute = minute_of(minute)
            if not is_current:
                report.cursor = minute_of(minute)
                if report.minutes_swept % CURSOR_SAVE_EVERY == 0:
                    self.store.advance_cursor(report.cursor, to_ms(now))
                    saved_cursor = report.cursor
            minute += timedelta(minutes=1)
        if report.cursor is not None and report.cursor != saved_cursor:
            self.store.advance_cursor(report.cursor, to_ms(now))
        report.queries, report.items_read = stats.queries, stats.items_read
        report.caught_up = minute > current
        return report

    def _sweep_minute(
        self,
        minute: datetime,
        now: datetime,
        *,
        due_until_ms: int | None,
        stats: DueQueryStats,
        report: SweepReport,
    ) -> None:
        planned: list[_Planned] = []
        unfinished: list[StuckSend] = []
        for item in self.store.due_items(minute_of(minute), due_until_ms=due_until_ms, stats=stats):
            if is_stuck_check(item):
                stuck = self.stuck.plan(item)
                if stuck is not None:
                    unfinished.append(stuck)
                continue
            plan = self._plan(item, now, report)
            if plan is not None:
                planned.append(plan)
        events = [p.event for p in planned if p.event is not None] + [s.event for s in unfinished]
        if events:
            # Raises PublishError: nothing below runs, the cursor stays, the next run retries.
            report.published += self.publish(events)
        for plan in planned:
            moved = self.store.move_notice(
                plan.pk, expected_kind=plan.kind, expected_window_ms=plan.window_ms, next_due=plan.next_due
            )
            if not moved:
                report.conflicts += 1
        for stuck in unfinished:
            if self.stuck.mark(stuck, now):
                report.stuck += 1
            else:
                report.conflicts += 1

    def _account(self, channel: Channel, account_id: str) -> AccountConfig | None:
        key = (channel, account_id)
        if key not in self._account_cache:
            self._account_cache[key] = self.accounts(channel, account_id)
        return self._account_cache[key]

    def _plan(self, item: dict[str, Any], now: datetime, report: SweepReport) -> _Planned | None:
        record = ContactRecord.from_item(item)
        if record.due_kind is None or record.due_window_ms is None or record.due_at_ms is None:
            return None
        if record.due_window_ms != record.last_customer_action_ms:
            report.stale += 1
            return None
        account = self._account(record.channel, record.account_id)
        try:
            kind = NoticeKind(record.due_kind)
        except ValueError:
            kind = None
        if account is None or kind is None:
            # Nothing sensible to say: clear the notice rather than meet it again every run.
            report.unknown_account += account is None
            return _Planned(record.pk, record.due_kind, record.due_window_ms, None, None)
        lead = timedelta(seconds=account.expiry_lead_time_seconds)
        chain = notice_chain(record.channel, self.closings(record.to_state(), account.profile()), lead)
        due_at = from_ms(record.due_at_ms)
        assert due_at is not None
        current = next((n for n in chain if n.kind is kind), None) or Notice(
            kind, due_at, due_at + lead if kind.is_closing_soon else due_at
        )
        following = next_notice(chain, kind, now)
        next_due = due_attributes(record.pk, following, record.due_window_ms, now) if following else None
        event = None
        if kind.is_closing_soon and current.closes_at <= now:
            report.late_skipped += 1
        else:
            event = self._event(record, current, lead, chain)
        return _Planned(record.pk, kind.value, record.due_window_ms, next_due, event)

    @staticmethod
    def _event(record: ContactRecord, notice: Notice, lead: timedelta, chain: list[Notice]) -> BusEvent:
        human_agent_follows = any(n.kind is NoticeKind.HUMAN_AGENT_CLOSED for n in chain)
        window_from = from_ms(record.due_window_ms)
        return BusEvent(
            detail_type=notice.kind.value,
            event_id=f"{record.pk}#{notice.kind.value}#{record.due_window_ms}",
            detail={
                "tenant_id": record.tenant_id,
                "channel": record.channel.value,
                "account_id": record.account_id,
                "contact_id": record.contact_id,
                "kind": notice.kind.value,
                "closes_at": notice.closes_at.isoformat(),
                "due_at": notice.due_at.isoformat(),
                "window_from": window_from.isoformat() if window_from else None,
                "message": agent_message(record.channel, notice, lead, human_agent_follows),
            },
        )


def _floor_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def _parse_minute(minute: str) -> datetime:
    return datetime.strptime(minute, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
