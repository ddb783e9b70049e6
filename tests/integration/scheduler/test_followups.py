"""Follow-ups end to end on moto: the created schedule, firing it with its Input, re-deciding at fire
time (customer wrote meanwhile, window closed -> fallback template, Messenger by a schedule never
uses HUMAN_AGENT), cancelling, and a retried invocation that must not send twice."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.scheduler.conftest import AGENT, GLOBEX_AGENT, NOW, SchedulerStack
from tests.support.accounts import PAGE_ID, WA_PHONE_NUMBER_ID
from windowkeeper import aws as wk_aws
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.keys import STATE_SK, contact_pk

WA_CONTACT = "4915112345678"
PSID = "6523948101234567"

REMINDER_TEXT = {"type": "text", "text": "Did the replacement part fit? Reply here if anything is missing."}
REMINDER_TEMPLATE = {
    "type": "template",
    "template": {"name": "appointment_reminder", "language": "en_US", "parameters": ["Mia", "14:00"]},
}


def followup_body(
    channel: Channel, account_id: str, contact_id: str, send_at: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "channel": channel.value,
        "account_id": account_id,
        "contact_id": contact_id,
        "send_at": send_at.isoformat(),
        "content": REMINDER_TEXT,
        "purpose": "reminder",
        **extra,
    }


def fire_input(stack: SchedulerStack, followup_id: str) -> dict[str, Any]:
    """The Input Scheduler would invoke the target with, read back from the created schedule."""
    target = stack.schedule(f"fup-{followup_id}")["Target"]
    payload: dict[str, Any] = json.loads(target["Input"])
    return payload


def test_create_makes_a_one_time_schedule_that_targets_the_function_with_a_dlq(stack: SchedulerStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=1))
    send_at = NOW + timedelta(hours=3)

    status, body = stack.call(
        "POST", "/v1/followups", followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, send_at)
    )

    assert status == 201, body
    followup_id = body["followup"]["followup_id"]
    schedule = stack.schedule(f"fup-{followup_id}")
    assert schedule["GroupName"] == stack.resources.schedule_group_name
    assert schedule["ScheduleExpression"] == "at(2026-11-21T13:00:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    target = schedule["Target"]
    assert target["Arn"] == stack.resources.scheduler_target_arn
    assert target["RoleArn"] == stack.resources.scheduler_role_arn
    assert target["DeadLetterConfig"] == {"Arn": stack.resources.scheduler_dlq_arn}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] < 185  # not Scheduler's 24-hour default
    assert json.loads(target["Input"]) == {"kind": "followup.fire", "followup_id": followup_id}
    # The preview: as of send_at the window (opened an hour ago) is still open -> free-form.
    assert body["preview"]["decision"]["allowed"] is True
    assert body["preview"]["decision"]["path"] == "free_form"
    assert "taken again when the follow-up fires" in body["preview"]["note"]
    assert body["followup"]["status"] == "scheduled"


def test_retried_create_is_the_same_followup_and_one_schedule(stack: SchedulerStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=1))
    request = followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + timedelta(hours=3))

    first_status, first = stack.call("POST", "/v1/followups", request)
    second_status, second = stack.call("POST", "/v1/followups", request)

    assert (first_status, second_status) == (201, 200)
    assert first["followup"]["followup_id"] == second["followup"]["followup_id"]
    assert second["created"] is False
    assert len(stack.schedule_names()) == 1


@pytest.mark.parametrize(
    ("send_at_offset", "reason"),
    [(timedelta(seconds=-5), "send_at_not_in_future"), (timedelta(days=400), "send_at_too_far")],
)
def test_send_at_must_be_ahead_and_within_a_year(
    stack: SchedulerStack, send_at_offset: timedelta, reason: str
) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=1))
    request = followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + send_at_offset)

    status, body = stack.call("POST", "/v1/followups", request)

    assert (status, body["reason"]) == (400, reason)
    assert stack.schedule_names() == set()


def test_naive_send_at_is_refused(stack: SchedulerStack) -> None:
    request = followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + timedelta(hours=2))
    request["send_at"] = "2026-11-21T12:00:00"  # no offset

    status, body = stack.call("POST", "/v1/followups", request)

    assert (status, body["reason"]) == (400, "invalid_request")


def test_customer_wrote_meanwhile_so_the_followup_goes_free_form(stack: SchedulerStack) -> None:
    # Window closed yesterday; the follow-up was planned with a template fallback.
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=30))
    send_at = NOW + timedelta(hours=2)
    status, body = stack.call(
        "POST",
        "/v1/followups",
        followup_body(
            Channel.WHATSAPP,
            WA_PHONE_NUMBER_ID,
            WA_CONTACT,
            send_at,
            fallback_content=REMINDER_TEMPLATE,
            cancel_if_customer_replied=False,
        ),
    )
    assert status == 201, body
    assert body["preview"]["decision"]["allowed"] is False
    assert body["preview"]["fallback_decision"]["path"] == "utility_template"
    followup_id = body["followup"]["followup_id"]

    stack.customer_writes(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + timedelta(hours=1))
    stack.at(send_at)
    result = stack.invoke_scheduled(fire_input(stack, followup_id))

    assert result["action"] == "sent"
    assert [b["type"] for b in stack.meta.bodies()] == ["text"]
    _, got = stack.call("GET", f"/v1/followups/{followup_id}")
    assert got["followup"]["status"] == "sent"
    assert got["followup"]["path"] == "free_form"
    assert got["followup"]["used_fallback"] is False
    sent_events = [e for e in stack.drain_events() if e["detail-type"] == "followup.sent"]
    assert [e["detail"]["followup_id"] for e in sent_events] == [followup_id]


def test_window_closed_on_whatsapp_so_the_fallback_template_goes(stack: SchedulerStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=20))
    send_at = NOW + timedelta(hours=6)  # the window closes at NOW + 4 h
    _, body = stack.call(
        "POST",
        "/v1/followups",
        followup_body(
            Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, send_at, fallback_content=REMINDER_TEMPLATE
        ),
    )
    followup_id = body["followup"]["followup_id"]
    assert "window_closed" in body["preview"]["decision"]["reasons"]

    stack.at(send_at)
    result = stack.invoke_scheduled(fire_input(stack, followup_id))

    assert result["action"] == "sent"
    sent = stack.meta.bodies()
    assert len(sent) == 1 and sent[0]["type"] == "template"
    assert sent[0]["template"]["name"] == "appointment_reminder"
    _, got = stack.call("GET", f"/v1/followups/{followup_id}")
    assert got["followup"]["path"] == "utility_template"
    assert got["followup"]["used_fallback"] is True
    assert "window_closed" in got["followup"]["explanation"]


def test_messenger_after_24h_by_a_schedule_is_refused_never_human_agent(stack: SchedulerStack) -> None:
    # An agent schedules it: the sender at fire time is still the scheduler, never a person.
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, wrote_at=NOW - timedelta(hours=20))
    send_at = NOW + timedelta(hours=10)  # 30 h after the customer's message, inside HUMAN_AGENT's 7 days
    status, body = stack.call(
        "POST", "/v1/followups", followup_body(Channel.MESSENGER, PAGE_ID, PSID, send_at), claims=AGENT
    )
    assert status == 201, body
    followup_id = body["followup"]["followup_id"]

    stack.at(send_at)
    result = stack.invoke_scheduled(fire_input(stack, followup_id))

    assert result["action"] == "refused"
    assert stack.meta.requests == []
    _, got = stack.call("GET", f"/v1/followups/{followup_id}")
    assert got["followup"]["status"] == "refused"
    assert got["followup"]["path"] is None
    refused = [e for e in stack.drain_events() if e["detail-type"] == "followup.refused"]
    assert len(refused) == 1 and refused[0]["detail"]["reasons"]


def test_human_agent_tag_cannot_be_scheduled(stack: SchedulerStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, wrote_at=NOW - timedelta(hours=20))
    request = followup_body(Channel.MESSENGER, PAGE_ID, PSID, NOW + timedelta(hours=10), tag="HUMAN_AGENT")

    status, body = stack.call("POST", "/v1/followups", request, claims=AGENT)

    assert (status, body["reason"]) == (400, "human_agent_not_allowed")


def test_customer_reply_cancels_by_default(stack: SchedulerStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=2))
    send_at = NOW + timedelta(hours=4)
    _, body = stack.call(
        "POST", "/v1/followups", followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, send_at)
    )
    followup_id = body["followup"]["followup_id"]

    stack.customer_writes(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + timedelta(hours=1))
    stack.at(send_at)
    result = stack.invoke_scheduled(fire_input(stack, followup_id))

    assert result["action"] == "cancelled"
    assert stack.meta.requests == []
    _, got = stack.call("GET", f"/v1/followups/{followup_id}")
    assert (got["followup"]["status"], got["followup"]["status_reason"]) == ("cancelled", "customer_replied")


def test_retried_invocation_sends_once(stack: SchedulerStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=2))
    send_at = NOW + timedelta(hours=4)
    _, body = stack.call(
        "POST", "/v1/followups", followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, send_at)
    )
    payload = fire_input(stack, body["followup"]["followup_id"])

    stack.at(send_at)
    first = stack.invoke_scheduled(payload)
    stack.at(send_at + timedelta(seconds=40))  # Scheduler's retry
    second = stack.invoke_scheduled(payload)

    assert (first["action"], second["action"]) == ("sent", "noop")
    assert len(stack.meta.requests) == 1
    assert len([e for e in stack.drain_events() if e["detail-type"] == "followup.sent"]) == 1


def test_cancel_deletes_the_schedule_is_idempotent_and_firing_then_sends_nothing(
    stack: SchedulerStack,
) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=2))
    send_at = NOW + timedelta(hours=4)
    _, body = stack.call(
        "POST", "/v1/followups", followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, send_at)
    )
    followup_id = body["followup"]["followup_id"]
    payload = fire_input(stack, followup_id)

    first_status, first = stack.call("DELETE", f"/v1/followups/{followup_id}")
    again_status, again = stack.call("DELETE", f"/v1/followups/{followup_id}")

    assert (first_status, first["followup"]["status"]) == (200, "cancelled")
    assert (again_status, again["followup"]["status"]) == (200, "cancelled")
    with pytest.raises(ClientError) as missing:
        stack.schedule(f"fup-{followup_id}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # A schedule that fired anyway (e.g. deletion raced the invocation) finds nothing to send.
    stack.at(send_at)
    assert stack.invoke_scheduled(payload)["action"] == "noop"
    assert stack.meta.requests == []


def test_list_and_tenant_isolation(stack: SchedulerStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, wrote_at=NOW - timedelta(hours=2))
    for hours in (5, 3):
        stack.call(
            "POST",
            "/v1/followups",
            followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + timedelta(hours=hours)),
        )
    query = {"channel": "whatsapp", "account_id": WA_PHONE_NUMBER_ID, "contact_id": WA_CONTACT}

    status, listed = stack.call("GET", "/v1/followups", query=query)
    other_status, other = stack.call("GET", "/v1/followups", query=query, claims=GLOBEX_AGENT)

    assert status == 200
    assert [f["send_at"] for f in listed["followups"]] == [
        (NOW + timedelta(hours=3)).isoformat(),
        (NOW + timedelta(hours=5)).isoformat(),
    ]
    assert (other_status, other["reason"]) == (404, "account_not_found")
    followup_id = listed["followups"][0]["followup_id"]
    for method in ("GET", "DELETE"):
        status, body = stack.call(method, f"/v1/followups/{followup_id}", claims=GLOBEX_AGENT)
        assert (status, body["reason"]) == (404, "followup_not_found")


def test_unauthenticated_request_is_401(stack: SchedulerStack) -> None:
    status, body = stack.call("GET", "/v1/followups/abc", claims=None)
    assert (status, body["reason"]) == (401, "unauthenticated")


def test_unknown_scheduled_kind_raises_so_scheduler_retries_then_dead_letters(stack: SchedulerStack) -> None:
    with pytest.raises(ValueError, match="kind"):
        stack.invoke_scheduled({"kind": "followup.explode", "followup_id": "0" * 32})


def test_a_followup_firing_while_an_agent_owns_the_conversation_is_refused_and_reported(
    stack: SchedulerStack,
) -> None:
    # The customer wrote 1 h ago; an agent took the conversation 10 min before the follow-up fires.
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, wrote_at=NOW - timedelta(hours=1))
    send_at = NOW + timedelta(hours=2)
    _, body = stack.call(
        "POST",
        "/v1/followups",
        followup_body(Channel.MESSENGER, PAGE_ID, PSID, send_at, cancel_if_customer_replied=False),
    )
    followup_id = body["followup"]["followup_id"]
    took_over = send_at - timedelta(minutes=10)
    wk_aws.table(stack.table_name).update_item(
        Key={"pk": contact_pk(Channel.MESSENGER, PAGE_ID, PSID), "sk": STATE_SK},
        UpdateExpression="SET #o = :human, owner_agent_id = :agent, owner_since_ms = :since",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":human": "human", ":agent": "agent-ana", ":since": to_ms(took_over)},
    )

    stack.at(send_at)
    result = stack.invoke_scheduled(fire_input(stack, followup_id))

    assert result["action"] == "refused"
    assert stack.meta.requests == []
    _, got = stack.call("GET", f"/v1/followups/{followup_id}")
    assert got["followup"]["status"] == "refused"
    assert got["followup"]["status_reason"] == "human_owns_conversation"
    returns_at = took_over + timedelta(hours=4)  # the account's idle return
    assert returns_at.strftime("%Y-%m-%dT%H:%MZ") in got["followup"]["explanation"]
    [refused] = [e for e in stack.drain_events() if e["detail-type"] == "followup.refused"]
    assert refused["detail"]["reasons"][0] == "human_owns_conversation"
    assert refused["detail"]["status_reason"] == "human_owns_conversation"
