"""The conversation log: messages both ways, for the agent console, kept for a retention period.

Items live under the contact's partition (``sk = MSG#<epoch_ms:015d>#<message id>``) so one Query
returns a conversation in order; ``expires_at`` (epoch seconds) lets DynamoDB TTL remove them after
the account's ``message_retention_days``. TTL deletion is lazy, so readers also filter on it.
The webhook writes inbound items, the send path outbound ones; both use ``message_item``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import MESSAGE_SK_PREFIX, contact_pk
from windowkeeper.store.message_records import LoggedMessage, message_item


def list_messages(
    table_name: str,
    channel: Channel,
    account_id: str,
    contact_id: str,
    *,
    now: datetime,
    limit: int = 50,
) -> list[LoggedMessage]:
    """The newest ``limit`` messages, oldest first, without those past their retention."""
    response = aws.table(table_name).query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={
            ":pk": contact_pk(channel, account_id, contact_id),
            ":prefix": MESSAGE_SK_PREFIX,
        },
        ScanIndexForward=False,
        Limit=limit,
    )
    now_s = int(now.timestamp())
    items = [plain(i) for i in response["Items"]]
    items = [i for i in items if int(i.get("expires_at", now_s + 1)) > now_s]
    return [LoggedMessage.model_validate(i) for i in reversed(items)]


def log_outbound_message(
    table_name: str,
    *,
    channel: Channel,
    account_id: str,
    contact_id: str,
    message_id: str,
    at: datetime,
    kind: str,
    text: str | None,
    sender: str,
    retention_days: int,
    path: str | None,
    status: str = "sent",
) -> None:
    """The conversation-log item of a sent message (the console shows it).

    ``status``: ``sent``, or ``unknown`` when Meta may or may not have delivered it.
    """
    aws.table(table_name).put_item(
        Item=message_item(
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            message_id=message_id,
            direction="out",
            at=at,
            kind=kind,
            text=text,
            sender=sender,
            retention_days=retention_days,
            path=path,
            status=status,
        )
    )


@dataclass(frozen=True)
class ConversationLogTable:
    """``ports.sending.ConversationLog`` on the table."""

    table_name: str

    def log_outbound(
        self,
        *,
        channel: Channel,
        account_id: str,
        contact_id: str,
        message_id: str,
        at: datetime,
        kind: str,
        text: str | None,
        sender: str,
        retention_days: int,
        path: str | None,
        status: str,
    ) -> None:
        log_outbound_message(
            self.table_name,
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            message_id=message_id,
            at=at,
            kind=kind,
            text=text,
            sender=sender,
            retention_days=retention_days,
            path=path,
            status=status,
        )

    def list(
        self, channel: Channel, account_id: str, contact_id: str, *, now: datetime, limit: int
    ) -> list[LoggedMessage]:
        return list_messages(self.table_name, channel, account_id, contact_id, now=now, limit=limit)
