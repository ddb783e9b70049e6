"""One conversation-log item (``store.conversation_log`` keeps them; see there for the layout)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
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
