"""CPU benchmark of webhook ingestion: the pure part of one POST, without DynamoDB.

Builds realistic signed batches with the simulator's payload builders (what Meta sends, byte for
byte): ``--messenger-events`` Messenger events over ``--messenger-contacts`` customers (messages,
reads, deliveries, postbacks) and ``--whatsapp-messages`` WhatsApp messages over
``--whatsapp-contacts`` numbers, one POST each (Meta batches up to 1,000 updates per POST). Each
batch goes through the same functions ``windowkeeper.ingest.service`` calls, stage by stage:

1. ``check_signature`` (HMAC-SHA256 over the raw bytes, constant-time compare);
2. ``json.loads`` + ``Envelope.model_validate`` (pydantic);
3. ``normalize`` (accounts resolved from memory instead of the cached table read);
4. ``collapse`` to one delta per contact;
5. ``ContactWriter.write`` per delta with a table that captures the ``UpdateItem`` arguments
   instead of sending them (the notice computation, the guards and the expression included),
   then boto3's ``TypeSerializer`` over them (what the resource layer does before the call);
6. the bus events (with their JSON ``Detail``) and the conversation-log items.

Prints per-stage medians, events/s, µs per event, deltas per batch and peak memory
(tracemalloc, separate pass), then what 5,000 events/s would cost in Lambda time. Times are CPU
time (``time.process_time``). Next to each batch: a hand-written floor measured in the same run
(signature, ``json.loads`` and one plain dict per contact with its newest instant and text: what
no implementation can skip), the ratio to it, and the spread of the per-run figure. Last, the
AWS calls one POST makes (1 contact, 50 messages) counted on moto through botocore's
``before-call`` hook. Prints figures; asserts nothing. DynamoDB, EventBridge and S3 latency (the
wall time of a real POST) are not measured here.

Run: ``scripts/bench-ingest [--repeat 15]`` (``--repeat 1`` with small batches: a smoke run).
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from boto3.dynamodb.types import TypeSerializer

from windowkeeper import aws
from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest import service
from windowkeeper.ingest.delta import collapse
from windowkeeper.ingest.due import next_due
from windowkeeper.ingest.models import Envelope
from windowkeeper.ingest.normalize import normalize
from windowkeeper.ingest.signature import check_signature
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.contact_write_plan import WriteResult
from windowkeeper.store.contact_writer import ContactWriter
from windowkeeper.store.keys import STATE_SK
from windowkeeper.store.message_records import message_item
from windowkeeper.wiring import webhook as webhook_wiring
from windowkeeper_tools.simulator import payloads

APP_SECRET = "bench-app-secret-0123456789abcdef"  # a made-up secret for signing
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
PAGE_ID = "104857600000001"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
TARGET_EVENTS_PER_SECOND = 5_000
# Lambda gives a function one full vCPU at 1,769 MB and a proportional share below (the template
# runs every function at 512 MB); arm64 price per GB-second in us-east-1.
FULL_VCPU_MB = 1_769
FUNCTION_MB = 512
ARM64_USD_PER_GB_SECOND = 0.0000133334

ACCOUNTS = {
    ("page", PAGE_ID): [AccountConfig(channel=Channel.MESSENGER, account_id=PAGE_ID, tenant_id="bench")],
    ("whatsapp_business_account", WABA_ID): [
        AccountConfig(
            channel=Channel.WHATSAPP, account_id=PHONE_NUMBER_ID, tenant_id="bench", waba_id=WABA_ID
        )
    ],
}

MESSENGER_TEXTS = (
    "Hi, is the blue jacket still available in M?",
    "Where is my order? It said 2-3 days.",
    "Can I change the delivery address to Hauptstraße 5?",
    "Thanks! 👍",
)


@dataclass(frozen=True)
class Batch:
    name: str
    body: bytes
    signature: str
    events: int


def messenger_batch(events: int, contacts: int) -> Batch:
    """Mostly messages, with the reads, deliveries and postbacks a busy Page also gets."""
    parts = []
    for index in range(events):
        psid = f"{6_000_000_000_000_000 + index % contacts}"
        at = NOW - timedelta(seconds=events - index)
        kind = index % 20
        if kind < 14:
            text = MESSENGER_TEXTS[index % len(MESSENGER_TEXTS)]
            parts.append(payloads.messenger_message(PAGE_ID, psid, text, at))
        elif kind < 17:
            parts.append(payloads.messenger_read(PAGE_ID, psid, at))
        elif kind < 19:
            parts.append(payloads.messenger_delivery(PAGE_ID, psid, [payloads.messenger_mid()], at))
        else:
            parts.append(payloads.messenger_postback(PAGE_ID, psid, "Track my order", "TRACK_ORDER", at))
    body = payloads.serialize(payloads.batch(*parts))
    return Batch("messenger", body, payloads.signature(body, APP_SECRET), events)


def whatsapp_batch(messages: int, contacts: int) -> Batch:
    parts = []
    for index in range(messages):
        wa_id = f"49151{index % contacts:08d}"
        at = NOW - timedelta(seconds=messages - index)
        text = MESSENGER_TEXTS[index % len(MESSENGER_TEXTS)]
        parts.append(
            payloads.whatsapp_text(
                WABA_ID, PHONE_NUMBER_ID, wa_id, text, at, name=f"Kunde {index % contacts}"
            )
        )
    body = payloads.serialize(payloads.batch(*parts))
    return Batch("whatsapp", body, payloads.signature(body, APP_SECRET), messages)


def resolve(webhook_object: str, entry_id: str) -> list[AccountConfig]:
    return ACCOUNTS.get((webhook_object, entry_id), [])


# ---------------------------------------------------------------- a table that only captures

_ASSIGN = re.compile(r"(#a\d+) = (?:if_not_exists\(#a\d+, (:v\d+)\)|list_append\([^)]*\), (:v\d+)\)|(:v\d+))")


@dataclass
class CapturingTable:
    """Stands in for the boto3 Table: keeps each ``update_item``'s arguments, answers ALL_NEW."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def update_item(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(arguments)
        names, values = arguments["ExpressionAttributeNames"], arguments.get("ExpressionAttributeValues", {})
        item: dict[str, Any] = dict(arguments["Key"])
        set_clause = arguments["UpdateExpression"].split(" REMOVE ")[0]
        for match in _ASSIGN.finditer(set_clause):
            value_placeholder = next(v for v in match.groups()[1:] if v)
            item[names[match.group(1)]] = values[value_placeholder]
        return {"Attributes": item}


