"""The minute sweep on moto: finds exactly the due windows, skips renewed ones, catches up from its
cursor after a gap, and publishes nothing new on a rerun (counted on an SQS queue behind the bus)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.scheduler.conftest import NOW, SchedulerStack
from tests.support.accounts import IG_ACCOUNT_ID, PAGE_ID, WA_PHONE_NUMBER_ID
from windowkeeper import aws as wk_aws
from windowkeeper.instants import minute_of, to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.sweep_table import CURSOR_KEY, SweepStore
from windowkeeper.wiring import scheduler as wiring

# Lead time is the default hour: "closing soon" is due 23 h after the customer's message.
CLOSING_SOON_AFTER = timedelta(hours=23)


def set_cursor(stack: SchedulerStack, minute: str) -> None:
    assert SweepStore(stack.table_name).advance_cursor(minute, to_ms(NOW))


def notices(stack: SchedulerStack) -> list[tuple[str, str]]:
    return sorted((e["detail-type"], e["detail"]["contact_id"]) for e in stack.drain_events())


def run_sweep(stack: SchedulerStack) -> dict[str, Any]:
    return stack.invoke_scheduled({"kind": "sweep"})


def test_sweep_publishes_exactly_the_due_notices_and_skips_renewed_windows(stack: SchedulerStack) -> None:
    set_cursor(stack, minute_of(NOW - timedelta(minutes=2)))
    # Due a minute ago: its window closes in 59 minutes.
    stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        "491701111111",
        wrote_at=NOW - CLOSING_SOON_AFTER - timedelta(minutes=1),
        with_notice=True,
    )
    # Due in 30 minutes: not yet.
    stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        "491702222222",
        wrote_at=NOW - CLOSING_SOON_AFTER + timedelta(minutes=30),
        with_notice=True,
    )
    # Was due, but the customer wrote again (the window was renewed): stale.
    renewed_at = NOW - CLOSING_SOON_AFTER - timedelta(minutes=1)
    stack.seed_contact(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "491703333333", wrote_at=renewed_at, with_notice=True
    )
    stack.customer_writes(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "491703333333", NOW - timedelta(minutes=5))

    report = run_sweep(stack)

    assert notices(stack) == [("window.closing_soon", "491701111111")]
    assert (report["published"], report["stale"], report["cursor"]) == (
        1,
        1,
        minute_of(NOW - timedelta(minutes=1)),
    )
    assert report["queries"] == 16 * report["minutes_swept"]  # one Query per shard per minute, no Scan
    item = stack.contact_item(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "491701111111")
    assert item["due_kind"] == "window.closed"  # the next notice is queued


def test_rerun_publishes_nothing_new(stack: SchedulerStack) -> None:
    set_cursor(stack, minute_of(NOW - timedelta(minutes=2)))
    stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        "491701111111",
        wrote_at=NOW - CLOSING_SOON_AFTER - timedelta(seconds=30),
        with_notice=True,
    )
    run_sweep(stack)
    assert len(notices(stack)) == 1

    # A retried invocation, then one that lost its cursor and re-reads the whole last hour.
    retried = run_sweep(stack)
    wk_aws.table(stack.table_name).delete_item(Key=CURSOR_KEY)
    again = run_sweep(stack)

    assert retried["published"] == 0
    assert again["minutes_swept"] == 61
    assert again["published"] == 0
    assert notices(stack) == []


def test_sweep_catches_up_after_a_gap_from_its_cursor(stack: SchedulerStack) -> None:
    set_cursor(stack, minute_of(NOW - timedelta(hours=2)))  # the sweep was down for two hours
    for contact_id, due_ago in (
        ("491701111111", timedelta(minutes=55)),  # window closes in 5 minutes
        ("491702222222", timedelta(minutes=25)),
    ):
        stack.seed_contact(
            Channel.WHATSAPP,
            WA_PHONE_NUMBER_ID,
            contact_id,
            wrote_at=NOW - CLOSING_SOON_AFTER - due_ago,
            with_notice=True,
        )

    report = run_sweep(stack)

    assert notices(stack) == [
        ("window.closing_soon", "491701111111"),
        ("window.closing_soon", "491702222222"),
    ]
    assert report["minutes_swept"] == 120  # 08:01 .. 10:00, the current minute included
    assert report["caught_up"] is True


def test_late_sweep_skips_closing_soon_after_the_close_and_walks_the_messenger_chain(
    stack: SchedulerStack,
) -> None:
    # Messenger customer wrote 24.5 h ago: "closing soon" was due 1.5 h ago, the window closed 30 min ago.
    set_cursor(stack, minute_of(NOW - timedelta(hours=3)))
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        "6523948101234567",
        wrote_at=NOW - timedelta(hours=24, minutes=30),
        with_notice=True,
    )

    report = run_sweep(stack)

    assert notices(stack) == [("window.closed", "6523948101234567")]
    assert report["late_skipped"] == 1
    item = stack.contact_item(Channel.MESSENGER, PAGE_ID, "6523948101234567")
    # Messenger with the human_agent permission: the 7-day HUMAN_AGENT window comes next.
    assert item["due_kind"] == "human_agent_window.closing_soon"
    expected_close = NOW - timedelta(hours=24, minutes=30) + timedelta(days=7)
    assert int(item["due_at_ms"]) == to_ms(expected_close - timedelta(hours=1))


def test_whatsapp_chain_ends_after_closed_and_the_item_leaves_the_index(stack: SchedulerStack) -> None:
    set_cursor(stack, minute_of(NOW - timedelta(hours=2)))
    wrote_at = NOW - timedelta(hours=24, minutes=5)
    stack.seed_contact(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "491701111111", wrote_at=wrote_at, with_notice=True
    )

    run_sweep(stack)

    assert notices(stack) == [("window.closed", "491701111111")]
    item = stack.contact_item(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "491701111111")
    assert "due_bucket" not in item and "due_kind" not in item


def test_event_detail_tells_agents_what_to_do(stack: SchedulerStack) -> None:
    set_cursor(stack, minute_of(NOW - timedelta(minutes=2)))
    wrote_at = NOW - CLOSING_SOON_AFTER - timedelta(seconds=10)
    stack.seed_contact(Channel.INSTAGRAM, IG_ACCOUNT_ID, "1784-ig-user", wrote_at=wrote_at, with_notice=True)

    run_sweep(stack)

    [event] = stack.drain_events()
    detail = event["detail"]
    assert detail["tenant_id"] == "acme"
    assert (detail["channel"], detail["account_id"], detail["kind"]) == (
        "instagram",
        IG_ACCOUNT_ID,
        "window.closing_soon",
    )
    assert detail["closes_at"] == (wrote_at + timedelta(hours=24)).isoformat()
    assert "reply within the hour" in detail["message"]
    assert (
        detail["event_id"]
        == f"C#instagram#{IG_ACCOUNT_ID}#1784-ig-user#window.closing_soon#{to_ms(wrote_at)}"
    )


def test_bounded_catch_up_continues_next_run(stack: SchedulerStack) -> None:
    set_cursor(stack, minute_of(NOW - timedelta(hours=3)))
    sweeper = wiring.sweeper()
    sweeper.max_minutes = 60

    first = sweeper.run(NOW)
    second = sweeper.run(NOW)

    assert first.caught_up is False and first.minutes_swept == 60
    assert first.cursor == minute_of(NOW - timedelta(hours=2))
    assert second.cursor == minute_of(NOW - timedelta(hours=1))
    assert SweepStore(stack.table_name).cursor() == second.cursor
