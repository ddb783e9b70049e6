"""The webhook function's wiring: its settings and ports, built once per container.

``handle_post`` / ``handle_subscription`` are what the handler (and the benchmarks and the
delivery-replay tests) call: they build the ports for the settings the first time and hand them
to ``windowkeeper.ingest.service``. The account store is cached with them, so a warm container
re-reads account profiles at most once a minute (``store.account_table``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache, partial
from typing import Any

from pydantic import Field

from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.ingest import service
from windowkeeper.ingest.channels.base import InboundRequest
from windowkeeper.ports.webhook import WebhookPorts
from windowkeeper.settings import EnvSettings

DEFAULT_MAX_BODY_BYTES = 1_048_576


class WebhookSettings(EnvSettings):
    """The environment the template gives the webhook function."""

    table_name: str = Field(min_length=1)
    quarantine_bucket: str = Field(min_length=1)
    webhook_secret_id: str = Field(min_length=1)
    event_bus_name: str = Field(min_length=1)
    max_webhook_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)


@cache
def ports(settings: WebhookSettings) -> WebhookPorts:
    """The real adapters for ``settings`` (DynamoDB, S3, EventBridge, Secrets Manager)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from windowkeeper import bus, secrets  # noqa: PLC0415
    from windowkeeper.events import PublishError  # noqa: PLC0415
    from windowkeeper.quarantine import QuarantineBucket  # noqa: PLC0415
    from windowkeeper.store.account_table import AccountStore  # noqa: PLC0415
    from windowkeeper.store.batch_writer import BatchPutTable  # noqa: PLC0415
    from windowkeeper.store.contact_writer import ContactWriter  # noqa: PLC0415
    from windowkeeper.store.conversation_log import ConversationLogTable  # noqa: PLC0415
    from windowkeeper.store.health_table import AccountHealthTable  # noqa: PLC0415
    from windowkeeper.store.template_table import TemplateStateTable  # noqa: PLC0415

    def webhook_secret() -> Mapping[str, Any]:
        return secrets.get_json_secret(settings.webhook_secret_id)  # cached by windowkeeper.secrets

    def channel_credentials(account: AccountConfig) -> Mapping[str, Any]:
        if not account.access_token_secret_id:
            raise KeyError(f"{account.channel.value}/{account.account_id}: no credentials secret named")
        return secrets.get_json_secret(account.access_token_secret_id)

    return WebhookPorts(
        accounts=AccountStore(settings.table_name),
        contact_writer=partial(ContactWriter, settings.table_name),
        items=BatchPutTable(settings.table_name),
        quarantine=QuarantineBucket(settings.quarantine_bucket),
        publish=partial(bus.publish, bus=settings.event_bus_name),
        health=AccountHealthTable(settings.table_name),
        templates=TemplateStateTable(settings.table_name),
        webhook_secret=webhook_secret,
        channel_credentials=channel_credentials,
        conversation=ConversationLogTable(settings.table_name),
        backend_errors=(ClientError, BotoCoreError, PublishError),
        max_body_bytes=settings.max_webhook_body_bytes,
    )


def handle_subscription(params: Mapping[str, str], settings: WebhookSettings) -> service.Outcome:
    return service.handle_subscription(params, ports(settings))


def handle_post(
    body: bytes,
    headers: Mapping[str, str],
    settings: WebhookSettings,
    *,
    now: datetime,
    time_left: Callable[[], float] | None = None,
) -> service.Outcome:
    return service.handle_post(body, headers, ports(settings), now=now, time_left=time_left)


def handle_channel(
    channel: str,
    account_id: str,
    request: InboundRequest,
    settings: WebhookSettings,
    *,
    now: datetime,
    time_left: Callable[[], float] | None = None,
) -> service.Outcome:
    return service.handle_channel(channel, account_id, request, ports(settings), now=now, time_left=time_left)


def handle_customer_events(
    payload: Any, principal: Principal, settings: WebhookSettings, *, now: datetime
) -> service.Outcome:
    return service.handle_customer_events(payload, principal, ports(settings), now=now)


def handle_webchat_messages(
    account_id: str, request: InboundRequest, settings: WebhookSettings, *, now: datetime
) -> service.Outcome:
    return service.handle_webchat_messages(account_id, request, ports(settings), now=now)


def reset_caches() -> None:
    """Forget the built ports (tests switch AWS environments; their account caches go with them)."""
    ports.cache_clear()
