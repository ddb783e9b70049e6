"""Re-engagement jobs on moto: each contact gets the legal path (or a refusal with reasons), contacts
are selected through the account-index, and a job resumes without sending anyone a second message."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.integration.scheduler.conftest import GLOBEX_AGENT, NOW, SchedulerStack
from tests.support.accounts import IG_ACCOUNT_ID, PAGE_ID, WA_PHONE_NUMBER_ID
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper.store.contact_item import StoredOptIn
from windowkeeper.store.job_table import JobStore
from windowkeeper.store.keys import contact_pk
from windowkeeper.wiring import scheduler as wiring

OPTED_IN = [StoredOptIn(purpose="marketing", opted_in_ms=to_ms(NOW - timedelta(days=30)))]
COMEBACK_TEXT = {"type": "text", "text": "We miss you! Come back for 20% off this week."}
WINTER_SALE = {
    "type": "template",
    "template": {"name": "winter_sale", "language": "en_US", "parameters": ["Mia"]},
}


def marketing_job(channel: Channel, account_id: str, **selection: Any) -> dict[str, Any]:
    return {
        "channel": channel.value,
        "account_id": account_id,
        "purpose": "marketing",
        "content_by_path": {
            "free_form": COMEBACK_TEXT,
            "marketing_template": WINTER_SALE,
            "marketing_message": COMEBACK_TEXT,
        },
        **selection,
    }


def create_job(stack: SchedulerStack, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = stack.call("POST", "/v1/reengagements", body)
    assert status == 202, answer
    job_id = answer["job"]["job_id"]
    schedule = stack.schedule(answer["schedule"]["name"])
    payload: dict[str, Any] = json.loads(schedule["Target"]["Input"])
    assert payload == {"kind": "reengagement.run", "job_id": job_id}
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": stack.resources.scheduler_dlq_arn}
    return payload


def report(stack: SchedulerStack, job_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    status, body = stack.call("GET", f"/v1/reengagements/{job_id}")
    assert status == 200, body
    return body["job"], {r["contact_id"]: r for r in body["results"]}


def seed_whatsapp_audience(stack: SchedulerStack) -> None:
    silent = NOW - timedelta(hours=100)
    wa = (Channel.WHATSAPP, WA_PHONE_NUMBER_ID)
    stack.seed_contact(
        *wa, "4915100000001", wrote_at=silent, marketing_opt_ins=OPTED_IN, recipient_country_code="49"
    )
    stack.seed_contact(*wa, "4915100000002", wrote_at=silent, recipient_country_code="49")  # no opt-in
    stack.seed_contact(
        *wa, "4915100000003", wrote_at=silent, marketing_opt_ins=OPTED_IN, opted_out=[ConsentScope.MARKETING]
    )
    stack.seed_contact(*wa, "4915100000004", wrote_at=NOW - timedelta(hours=10))  # not silent long enough


def test_whatsapp_job_picks_the_marketing_template_only_where_opted_in(stack: SchedulerStack) -> None:
    seed_whatsapp_audience(stack)
    payload = create_job(stack, marketing_job(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, silent_for_hours=72))

    stack.at(NOW + timedelta(minutes=1))
    run = stack.invoke_scheduled(payload)

    assert (run["selected"], run["sent"], run["refused"], run["finished"]) == (3, 1, 2, True)
    job, results = report(stack, payload["job_id"])
    assert set(results) == {
        "4915100000001",
        "4915100000002",
        "4915100000003",
    }  # the 10-hour one is not silent
    opted_in = results["4915100000001"]
    assert (opted_in["status"], opted_in["offered"], opted_in["path"]) == (
        "sent",
        "marketing_template",
        "marketing_template",
    )
    assert [a["offered"] for a in opted_in["attempts"]] == [
        "free_form",
        "marketing_message",
        "marketing_template",
    ]
    assert results["4915100000002"]["status"] == "refused"
    assert "opt_in_required" in results["4915100000002"]["reasons"]
    assert results["4915100000003"]["status"] == "refused"
    assert "opted_out" in results["4915100000003"]["reasons"]
    assert (job["status"], job["sent_count"], job["refused_count"]) == ("done", 1, 2)
    [sent] = stack.meta.bodies()
    assert (sent["to"], sent["template"]["name"]) == ("4915100000001", "winter_sale")
    events = [e for e in stack.drain_events() if e["detail-type"] == "reengagement.result"]
    assert sorted(e["detail"]["status"] for e in events) == ["refused", "refused", "sent"]


def test_messenger_opt_in_gets_a_marketing_message_and_instagram_after_7_days_gets_nothing(
    stack: SchedulerStack,
) -> None:
    token_opt_in = [
        StoredOptIn(purpose="marketing", token="sub-token-1", opted_in_ms=to_ms(NOW - timedelta(days=20)))
    ]
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        "6523948100000001",
        wrote_at=NOW - timedelta(days=5),
        marketing_opt_ins=token_opt_in,
        recipient_region="BR",
    )
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, "6523948100000002", wrote_at=NOW - timedelta(days=5))
    stack.seed_contact(Channel.INSTAGRAM, IG_ACCOUNT_ID, "17841-ig-quiet", wrote_at=NOW - timedelta(days=8))

    messenger = create_job(
        stack, marketing_job(Channel.MESSENGER, PAGE_ID, contact_ids=["6523948100000001", "6523948100000002"])
    )
    instagram = create_job(
        stack, marketing_job(Channel.INSTAGRAM, IG_ACCOUNT_ID, contact_ids=["17841-ig-quiet"])
    )
    stack.invoke_scheduled(messenger)
    stack.invoke_scheduled(instagram)

    _, messenger_results = report(stack, messenger["job_id"])
    opted_in = messenger_results["6523948100000001"]
    assert (opted_in["status"], opted_in["path"]) == ("sent", "marketing_message")
    assert opted_in["path"] != "human_agent"
    not_opted_in = messenger_results["6523948100000002"]
    assert not_opted_in["status"] == "refused" and "opt_in_required" in not_opted_in["reasons"]
    _, instagram_results = report(stack, instagram["job_id"])
    quiet = instagram_results["17841-ig-quiet"]
    assert quiet["status"] == "refused" and quiet["reasons"]
    assert len(stack.meta.requests) == 1


def test_human_agent_content_is_refused_for_jobs(stack: SchedulerStack) -> None:
    body = marketing_job(Channel.MESSENGER, PAGE_ID, contact_ids=["6523948100000001"])
    body["content_by_path"] = {"human_agent": COMEBACK_TEXT}

    status, answer = stack.call("POST", "/v1/reengagements", body)

    assert (status, answer["reason"]) == (400, "human_agent_not_allowed")


def test_job_needs_exactly_one_selection(stack: SchedulerStack) -> None:
    body = marketing_job(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, silent_for_hours=72, contact_ids=["4915100000001"]
    )

    status, answer = stack.call("POST", "/v1/reengagements", body)

    assert (status, answer["reason"]) == (400, "invalid_request")


def test_job_resumes_after_running_out_of_time_and_never_sends_twice(stack: SchedulerStack) -> None:
    seed_whatsapp_audience(stack)
    stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        "4915100000005",
        wrote_at=NOW - timedelta(hours=90),
        marketing_opt_ins=OPTED_IN,
        recipient_country_code="49",
    )
    payload = create_job(stack, marketing_job(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, silent_for_hours=72))
    job_id = payload["job_id"]
    # A run that died after claiming one contact, before its send was recorded.
    JobStore(stack.table_name).claim(
        job_id, contact_pk(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915100000005"), "4915100000005", to_ms(NOW)
    )
    budget = iter([60.0, 1.0])  # time for one contact, then the invocation is about to time out

    first = wiring.job_service(time_left=lambda: next(budget, 1.0)).run(job_id, NOW)

    assert first.finished is False and first.continuation is not None
    continuation = stack.schedule(first.continuation)
    assert json.loads(continuation["Target"]["Input"]) == payload

    second = stack.invoke_scheduled(json.loads(continuation["Target"]["Input"]))
    third = stack.invoke_scheduled(payload)  # a stray retry of the first schedule

    assert second["finished"] is True
    assert (third["sent"], third["refused"], third["skipped_existing"]) == (0, 0, 4)
    _, results = report(stack, job_id)
    assert results["4915100000005"]["status"] == "sending"  # unknown outcome: left alone, never resent
    assert sorted(r["status"] for r in results.values()) == ["refused", "refused", "sending", "sent"]
    assert len(stack.meta.requests) == 1


def test_other_tenant_cannot_read_a_job(stack: SchedulerStack) -> None:
    payload = create_job(
        stack, marketing_job(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, contact_ids=["4915100000001"])
    )

    status, body = stack.call("GET", f"/v1/reengagements/{payload['job_id']}", claims=GLOBEX_AGENT)

    assert (status, body["reason"]) == (404, "job_not_found")
