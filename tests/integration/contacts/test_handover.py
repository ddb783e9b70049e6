"""POST .../handover: a person takes the conversation, gives it back, or Meta's inbox gets it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import webhook_app
from tests.support.accounts import IG_ACCOUNT_ID, PAGE_ID, TENANT
from tests.support.events import LambdaContext, http_api_event
from tests.support.seed import human_owner
from windowkeeper.events import DetailType
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.wiring import webhook as webhook_wiring
from windowkeeper_tools.simulator import payloads

from .conftest import (
    AGENT,
    BOT,
    GLOBEX_AGENT,
    NOW,
    OTHER_AGENT,
    OUR_APP_ID,
    PAGE_INBOX_APP_ID,
    ContactsStack,
    contact_path,
)

PSID = "6543210987654321"
IG_USER = "17841455555555555"


MESSENGER_CONTACT = (Channel.MESSENGER, PAGE_ID, PSID)  # on a Page with conversation routing
IG_CONTACT = (Channel.INSTAGRAM, IG_ACCOUNT_ID, IG_USER)  # no conversation routing


def handover(
    stack: ContactsStack,
    body: dict[str, Any],
    claims: dict[str, Any] = AGENT,
    contact: tuple[Channel, str, str] = MESSENGER_CONTACT,
) -> tuple[int, dict[str, Any]]:
    return stack.call("POST", contact_path(*contact, "/handover"), body, claims=claims)


def test_agent_takes_over_in_our_console_with_conversation_routing(stack: ContactsStack) -> None:
    stack.seed_contact(*MESSENGER_CONTACT, customer_wrote_ago=timedelta(hours=1))
    status, body = handover(stack, {"to": "human"})
    assert status == 200, body
    assert body["changed"] is True
    assert body["owner"]["owner"] == "human"
    assert body["owner"]["agent_id"] == "agent-ana"
    assert body["owner"]["since"] == "2026-11-21T10:00:00Z"
    assert body["owner"]["returns_to_bot_at"] == "2026-11-21T14:00:00Z"  # 4 h without agent activity
    assert body["previous_owner"]["owner"] == "bot"
    # Meta's thread goes to our app: take_thread_control on the Page for that customer.
    assert stack.meta.calls() == [
        ("take_thread_control", {"recipient": {"id": PSID}, "metadata": "agent takeover"})
    ]
    assert stack.meta.requests[0].url.path == f"/v25.0/{PAGE_ID}/take_thread_control"
    stored = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (stored.owner, stored.owner_agent_id) == ("human", "agent-ana")
    assert stored.owner_since_ms == stored.owner_last_activity_ms == to_ms(NOW)
    assert stored.routing_owner_app_id == OUR_APP_ID
    assert stored.version == 1
    [event] = stack.published
    assert event.detail_type == DetailType.HANDOVER
    assert event.event_id == body["event_id"]
    assert event.detail["from"] == {"owner": "bot", "agent_id": None}
    assert event.detail["to"] == {"owner": "human", "agent_id": "agent-ana"}
    assert event.detail["tenant_id"] == TENANT
    # GET reads the same owner.
    _, state = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID))
    assert state["owner"] == body["owner"]


def test_an_agent_takes_over_a_contact_the_webhook_created(
    stack: ContactsStack, app_secret: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # The webhook writes the contact item without a ``version`` attribute; the handover's
    # conditional update must then send no ``:version`` value (DynamoDB rejects unused values).
    webhook_wiring.reset_caches()
    request.addfinalizer(webhook_wiring.reset_caches)
    monkeypatch.setattr(webhook_app, "utc_now", lambda: NOW)
    body = payloads.serialize(
        payloads.messenger_message(PAGE_ID, PSID, "Is my order on its way?", NOW - timedelta(minutes=10))
    )
    event = http_api_event(
        "POST",
        "/webhook",
        received_at=NOW,
        raw_body=body,
        headers={"x-hub-signature-256": payloads.signature(body, app_secret)},
        source_ip="173.252.127.1",
        user_agent="facebookexternalua",
    )
    assert webhook_app.handler(event, LambdaContext("windowkeeper-webhook"))["statusCode"] == 200
    assert "version" not in stack.raw_contact(Channel.MESSENGER, PAGE_ID, PSID)

    status, answer = handover(stack, {"to": "human"})

    assert status == 200, answer
    assert (answer["changed"], answer["owner"]["owner"]) == (True, "human")
    stored = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (stored.owner, stored.owner_agent_id, stored.version) == ("human", "agent-ana", 1)
    assert stored.last_customer_action_ms == to_ms(NOW - timedelta(minutes=10))  # webhook's write kept


def test_taking_over_again_only_refreshes_the_idle_clock_and_repeats_the_event_id(
    stack: ContactsStack,
) -> None:
    stack.seed_contact(*MESSENGER_CONTACT, customer_wrote_ago=timedelta(hours=1))
    _, first = handover(stack, {"to": "human"})
    status, second = handover(stack, {"to": "human"})
    assert status == 200
    assert second["changed"] is False
    assert second["event_id"] == first["event_id"]  # consumers de-duplicate a retried request
    assert len(stack.meta.requests) == 1  # our app already holds the thread


def test_agent_hands_back_to_the_bot_and_releases_the_thread(stack: ContactsStack) -> None:
    stack.seed_contact(
        *MESSENGER_CONTACT,
        customer_wrote_ago=timedelta(hours=1),
        **human_owner(
            NOW,
            since_ago=timedelta(minutes=30),
            last_activity_ago=timedelta(minutes=5),
            routing_owner_app_id=OUR_APP_ID,
        ),
    )
    status, body = handover(stack, {"to": "bot"})
    assert status == 200, body
    assert body["changed"] is True
    assert body["owner"]["owner"] == "bot"
    assert body["previous_owner"]["agent_id"] == "agent-ana"
    assert stack.meta.calls() == [("release_thread_control", {"recipient": {"id": PSID}})]
    raw = stack.raw_contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert raw["owner"] == "bot"
    assert "owner_agent_id" not in raw
    assert "owner_last_activity_ms" not in raw
    assert "routing_owner_app_id" not in raw
    assert stack.published[0].detail["to"] == {"owner": "bot", "agent_id": None}


def test_handing_to_metas_page_inbox_passes_thread_control(stack: ContactsStack) -> None:
    stack.seed_contact(*MESSENGER_CONTACT, customer_wrote_ago=timedelta(hours=1))
    status, body = handover(stack, {"to": "human", "inbox": "meta"})
    assert status == 200, body
    assert stack.meta.calls() == [
        (
            "pass_thread_control",
            {
                "recipient": {"id": PSID},
                "target_app_id": PAGE_INBOX_APP_ID,
                "metadata": "handover to Meta inbox",
            },
        )
    ]
    assert body["owner"]["routing_owner_app_id"] == PAGE_INBOX_APP_ID
    # Giving back while Meta's inbox holds the thread: release is only for the owner, so we take it.
    status, body = handover(stack, {"to": "bot"})
    assert status == 200, body
    assert stack.meta.calls()[-1][0] == "take_thread_control"
    stored = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (stored.owner, stored.routing_owner_app_id) == ("bot", OUR_APP_ID)


def test_meta_refusing_thread_control_records_nothing(stack: ContactsStack) -> None:
    stack.seed_contact(*MESSENGER_CONTACT, customer_wrote_ago=timedelta(hours=1))
    stack.meta.answer_error(10, 2018300)
    status, body = handover(stack, {"to": "human"})
    assert status == 409
    assert body["reason"] == "thread_controlled_elsewhere"
    assert body["graph_error"]["subcode"] == 2018300
    stored = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert stored.owner == "bot"
    assert stored.version == 0
    assert stack.published == []


def test_unknown_graph_error_is_reported_as_such(stack: ContactsStack) -> None:
    stack.meta.answer_error(1234567)
    stack.seed_contact(*MESSENGER_CONTACT, customer_wrote_ago=timedelta(hours=1))
    status, body = handover(stack, {"to": "human"})
    assert (status, body["reason"], body["known"]) == (502, "graph_error", False)
    assert body["graph_error"]["code"] == 1234567


def test_an_automation_may_not_take_over_but_may_hand_back(stack: ContactsStack) -> None:
    stack.seed_contact(
        *IG_CONTACT,
        customer_wrote_ago=timedelta(hours=1),
        **human_owner(NOW, since_ago=timedelta(minutes=30)),
    )
    status, body = handover(stack, {"to": "human"}, claims=BOT, contact=IG_CONTACT)
    assert (status, body["reason"]) == (403, "human_only")
    status, body = handover(stack, {"to": "bot"}, claims=BOT, contact=IG_CONTACT)
    assert status == 200, body
    assert body["owner"]["owner"] == "bot"
    assert stack.published[0].detail["by"] == {"subject": "bot-client", "kind": "automation"}
    assert stack.meta.requests == []  # no conversation routing on this account


def test_metas_inbox_needs_conversation_routing(stack: ContactsStack) -> None:
    stack.seed_contact(*IG_CONTACT, customer_wrote_ago=timedelta(hours=1))
    status, body = handover(stack, {"to": "human", "inbox": "meta"}, contact=IG_CONTACT)
    assert (status, body["reason"]) == (400, "inbox_unavailable")


def test_conversation_returns_to_the_bot_after_the_agent_is_idle(stack: ContactsStack) -> None:
    stack.seed_contact(
        *IG_CONTACT,
        customer_wrote_ago=timedelta(hours=6),
        **human_owner(NOW, since_ago=timedelta(hours=6), last_activity_ago=timedelta(hours=4, minutes=1)),
    )
    path = contact_path(*IG_CONTACT)
    _, body = stack.call("GET", path)
    assert body["owner"]["owner"] == "bot"
    assert body["owner"]["returned_on_idle"] is True
    assert body["owner"]["since"] == "2026-11-21T09:59:00Z"
    # As of two minutes earlier the agent still held it.
    _, earlier = stack.call("GET", path, query={"at": "2026-11-21T09:58:00Z"})
    assert earlier["owner"]["owner"] == "human"
    assert earlier["owner"]["returns_to_bot_at"] == "2026-11-21T09:59:00Z"
    # Another agent can now take it; the event says the bot had it.
    status, taken = handover(stack, {"to": "human"}, claims=OTHER_AGENT, contact=IG_CONTACT)
    assert status == 200
    assert taken["owner"]["agent_id"] == "agent-bruno"
    assert stack.published[0].detail["from"] == {"owner": "bot", "agent_id": None}


def test_another_agent_can_take_over_from_an_active_colleague(stack: ContactsStack) -> None:
    stack.seed_contact(
        *IG_CONTACT,
        customer_wrote_ago=timedelta(hours=1),
        **human_owner(NOW, since_ago=timedelta(minutes=20), last_activity_ago=timedelta(minutes=2)),
    )
    status, body = handover(stack, {"to": "human"}, claims=OTHER_AGENT, contact=IG_CONTACT)
    assert status == 200
    assert body["previous_owner"]["agent_id"] == "agent-ana"
    assert body["owner"]["agent_id"] == "agent-bruno"


def test_handover_across_tenants_is_forbidden(stack: ContactsStack) -> None:
    stack.seed_contact(*MESSENGER_CONTACT, customer_wrote_ago=timedelta(hours=1))
    status, body = handover(stack, {"to": "human"}, claims=GLOBEX_AGENT)
    assert (status, body["reason"]) == (403, "forbidden_tenant")
    assert stack.contact(Channel.MESSENGER, PAGE_ID, PSID).owner == "bot"
    assert stack.meta.requests == []


def test_bad_handover_bodies(stack: ContactsStack) -> None:
    stack.seed_contact(*MESSENGER_CONTACT, customer_wrote_ago=timedelta(hours=1))
    for body in (
        {"to": "robot"},
        {"to": "bot", "inbox": "meta"},
        {"to": "human", "agent_id": "someone-else"},
    ):
        status, answer = handover(stack, body)
        assert (status, answer["reason"]) == (400, "invalid_request"), body
