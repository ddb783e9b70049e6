"""The send function on moto, with Meta played by an httpx MockTransport behind the real GraphClient.

Requests go through ``send_app.handler`` as HTTP API v2 events whose JWT authorizer claims name
the principal, exactly as API Gateway delivers them. The clock of the handler is pinned to
``NOW`` so contacts can be seeded "2 days ago" and tag retirements land on a known side.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import send_app
from windowkeeper import aws as wk_aws
from windowkeeper import events
from windowkeeper.accounts import AccountConfig
from windowkeeper.events import BusEvent
from windowkeeper.graph.client import GraphClient
from windowkeeper.graph.settings import secrets_token_provider
from windowkeeper.policy.model import (
    Channel,
    CustomerActionKind,
    Template,
    TemplateCategory,
    TemplateStatus,
)
from windowkeeper.sending.service import SendService
from windowkeeper.store.accounts import AccountStore
from windowkeeper.store.contacts import ContactRecord
from windowkeeper.store.keys import STATE_SK, account_shard_key, contact_pk, to_ms
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
TENANT = "acme"
OTHER_TENANT = "globex"
PAGE_ID = "104812345678901"
IG_ACCOUNT_ID = "17841400000000001"
WA_PHONE_NUMBER_ID = "109876543210987"
WA_WABA_ID = "102290129340398"
GLOBEX_PAGE_ID = "200000000000002"
TOKEN_SECRET = "windowkeeper/acme/page-token"
PAGE_TOKEN = "EAAG-test-page-token"

ORDER_SHIPPED = Template(
    name="order_shipped",
    language="en_US",
    category=TemplateCategory.UTILITY,
    status=TemplateStatus.APPROVED,
    parameters=("name", "order"),
    body="Hi {{1}}, order {{2}} has shipped.",
)

ACCOUNTS = [
    AccountConfig(
        channel=Channel.MESSENGER,
        account_id=PAGE_ID,
        tenant_id=TENANT,
        display_name="Acme Support",
        permissions=frozenset({"human_agent", "page_utility_messaging"}),
        access_token_secret_id=TOKEN_SECRET,
    ),
    AccountConfig(
        channel=Channel.INSTAGRAM,
        account_id=IG_ACCOUNT_ID,
        tenant_id=TENANT,
        permissions=frozenset({"human_agent"}),
        access_token_secret_id=TOKEN_SECRET,
    ),
    AccountConfig(
        channel=Channel.WHATSAPP,
        account_id=WA_PHONE_NUMBER_ID,
        waba_id=WA_WABA_ID,
        tenant_id=TENANT,
        templates=(ORDER_SHIPPED,),
        access_token_secret_id=TOKEN_SECRET,
        audit_retention_days=30,
    ),
    AccountConfig(
        channel=Channel.MESSENGER,
        account_id=GLOBEX_PAGE_ID,
        tenant_id=OTHER_TENANT,
        access_token_secret_id=TOKEN_SECRET,
    ),
]

AGENT = {"sub": "agent-ana", "cognito:groups": "[agents]", "custom:tenant_id": TENANT, "name": "Ana"}
BOT = {
    "sub": "bot-client",
    "cognito:groups": "[automation]",
    "custom:tenant_id": TENANT,
    "custom:automation": "bot",
}
GLOBEX_AGENT = {"sub": "agent-mallory", "cognito:groups": "[agents]", "custom:tenant_id": OTHER_TENANT}


@dataclass
class FakeMeta:
    """Meta's Send APIs: records every request; answers success unless a reply was scripted."""

    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def answer_error(
        self, code: int, subcode: int | None = None, *, status: int = 400, times: int = 1
    ) -> None:
        error: dict[str, Any] = {
            "message": f"(#{code}) scripted error",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEf123",
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        self.scripted.extend([(status, {"error": error})] * times)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            status, body = self.scripted.pop(0)
            return httpx.Response(status, json=body)
        sent = json.loads(request.content)
        if sent.get("messaging_product") == "whatsapp":
            return httpx.Response(
                200,
                json={
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": sent["to"], "wa_id": sent["to"]}],
                    "messages": [{"id": f"wamid.HBgL{uuid.uuid4().hex[:16].upper()}"}],
                },
            )
        return httpx.Response(
            200, json={"recipient_id": sent["recipient"].get("id"), "message_id": f"m_{uuid.uuid4().hex}"}
        )

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


class LambdaContext:
    function_name = "windowkeeper-send"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:windowkeeper-send"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/windowkeeper-send"
    log_stream_name = "2026/11/21/[$LATEST]abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 25_000


def http_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    claims: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
        "domainPrefix": "a1b2c3d4e5",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.9",
            "userAgent": "pytest",
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": f"{method} {path}",
        "stage": "$default",
        "time": "21/Nov/2026:10:00:00 +0000",
        "timeEpoch": to_ms(NOW),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": request_context,
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


@dataclass
class SendStack:
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
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        event = http_event(method, path, body, claims=claims, headers=headers, raw_body=raw_body)
        response = send_app.handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def send(self, body: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return self.call("POST", "/v1/messages", body, **kwargs)

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
            account_shard=account_shard_key(channel, account_id, contact_id),
            **attributes,
        )
        wk_aws.table(self.table_name).put_item(Item=record.model_dump(mode="json", exclude_none=True))
        return record

    def contact(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord:
        item = wk_aws.table(self.table_name).get_item(
            Key={"pk": contact_pk(channel, account_id, contact_id), "sk": STATE_SK}
        )["Item"]
        return ContactRecord.from_item(item)

    def items(self, channel: Channel, account_id: str, contact_id: str, prefix: str) -> list[dict[str, Any]]:
        response = wk_aws.table(self.table_name).query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": contact_pk(channel, account_id, contact_id), ":prefix": prefix},
        )
        return list(response["Items"])


@pytest.fixture
def stack(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> Iterator[SendStack]:
    wk_aws.client("secretsmanager").create_secret(Name=TOKEN_SECRET, SecretString=PAGE_TOKEN)
    accounts = AccountStore(aws.table_name)
    accounts.put_all(ACCOUNTS)
    meta = FakeMeta()
    published: list[BusEvent] = []

    def publish(bus_events: list[BusEvent]) -> int:
        published.extend(bus_events)
        return events.publish(bus_events)  # the real call, against moto's bus

    graph = GraphClient(
        "https://graph.facebook.com",
        "v25.0",
        secrets_token_provider,
        transport=httpx.MockTransport(meta.handle),
        sleep=lambda _seconds: None,
        max_attempts=3,
    )
    send_app.use_service(
        SendService(
            table_name=aws.table_name,
            accounts=AccountStore(aws.table_name),
            graph=graph,
            publish=publish,
            metrics=send_app.metrics,
            clock=lambda: NOW,
        )
    )
    monkeypatch.setattr(send_app, "utc_now", lambda: NOW)
    try:
        yield SendStack(resources=aws, meta=meta, published=published)
    finally:
        send_app.use_service(None)
        graph.close()
