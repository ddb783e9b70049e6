"""``ContactReader``: the DynamoDB ``ContactTable`` and ``InMemoryContacts`` answer alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.accounts import PAGE_ID, TENANT, WA_PHONE_NUMBER_ID
from tests.support.fakes.contacts import InMemoryContacts
from tests.support.seed import contact_record, put_contact
from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper.ports.contacts import ContactReader
from windowkeeper.store.contact_item import ContactRecord, consent_attribute
from windowkeeper.store.contact_table import ContactTable
from windowkeeper_tools.aws_resources import Resources

WROTE_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

Store = tuple[ContactReader, Callable[[ContactRecord], None]]


@pytest.fixture(params=["in_memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "in_memory":
        fake = InMemoryContacts()
        return fake, fake.put
    resources: Resources = request.getfixturevalue("aws")

    def put(record: ContactRecord) -> None:
        put_contact(resources.table_name, record)

    return ContactTable(resources.table_name), put


def test_a_contact_never_written_is_none(store: Store) -> None:
    reader, _ = store
    assert reader.get(Channel.MESSENGER, PAGE_ID, "psid-never-wrote") is None


def test_a_stored_contact_comes_back_with_its_window_and_consent(store: Store) -> None:
    reader, put = store
    opted_out: dict[str, Any] = {consent_attribute(ConsentScope.MARKETING, True): 1_763_631_000_000}
    record = contact_record(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        "4915112345678",
        tenant_id=TENANT,
        wrote_at=WROTE_AT,
        **opted_out,
    )
    put(record)

    found = reader.get(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915112345678")

    assert found is not None
    assert found.tenant_id == TENANT
    assert found.last_customer_action_ms == record.last_customer_action_ms
    assert found.scopes_opted_out() == frozenset({ConsentScope.MARKETING})
    # Another account's contact with the same id is another contact.
    assert reader.get(Channel.WHATSAPP, "109876543210999", "4915112345678") is None
