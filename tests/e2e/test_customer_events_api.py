"""``POST /v1/events`` end to end: a platform that hears a channel itself reports what the customer
did, and the gate decides on it exactly as if the webhook had said so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.helpers import http
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

SMS_NUMBER = "+14155550100"


def report(stack: LocalStack, token: str, contact: str, *events: dict[str, Any], channel: str = "sms") -> Any:
    account = SMS_NUMBER if channel == "sms" else "acme_support_bot"
    return http(
        "POST",
        f"{stack.api_url}/v1/events",
        {"channel": channel, "account_id": account, "contact_id": contact, "events": list(events)},
        token=token,
    )


def check(stack: LocalStack, token: str, contact: str) -> Any:
    return http(
        "POST",
        f"{stack.api_url}/v1/messages/check",
        {
            "channel": "sms",
            "account_id": SMS_NUMBER,
            "contact_id": contact,
            "content": {"type": "text", "text": "Your table for two is confirmed for 8pm."},
        },
        token=token,
    )


def at(minutes_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def test_consent_reported_by_the_business_opens_sms_and_a_later_stop_closes_it(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "+14155550188"
    wrote = report(
        stack, bot_token, contact, {"id": "in-1", "kind": "message", "text": "Table for 2?", "at": at(30)}
    )
    assert wrote.status == 200 and wrote.body == {"status": "ok", "events": 1}, wrote.body
    refused = check(stack, bot_token, contact)
    assert (
        refused.body["decision"]["allowed"] is False
        and "opt_in_required" in refused.body["decision"]["reasons"]
    )

    consented = report(stack, bot_token, contact, {"id": "form-7", "kind": "consent_on_record", "at": at(20)})
    assert consented.status == 200
    assert check(stack, bot_token, contact).body["decision"]["allowed"] is True

    # STOP arrives before a retry of the older consent: the newest fact wins whatever the order.
    report(stack, bot_token, contact, {"id": "in-2", "kind": "message", "text": "STOP", "at": at(10)})
    report(stack, bot_token, contact, {"id": "form-7", "kind": "consent_on_record", "at": at(20)})
    stopped = check(stack, bot_token, contact)
    assert stopped.body["decision"]["allowed"] is False
    assert "opted_out" in stopped.body["decision"]["reasons"]


def test_an_agent_cannot_report_customer_events(stack: LocalStack, agent_token: str) -> None:
    reply = report(stack, agent_token, "+14155550199", {"id": "x", "kind": "message", "at": at(1)})
    assert (reply.status, reply.body["reason"]) == (403, "automation_only")


def test_another_tenants_account_is_refused(stack: LocalStack, other_tenant_token: str) -> None:
    reply = report(stack, other_tenant_token, "+14155550198", {"id": "x", "kind": "message", "at": at(1)})
    assert reply.status in (403, 404), reply.body
    assert reply.body["reason"] in ("forbidden_tenant", "automation_only")


def test_an_event_without_its_own_instant_is_a_400_that_names_the_field(
    stack: LocalStack, bot_token: str
) -> None:
    reply = report(stack, bot_token, "+14155550197", {"id": "x", "kind": "message"})
    assert reply.status == 400 and reply.body["reason"] == "invalid_request"
    assert "at" in reply.body["message"]
