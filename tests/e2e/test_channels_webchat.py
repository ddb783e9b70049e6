"""Web chat end to end over HTTP: a site's widget posts its visitor's messages with a visitor token,
the business's reply is decided by the gate, and the widget reads it back: its visitor's only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.helpers import http
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack
from windowkeeper_tools.simulator.platforms import credentials_for
from windowkeeper_tools.simulator.platforms.webchat import visitor_token

pytestmark = pytest.mark.e2e

SITE = "acme-site"


def token(visitor: str) -> str:
    return visitor_token(credentials_for(Channel.WEBCHAT, SITE)["widget_secret"], visitor, datetime.now(UTC))


def play(stack: LocalStack, visitor: str, kind: str = "message", text: str = "") -> None:
    reply = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {"channel": "webchat", "account_id": SITE, "contact_id": visitor, "kind": kind, "text": text},
    )
    assert reply.status == 200 and reply.body["webhook"]["status_code"] == 200, reply.body


def send(stack: LocalStack, bearer: str, visitor: str, text: str) -> Any:
    return http(
        "POST",
        f"{stack.api_url}/v1/messages",
        {
            "channel": "webchat",
            "account_id": SITE,
            "contact_id": visitor,
            "content": {"type": "text", "text": text},
        },
        token=bearer,
    )


def widget_reads(stack: LocalStack, visitor: str) -> list[dict[str, Any]]:
    reply = http(
        "GET",
        f"{stack.webhook_url}/webchat/{SITE}/messages",
        headers={"Authorization": f"Bearer {token(visitor)}"},
    )
    assert reply.status == 200, reply.body
    found: list[dict[str, Any]] = reply.body["messages"]
    return found


def test_an_agents_reply_reaches_the_visitors_widget_and_no_one_elses(
    stack: LocalStack, agent_token: str
) -> None:
    visitor, other = "visitor-e2e-1", "visitor-e2e-2"
    play(stack, visitor, text="Do you deliver on Sundays?")
    play(stack, other, text="Hello?")
    reply = send(stack, agent_token, visitor, "Yes, between 10:00 and 16:00.")
    assert reply.body["status"] == "sent" and reply.body["decision"]["path"] == "direct", reply.body
    assert [(m["from"], m["text"]) for m in widget_reads(stack, visitor)] == [
        ("visitor", "Do you deliver on Sundays?"),
        ("business", "Yes, between 10:00 and 16:00."),
    ]
    assert [m["text"] for m in widget_reads(stack, other)] == ["Hello?"]


def test_a_visitor_who_never_wrote_cannot_be_messaged(stack: LocalStack, bot_token: str) -> None:
    reply = send(stack, bot_token, "visitor-e2e-silent", "Hi!")
    assert (reply.status, reply.body["reason"]) == (404, "unknown_contact")


def test_stop_is_honoured(stack: LocalStack, bot_token: str) -> None:
    visitor = "visitor-e2e-stop"
    play(stack, visitor, "stop")
    reply = send(stack, bot_token, visitor, "Can we help with anything else?")
    assert reply.body["status"] == "refused" and "opted_out" in reply.body["decision"]["reasons"], reply.body
    assert [m["from"] for m in widget_reads(stack, visitor)] == ["visitor"]


def test_a_forged_visitor_token_is_refused(stack: LocalStack) -> None:
    forged = visitor_token("not-the-sites-secret", "visitor-e2e-1", datetime.now(UTC))
    reply = http(
        "POST",
        f"{stack.webhook_url}/webchat/{SITE}",
        {"type": "message", "id": "w-x", "text": "I am someone else"},
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert (reply.status, reply.body["reason"]) == (401, "signature_mismatch")
    read = http(
        "GET", f"{stack.webhook_url}/webchat/{SITE}/messages", headers={"Authorization": f"Bearer {forged}"}
    )
    assert read.status == 401
