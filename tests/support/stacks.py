"""The send function (``send_app``: the messages and the contacts routes) on moto, as tests drive it.

Each suite builds its own service wiring (accounts, fake Meta, clock) in its conftest and wraps
the result in :class:`SendFunctionStack`, which calls the handler and seeds and reads the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import send_app
from tests.support.accounts import TENANT
from tests.support.events import LambdaContext, agent_claims, http_api_event
from tests.support.meta import FakeMeta
from tests.support.seed import contact_item, contact_record, items_under, put_contact
from windowkeeper.events import BusEvent
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper_tools.aws_resources import Resources

# The console user most tests act as.
ANA = agent_claims("agent-ana", TENANT, name="Ana")


@dataclass
class SendFunctionStack:
    resources: Resources
    meta: FakeMeta
    published: list[BusEvent]
    now: datetime  # the handler's pinned clock
    # False: a contact that never wrote stays out of the account index, as the webhook leaves it.
    listed_when_silent: bool = True

    @property
    def table_name(self) -> str:
        return self.resources.table_name

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        claims: dict[str, str] | None = ANA,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One request through ``send_app.handler``; ``claims=None`` is an unauthenticated call."""
        event = http_api_event(
            method,
            path,
            body,
            received_at=self.now,
            claims=claims,
            query=query,
            headers=headers,
            raw_body=raw_body,
        )
        response = send_app.handler(event, LambdaContext("windowkeeper-send"))
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
        """A contact whose customer last wrote ``customer_wrote_ago`` before the pinned clock."""
        wrote_at = self.now - customer_wrote_ago if customer_wrote_ago is not None else None
        record = contact_record(
            channel,
            account_id,
            contact_id,
            tenant_id=tenant_id,
            wrote_at=wrote_at,
            listed_when_silent=self.listed_when_silent,
            **attributes,
        )
        put_contact(self.table_name, record)
        return record

    def raw_contact(self, channel: Channel, account_id: str, contact_id: str) -> dict[str, Any]:
        return contact_item(self.table_name, channel, account_id, contact_id)

    def contact(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord:
        return ContactRecord.from_item(self.raw_contact(channel, account_id, contact_id))

    def items(self, channel: Channel, account_id: str, contact_id: str, prefix: str) -> list[dict[str, Any]]:
        return items_under(self.table_name, channel, account_id, contact_id, prefix)
