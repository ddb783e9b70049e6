"""Realistic account configurations: tenant "acme" with a Messenger Page, an Instagram account
and a WhatsApp number, and a second tenant "globex" to prove tenants are kept apart.

The builders carry what every suite agrees on (ids, tenant, token secret, the permissions a real
Page or IG account holds); a suite passes what it shows on top (templates, conversation routing,
retention...) as keyword overrides. The webhook suites use ``tests/unit/ingest/meta_fixtures``
instead: their ids must match the recorded Meta payload files.
"""

from __future__ import annotations

from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.model import Channel, Template, TemplateCategory, TemplateStatus

TENANT = "acme"
OTHER_TENANT = "globex"
PAGE_ID = "104812345678901"
IG_ACCOUNT_ID = "17841400000000001"
WA_PHONE_NUMBER_ID = "109876543210987"
WA_WABA_ID = "102290129340398"
GLOBEX_PAGE_ID = "200000000000002"
TOKEN_SECRET = "windowkeeper/acme/page-token"
PAGE_TOKEN = "EAAG-test-page-token"

PAGE_PERMISSIONS = frozenset({"human_agent", "page_utility_messaging"})


def template(
    name: str,
    category: TemplateCategory = TemplateCategory.UTILITY,
    status: TemplateStatus = TemplateStatus.APPROVED,
    language: str = "en_US",
    **fields: Any,
) -> Template:
    """A message template as Meta reports it (``parameters``, ``body``... as keywords)."""
    return Template(name=name, language=language, category=category, status=status, **fields)


ORDER_SHIPPED = template(
    "order_shipped", parameters=("name", "order"), body="Hi {{1}}, order {{2}} has shipped."
)


def meta_account(
    channel: Channel,
    account_id: str,
    *,
    tenant_id: str = TENANT,
    access_token_secret_id: str = TOKEN_SECRET,
    **overrides: Any,
) -> AccountConfig:
    return AccountConfig(
        channel=channel,
        account_id=account_id,
        tenant_id=tenant_id,
        access_token_secret_id=access_token_secret_id,
        **overrides,
    )


def messenger_page(account_id: str = PAGE_ID, **overrides: Any) -> AccountConfig:
    """A Page approved for HUMAN_AGENT and Page utility messages."""
    overrides.setdefault("permissions", PAGE_PERMISSIONS)
    return meta_account(Channel.MESSENGER, account_id, **overrides)


def instagram_account(account_id: str = IG_ACCOUNT_ID, **overrides: Any) -> AccountConfig:
    """An Instagram professional account with the HUMAN_AGENT permission."""
    overrides.setdefault("permissions", frozenset({"human_agent"}))
    return meta_account(Channel.INSTAGRAM, account_id, **overrides)


def whatsapp_number(account_id: str = WA_PHONE_NUMBER_ID, **overrides: Any) -> AccountConfig:
    """A WhatsApp Business phone number (templates are passed per suite)."""
    overrides.setdefault("waba_id", WA_WABA_ID)
    return meta_account(Channel.WHATSAPP, account_id, **overrides)


def globex_page(**overrides: Any) -> AccountConfig:
    """The other tenant's Page, with no special permissions."""
    overrides.setdefault("permissions", frozenset())
    return messenger_page(GLOBEX_PAGE_ID, tenant_id=OTHER_TENANT, **overrides)


# One account per Meta channel, each token in its own secret: what the Graph client (unit tests)
# and the Meta simulator (integration tests) are given.
GRAPH_PAGE = messenger_page("104857600000001", access_token_secret_id="windowkeeper/acme/messenger")
GRAPH_INSTAGRAM = instagram_account(access_token_secret_id="windowkeeper/acme/instagram")
GRAPH_WHATSAPP = whatsapp_number("106540352242922", access_token_secret_id="windowkeeper/acme/whatsapp")
