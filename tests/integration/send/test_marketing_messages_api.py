"""An opt-in marketing message from the engine's decision to the wire: from 2026-02-10 it goes to
the Marketing Messages API (``POST /act_{ad account}/messages``, M11), not the discontinued
Recurring Notifications route (``recipient.notification_messages_token`` on the Page Send API)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.client import GraphClient
from windowkeeper.policy.engine import decide
from windowkeeper.policy.model import (
    AutomationKind,
    Channel,
    ContactState,
    Content,
    ContentKind,
    CustomerActionKind,
    DecisionInput,
    MarketingOptIn,
    OutboundRequest,
    Purpose,
    Sender,
    SenderKind,
)

PAGE_ID = "104800000000001"
PSID = "7300000000000101"
AD_ACCOUNT = "570012345678901"
CAMPAIGN = "120210000000000001"
TOKEN = "sub-token-4410"
DECIDED_AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
BOT = Sender(kind=SenderKind.AUTOMATION, principal_id="bot-campaigns", automation=AutomationKind.BOT)
PROMO = Content(kind=ContentKind.TEXT, text="Spring sale: 30% off all tents this weekend.")

PAGE = AccountConfig(
    tenant_id="acme",
    channel=Channel.MESSENGER,
    account_id=PAGE_ID,
    access_token_secret_id="windowkeeper/acme/messenger/page",
    marketing_ad_account_id=f"act_{AD_ACCOUNT}",
    marketing_campaign_id=CAMPAIGN,
    marketing_audience_region="US",
)
SUBSCRIBER = ContactState(
    channel=Channel.MESSENGER,
    account_id=PAGE_ID,
    contact_id=PSID,
    last_customer_action_at=DECIDED_AT - timedelta(days=12),
    last_customer_action_kind=CustomerActionKind.MESSAGE,
    marketing_opt_ins=(MarketingOptIn(token=TOKEN, opted_in_at=DECIDED_AT - timedelta(days=12)),),
)


def test_marketing_message_is_posted_to_the_ad_accounts_messages_edge() -> None:
    requests: list[httpx.Request] = []

    def meta(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"marketing_message_tracking_id": "mm-77001"})

    decision = decide(
        DecisionInput(
            contact=SUBSCRIBER,
            account=PAGE.profile(),
            sender=BOT,
            content=PROMO,
            request=OutboundRequest(purpose=Purpose.MARKETING),
        ),
        DECIDED_AT,
    )
    assert decision.allowed, decision.explanation

    client = GraphClient(
        "https://graph.facebook.com",
        "v25.0",
        lambda _account: "system-user-token",
        transport=httpx.MockTransport(meta),
        sleep=lambda _seconds: None,
        max_attempts=1,
    )
    try:
        result = client.send(PAGE, SUBSCRIBER, decision, PROMO)
    finally:
        client.close()

    (request,) = requests
    assert request.method == "POST"
    assert request.url.path == f"/v25.0/act_{AD_ACCOUNT}/messages"
    body = json.loads(request.content)
    assert body["message_id"] == CAMPAIGN
    assert body["messenger_delivery_data"] == {"subscription_token": TOKEN}
    assert body["message"] == {"text": PROMO.text}
    assert "recipient" not in body  # not the Recurring Notifications shape
    assert result.platform_message_id == "mm-77001"
