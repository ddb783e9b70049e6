"""Sends that die mid-way are reported once by the minute sweep, and finished ones leave nothing behind.

A follow-up (``firing``) or a re-engagement result (``sending``) is claimed before the request to
Meta and never retried. Here the invocation "dies" while Meta holds the request (the fake Graph
answers by raising what a Lambda timeout would be: nothing in our code catches it), so the
message may or may not have been delivered. Fifteen minutes later the sweep must say so, once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.scheduler.conftest import NOW, SchedulerStack
from tests.integration.scheduler.test_followups import fire_input, followup_body
from tests.support.accounts import TENANT, WA_PHONE_NUMBER_ID
from windowkeeper import aws as wk_aws
from windowkeeper.instants import minute_of, to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import StoredOptIn
from windowkeeper.store.stuck_records import CHECK_KINDS, STUCK_AFTER
from windowkeeper.store.sweep_table import CURSOR_KEY

WA_CONTACT = "4915112345678"
SEND_AT = NOW + timedelta(hours=4)
WINTER_SALE = {
    "type": "template",
    "template": {"name": "winter_sale", "language": "en_US", "parameters": ["Mia"]},
}


class InvocationTimedOut(BaseException):
    """What Lambda does to a timed-out invocation: nothing after the cut runs, no handler sees it."""


def die_while_meta_holds_the_request(request: httpx.Request) -> httpx.Response:
    raise InvocationTimedOut


def pending_checks(stack: SchedulerStack) -> list[dict[str, Any]]:
    """Items carrying a stuck-check key (a test-only scan; the sweep reads the due-index)."""
    items = wk_aws.table(stack.table_name).scan()["Items"]
    return [i for i in items if i.get("due_kind") in CHECK_KINDS]


def sweep_at(stack: SchedulerStack, instant: datetime) -> dict[str, Any]:
    stack.at(instant)
    return stack.invoke_scheduled({"kind": "sweep"})


def rewind_cursor(stack: SchedulerStack, minute: str) -> None:
    """Force the next sweep over minutes it has done already (the cursor only moves forward)."""
    wk_aws.table(stack.table_name).put_item(Item={**CURSOR_KEY, "minute": minute, "swept_at_ms": 0})


def by_type(events: list[dict[str, Any]], detail_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["detail-type"] == detail_type]


def schedule_followup(stack: SchedulerStack) -> dict[str, Any]:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=2))
    status, body = stack.call(
        "POST", "/v1/followups", followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, SEND_AT)
    )
    assert status == 201, body
    return fire_input(stack, body["followup"]["followup_id"])


def followup_status(stack: SchedulerStack, followup_id: str) -> dict[str, Any]:
    status, body = stack.call("GET", f"/v1/followups/{followup_id}")
    assert status == 200, body
    followup: dict[str, Any] = body["followup"]
    return followup


def test_a_followup_that_was_sent_leaves_nothing_for_the_sweep(stack: SchedulerStack) -> None:
    payload = schedule_followup(stack)
    stack.at(SEND_AT)

    assert stack.invoke_scheduled(payload)["action"] == "sent"

    assert pending_checks(stack) == []
    report = sweep_at(stack, SEND_AT + STUCK_AFTER + timedelta(minutes=1))
    assert report["stuck"] == 0
    assert by_type(stack.drain_events(), "followup.stuck") == []


def test_a_followup_cancelled_at_fire_time_leaves_nothing_for_the_sweep(stack: SchedulerStack) -> None:
    payload = schedule_followup(stack)
    stack.customer_writes(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + timedelta(hours=1))
    stack.at(SEND_AT)

    assert stack.invoke_scheduled(payload)["action"] == "cancelled"

    assert pending_checks(stack) == []


def test_a_followup_that_died_mid_send_is_reported_once(
    stack: SchedulerStack, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = schedule_followup(stack)
    stack.meta.success = die_while_meta_holds_the_request
    stack.at(SEND_AT)
    with pytest.raises(InvocationTimedOut):
        stack.invoke_scheduled(payload)
    assert len(stack.meta.requests) == 1  # Meta got the request: delivery unknown
    assert followup_status(stack, payload["followup_id"])["status"] == "firing"
    stack.drain_events()

    early = sweep_at(stack, SEND_AT + STUCK_AFTER - timedelta(minutes=1))
    assert (early["stuck"], by_type(stack.drain_events(), "followup.stuck")) == (0, [])

    capsys.readouterr()
    report = sweep_at(stack, SEND_AT + STUCK_AFTER + timedelta(minutes=1))

    assert report["stuck"] == 1
    [event] = by_type(stack.drain_events(), "followup.stuck")
    detail = event["detail"]
    assert (detail["followup_id"], detail["tenant_id"], detail["contact_id"], detail["status"]) == (
        payload["followup_id"],
        TENANT,
        WA_CONTACT,
        "stuck",
    )
    assert detail["event_id"] == f"followup#{payload['followup_id']}#stuck"
    assert detail["message"] == (
        f"A follow-up to {WA_CONTACT} on WhatsApp (account {WA_PHONE_NUMBER_ID}) started sending at "
        f"{SEND_AT:%Y-%m-%d %H:%M} UTC and never finished: it may or may not have been delivered. "
        "Check the conversation before sending it again; Windowkeeper will not retry it."
    )
    followup = followup_status(stack, payload["followup_id"])
    assert (followup["status"], followup["explanation"]) == ("stuck", detail["message"])
    assert pending_checks(stack) == []
    [metrics_line] = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if "StuckSends" in line
    ]
    assert metrics_line["StuckSends"] == [1.0]

    # A rerun over the same minutes, and a stray retry of the schedule, add nothing.
    rewind_cursor(stack, minute_of(SEND_AT))
    rerun = sweep_at(stack, SEND_AT + STUCK_AFTER + timedelta(minutes=2))
    retried = stack.invoke_scheduled(payload)
    assert (rerun["stuck"], retried["action"]) == (0, "noop")
    assert by_type(stack.drain_events(), "followup.stuck") == []
    assert len(stack.meta.requests) == 1


def create_job(stack: SchedulerStack, contact_ids: list[str]) -> dict[str, Any]:
    status, answer = stack.call(
        "POST",
        "/v1/reengagements",
        {
            "channel": Channel.WHATSAPP.value,
            "account_id": WA_PHONE_NUMBER_ID,
            "purpose": "marketing",
            "content_by_path": {"marketing_template": WINTER_SALE},
            "contact_ids": contact_ids,
        },
    )
    assert status == 202, answer
    payload: dict[str, Any] = json.loads(stack.schedule(answer["schedule"]["name"])["Target"]["Input"])
    return payload


def seed_opted_in(stack: SchedulerStack, contact_id: str) -> None:
    stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        contact_id,
        wrote_at=NOW - timedelta(hours=100),
        marketing_opt_ins=[StoredOptIn(purpose="marketing", opted_in_ms=to_ms(NOW - timedelta(days=30)))],
        recipient_country_code="49",
    )


def job_results(stack: SchedulerStack, job_id: str) -> dict[str, dict[str, Any]]:
    status, body = stack.call("GET", f"/v1/reengagements/{job_id}")
    assert status == 200, body
    return {r["contact_id"]: r for r in body["results"]}


def test_a_finished_job_leaves_nothing_for_the_sweep(stack: SchedulerStack) -> None:
    seed_opted_in(stack, "4915100000001")
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915100000002", wrote_at=NOW)  # no opt-in
    payload = create_job(stack, ["4915100000001", "4915100000002"])
    stack.at(NOW + timedelta(minutes=1))

    run = stack.invoke_scheduled(payload)

    assert (run["sent"], run["refused"]) == (1, 1)
    assert pending_checks(stack) == []


def test_a_reengagement_send_that_died_is_reported_once_and_never_resent(stack: SchedulerStack) -> None:
    seed_opted_in(stack, "4915100000001")
    payload = create_job(stack, ["4915100000001"])
    run_at = NOW + timedelta(minutes=1)
    stack.meta.success = die_while_meta_holds_the_request
    stack.at(run_at)
    with pytest.raises(InvocationTimedOut):
        stack.invoke_scheduled(payload)
    assert job_results(stack, payload["job_id"])["4915100000001"]["status"] == "sending"
    stack.drain_events()

    report = sweep_at(stack, run_at + STUCK_AFTER + timedelta(minutes=1))

    assert report["stuck"] == 1
    [event] = by_type(stack.drain_events(), "reengagement.stuck")
    detail = event["detail"]
    assert (detail["job_id"], detail["tenant_id"], detail["contact_id"]) == (
        payload["job_id"],
        TENANT,
        "4915100000001",
    )
    assert "may or may not have been delivered" in detail["message"]
    assert f"job {payload['job_id']}" in detail["message"]
    assert job_results(stack, payload["job_id"])["4915100000001"]["status"] == "stuck"

    # The job resumed (Scheduler's retry) skips the contact and reports nothing new; so does a rerun.
    resumed = stack.invoke_scheduled(payload)
    rewind_cursor(stack, minute_of(run_at))
    rerun = sweep_at(stack, run_at + STUCK_AFTER + timedelta(minutes=2))
    assert (resumed["skipped_existing"], resumed["republished"], rerun["stuck"]) == (1, 0, 0)
    assert stack.drain_events() == []
    assert len(stack.meta.requests) == 1