@contextmanager
def captured_table() -> Iterator[CapturingTable]:
    table = CapturingTable()
    with mock.patch.object(aws, "table", lambda _name: table):
        yield table


# ---------------------------------------------------------------- one POST, stage by stage

STAGES = ("signature", "parse", "normalize", "collapse", "update_args", "serialize", "events_and_log")


@dataclass
class PostFigures:
    stage_ns: dict[str, int]
    deltas: int
    update_calls: int
    bus_events: int
    log_items: int


def process(batch: Batch, clock: Callable[[], int] = time.process_time_ns) -> PostFigures:
    marks = [clock()]

    problem = check_signature(batch.body, batch.signature, APP_SECRET)
    assert problem is None, problem
    marks.append(clock())

    envelope = Envelope.model_validate(json.loads(batch.body))
    marks.append(clock())

    normalized = normalize(envelope, resolve)
    marks.append(clock())

    deltas = collapse(normalized.observations)
    marks.append(clock())

    def due_for(record: ContactRecord) -> dict[str, Any] | None:
        account = normalized.accounts[(record.channel, record.account_id)]
        return next_due(record, account.profile(), NOW)

    with captured_table() as table:
        writer = ContactWriter("bench", due_for)
        results: dict[Any, WriteResult] = {key: writer.write(delta) for key, delta in deltas.items()}
    marks.append(clock())

    serializer = TypeSerializer()
    for call in table.calls:
        for value in call.get("ExpressionAttributeValues", {}).values():
            serializer.serialize(value)
        for value in call["Key"].values():
            serializer.serialize(value)
    marks.append(clock())

    bus_events = service._bus_events(normalized, deltas, results, NOW)  # the POST's own step
    entries = [event.entry("bench-bus") for event in bus_events]
    log_items = 0
    for observation in normalized.observations:
        if observation.log is None:
            continue
        at = from_ms(observation.at_ms)
        assert at is not None
        message_item(
            channel=observation.key.channel,
            account_id=observation.key.account_id,
            contact_id=observation.key.contact_id,
            message_id=observation.log.message_id,
            direction=observation.log.direction,
            at=at,
            kind=observation.log.kind,
            text=observation.log.text,
            sender=observation.log.sender,
            retention_days=30,
        )
        log_items += 1
    marks.append(clock())

    assert normalized.events == batch.events, (normalized.events, batch.events)
    assert all(call["Key"]["sk"] == STATE_SK for call in table.calls)
    return PostFigures(
        stage_ns={stage: marks[i + 1] - marks[i] for i, stage in enumerate(STAGES)},
        deltas=len(deltas),
        update_calls=len(table.calls),
        bus_events=len(entries),
        log_items=log_items,
    )


