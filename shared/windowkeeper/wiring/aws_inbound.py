"""The inbound function's wiring (SMS and e-mail from SNS): its settings and ports.

The function writes what the webhook writes, so it reuses the webhook's ports (``wiring/webhook``:
the same table, quarantine bucket and bus, built once per container); it never reads the webhook
secret or an account's credentials (AWS authenticated the invocation). Its own settings are the
two topics whose records it accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from windowkeeper.ingest import aws_inbound
from windowkeeper.ingest.service import Outcome
from windowkeeper.policy.model import Channel
from windowkeeper.wiring import webhook as webhook_wiring


class AwsInboundSettings(webhook_wiring.WebhookSettings):
    """The webhook's environment plus the SNS topics AWS publishes SMS and e-mail to."""

    sms_inbound_topic_arn: str = ""
    email_inbound_topic_arn: str = ""

    def topics(self) -> dict[str, Channel]:
        configured = {self.sms_inbound_topic_arn: Channel.SMS, self.email_inbound_topic_arn: Channel.EMAIL}
        return {arn: channel for arn, channel in configured.items() if arn}


def handle_record(
    record: Mapping[str, Any],
    settings: AwsInboundSettings,
    *,
    now: datetime,
    time_left: Callable[[], float] | None = None,
) -> Outcome:
    webhook_settings = webhook_wiring.WebhookSettings.model_validate(
        settings.model_dump(include=set(webhook_wiring.WebhookSettings.model_fields))
    )
    return aws_inbound.handle_sns_record(
        record, webhook_wiring.ports(webhook_settings), settings.topics(), now=now, time_left=time_left
    )
