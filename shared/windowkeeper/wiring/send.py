"""The send function's wiring: the send core, the contacts service and idempotency, once per container.

``send_service()`` is also what the scheduler's wiring builds its send core from, so a follow-up
and a re-engagement job decide and deliver exactly as ``POST /v1/messages`` does. Tests and the
local stack replace a service with ``use_send_service`` / ``use_contacts_service`` (e.g. a Graph
client on an httpx ``MockTransport``, or one pointed at the simulator).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from pydantic import Field

from windowkeeper.observability import metrics
from windowkeeper.settings import EnvSettings, SettingsError

if TYPE_CHECKING:  # the built objects' types; their modules load when first built
    from windowkeeper.delivery.router import ChannelRouter
    from windowkeeper.graph.client import GraphClient
    from windowkeeper.ports.sending import SendStores
    from windowkeeper.sending.contacts_service import ContactsService
    from windowkeeper.sending.idempotent import IdempotentSender
    from windowkeeper.sending.service import SendService
    from windowkeeper.store.account_table import AccountStore
    from windowkeeper.store.idempotency_table import PowertoolsIdempotency


class SendSettings(EnvSettings):
    table_name: str = Field(min_length=1)
    # The send function's only: the scheduler builds the same send core without idempotency.
    idempotency_table_name: str | None = Field(default=None, min_length=1)


_send_service: SendService | None = None
_contacts_service: ContactsService | None = None


@cache
def settings() -> SendSettings:
    return SendSettings.from_env()


@cache
def account_store() -> AccountStore:
    from windowkeeper.store.account_table import AccountStore  # noqa: PLC0415

    return AccountStore(settings().table_name)


@cache
def graph_client() -> GraphClient:
    # Deferred: the Graph client pulls in httpx; a cold /check or contacts read never needs it.
    from windowkeeper.graph.settings import client_from_env  # noqa: PLC0415

    return client_from_env()


@cache
def channel_router() -> ChannelRouter:
    """Every send's delivery: Meta's channels through the Graph client, the others through theirs."""
    from windowkeeper.delivery.settings import router_from_env  # noqa: PLC0415

    return router_from_env(graph_client())


def table_stores(table_name: str) -> SendStores:
    """The send gate's and the contacts API's stores, all on the one DynamoDB table."""
    from windowkeeper.ports.sending import SendStores  # noqa: PLC0415
    from windowkeeper.store.audit_table import AuditTable  # noqa: PLC0415
    from windowkeeper.store.contact_changes import ContactChangesTable  # noqa: PLC0415
    from windowkeeper.store.contact_table import ContactTable  # noqa: PLC0415
    from windowkeeper.store.conversation_log import ConversationLogTable  # noqa: PLC0415
    from windowkeeper.store.followup_table import FollowupStore  # noqa: PLC0415
    from windowkeeper.store.health_table import AccountHealthTable  # noqa: PLC0415
    from windowkeeper.store.history_table import HistoryTable  # noqa: PLC0415
    from windowkeeper.store.quota_table import QuotaTable  # noqa: PLC0415
    from windowkeeper.store.send_claims import SendClaimsTable  # noqa: PLC0415
    from windowkeeper.store.template_table import TemplateStateTable  # noqa: PLC0415
    from windowkeeper.store.violation_table import ViolationTable  # noqa: PLC0415

    return SendStores(
        contacts=ContactTable(table_name),
        claims=SendClaimsTable(table_name),
        audit=AuditTable(table_name),
        history=HistoryTable(table_name),
        conversation_log=ConversationLogTable(table_name),
        violations=ViolationTable(table_name),
        changes=ContactChangesTable(table_name),
        followups=FollowupStore(table_name),
        health=AccountHealthTable(table_name),
        templates=TemplateStateTable(table_name),
        quotas=QuotaTable(table_name),
    )


def send_service() -> SendService:
    global _send_service  # noqa: PLW0603  (one send core per container; tests inject theirs)
    if _send_service is None:
        from windowkeeper.bus import publish  # noqa: PLC0415
        from windowkeeper.graph.settings import secrets_token_fingerprint  # noqa: PLC0415
        from windowkeeper.sending.service import SendService  # noqa: PLC0415

        _send_service = SendService(
            stores=table_stores(settings().table_name),
            accounts=account_store(),
            graph=channel_router(),
            publish=publish,
            metrics=metrics,
            token_fingerprint=secrets_token_fingerprint,
        )
    return _send_service


def contacts_service() -> ContactsService:
    global _contacts_service  # noqa: PLW0603
    if _contacts_service is None:
        from windowkeeper.bus import publish  # noqa: PLC0415
        from windowkeeper.sending.contacts_service import ContactsService  # noqa: PLC0415

        _contacts_service = ContactsService(
            stores=table_stores(settings().table_name),
            accounts=account_store(),
            thread_control=graph_client,
            publish=publish,
            metrics=metrics,
            profiles=graph_client,
        )
    return _contacts_service


@cache
def idempotency() -> PowertoolsIdempotency:
    from windowkeeper.sending.idempotent import IDEMPOTENCY_EXPIRES_SECONDS  # noqa: PLC0415
    from windowkeeper.store.idempotency_table import PowertoolsIdempotency  # noqa: PLC0415

    table_name = settings().idempotency_table_name
    if table_name is None:
        raise SettingsError(
            "SendSettings: environment variable(s) missing or invalid: IDEMPOTENCY_TABLE_NAME"
        )
    return PowertoolsIdempotency(table_name, IDEMPOTENCY_EXPIRES_SECONDS)


def idempotent_sender() -> IdempotentSender:
    from windowkeeper.sending.idempotent import IdempotentSender  # noqa: PLC0415

    return IdempotentSender(sends=send_service(), once=idempotency())


def use_send_service(service: SendService | None) -> None:
    """Replace the container's send core (None: build it from the environment again).

    The idempotency adapter is rebuilt too: a test's AWS (and its idempotency table) is new."""
    global _send_service  # noqa: PLW0603
    _send_service = service
    idempotency.cache_clear()
    if service is None:
        settings.cache_clear()
        account_store.cache_clear()


def use_contacts_service(service: ContactsService | None) -> None:
    global _contacts_service  # noqa: PLW0603
    _contacts_service = service


def reset() -> None:
    """Forget everything built from the environment (tests switch environments)."""
    use_send_service(None)
    use_contacts_service(None)
    for built in (settings, account_store, graph_client, channel_router, idempotency):
        built.cache_clear()
