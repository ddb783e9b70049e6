"""Benchmark of the minute sweep on moto: reads per minute swept vs table size, and shard spread.

Loads ``--contacts`` WhatsApp contacts whose "closing soon" notices fall over ``--minutes`` due
minutes, sweeps the first ``--sweep-minutes`` of them minute by minute, then adds ``--idle``
contacts with no pending notice (a bigger table) and sweeps as many minutes again. Prints figures;
asserts nothing. Events are counted, not put on the bus (what is measured is the table access).

Run: ``scripts/bench-sweep [--contacts 20000 --minutes 120 --idle 40000 --sweep-minutes 10]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from moto import mock_aws

from windowkeeper import aws
from windowkeeper.accounts import AccountConfig
from windowkeeper.events import BusEvent
from windowkeeper.instants import minute_of, to_ms
from windowkeeper.policy.engine import window_closings
from windowkeeper.policy.model import Channel, CustomerActionKind
from windowkeeper.scheduling.stuck_service import StuckReporter
from windowkeeper.scheduling.sweep_service import Sweeper
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.job_table import JobStore
from windowkeeper.store.keys import (
    account_shard_key,
    contact_pk,
    due_bucket,
    due_buckets_for_minute,
)
from windowkeeper.store.stuck_table import StuckStore
from windowkeeper.store.sweep_table import SweepStore

START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
ACCOUNT = AccountConfig(channel=Channel.WHATSAPP, account_id="109876543210987", tenant_id="bench")
CLOSING_SOON_AFTER = timedelta(hours=23)  # the default one-hour lead before the 24-hour close


def _contact_item(contact_id: str, wrote_at: datetime | None, due_at: datetime | None) -> dict[str, object]:
    pk = contact_pk(ACCOUNT.channel, ACCOUNT.account_id, contact_id)
    item: dict[str, object] = {
        "pk": pk,
        "sk": "STATE",
        "tenant_id": ACCOUNT.tenant_id,
        "channel": ACCOUNT.channel.value,
        "account_id": ACCOUNT.account_id,
        "contact_id": contact_id,
        "account_shard": account_shard_key(ACCOUNT.channel, ACCOUNT.account_id, contact_id),
    }
    if wrote_at is not None:
        item["last_customer_action_ms"] = to_ms(wrote_at)
        item["last_customer_action_kind"] = CustomerActionKind.MESSAGE.value
    if due_at is not None and wrote_at is not None:
        item.update(
            due_bucket=due_bucket(due_at, pk),
            due_at_ms=to_ms(due_at),
            due_kind="window.closing_soon",
            due_window_ms=to_ms(wrote_at),
        )
    return item


def _load(table_name: str, items: Iterable[dict[str, object]]) -> int:
    count = 0
    with aws.table(table_name).batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
            count += 1
    return count


def _shard_spread(table_name: str, minutes: Sequence[datetime]) -> tuple[int, float]:
    """Max and mean items per due bucket over the given minutes (read back from the index)."""
    table = aws.table(table_name)
    counts = []
    for minute in minutes:
        for bucket in due_buckets_for_minute(minute_of(minute)):
            page = table.query(
                IndexName="due-index",
                KeyConditionExpression="due_bucket = :b",
                ExpressionAttributeValues={":b": bucket},
                Select="COUNT",
            )
            counts.append(int(page["Count"]))
    return max(counts), statistics.mean(counts)


def _sweep_minutes(sweeper: Sweeper, first: datetime, count: int) -> list[tuple[int, int, int, float]]:
    """Sweep ``count`` minutes one run per minute: (items read, queries, published, seconds) each."""
    rows = []
    for offset in range(count):
        now = first + timedelta(minutes=offset, seconds=59)
        started = time.perf_counter()
        report = sweeper.run(now)
        rows.append((report.items_read, report.queries, report.published, time.perf_counter() - started))
    return rows


def run(contacts: int, minutes: int, idle: int, sweep_minutes: int, seed: int) -> None:
    from windowkeeper_tools.aws_resources import create_all  # created only once moto is active

    rng = random.Random(seed)
    resources = create_all()
    table_name = resources.table_name
    AccountStore(table_name).put_all([ACCOUNT])

    started = time.perf_counter()
    due_items = []
    for index in range(contacts):
        due_at = START + timedelta(minutes=rng.randrange(minutes), seconds=rng.randrange(60))
        due_items.append(_contact_item(f"49151{index:08d}", due_at - CLOSING_SOON_AFTER, due_at))
    loaded = _load(table_name, due_items)
    print(
        f"loaded {loaded} contacts with a notice due over {minutes} minutes "
        f"in {time.perf_counter() - started:.1f} s"
    )

    spread_max, spread_mean = _shard_spread(
        table_name, [START + timedelta(minutes=m) for m in range(sweep_minutes)]
    )
    per_minute = contacts / minutes
    print(
        f"due per minute: {per_minute:.0f} expected; per due bucket (16 shards): "
        f"max {spread_max}, mean {spread_mean:.1f}"
    )
    pk_spread = Counter(int(str(i["due_bucket"]).rsplit("#", 1)[1]) for i in due_items)
    print(
        f"whole load per shard: max {max(pk_spread.values())}, mean {statistics.mean(pk_spread.values()):.1f}"
    )

    published: list[int] = [0]

    def count_events(events: Iterable[BusEvent]) -> int:
        batch = list(events)
        published[0] += len(batch)
        return len(batch)

    store = SweepStore(table_name)
    store.advance_cursor(minute_of(START - timedelta(minutes=1)), to_ms(START))
    sweeper = Sweeper(
        store=store,
        accounts=lambda c, a: ACCOUNT,
        closings=window_closings,
        publish=count_events,
        stuck=StuckReporter(StuckStore(table_name), JobStore(table_name).get),
    )

    def show(label: str, table_items: int, rows: list[tuple[int, int, int, float]]) -> None:
        reads = [r[0] for r in rows]
        queries = [r[1] for r in rows]
        seconds = [r[3] for r in rows]
        print(
            f"{label}: table ~{table_items} items | per minute swept: "
            f"items read mean {statistics.mean(reads):.1f} "
            f"(min {min(reads)}, max {max(reads)}), queries {statistics.mean(queries):.0f}, "
            f"moto time {statistics.mean(seconds) * 1000:.0f} ms"
        )

    rows_small = _sweep_minutes(sweeper, START, sweep_minutes)
    show("before idle contacts", loaded, rows_small)

    started = time.perf_counter()
    idle_items = (
        _contact_item(f"49160{index:08d}", START - timedelta(days=3), None) for index in range(idle)
    )
    added = _load(table_name, idle_items)
    print(f"added {added} contacts without a pending notice in {time.perf_counter() - started:.1f} s")
    rows_big = _sweep_minutes(sweeper, START + timedelta(minutes=sweep_minutes), sweep_minutes)
    show("after idle contacts ", loaded + added, rows_big)
    print(f"notices published: {published[0]} (expected about {per_minute * 2 * sweep_minutes:.0f})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--idle", type=int, default=40_000)
    parser.add_argument("--sweep-minutes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1"}
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        aws.reset_clients()
        run(args.contacts, args.minutes, args.idle, args.sweep_minutes, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
