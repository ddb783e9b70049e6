"""The scheduler function on moto: real stores, real Scheduler calls, the real send core and engine,
with Meta played by an httpx MockTransport behind the real GraphClient.

Moto never fires a schedule, so tests assert on the schedule that was created (name, expression,
group, target input, DLQ) and then invoke ``scheduler_app.handler`` with that schedule's Input, as
EventBridge Scheduler would. The bus is routed to an SQS queue so tests count what was published.
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

import scheduler_app
from windowkeeper import aws as wk_aws
from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.client import GraphClient
from windowkeeper.graph.settings import secrets_token_provider
from windowkeeper.policy.engine import window_closings
from windowkeeper.policy.model import (
    Channel,
    CustomerActionKind,
    Template,
    TemplateCategory,
    TemplateStatus,
)
from windowkeeper.scheduling import wiring
from windowkeeper.scheduling.notices import due_attributes, first_notice, notice_chain
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
GLOBEX_PAGE_ID = "200000000000002"
TOKEN_SECRET = "windowkeeper/acme/page-token"

APPOINTMENT_REMINDER = Template(
    name="appointment_reminder",
    language="en_US",
    category=TemplateCategory.UTILITY,
    status=TemplateStatus.APPROVED,
    parameters=("name", "time"),
    body="Hi {{1}}, a reminder of your appointment at {{2}}.",
)
WINTER_SALE = Template(
    name="winter_sale",
    language="en_US",
    category=TemplateCategory.MARKETING,
    status=TemplateStatus.APPROVED,
    parameters=("name",),
    body="Hi {{1}}, our winter sale starts today: 20% off everything.",
)

ACCOUNTS = [
    AccountConfig(
        channel=Channel.MESSENGER,
        account_id=PAGE_ID,
        tenant_id=TENANT,
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
        waba_id="102290129340398",
        tenant_id=TENANT,
        templates=(APPOINTMENT_REMINDER, WINTER_SALE),
        access_token_secret_id=TOKEN_SECRET,
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
    """Meta's send endpoints: records every request and answers success."""

    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        sent = json.loads(request.content)
        if sent.get("messaging_product") == "whatsapp":
            return httpx.Response(
                200,
                json={
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": sent.get("to"), "wa_id": sent.get("to")}],
                    "messages": [{"id": f"wamid.{uuid.uuid4().hex[:20].upper()}"}],
                },
            )
        recipient = sent.get("recipient") or {}
        return httpx.Response(
            200, json={"recipient_id": recipient.get("id"), "message_id": f"m_{uuid.uuid4().hex}"}
        )

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


class LambdaContext:
    function_name = "windowkeeper-scheduler"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:windowkeeper-scheduler"
    aws_request_id = "0f5c3a2e-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/windowkeeper-scheduler"
    log_stream_name = "2026/11/21/[$LATEST]abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def http_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    claims: dict[str, str] | None,
    query: dict[str, str] | None = None,
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
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json"},
        "requestContext": request_context,
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    return event


