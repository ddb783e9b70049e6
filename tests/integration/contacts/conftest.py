"""The contacts API on moto: requests go through ``send_app.handler`` as HTTP API v2 events.

The JWT authorizer's claims name the principal, as API Gateway delivers them. The routes' clock
is pinned to ``NOW`` so contacts can be seeded "2 hours ago"; Meta's thread-control endpoints are
an httpx ``MockTransport`` behind the real ``GraphClient``; published events are captured and
also put on moto's bus.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import contacts_routes
import pytest

from tests.support.accounts import (
    ORDER_SHIPPED,
    OTHER_TENANT,
    PAGE_TOKEN,
    TENANT,
    globex_page,
    instagram_account,
    messenger_page,
    template,
    whatsapp_number,
)
from tests.support.bus import recording_publish
from tests.support.events import agent_claims, automation_claims
from tests.support.meta import FakeMeta, thread_control_done
from tests.support.seed import seed_accounts
from tests.support.stacks import ANA, SendFunctionStack
from windowkeeper.events import BusEvent
from windowkeeper.policy.model import Channel, TemplateCategory, TemplateStatus
from windowkeeper.sending.contacts_service import ContactsService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.wiring import send as send_wiring
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
OUR_APP_ID = "555000111222333"
PAGE_INBOX_APP_ID = "263902037430900"

WINTER_SALE = template("winter_sale", TemplateCategory.MARKETING, body="Our winter sale starts today.")
OLD_PROMO = template("old_promo", TemplateCategory.MARKETING, TemplateStatus.PAUSED, language="es_ES")

ACCOUNTS = [
    # The Page uses conversation routing; the Instagram account does not.
    messenger_page(display_name="Acme Support", uses_conversation_routing=True, app_id=OUR_APP_ID),
    instagram_account(display_name="@acme"),
    whatsapp_number(display_name="Acme WhatsApp", templates=(ORDER_SHIPPED, WINTER_SALE, OLD_PROMO)),
    globex_page(display_name="Globex", access_token_secret_id="windowkeeper/globex/page-token"),
]

AGENT = ANA
OTHER_AGENT = agent_claims("agent-bruno", TENANT)
BOT = automation_claims("bot-client", TENANT)
GLOBEX_AGENT = agent_claims("agent-mallory", OTHER_TENANT)


# Contacts routes live in the send function; a contact that never wrote is not listed.
ContactsStack = SendFunctionStack


def contact_path(channel: Channel, account_id: str, contact_id: str, suffix: str = "") -> str:
    return f"/v1/contacts/{channel.value}/{account_id}/{contact_id}{suffix}"


@pytest.fixture
def stack(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContactsStack]:
    seed_accounts(aws.table_name, ACCOUNTS)
    meta = FakeMeta(success=thread_control_done)
    published: list[BusEvent] = []
    graph = meta.graph_client(lambda _account: PAGE_TOKEN, max_attempts=2)
    send_wiring.use_contacts_service(
        ContactsService(
            stores=send_wiring.table_stores(aws.table_name),
            accounts=AccountStore(aws.table_name),
            thread_control=lambda: graph,
            publish=recording_publish(published),
        )
    )
    monkeypatch.setattr(contacts_routes, "utc_now", lambda: NOW)
    try:
        yield ContactsStack(resources=aws, meta=meta, published=published, now=NOW, listed_when_silent=False)
    finally:
        send_wiring.use_contacts_service(None)
        graph.close()
