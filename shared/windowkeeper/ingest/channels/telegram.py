"""Telegram Bot API webhooks: ``Update`` objects, one per POST.

Verification (fact sheet O3; Bot API ``setWebhook``): the ``secret_token`` given to setWebhook
comes back in ``X-Telegram-Bot-Api-Secret-Token`` on every update; compared constant-time with the
account's ``webhook_secret_token`` credential.

What an update tells us, private chats only (a group is not one customer):

* ``message`` / ``edited_message`` is not re-read: a message is the customer writing (``/start``
  included: it is how a user starts a bot, so it is also a follow); its ``date`` is the instant.
* ``callback_query`` (an inline button tap) is a postback; it carries no instant of its own, so it
  is filed at the request's arrival.
* ``my_chat_member`` with the bot's new status ``kicked`` is the user blocking the bot (no message
  reaches them, fact sheet O3: 403 "bot was blocked by the user"); ``member`` is the user
  unblocking / restarting it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import (
    ChannelEvents,
    Credentials,
    InboundRequest,
    JsonPlatform,
    UnparsableBody,
    check_header,
    credential,
)
from windowkeeper.ingest.normalize.common import first_problem
from windowkeeper.policy.model import Channel, CustomerActionKind

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
START_COMMAND = "/start"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TgUser(_Model):
    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None

    @property
    def display_name(self) -> str | None:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.username


class TgChat(_Model):
    id: int
    type: str


class TgMessage(_Model):
    message_id: int
    from_: TgUser | None = Field(default=None, alias="from")
    chat: TgChat
    date: int  # Unix seconds
    text: str | None = None
    caption: str | None = None
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    sticker: dict[str, Any] | None = None
    voice: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        for kind in ("text", "photo", "document", "sticker", "voice"):
            if getattr(self, kind) is not None:
                return kind
        return "other"


class TgCallbackQuery(_Model):
    id: str
    from_: TgUser = Field(alias="from")
    message: TgMessage | None = None
    data: str | None = None


class TgChatMember(_Model):
    status: str  # creator, administrator, member, restricted, left, kicked


class TgChatMemberUpdated(_Model):
    chat: TgChat
    from_: TgUser = Field(alias="from")
    date: int
    new_chat_member: TgChatMember


class TgUpdate(_Model):
    update_id: int
    message: TgMessage | None = None
    edited_message: TgMessage | None = None
    callback_query: TgCallbackQuery | None = None
    my_chat_member: TgChatMemberUpdated | None = None


class TelegramInbound(JsonPlatform):
    channel = Channel.TELEGRAM

    def verify(self, request: InboundRequest, credentials: Credentials, now: datetime) -> None:
        secret = credential(credentials, "webhook_secret_token")
        check_header(request, SECRET_HEADER, secret, what="the secret token set with setWebhook")

    def parse(self, request: InboundRequest, account: AccountConfig, out: ChannelEvents) -> None:
        payload = out.json_body(request.body)
        try:
            update = TgUpdate.model_validate(payload)
        except ValidationError as error:
            raise UnparsableBody("schema_invalid", first_problem(error)) from error
        if update.message is not None:
            self._message(update.message, out)
        elif update.edited_message is not None:
            out.ignored()  # an edit is not a new action: the original message already counted
        elif update.callback_query is not None:
            self._button(update.callback_query, out)
        elif update.my_chat_member is not None:
            self._membership(update.update_id, update.my_chat_member, out)
        else:
            kinds = sorted(k for k in payload if k != "update_id") if isinstance(payload, dict) else []
            out.unknown(kinds[0] if kinds else "empty_update")

    # ------------------------------------------------------------------------------------------

    @staticmethod
    def _message(message: TgMessage, out: ChannelEvents) -> None:
        sender = message.from_
        if message.chat.type != "private" or sender is None or sender.is_bot:
            out.ignored()
            return
        contact_id = str(sender.id)
        at_ms = message.date * 1000
        event_id = f"tg:{message.chat.id}:{message.message_id}"
        text = message.text if message.text is not None else message.caption
        if (message.text or "").split(" ", 1)[0].split("@", 1)[0] == START_COMMAND:
            out.followed(
                contact_id, at_ms=at_ms, event_id=f"{event_id}:start", display_name=sender.display_name
            )
        out.customer_message(
            contact_id,
            at_ms=at_ms,
            event_id=event_id,
            text=text,
            message_kind=message.kind,
            display_name=sender.display_name,
        )

    @staticmethod
    def _button(query: TgCallbackQuery, out: ChannelEvents) -> None:
        if query.message is not None and query.message.chat.type != "private":
            out.ignored()
            return
        out.customer_message(
            str(query.from_.id),
            at_ms=out.received_ms,
            event_id=f"tg:callback:{query.id}",
            text=query.data,
            message_kind="callback_query",
            action=CustomerActionKind.POSTBACK,
            display_name=query.from_.display_name,
        )

    @staticmethod
    def _membership(update_id: int, change: TgChatMemberUpdated, out: ChannelEvents) -> None:
        if change.chat.type != "private":
            out.ignored()
            return
        contact_id = str(change.from_.id)
        at_ms = change.date * 1000
        event_id = f"tg:member:{update_id}"
        status = change.new_chat_member.status
        if status == "kicked":
            out.unfollowed(contact_id, at_ms=at_ms, event_id=event_id, source="telegram_blocked")
        elif status == "member":
            out.followed(contact_id, at_ms=at_ms, event_id=event_id, display_name=change.from_.display_name)
        else:
            out.ignored()


READER = TelegramInbound()
