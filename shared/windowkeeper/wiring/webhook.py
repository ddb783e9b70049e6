"""The webhook function's wiring: its settings and ports, built once per container.

``handle_post`` / ``handle_subscription`` are what the handler (and the benchmarks and the
delivery-replay tests) call: they build the ports for the settings the first time and hand them
to ``windowkeeper.ingest.service``. The account store is cached with them, so a warm container
re-reads account profiles at most once a minute (``store.account_table``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from windowkeeper.ingest import service
from windowkeeper.ports.webhook import WebhookPorts

DEFAULT_MAX_BODY_BYTES = 1_048_576


@dataclass(frozen=True)
class WebhookSettings:
    table_name: str
    quarantine_bucket: str
    secret_id: str
    event_bus: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        env = os.environ if environ is None else environ
        return cls(
            table_name=env["TABLE_NAME"],
            quarantine_bucket=env["QUARANTINE_BUCKET"],
            secret_id=env["WEBHOOK_SECRET_ID"],
            event_bus=env["EVENT_BUS_NAME"],
            max_body_bytes=int(env.get("MAX_WEBHOOK_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES),
        )


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

    def webhook_secret() -> Mapping[str, Any]:
        return secrets.get_json_secret(settings.secret_id)  # cached by windowkeeper.secrets

    return WebhookPorts(
        accounts=AccountStore(settings.table_name),
        contact_writer=partial(ContactWriter, settings.table_name),
        items=BatchPutTable(settings.table_name),
        quarantine=QuarantineBucket(settings.quarantine_bucket),
        publish=partial(bus.publish, bus=settings.event_bus),
        webhook_secret=webhook_secret,
        backend_errors=(ClientError, BotoCoreError, PublishError),
        max_body_bytes=settings.max_body_bytes,
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


def reset_caches() -> None:
    """Forget the built ports (tests switch AWS environments; their account caches go with them)."""
    ports.cache_clear()
