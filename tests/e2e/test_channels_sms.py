"""SMS end to end over HTTP: the simulator plays a customer's texts as End User Messaging SMS
publishes them to SNS (delivered to the inbound function through the local SNS bridge), and the
gate decides the replies, delivered through the simulated SNS Publish."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.helpers import http
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

NUMBER = "+14155550100"  # config/accounts.example.json


def play(stack: LocalStack, contact: str, kind: str, text: str = "", ago_seconds: int = 0) -> dict[str, Any]:
    """One text from the customer, ``ago_seconds`` before the simulator's now."""
    reply = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {
            "channel": "sms",
            "account_id": NUMBER,
            "contact_id": contact,
            "kind": kind,
            "text": text,
            "ago_seconds": ago_seconds,
        },
    )
    assert reply.status == 200, reply.body
    assert reply.body["webhook"]["status_code"] == 200, reply.body  # the inbound function took it
    body: dict[str, Any] = reply.body
    return body


def message(contact: str, text: str) -> dict[str, Any]:
    return {
        "channel": "sms",
        "account_id": NUMBER,
        "contact_id": contact,
        "content": {"type": "text", "text": text},
    }


def path(*ids: str) -> str:
    """Ids as path segments (``+`` and ``@`` are kept: API Gateway passes them as they are)."""
    return "/".join(quote(i, safe="+@") for i in ids)


def delivered(stack: LocalStack, contact: str) -> list[dict[str, Any]]:
    reply = http("GET", f"{stack.simulator_url}/_sim/requests")
    return [
        r
        for r in reply.body["requests"]
        if r["channel"] == "sms" and r["status"] == 200 and r["body"].get("PhoneNumber") == contact
    ]


def test_a_customer_who_texted_start_gets_the_reply_from_the_business_number(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "+14255550101"
    play(stack, contact, "start", ago_seconds=30)
    check = http("POST", f"{stack.api_url}/v1/messages/check", message(contact, "Hi!"), token=bot_token)
    assert check.status == 200 and check.body["decision"]["path"] == "direct", check.body
    sent = http(
        "POST", f"{stack.api_url}/v1/messages", message(contact, "Your order ships today"), token=bot_token
    )
    assert sent.status == 200 and sent.body["status"] == "sent", sent.body
    [publish] = delivered(stack, contact)
    assert publish["body"]["Message"] == "Your order ships today"
    assert publish["body"]["MessageAttributes.entry.2.Value.StringValue"] == NUMBER
    view = http("GET", f"{stack.api_url}/v1/contacts/sms/{path(NUMBER, contact)}", token=bot_token)
    assert view.status == 200 and view.body["consent"]["consent_on_record"] is True, view.body


def test_a_text_alone_is_not_consent_and_the_refusal_says_why(stack: LocalStack, bot_token: str) -> None:
    contact = "+14255550102"
    play(stack, contact, "message", "Do you have this in blue?")
    reply = http("POST", f"{stack.api_url}/v1/messages", message(contact, "Yes we do!"), token=bot_token)
    assert reply.body["status"] == "refused", reply.body
    assert "opt_in_required" in reply.body["decision"]["reasons"]
    assert "consent on record" in reply.body["decision"]["explanation"]
    assert delivered(stack, contact) == []


def test_stop_is_honoured_and_nothing_reaches_the_number(stack: LocalStack, bot_token: str) -> None:
    contact = "+14255550103"
    play(stack, contact, "start", ago_seconds=120)
    play(stack, contact, "stop", ago_seconds=60)
    reply = http("POST", f"{stack.api_url}/v1/messages", message(contact, "Sale today!"), token=bot_token)
    assert reply.body["status"] == "refused", reply.body
    assert "opted_out" in reply.body["decision"]["reasons"]
    assert delivered(stack, contact) == []


def test_a_number_that_never_texted_is_unknown(stack: LocalStack, bot_token: str) -> None:
    reply = http("POST", f"{stack.api_url}/v1/messages", message("+14255550104", "Hello?"), token=bot_token)
    assert (reply.status, reply.body["reason"]) == (404, "unknown_contact"), reply.body


def test_sms_is_not_served_on_the_http_webhook_route(stack: LocalStack) -> None:
    reply = http("POST", f"{stack.webhook_url}/sms/{quote(NUMBER)}", {"messageBody": "START"})
    assert (reply.status, reply.body["reason"]) == (404, "unknown_channel")
