"""E-mail end to end over HTTP: the simulator plays a customer's mail as SES receiving publishes
it to SNS (verdicts, MIME content; delivered to the inbound function through the local SNS
bridge), and the gate decides the replies, delivered through the simulated SESv2 SendEmail."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.helpers import http
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

ADDRESS = "support@acme.example"  # config/accounts.example.json


def play(stack: LocalStack, sender: str, kind: str, text: str = "", ago_seconds: int = 0) -> dict[str, Any]:
    reply = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {
            "channel": "email",
            "account_id": ADDRESS,
            "contact_id": sender,
            "kind": kind,
            "text": text,
            "subject": "About my order",
            "ago_seconds": ago_seconds,
        },
    )
    assert reply.status == 200, reply.body
    assert reply.body["webhook"]["status_code"] == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def message(contact: str, text: str) -> dict[str, Any]:
    return {
        "channel": "email",
        "account_id": ADDRESS,
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
        if r["channel"] == "email"
        and r["status"] == 200
        and contact in r["body"]["Destination"]["ToAddresses"]
    ]


def test_a_customer_who_wrote_start_gets_the_reply_from_the_accounts_address(
    stack: LocalStack, bot_token: str
) -> None:
    contact = "ana.souza@example.com"
    play(stack, "Ana Souza <Ana.Souza@Example.com>", "start", ago_seconds=30)
    sent = http(
        "POST", f"{stack.api_url}/v1/messages", message(contact, "Your order shipped."), token=bot_token
    )
    assert sent.status == 200 and sent.body["status"] == "sent", sent.body
    [mail] = delivered(stack, contact)
    assert mail["body"]["FromEmailAddress"].endswith(ADDRESS)
    assert mail["body"]["Content"]["Simple"]["Body"]["Text"]["Data"] == "Your order shipped."
    view = http("GET", f"{stack.api_url}/v1/contacts/email/{path(ADDRESS, contact)}", token=bot_token)
    assert view.status == 200 and view.body["contact"]["display_name"] == "Ana Souza", view.body


def test_a_mail_alone_is_not_consent_and_the_refusal_says_why(stack: LocalStack, bot_token: str) -> None:
    contact = "kenji@example.jp"
    play(stack, contact, "message", "Is the store open on Sunday?")
    reply = http("POST", f"{stack.api_url}/v1/messages", message(contact, "Yes, 10 to 4."), token=bot_token)
    assert reply.body["status"] == "refused", reply.body
    assert "opt_in_required" in reply.body["decision"]["reasons"]
    assert delivered(stack, contact) == []


def test_an_unsubscribe_mail_is_honoured(stack: LocalStack, bot_token: str) -> None:
    contact = "fatima@example.ma"
    play(stack, contact, "start", ago_seconds=120)
    play(stack, contact, "unsubscribe", ago_seconds=60)
    reply = http("POST", f"{stack.api_url}/v1/messages", message(contact, "New arrivals!"), token=bot_token)
    assert reply.body["status"] == "refused", reply.body
    assert "opted_out" in reply.body["decision"]["reasons"]
    assert delivered(stack, contact) == []


def test_a_forged_mail_opens_nothing(stack: LocalStack, bot_token: str) -> None:
    contact = "lukas@example.de"
    play(stack, contact, "forged", "START")
    view = http("GET", f"{stack.api_url}/v1/contacts/email/{path(ADDRESS, contact)}", token=bot_token)
    assert view.status == 404, view.body
    reply = http("POST", f"{stack.api_url}/v1/messages", message(contact, "Hello"), token=bot_token)
    assert (reply.status, reply.body["reason"]) == (404, "unknown_contact"), reply.body


def test_consent_given_outside_the_mail_and_recorded_by_an_agent_lets_the_reply_go(
    stack: LocalStack, agent_token: str
) -> None:
    contact = "priya@example.in"
    play(stack, contact, "message", "Please keep me posted about my order.")
    refused = http(
        "POST", f"{stack.api_url}/v1/messages", message(contact, "It ships Monday."), token=agent_token
    )
    assert refused.body["status"] == "refused" and "opt_in_required" in refused.body["decision"]["reasons"]
    consent = http(
        "POST",
        f"{stack.api_url}/v1/contacts/email/{path(ADDRESS, contact)}/consent",
        {"scope": "all", "action": "opt_in", "note": "asked by phone to be kept posted"},
        token=agent_token,
    )
    assert consent.status == 200, consent.body
    sent = http(
        "POST", f"{stack.api_url}/v1/messages", message(contact, "It ships Monday."), token=agent_token
    )
    assert sent.body["status"] == "sent", sent.body
    assert len(delivered(stack, contact)) == 1
