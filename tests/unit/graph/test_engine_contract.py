"""The engine's real decisions turn into valid requests (the send_fields contract, both sides)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.graph.conftest import MESSENGER_PAGE, NOW, ORDER_SHIPPED, PSID, WA_ID, WHATSAPP_NUMBER
from windowkeeper.graph import build_send_request
from windowkeeper.policy.model import (
    Channel,
    ContactState,
    Content,
    ContentKind,
    CustomerActionKind,
    DecisionInput,
    OutboundRequest,
    Sender,
    SenderKind,
)

engine = pytest.importorskip("windowkeeper.policy.engine")

AGENT = Sender(kind=SenderKind.HUMAN, principal_id="agent-1")


def decide(channel: Channel, account, contact_id: str, silent_for: timedelta, content: Content, **request):
    state = ContactState(
        channel=channel,
        account_id=account.account_id,
        contact_id=contact_id,
        last_customer_action_at=NOW - silent_for,
        last_customer_action_kind=CustomerActionKind.MESSAGE,
    )
    decision = engine.decide(
        DecisionInput(
            contact=state,
            account=account.profile(),
            sender=AGENT,
            content=content,
            request=OutboundRequest(**request),
        ),
        NOW,
    )
    assert decision.allowed, decision.explanation
    return build_send_request(account, state, decision, content)


def test_in_window_reply_on_messenger():
    request = decide(
        Channel.MESSENGER,
        MESSENGER_PAGE,
        PSID,
        timedelta(hours=1),
        Content(kind=ContentKind.TEXT, text="Sure!"),
    )
    assert request.body["messaging_type"] == "RESPONSE" and "tag" not in request.body


def test_human_agent_after_two_days_on_messenger():
    request = decide(
        Channel.MESSENGER,
        MESSENGER_PAGE,
        PSID,
        timedelta(days=2),
        Content(kind=ContentKind.TEXT, text="Sorry for the wait, your refund is approved."),
    )
    assert (request.body["messaging_type"], request.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_whatsapp_template_after_the_window():
    account = WHATSAPP_NUMBER.model_copy(update={"templates": (ORDER_SHIPPED,)})
    request = decide(
        Channel.WHATSAPP,
        account,
        WA_ID,
        timedelta(days=3),
        Content(kind=ContentKind.TEMPLATE, template=ORDER_SHIPPED),
    )
    assert request.body["type"] == "template" and request.body["template"]["name"] == "order_shipped"
