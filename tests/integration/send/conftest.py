"""The send function on moto, with Meta played by an httpx MockTransport behind the real GraphClient.

Requests go through ``send_app.handler`` as HTTP API v2 events whose JWT authorizer claims name
the principal, exactly as API Gateway delivers them. The clock of the handler is pinned to
``NOW`` so contacts can be seeded "2 days ago" and tag retirements land on a known side.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import send_app
from tests.support.accounts import (
    ORDER_SHIPPED,
    OTHER_TENANT,
    PAGE_TOKEN,
    TENANT,
    TOKEN_SECRET,
    globex_page,
    instagram_account,
    messenger_page,
    whatsapp_number,
)
from tests.support.bus import recording_publish
from tests.support.concurrency import serialised_aws  # noqa: F401 (a fixture for the race tests)
from tests.support.events import agent_claims, automation_claims
from tests.support.meta import FakeMeta
from tests.support.seed import seed_accounts
from tests.support.stacks import ANA, SendFunctionStack
from windowkeeper import observability
from windowkeeper.events import BusEvent
from windowkeeper.graph.settings import secrets_token_fingerprint, secrets_token_provider
from windowkeeper.sending.service import SendService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.wiring import send as send_wiring
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

ACCOUNTS = [
    messenger_page(display_name="Acme Support"),
    instagram_account(),
    whatsapp_number(templates=(ORDER_SHIPPED,), audit_retention_days=30),
    globex_page(),
]

AGENT = ANA
BOT = automation_claims("bot-client", TENANT)
GLOBEX_AGENT = agent_claims("agent-mallory", OTHER_TENANT)


class SendStack(SendFunctionStack):
    def send(self, body: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return self.call("POST", "/v1/messages", body, **kwargs)


@pytest.fixture
def stack(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> Iterator[SendStack]:
    seed_accounts(aws.table_name, ACCOUNTS, {TOKEN_SECRET: PAGE_TOKEN})
    meta = FakeMeta()
    published: list[BusEvent] = []
    graph = meta.graph_client(secrets_token_provider, max_attempts=3)
    send_wiring.use_send_service(
        SendService(
            stores=send_wiring.table_stores(aws.table_name),
            accounts=AccountStore(aws.table_name),
            graph=graph,
            publish=recording_publish(published),
            metrics=observability.metrics,
            token_fingerprint=secrets_token_fingerprint,
        )
    )
    monkeypatch.setattr(send_app, "utc_now", lambda: NOW)
    try:
        yield SendStack(resources=aws, meta=meta, published=published, now=NOW)
    finally:
        send_wiring.use_send_service(None)
        graph.close()
