"""The conversation log: messages both ways, for the agent console, kept for a retention period.

Items live under the contact's partition (``sk = MSG#<epoch_ms:015d>#<message id>``) so one Query
returns a conversation in order; ``expires_at`` (epoch seconds) lets DynamoDB TTL remove them after
the account's ``message_retention_days``. TTL deletion is lazy, so readers also filter on it.
The webhook writes inbound items, the send path outbound ones; both use ``message_item``. Each
also moves the contact item's inbox preview (``store.message_preview``) on its newest-wins guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import contact_item_key, plain
from windowkeeper.store.keys import MESSAGE_SK_PREFIX, contact_pk
from windowkeeper.store.message_preview import MessagePreview
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
    record_preview(
        table_name,
        channel,
        account_id,
        contact_id,
        MessagePreview(at_ms=to_ms(at), message_id=message_id, direction="out", kind=kind, text=text),
    )


def record_preview(
    table_name: str, channel: Channel, account_id: str, contact_id: str, preview: MessagePreview
) -> bool:
    """Move the contact's inbox preview to ``preview`` unless a newer one is stored (then False).

    Never creates a contact item (a send always follows the webhook's write of the contact).
    """
    values = preview.attributes()
    names = {f"#p{i}": name for i, name in enumerate(values)}
    placeholders = {name: f":p{i}" for i, name in enumerate(values)}
    expression = "SET " + ", ".join(f"#p{i} = {placeholders[name]}" for i, name in enumerate(values))
    if "last_message_text" not in values:
        names["#text"] = "last_message_text"
        expression += " REMOVE #text"
    try:
        aws.table(table_name).update_item(
            Key=contact_item_key(channel, account_id, contact_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk) AND "
            "(attribute_not_exists(#p0) OR #p0 < :p0)",  # #p0 is last_message_key
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={placeholders[name]: value for name, value in values.items()},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True


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
