"""SMS and e-mail in: the notifications AWS's own services publish to SNS, applied like webhooks.

AWS End User Messaging SMS (two-way messages) and SES receiving (a receipt rule's SNS action)
publish to SNS topics; SNS invokes the inbound function (``functions/webhook/aws_inbound_app.py``)
with one record at a time. There is no signature to check: IAM authenticates the invocation (only
the topics' subscriptions may invoke the function), and the record's ``TopicArn`` must be the
topic configured for its channel, so a topic someone else subscribes the function to is refused.

Per record, in order:

1. the record and its ``TopicArn`` (``unknown_topic``: refused, nothing stored);
2. the channel's reader (``ingest/channels/sms.py``, ``mail.py``) reads the message: a message
   we cannot read, or a mail SES's verdicts say is not authentic, is quarantined whole with the
   reason and files nothing;
3. for each account the message is for (the number texted, each address we own that received the
   mail): the reader files its observations through ``ChannelEvents`` and they are applied as
   every channel's are (``service.apply_channel_events``: one conditional write per contact, the
   log, the bus, quarantine); a message for no configured account is quarantined
   (``unknown_account``).

A storage failure is answered 500 in the outcome; the handler then raises so Lambda retries the
invocation (SNS invokes asynchronously: two retries, then the function's dead-letter queue).
Every write is idempotent (the event ids are the platform's), so a retry repeats nothing harmful.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import ChannelEvents, UnparsableBody
from windowkeeper.ingest.service import Outcome, _error, _quarantine_whole, apply_channel_events
from windowkeeper.ingest.sns import SnsNotice, read_record
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.ports.webhook import WebhookPorts

logger = Logger(child=True)


class AwsMessage(Protocol):
    """One notification, read: the accounts it is for, and how to file it for one of them."""

    @property
    def unencodable(self) -> int: ...

    @property
    def account_ids(self) -> tuple[str, ...]: ...

    @property
    def ignored(self) -> bool: ...

    def file(self, account: AccountConfig, out: ChannelEvents) -> None: ...


class AwsInbound(Protocol):
    channel: Channel

    def read(self, notice: SnsNotice) -> AwsMessage:
        """The message; ``UnparsableBody`` when it cannot be read or is not authentic."""
        ...


def reader_for(channel: Channel) -> AwsInbound | None:
    """The reader of a channel AWS delivers (imported on first use)."""
    if channel is Channel.SMS:
        from windowkeeper.ingest.channels.sms import READER as SMS  # noqa: PLC0415

        return SMS
    if channel is Channel.EMAIL:
        from windowkeeper.ingest.channels.mail import READER as MAIL  # noqa: PLC0415

        return MAIL
    return None


def handle_sns_record(
    record: Mapping[str, Any],
    ports: WebhookPorts,
    topics: Mapping[str, Channel],
    *,
    now: datetime,
    time_left: Callable[[], float] | None = None,
) -> Outcome:
    """One Lambda SNS record; ``topics`` maps each configured topic ARN to its channel."""
    body = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogatepass")
    try:
        notice = read_record(record)
    except UnparsableBody as unparsable:
        return _quarantine_whole(body, ports, now, unparsable.reason, unparsable.detail)
    channel = topics.get(notice.topic_arn)
    reader = reader_for(channel) if channel is not None else None
    if reader is None:
        logger.warning("SNS record from a topic not configured", extra={"topic_arn": notice.topic_arn})
        return _error(
            403,
            "unknown_topic",
            "The notification comes from a topic not configured for SMS or e-mail; nothing was stored.",
            TopicRefused=1,  # not SignatureRejected: that alarm means a wrong Meta app secret
        )
    try:
        message = reader.read(notice)
    except UnparsableBody as unparsable:
        logger.warning(
            "SNS notification quarantined",
            extra={"channel": reader.channel.value, "reason": unparsable.reason},
        )
        return _quarantine_whole(body, ports, now, unparsable.reason, unparsable.detail)
    if message.ignored:
        return Outcome(200, {"status": "ok", "events": 0, "ignored": 1}, {"ParsedEvents": 0})
    accounts = [a for a in (ports.accounts.get(reader.channel, i) for i in message.account_ids) if a]
    if not accounts:
        logger.warning("SNS notification for no configured account", extra={"channel": reader.channel.value})
        outcome = _quarantine_whole(
            body,
            ports,
            now,
            "unknown_account",
            f"no {reader.channel.value} account among {len(message.account_ids)} recipient(s)",
        )
        outcome.metrics["UnknownAccount"] = 1
        return outcome
    combined = Outcome(200, {"status": "ok", "events": 0})
    for account in accounts:
        events = ChannelEvents(account, received_ms=to_ms(now))
        events.unencodable = message.unencodable
        message.file(account, events)
        outcome = apply_channel_events(
            body, events, ports, now=now, time_left=time_left, webhook_object=reader.channel.value
        )
        if outcome.status >= 500:
            return outcome
        _merge(combined, outcome)
    return combined


def _merge(into: Outcome, outcome: Outcome) -> None:
    assert isinstance(into.body, dict) and isinstance(outcome.body, dict)
    into.body["events"] = int(into.body.get("events", 0)) + int(outcome.body.get("events", 0))
    for name, value in outcome.metrics.items():
        into.metrics[name] = into.metrics.get(name, 0) + value
