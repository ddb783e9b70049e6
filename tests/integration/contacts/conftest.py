"""The contacts API on moto: requests go through ``send_app.handler`` as HTTP API v2 events.

The JWT authorizer's claims name the principal, as API Gateway delivers them. The routes' clock
is pinned to ``NOW`` so contacts can be seeded "2 hours ago"; Meta's thread-control endpoints are
an httpx ``MockTransport`` behind the real ``GraphClient``; published events are captured and
also put on moto's bus.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import contacts_routes
import httpx
import pytest

import send_app
from windowkeeper import aws as wk_aws
from windowkeeper import events
from windowkeeper.accounts import AccountConfig
from windowkeeper.events import BusEvent
from windowkeeper.graph.client import GraphClient
from windowkeeper.policy.model import (
    Channel,
    CustomerActionKind,
    Template,
    TemplateCategory,
    TemplateStatus,
)
from windowkeeper.sending.contacts import ContactsService
from windowkeeper.store.accounts import AccountStore
from windowkeeper.store.contacts import ContactRecord
from windowkeeper.store.keys import STATE_SK, account_shard_key, contact_pk, to_ms
from windowkeeper_tools.aws_resources import Resources
from windowkeeper_tools.local.apigw import HttpRequest, LocalLambdaContext, http_api_event

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
TENANT = "acme"
OTHER_TENANT = "globex"
PAGE_ID = "104812345678901"  # Messenger Page, conversation routing on
IG_ACCOUNT_ID = "17841400000000001"  # Instagram, no conversation routing
WA_PHONE_NUMBER_ID = "109876543210987"
GLOBEX_PAGE_ID = "200000000000002"
OUR_APP_ID = "555000111222333"
PAGE_INBOX_APP_ID = "263902037430900"
TOKEN_SECRET = "windowkeeper/acme/page-token"

ORDER_SHIPPED = Template(
    name="order_shipped",
    language="en_US",
    category=TemplateCategory.UTILITY,
    status=TemplateStatus.APPROVED,
    parameters=("name", "order"),
    body="Hi {{1}}, order {{2}} has shipped.",
)
WINTER_SALE = Template(
    name="winter_sale",
    language="en_US",
    category=TemplateCategory.MARKETING,
    status=TemplateStatus.APPROVED,
    body="Our winter sale starts today.",
)
OLD_PROMO = Template(
    name="old_promo",
    language="es_ES",
    category=TemplateCategory.MARKETING,
    status=TemplateStatus.PAUSED,
)

ACCOUNTS = [
    AccountConfig(
        channel=Channel.MESSENGER,
        account_id=PAGE_ID,
        tenant_id=TENANT,
        display_name="Acme Support",
        permissions=frozenset({"human_agent", "page_utility_messaging"}),
        uses_conversation_routing=True,
        app_id=OUR_APP_ID,
        access_token_secret_id=TOKEN_SECRET,
    ),
    AccountConfig(
        channel=Channel.INSTAGRAM,
        account_id=IG_ACCOUNT_ID,
        tenant_id=TENANT,
        display_name="@acme",
        permissions=frozenset({"human_agent"}),
        access_token_secret_id=TOKEN_SECRET,
    ),
    AccountConfig(
        channel=Channel.WHATSAPP,
        account_id=WA_PHONE_NUMBER_ID,
        waba_id="102290129340398",
        tenant_id=TENANT,
        display_name="Acme WhatsApp",
        templates=(ORDER_SHIPPED, WINTER_SALE, OLD_PROMO),
        access_token_secret_id=TOKEN_SECRET,
    ),
    AccountConfig(
        channel=Channel.MESSENGER,
        account_id=GLOBEX_PAGE_ID,
        tenant_id=OTHER_TENANT,
        display_name="Globex",
        access_token_secret_id="windowkeeper/globex/page-token",
    ),
]

AGENT = {"sub": "agent-ana", "cognito:groups": "[agents]", "custom:tenant_id": TENANT, "name": "Ana"}
OTHER_AGENT = {"sub": "agent-bruno", "cognito:groups": "[agents]", "custom:tenant_id": TENANT}
BOT = {
    "sub": "bot-client",
    "cognito:groups": "[automation]",
    "custom:tenant_id": TENANT,
    "custom:automation": "bot",
}
GLOBEX_AGENT = {"sub": "agent-mallory", "cognito:groups": "[agents]", "custom:tenant_id": OTHER_TENANT}


@dataclass
class FakeMeta:
    """Meta's thread-control endpoints: records every request; succeeds unless an error is scripted."""

    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def answer_error(self, code: int, subcode: int | None = None, *, status: int = 400) -> None:
        error: dict[str, Any] = {
            "message": f"(#{code}) scripted error",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEf123",
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        self.scripted.append((status, {"error": error}))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            status, body = self.scripted.pop(0)
            return httpx.Response(status, json=body)
        return httpx.Response(200, json={"success": True})

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """(last path segment, JSON body) of every request, in order."""
        return [(r.url.path.rsplit("/", 1)[-1], json.loads(r.content)) for r in self.requests]


@dataclass
class ContactsStack:
    resources: Resources
    meta: FakeMeta
    published: list[BusEvent]

    @property
    def table_name(self) -> str:
        return self.resources.table_name

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        claims: dict[str, str] | None = AGENT,
        query: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        request = HttpRequest(
            method=method,
            raw_path=path,
            raw_query=urlencode(query or {}),
            headers=[("Content-Type", "application/json"), ("Authorization", "Bearer test")],
            body=json.dumps(body).encode() if body is not None else b"",
        )
        event = http_api_event(
            request, route_key="$default", path_parameters=None, claims=claims, received_at=NOW
        )
        response = send_app.handler(event, LocalLambdaContext(function_name="windowkeeper-send"))
        return response["statusCode"], json.loads(response["body"])

    def seed_contact(
        self,
        channel: Channel,
        account_id: str,
        contact_id: str,
        *,
        customer_wrote_ago: timedelta | None,
        tenant_id: str = TENANT,
        **attributes: Any,
    ) -> ContactRecord:
        last_ms = to_ms(NOW - customer_wrote_ago) if customer_wrote_ago is not None else None
        record = ContactRecord(
            pk=contact_pk(channel, account_id, contact_id),
            tenant_id=tenant_id,
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            last_customer_action_ms=last_ms,
            last_customer_action_kind=CustomerActionKind.MESSAGE if last_ms is not None else None,
            account_shard=account_shard_key(channel, account_id, contact_id) if last_ms is not None else None,
            **attributes,
        )
        wk_aws.table(self.table_name).put_item(Item=record.model_dump(mode="json", exclude_none=True))
        return record

    def raw_contact(self, channel: Channel, account_id: str, contact_id: str) -> dict[str, Any]:
        key = {"pk": contact_pk(channel, account_id, contact_id), "sk": STATE_SK}
        return dict(wk_aws.table(self.table_name).get_item(Key=key)["Item"])

    def contact(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord:
        return ContactRecord.from_item(self.raw_contact(channel, account_id, contact_id))

    def items(self, channel: Channel, account_id: str, contact_id: str, prefix: str) -> list[dict[str, Any]]:
        response = wk_aws.table(self.table_name).query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": contact_pk(channel, account_id, contact_id), ":prefix": prefix},
        )
        return list(response["Items"])


def contact_path(channel: Channel, account_id: str, contact_id: str, suffix: str = "") -> str:
    return f"/v1/contacts/{channel.value}/{account_id}/{contact_id}{suffix}"


@pytest.fixture
def stack(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContactsStack]:
    AccountStore(aws.table_name).put_all(ACCOUNTS)
    meta = FakeMeta()
    published: list[BusEvent] = []

    def publish(bus_events: list[BusEvent]) -> int:
        published.extend(bus_events)
        return events.publish(bus_events)  # the real call, against moto's bus

    graph = GraphClient(
        "https://graph.facebook.com",
        "v25.0",
        lambda _account: "EAAG-test-page-token",
        transport=httpx.MockTransport(meta.handle),
        sleep=lambda _seconds: None,
        max_attempts=2,
    )
    contacts_routes.use_service(
        ContactsService(
            table_name=aws.table_name,
            accounts=AccountStore(aws.table_name),
            thread_control=lambda: graph,
            publish=publish,
        )
    )
    monkeypatch.setattr(contacts_routes, "utc_now", lambda: NOW)
    try:
        yield ContactsStack(resources=aws, meta=meta, published=published)
    finally:
        contacts_routes.use_service(None)
        graph.close()
