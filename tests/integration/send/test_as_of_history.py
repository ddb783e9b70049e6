"""Asked "as of" an earlier instant, the gate answers what it would have answered live then.

Each channel's customer writes, says STOP, comes back with START, writes again, and an agent
records a marketing opt-out, all through the real webhook and contacts handlers. At probe
instants between those events the live answers are recorded (/check without ``at`` and GET
contact, each handler's clock at the probe). After everything has arrived, the same questions
asked with ``at`` = the probe must give the very same answers: the contact's journal, not the
newest stored state, answers for the past.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import contacts_routes
import pytest

import send_app
import webhook_app
from tests.support.accounts import IG_ACCOUNT_ID, PAGE_ID, WA_PHONE_NUMBER_ID, WA_WABA_ID
from tests.support.events import LambdaContext, http_api_event
from windowkeeper.wiring import webhook as webhook_wiring
from windowkeeper_tools.simulator import payloads

from .conftest import AGENT, BOT, NOW, SendStack

Payload = dict[str, Any]


@dataclass(frozen=True)
class Channel:
    name: str
    account_id: str
    contact_id: str
    customer_says: Callable[[str, datetime], Payload]
    questions: tuple[tuple[str, dict[str, Any], dict[str, str]], ...]  # (label, content, claims)


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


MESSENGER = Channel(
    "messenger",
    PAGE_ID,
    "7100000000000001",
    lambda text, at: payloads.messenger_message(PAGE_ID, "7100000000000001", text, at),
    (("bot text", _text("Your parcel is on its way."), BOT), ("agent text", _text("I checked it."), AGENT)),
)
INSTAGRAM = Channel(
    "instagram",
    IG_ACCOUNT_ID,
    "17841477777777777",
    lambda text, at: payloads.instagram_message(IG_ACCOUNT_ID, "17841477777777777", text, at),
    (("bot text", _text("Your parcel is on its way."), BOT), ("agent text", _text("I checked it."), AGENT)),
)
WHATSAPP = Channel(
    "whatsapp",
    WA_PHONE_NUMBER_ID,
    "447700900321",
    lambda text, at: payloads.whatsapp_text(WA_WABA_ID, WA_PHONE_NUMBER_ID, "447700900321", text, at),
    (
        ("bot text", _text("Your parcel is on its way."), BOT),
        (
            "utility template",
            {
                "type": "template",
                "template": {"name": "order_shipped", "language": "en_US", "parameters": ["Ana", "A-1"]},
            },
            BOT,
        ),
    ),
)

# The story, relative to NOW: (offset, who, what).
STORY: tuple[tuple[timedelta, str, str], ...] = (
    (-timedelta(days=3), "customer", "Where is my order?"),
    (-timedelta(days=2, hours=20), "customer", "STOP"),
    (-timedelta(days=1, hours=12), "customer", "START"),
    (-timedelta(days=1), "customer", "It still has not arrived."),
    (-timedelta(hours=3), "agent", "opt_out marketing"),
    (-timedelta(hours=1), "customer", "Thanks, it came today."),
)
PROBES = tuple(
    NOW + offset
    for offset in (
        -timedelta(days=2, hours=22),  # wrote 2 h before
        -timedelta(days=2, hours=18),  # after STOP
        -timedelta(days=1, hours=6),  # after START, after the second message
        -timedelta(hours=20),
        -timedelta(hours=2),  # after the agent's marketing opt-out
        -timedelta(minutes=30),
    )
)


def _at_clock(monkeypatch: pytest.MonkeyPatch, stack: SendStack, instant: datetime) -> None:
    stack.now = instant
    for module in (send_app, contacts_routes, webhook_app):
        monkeypatch.setattr(module, "utc_now", lambda instant=instant: instant)


def _deliver(stack: SendStack, app_secret: str, payload: Payload) -> None:
    body = payloads.serialize(payload)
    event = http_api_event(
        "POST",
        "/webhook",
        received_at=stack.now,
        raw_body=body,
        headers={"x-hub-signature-256": payloads.signature(body, app_secret)},
    )
    assert webhook_app.handler(event, LambdaContext("windowkeeper-webhook"))["statusCode"] == 200


def _answers(stack: SendStack, channel: Channel, at: datetime | None) -> dict[str, Any]:
    """Every question about the contact, live (``at`` None) or as of ``at``."""
    answers: dict[str, Any] = {}
    for label, content, claims in channel.questions:
        request: dict[str, Any] = {
            "channel": channel.name,
            "account_id": channel.account_id,
            "contact_id": channel.contact_id,
            "content": content,
        }
        if at is not None:
            request["at"] = at.isoformat()
        status, body = stack.call("POST", "/v1/messages/check", request, claims=claims)
        assert status == 200, body
        answers[label] = body["decision"]
    query = {"at": at.isoformat()} if at is not None else None
    path = f"/v1/contacts/{channel.name}/{channel.account_id}/{channel.contact_id}"
    status, view = stack.call("GET", path, query=query)
    assert status == 200, view
    answers["contact"] = {k: v for k, v in view.items() if k != "followups"}
    normalised: dict[str, Any] = json.loads(json.dumps(answers))
    return normalised


@pytest.mark.parametrize("channel", [MESSENGER, INSTAGRAM, WHATSAPP], ids=lambda c: c.name)
def test_as_of_answers_equal_the_live_answers_given_then(
    stack: SendStack, app_secret: str, monkeypatch: pytest.MonkeyPatch, channel: Channel
) -> None:
    webhook_wiring.reset_caches()
    live: dict[datetime, dict[str, Any]] = {}
    pending = list(PROBES)
    for offset, who, what in STORY:
        happens_at = NOW + offset
        while pending and pending[0] < happens_at:
            probe = pending.pop(0)
            _at_clock(monkeypatch, stack, probe)
            live[probe] = _answers(stack, channel, None)
        _at_clock(monkeypatch, stack, happens_at + timedelta(seconds=5))  # Meta delivers a bit later
        if who == "customer":
            _deliver(stack, app_secret, channel.customer_says(what, happens_at))
        else:
            action, scope = what.split()
            path = f"/v1/contacts/{channel.name}/{channel.account_id}/{channel.contact_id}/consent"
            status, body = stack.call("POST", path, {"action": action, "scope": scope}, claims=AGENT)
            assert status == 200, body
    for probe in pending:
        _at_clock(monkeypatch, stack, probe)
        live[probe] = _answers(stack, channel, None)

    # Later, everything delivered: ask about each probe instant.
    _at_clock(monkeypatch, stack, NOW)
    for probe, then in live.items():
        assert _answers(stack, channel, probe) == then, f"as of {probe.isoformat()}"
    # The story really moved the answers (a test that cannot fail proves nothing).
    assert len({json.dumps(a, sort_keys=True) for a in live.values()}) >= 4


def test_an_instant_past_the_retention_is_refused_not_guessed(
    stack: SendStack, app_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The WhatsApp number keeps its history 30 days (conftest): 25 days back, the messages that
    a rule would look back over (7 days) may be gone, so the gate says so with a 422."""
    webhook_wiring.reset_caches()
    _at_clock(monkeypatch, stack, NOW)
    _deliver(stack, app_secret, WHATSAPP.customer_says("Hello", NOW - timedelta(hours=1)))
    label, content, claims = WHATSAPP.questions[0]
    request = {
        "channel": "whatsapp",
        "account_id": WA_PHONE_NUMBER_ID,
        "contact_id": WHATSAPP.contact_id,
        "content": content,
        "at": (NOW - timedelta(days=25)).isoformat(),
    }
    status, body = stack.call("POST", "/v1/messages/check", request, claims=claims)
    assert (status, body["reason"]) == (422, "history_expired"), (label, body)
    assert "2026-10-29T10:00:00Z" in body["message"]  # NOW - 30 days + the 7-day look-back
    request["at"] = (NOW - timedelta(days=22)).isoformat()
    status, body = stack.call("POST", "/v1/messages/check", request, claims=claims)
    assert status == 200
    assert body["decision"]["reasons"] == ["never_contacted"]
