"""The scheduler function on moto: real stores, real Scheduler calls, the real send core and engine,
with Meta played by an httpx MockTransport behind the real GraphClient.

Moto never fires a schedule, so tests assert on the schedule that was created (name, expression,
group, target input, DLQ) and then invoke ``scheduler_app.handler`` with that schedule's Input, as
EventBridge Scheduler would. The bus is routed to an SQS queue so tests count what was published.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import scheduler_app
from tests.support.accounts import (
    OTHER_TENANT,
    PAGE_TOKEN,
    TENANT,
    TOKEN_SECRET,
    globex_page,
    instagram_account,
    messenger_page,
    template,
    whatsapp_number,
)
from tests.support.bus import BusCapture, capture_bus
from tests.support.events import LambdaContext, agent_claims, automation_claims, http_api_event
from tests.support.meta import FakeMeta
from tests.support.seed import contact_item, contact_record, put_contact, seed_accounts
from windowkeeper import aws as wk_aws
from windowkeeper.bus import publish as bus_publish
from windowkeeper.graph.settings import secrets_token_provider
from windowkeeper.instants import to_ms
from windowkeeper.policy.engine import window_closings
from windowkeeper.policy.model import Channel, TemplateCategory
from windowkeeper.scheduling.notices import due_attributes, first_notice, notice_chain
from windowkeeper.sending.service import SendService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.keys import STATE_SK, contact_pk
from windowkeeper.wiring import scheduler as wiring
from windowkeeper.wiring import send as send_wiring
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

APPOINTMENT_REMINDER = template(
    "appointment_reminder",
    parameters=("name", "time"),
    body="Hi {{1}}, a reminder of your appointment at {{2}}.",
)
WINTER_SALE = template(
    "winter_sale",
    TemplateCategory.MARKETING,
    parameters=("name",),
    body="Hi {{1}}, our winter sale starts today: 20% off everything.",
)

ACCOUNTS = [
    # Opt-in marketing goes through the Marketing Messages API, which needs an ad account (M11).
    messenger_page(marketing_ad_account_id="act_570012345678901", marketing_campaign_id="120210000000001"),
    instagram_account(),
    whatsapp_number(templates=(APPOINTMENT_REMINDER, WINTER_SALE)),
    globex_page(),
]

AGENT = agent_claims("agent-ana", TENANT, name="Ana")
BOT = automation_claims("bot-client", TENANT)
GLOBEX_AGENT = agent_claims("agent-mallory", OTHER_TENANT)
CONTEXT = LambdaContext("windowkeeper-scheduler", remaining_millis=60_000)


@dataclass
class SchedulerStack:
    resources: Resources
    meta: FakeMeta
    bus: BusCapture
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
        event = http_api_event(method, path, body, received_at=NOW, claims=claims, query=query)
        response = scheduler_app.handler(event, CONTEXT)
        return response["statusCode"], json.loads(response["body"])

    def invoke_scheduled(self, payload: dict[str, Any]) -> dict[str, Any]:
        """What EventBridge Scheduler does: invoke the target with the schedule's Input."""
        result: dict[str, Any] = scheduler_app.handler(payload, CONTEXT)
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
        record = contact_record(
            channel, account_id, contact_id, tenant_id=tenant_id, wrote_at=wrote_at, **attributes
        )
        notice_attributes: dict[str, Any] = {}
        if with_notice and wrote_at is not None:
            account = next(a for a in ACCOUNTS if a.channel is channel and a.account_id == account_id)
            lead = timedelta(seconds=account.expiry_lead_time_seconds)
            chain = notice_chain(channel, window_closings(record.to_state(), account.profile()), lead)
            notice = first_notice(chain, wrote_at)
            assert notice is not None
            notice_attributes = due_attributes(record.pk, notice, to_ms(wrote_at), wrote_at)
        put_contact(self.table_name, record, **notice_attributes)
        return record

    def customer_writes(self, channel: Channel, account_id: str, contact_id: str, at: datetime) -> None:
        """The webhook's effect of a new customer message on the window (notices aside)."""
        wk_aws.table(self.table_name).update_item(
            Key={"pk": contact_pk(channel, account_id, contact_id), "sk": STATE_SK},
            UpdateExpression="SET last_customer_action_ms = :at",
            ExpressionAttributeValues={":at": to_ms(at)},
        )

    def contact_item(self, channel: Channel, account_id: str, contact_id: str) -> dict[str, Any]:
        return contact_item(self.table_name, channel, account_id, contact_id)

    def drain_events(self) -> list[dict[str, Any]]:
        """Every event that reached the bus since the last drain (via the rule -> SQS target)."""
        return self.bus.drain()


@pytest.fixture
def stack(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> Iterator[SchedulerStack]:
    seed_accounts(aws.table_name, ACCOUNTS, {TOKEN_SECRET: PAGE_TOKEN})
    bus = capture_bus(aws.bus_name, "scheduler-test-events")

    meta = FakeMeta()
    graph = meta.graph_client(secrets_token_provider, max_attempts=2)
    clock = [NOW]
    wiring.reset()
    wiring.use_send_service(
        SendService(
            stores=send_wiring.table_stores(aws.table_name),
            accounts=AccountStore(aws.table_name),
            graph=graph,
            publish=bus_publish,
        )
    )
    monkeypatch.setattr(scheduler_app, "utc_now", lambda: clock[0])
    try:
        yield SchedulerStack(resources=aws, meta=meta, bus=bus, clock=clock)
    finally:
        wiring.reset()
        graph.close()