@dataclass
class SchedulerStack:
    resources: Resources
    meta: FakeMeta
    queue_url: str
    clock: list[datetime]

    @property
    def table_name(self) -> str:
        return self.resources.table_name

    def at(self, instant: datetime) -> None:
        """Move the handler's clock."""
        self.clock[0] = instant

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        claims: dict[str, str] | None = BOT,
        query: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        response = scheduler_app.handler(
            http_event(method, path, body, claims=claims, query=query), LambdaContext()
        )
        return response["statusCode"], json.loads(response["body"])

    def invoke_scheduled(self, payload: dict[str, Any]) -> dict[str, Any]:
        """What EventBridge Scheduler does: invoke the target with the schedule's Input."""
        result: dict[str, Any] = scheduler_app.handler(payload, LambdaContext())
        return result

    def schedule(self, name: str) -> dict[str, Any]:
        response: dict[str, Any] = wk_aws.client("scheduler").get_schedule(
            Name=name, GroupName=self.resources.schedule_group_name
        )
        return response

    def schedule_names(self) -> set[str]:
        page = wk_aws.client("scheduler").list_schedules(GroupName=self.resources.schedule_group_name)
        return {s["Name"] for s in page["Schedules"]}

    def seed_contact(
        self,
        channel: Channel,
        account_id: str,
        contact_id: str,
        *,
        wrote_at: datetime | None,
        tenant_id: str = TENANT,
        with_notice: bool = False,
        **attributes: Any,
    ) -> ContactRecord:
        """A contact as the webhook leaves it (optionally with its first expiry notice queued)."""
        pk = contact_pk(channel, account_id, contact_id)
        last_ms = to_ms(wrote_at) if wrote_at is not None else None
        record = ContactRecord(
            pk=pk,
            tenant_id=tenant_id,
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            last_customer_action_ms=last_ms,
            last_customer_action_kind=CustomerActionKind.MESSAGE if last_ms is not None else None,
            account_shard=account_shard_key(channel, account_id, contact_id),
            **attributes,
        )
        item = record.model_dump(mode="json", exclude_none=True)
        if with_notice and wrote_at is not None:
            account = next(a for a in ACCOUNTS if a.channel is channel and a.account_id == account_id)
            lead = timedelta(seconds=account.expiry_lead_time_seconds)
            chain = notice_chain(channel, window_closings(record.to_state(), account.profile()), lead)
            notice = first_notice(chain, wrote_at)
            assert notice is not None
            item.update(due_attributes(pk, notice, to_ms(wrote_at), wrote_at))
        wk_aws.table(self.table_name).put_item(Item=item)
        return record

    def customer_writes(self, channel: Channel, account_id: str, contact_id: str, at: datetime) -> None:
        """The webhook's effect of a new customer message on the window (notices aside)."""
        wk_aws.table(self.table_name).update_item(
            Key={"pk": contact_pk(channel, account_id, contact_id), "sk": STATE_SK},
            UpdateExpression="SET last_customer_action_ms = :at",
            ExpressionAttributeValues={":at": to_ms(at)},
        )

    def contact_item(self, channel: Channel, account_id: str, contact_id: str) -> dict[str, Any]:
        item: dict[str, Any] = wk_aws.table(self.table_name).get_item(
            Key={"pk": contact_pk(channel, account_id, contact_id), "sk": STATE_SK}
        )["Item"]
        return item

    def drain_events(self) -> list[dict[str, Any]]:
        """Every event that reached the bus since the last drain (via the rule -> SQS target)."""
        sqs = wk_aws.client("sqs")
        received: list[dict[str, Any]] = []
        while True:
            page = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = page.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def stack(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> Iterator[SchedulerStack]:
    wk_aws.client("secretsmanager").create_secret(Name=TOKEN_SECRET, SecretString="EAAG-test-page-token")
    AccountStore(aws.table_name).put_all(ACCOUNTS)

    sqs = wk_aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="scheduler-test-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events_client = wk_aws.client("events")
    events_client.put_rule(
        Name="all-windowkeeper-events",
        EventBusName=aws.bus_name,
        EventPattern=json.dumps({"source": ["windowkeeper"]}),
    )
    events_client.put_targets(
        Rule="all-windowkeeper-events", EventBusName=aws.bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )

    meta = FakeMeta()
    graph = GraphClient(
        "https://graph.facebook.com",
        "v25.0",
        secrets_token_provider,
        transport=httpx.MockTransport(meta.handle),
        sleep=lambda _seconds: None,
        max_attempts=2,
    )
    clock = [NOW]
    wiring.reset()
    wiring.use_send_service(
        SendService(
            table_name=aws.table_name,
            accounts=AccountStore(aws.table_name),
            graph=graph,
            clock=lambda: clock[0],
        )
    )
    monkeypatch.setattr(scheduler_app, "utc_now", lambda: clock[0])
    try:
        yield SchedulerStack(resources=aws, meta=meta, queue_url=queue_url, clock=clock)
    finally:
        wiring.reset()
        graph.close()
