"""``GET /v1/audit``: a tenant's decisions across contacts, by agent, path, reason and time.

Real sends through ``POST /v1/messages`` (an agent's, a bot's refused and allowed ones) write
the audit records; the auditor's query reads them back through the tenant index, in pages.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import contacts_routes
import pytest

import send_app
from tests.support.accounts import PAGE_ID
from windowkeeper.policy.model import Channel

from .conftest import AGENT, BOT, GLOBEX_AGENT, NOW, SendStack

ANNA, BOB = "psid-anna-7", "psid-bob-8"


def text(contact_id: str, words: str) -> dict[str, Any]:
    return {
        "channel": "messenger",
        "account_id": PAGE_ID,
        "contact_id": contact_id,
        "content": {"type": "text", "text": words},
    }


@pytest.fixture
def trail(stack: SendStack, monkeypatch: pytest.MonkeyPatch) -> SendStack:
    """Anna wrote an hour ago, Bob 30 hours ago; three sends a minute apart."""
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, ANNA, customer_wrote_ago=timedelta(hours=1))
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, BOB, customer_wrote_ago=timedelta(hours=30))
    sends = [
        (AGENT, text(ANNA, "Hi Anna, Ana from Acme here: your refund went out today.")),  # sent, human
        (BOT, text(BOB, "Anything else we can help with?")),  # refused: window closed
        (BOT, text(ANNA, "Rate our service!")),  # refused: a person holds Anna's conversation
    ]
    for minute, (claims, body) in enumerate(sends):
        monkeypatch.setattr(send_app, "utc_now", lambda minute=minute: NOW + timedelta(minutes=minute))
        stack.send(body, claims=claims)
    monkeypatch.setattr(contacts_routes, "utc_now", lambda: NOW + timedelta(minutes=10))
    return stack


def audit(
    stack: SendStack, query: dict[str, str] | None = None, *, claims: dict[str, str] = AGENT
) -> tuple[int, dict[str, Any]]:
    return stack.call("GET", "/v1/audit", claims=claims, query=query)


def test_the_auditor_sees_every_contacts_decisions_newest_first(trail: SendStack) -> None:
    status, body = audit(trail)
    assert status == 200, body
    assert [(e["contact_id"], e["outcome"]) for e in body["entries"]] == [
        (ANNA, "refused"),
        (BOB, "refused"),
        (ANNA, "sent"),
    ]
    assert (
        body["entries"][2]["principal_kind"] == "human" and body["entries"][2]["at"] == "2026-11-21T10:00:00Z"
    )
    assert body["next_cursor"] is None and body["tenant_id"] == "acme"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"agent": "agent-ana"}, [ANNA]),
        ({"reason": "window_closed"}, [BOB]),
        ({"reason": "human_owns_conversation"}, [ANNA]),
        ({"path": "free_form", "outcome": "sent"}, [ANNA]),
        ({"since": "2026-11-21T10:00:30Z"}, [ANNA, BOB]),
        ({"until": "2026-11-21T10:01:00Z"}, [ANNA]),
    ],
)
def test_filters_narrow_the_trail(trail: SendStack, query: dict[str, str], expected: list[str]) -> None:
    status, body = audit(trail, query)
    assert status == 200, body
    assert [e["contact_id"] for e in body["entries"]] == expected


def test_pages_follow_the_cursor_and_another_tenant_sees_nothing(trail: SendStack) -> None:
    _, first = audit(trail, {"limit": "2"})
    _, second = audit(trail, {"limit": "2", "cursor": first["next_cursor"]})
    assert len(first["entries"]) == 2 and [e["contact_id"] for e in second["entries"]] == [ANNA]
    assert second["next_cursor"] is None

    status, theirs = audit(trail, claims=GLOBEX_AGENT)
    assert (status, theirs["entries"]) == (200, [])
    status, stolen = audit(trail, {"cursor": first["next_cursor"]}, claims=GLOBEX_AGENT)
    assert (status, stolen["reason"]) == (400, "invalid_cursor")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"since": "2026-10-01T00:00:00Z"}, "range_too_long"),
        ({"since": "2026-11-21T11:00:00Z", "until": "2026-11-21T10:00:00Z"}, "invalid_range"),
        ({"path": "carrier_pigeon"}, "invalid_request"),
        ({"since": "yesterday"}, "invalid_instant"),
        ({"limit": "0"}, "invalid_request"),
    ],
)
def test_a_bad_query_is_refused_with_a_reason(trail: SendStack, query: dict[str, str], reason: str) -> None:
    status, body = audit(trail, query)
    assert (status, body["reason"]) == (400, reason), body