def floor(batch: Batch) -> int:
    """The hand-written floor, in CPU ns: verify, parse, one dict per contact (last instant, text)."""
    started = time.process_time_ns()
    assert check_signature(batch.body, batch.signature, APP_SECRET) is None
    contacts: dict[str, dict[str, Any]] = {}
    for entry in json.loads(batch.body)["entry"]:
        for event in entry.get("messaging", ()):
            state = contacts.setdefault(event["sender"]["id"], {"pk": event["sender"]["id"], "at": 0})
            state["at"] = max(state["at"], event["timestamp"])
            if "message" in event:
                state["text"] = event["message"].get("text")
        for change in entry.get("changes", ()):
            for message in change["value"].get("messages", ()):
                state = contacts.setdefault(message["from"], {"pk": message["from"], "at": 0})
                state["at"] = max(state["at"], int(message["timestamp"]))
                state["text"] = message.get("text", {}).get("body")
    assert contacts
    return time.process_time_ns() - started


def peak_memory(batch: Batch) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        process(batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


# ---------------------------------------------------------------- report


def bench(batch: Batch, repeat: int) -> float:
    """Print one batch's figures; return its median µs per event."""
    process(batch)  # warm-up: imports, pydantic's validators, the engine's rule tables
    floor(batch)
    runs = []
    floors = []
    for _ in range(repeat):  # interleaved, so both see the same machine load
        gc.collect()
        runs.append(process(batch))
        floors.append(floor(batch))
    last = runs[-1]
    totals = [sum(r.stage_ns.values()) for r in runs]
    total_ns = statistics.median(totals)
    per_event_us = total_ns / batch.events / 1_000
    print(f"\n{batch.name}: {batch.events} events, {len(batch.body) / 1024:.0f} KiB signed body")
    print(
        f"  deltas per batch {last.deltas}, UpdateItem calls {last.update_calls}, "
        f"bus events {last.bus_events}, log items {last.log_items}"
    )
    print(f"  {'stage':<16}{'median ms':>11}{'µs/event':>10}{'share':>8}")
    for stage in STAGES:
        stage_ns = statistics.median(r.stage_ns[stage] for r in runs)
        print(
            f"  {stage:<16}{stage_ns / 1e6:>11.2f}{stage_ns / batch.events / 1e3:>10.1f}"
            f"{stage_ns / total_ns:>8.0%}"
        )
    print(
        f"  {'total':<16}{total_ns / 1e6:>11.2f}{per_event_us:>10.1f}    "
        f"(min {min(totals) / 1e6:.2f} ms, max {max(totals) / 1e6:.2f} ms over {repeat} runs)"
    )
    print(f"  throughput {1e6 / per_event_us:,.0f} events/s on one core")
    floor_us = statistics.median(floors) / batch.events / 1_000
    per_run = sorted(t / batch.events / 1_000 for t in totals)
    print(
        f"  CPU per event {per_event_us:.1f} µs (spread {per_run[0]:.1f}-{per_run[-1]:.1f} over {repeat} "
        f"runs), floor {floor_us:.1f} µs, ratio {per_event_us / floor_us:.1f}x"
    )
    print(f"  peak memory {peak_memory(batch) / 1024 / 1024:.1f} MiB (tracemalloc, one batch)")
    return per_event_us


def cost(per_event_us: float) -> None:
    cpu_seconds = TARGET_EVENTS_PER_SECOND * per_event_us / 1e6
    share = FUNCTION_MB / FULL_VCPU_MB
    lambda_seconds = cpu_seconds / share
    gb_seconds = lambda_seconds * FUNCTION_MB / 1024
    per_day = gb_seconds * 86_400 * ARM64_USD_PER_GB_SECOND
    print(
        f"\n{TARGET_EVENTS_PER_SECOND:,} events/s at {per_event_us:.1f} µs of CPU per event (mixed batches):"
    )
    print(f"  {cpu_seconds:.2f} CPU-seconds per second (this machine's core)")
    print(
        f"  ≈ {lambda_seconds:.1f} Lambda-seconds per second at {FUNCTION_MB} MB "
        f"({share:.2f} vCPU), i.e. ~{lambda_seconds:.0f} concurrent executions for the CPU alone"
    )
    print(f"  = {gb_seconds:.1f} GB-s per second, ≈ ${per_day:,.2f}/day of arm64 compute (us-east-1 price)")
    print(
        "  Assumes a Lambda arm64 core about as fast as this one; DynamoDB/EventBridge round trips\n"
        "  add wall time (billed duration) on top, which this benchmark does not measure."
    )


def aws_calls_per_post(messages: int = 50) -> None:
    """Count the AWS calls ``handle_post`` makes for 1 contact with ``messages`` messages, on moto."""
    import os

    from moto import mock_aws

    from windowkeeper import secrets
    from windowkeeper.store.account_table import AccountStore
    from windowkeeper_tools.aws_resources import create_all

    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1"
    )
    try:
        with mock_aws():
            resources = create_all(app_secret=APP_SECRET, verify_token="bench-verify")
            os.environ.update(resources.environment())
            aws.reset_clients()
            secrets.clear_cache()
            webhook_wiring.reset_caches()
            calls: dict[str, int] = {}

            def count(event_name: str, **_: Any) -> None:
                operation = event_name.rsplit(".", maxsplit=1)[-1]
                calls[operation] = calls.get(operation, 0) + 1

            # Clients copy the Session's hooks when they are built, so register before the first.
            aws.session().events.register("before-call", count)
            AccountStore(resources.table_name).put_all(a for found in ACCOUNTS.values() for a in found)
            psid = "6000000000000001"
            parts = [
                payloads.messenger_message(
                    PAGE_ID, psid, f"message {i}", NOW - timedelta(seconds=messages - i)
                )
                for i in range(messages)
            ]
            body = payloads.serialize(payloads.batch(*parts))
            headers = {"x-hub-signature-256": payloads.signature(body, APP_SECRET)}
            settings = webhook_wiring.WebhookSettings.from_env()
            webhook_wiring.handle_post(body, headers, settings, now=NOW)  # warm: secret and account reads
            calls.clear()
            parts = [
                payloads.messenger_message(PAGE_ID, psid, f"again {i}", NOW + timedelta(seconds=i))
                for i in range(messages)
            ]
            body = payloads.serialize(payloads.batch(*parts))
            headers = {"x-hub-signature-256": payloads.signature(body, APP_SECRET)}
            outcome = webhook_wiring.handle_post(body, headers, settings, now=NOW + timedelta(minutes=1))
            aws.session().events.unregister("before-call", count)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.reset_clients()
        secrets.clear_cache()
        webhook_wiring.reset_caches()
    listed = ", ".join(f"{n} {name}" for name, n in sorted(calls.items()))
    print(
        f"\nAWS calls for one POST, 1 contact with {messages} messages (moto, warm caches; status "
        f"{outcome.status}): {sum(calls.values())} = {listed}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messenger-events", type=int, default=1_000)
    parser.add_argument("--messenger-contacts", type=int, default=200)
    parser.add_argument("--whatsapp-messages", type=int, default=1_000)
    parser.add_argument("--whatsapp-contacts", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per batch (default 15)")
    args = parser.parse_args(argv)

    batches = [
        messenger_batch(args.messenger_events, args.messenger_contacts),
        whatsapp_batch(args.whatsapp_messages, args.whatsapp_contacts),
    ]
    print("Webhook ingestion, pure CPU part of one POST (no DynamoDB, no bus, no S3)")
    per_event = [bench(batch, args.repeat) for batch in batches]
    events = [b.events for b in batches]
    mixed = sum(us * n for us, n in zip(per_event, events, strict=True)) / sum(events)
    cost(mixed)
    aws_calls_per_post()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
