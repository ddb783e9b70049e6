"""``AccountDirectory``: the DynamoDB ``AccountStore`` and ``InMemoryAccounts`` answer alike."""

from __future__ import annotations

import pytest

from tests.support.accounts import (
    OTHER_TENANT,
    TENANT,
    WA_WABA_ID,
    globex_page,
    instagram_account,
    messenger_page,
    whatsapp_number,
)
from tests.support.fakes.accounts import InMemoryAccounts
from windowkeeper.policy.model import Channel
from windowkeeper.ports.accounts import AccountDirectory
from windowkeeper.store.account_table import AccountStore
from windowkeeper_tools.aws_resources import Resources


@pytest.fixture(params=["in_memory", "dynamodb"])
def directory(request: pytest.FixtureRequest) -> AccountDirectory:
    if request.param == "in_memory":
        return InMemoryAccounts()
    resources: Resources = request.getfixturevalue("aws")
    return AccountStore(resources.table_name)


def test_an_account_is_found_by_channel_and_id_once_stored(directory: AccountDirectory) -> None:
    page = messenger_page()
    assert directory.get(Channel.MESSENGER, page.account_id) is None

    assert directory.put_all([page]) == 1

    assert directory.get(Channel.MESSENGER, page.account_id) == page
    # The same id on another channel is another account.
    assert directory.get(Channel.INSTAGRAM, page.account_id) is None


def test_whatsapp_numbers_are_found_by_the_waba_their_webhooks_name(directory: AccountDirectory) -> None:
    first = whatsapp_number()
    second = whatsapp_number("109876543210999")
    directory.put_all([first, second, messenger_page()])

    found = directory.get_for_webhook("whatsapp_business_account", WA_WABA_ID)

    assert sorted(a.account_id for a in found) == sorted([first.account_id, second.account_id])
    assert directory.get_for_webhook("whatsapp_business_account", "unknown-waba") == []
    assert [a.account_id for a in directory.get_for_webhook("page", messenger_page().account_id)] == [
        messenger_page().account_id
    ]


def test_a_tenant_lists_only_its_own_accounts(directory: AccountDirectory) -> None:
    directory.put_all([messenger_page(), instagram_account(), whatsapp_number(), globex_page()])

    ours = {(a.channel, a.account_id) for a in directory.list_for_tenant(TENANT)}
    theirs = {(a.channel, a.account_id) for a in directory.list_for_tenant(OTHER_TENANT)}

    assert ours == {
        (Channel.MESSENGER, messenger_page().account_id),
        (Channel.INSTAGRAM, instagram_account().account_id),
        (Channel.WHATSAPP, whatsapp_number().account_id),
    }
    assert theirs == {(Channel.MESSENGER, globex_page().account_id)}
    assert directory.list_for_tenant("nobody") == []


def test_storing_an_account_again_replaces_its_profile(directory: AccountDirectory) -> None:
    directory.put_all([messenger_page()])
    directory.put_all([messenger_page(audit_retention_days=30)])

    stored = directory.get(Channel.MESSENGER, messenger_page().account_id)

    assert stored is not None and stored.audit_retention_days == 30
