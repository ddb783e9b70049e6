"""The conversation log: messages both ways, for the agent console, kept for a retention period.

Items live under the contact's partition (``sk = MSG#<epoch_ms:015d>#<message id>``) so one Query
returns a conversation in order; ``expires_at`` (epoch seconds) lets DynamoDB TTL remove them after
the account's ``message_retention_days``. TTL deletion is lazy, so readers also filter on it.
The webhook writes inbound items, the send path outbound ones; both use ``message_item``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from windowkeeper import aws
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import MESSAGE_SK_PREFIX, contact_pk, sortable_ms

Direction = Literal["in", "out"]


class LoggedMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: str
    direction: Direction
    at_ms: int
    kind: str  # text, media, template, postback, reaction, call, ...
    text: str | None = None
    sender: str  # "customer", "bot", "human:<principal>", "schedule", "page_inbox"
    path: str | None = None  # outbound only: the decision's path
    status: str | None = None  # outbound: sent / failed


def message_item(
    *,
    channel: Channel,
    account_id: str,
    contact_id: str,
    message_id: str,
    direction: Direction,
    at: datetime,
    kind: str,
    text: str | None,
    sender: str,
    retention_days: int,
    path: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": contact_pk(channel, account_id, contact_id),
        "sk": f"{MESSAGE_SK_PREFIX}{sortable_ms(at)}#{message_id}",
        "message_id": message_id,
        "direction": direction,
        "at_ms": to_ms(at),
        "kind": kind,
        "sender": sender,
        "expires_at": int((at + timedelta(days=retention_days)).timestamp()),
    }
    optional = {"text": text, "path": path, "status": status}
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


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
