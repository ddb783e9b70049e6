"""The undated per-channel table: which paths each channel has, which are tried for a plain
message, how free-form is sent; and which family governs each path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from windowkeeper.policy.model import Channel, Path, Purpose, TemplateCategory
from windowkeeper.policy.rules.params import (
    BOT_INITIATED,
    CUSTOMER_FEEDBACK,
    DIRECT,
    HUMAN_AGENT,
    MARKETING_MESSAGE,
    MESSAGE_TAG,
    PLUS_ONE,
    PRIVATE_REPLY,
    TEMPLATE,
    WINDOW,
)
from windowkeeper.policy.rules.record import HOUR, Family

FreeFormStyle = Literal["messenger", "whatsapp", "none"]


@dataclass(frozen=True)
class ChannelTable:
    """Per-channel behaviour the rules do not date: which paths exist and how free-form is sent."""

    channel: Channel
    label: str
    paths: tuple[Path, ...]  # every path the channel has, in the order the engine tries them
    auto_paths: tuple[Path, ...]  # tried for a plain message with no tag, template or comment
    free_form_style: FreeFormStyle
    # Without a window the contact must have started a conversation, unless consent/opt-in is on record.
    reachable_by_consent: bool = False


_MESSENGER_PATHS = (
    Path.FREE_FORM,
    Path.HUMAN_AGENT,
    Path.MESSAGE_TAG,
    Path.CUSTOMER_FEEDBACK,
    Path.UTILITY_TEMPLATE,
    Path.MARKETING_MESSAGE,
    Path.PRIVATE_REPLY,
    Path.PLUS_ONE,
)

CHANNELS: Mapping[Channel, ChannelTable] = {
    table.channel: table
    for table in (
        ChannelTable(
            Channel.MESSENGER,
            "Messenger",
            paths=_MESSENGER_PATHS,
            auto_paths=(Path.FREE_FORM, Path.HUMAN_AGENT, Path.PLUS_ONE),
            free_form_style="messenger",
        ),
        ChannelTable(
            Channel.INSTAGRAM,
            "Instagram",
            paths=(Path.FREE_FORM, Path.HUMAN_AGENT, Path.PRIVATE_REPLY),
            auto_paths=(Path.FREE_FORM, Path.HUMAN_AGENT),
            free_form_style="messenger",
        ),
        ChannelTable(
            Channel.WHATSAPP,
            "WhatsApp",
            paths=(
                Path.FREE_FORM,
                Path.UTILITY_TEMPLATE,
                Path.AUTHENTICATION_TEMPLATE,
                Path.MARKETING_TEMPLATE,
            ),
            auto_paths=(Path.FREE_FORM,),
            free_form_style="whatsapp",
            reachable_by_consent=True,
        ),
        ChannelTable(
            Channel.VIBER,
            "Viber",
            paths=(Path.FREE_FORM, Path.BOT_INITIATED),
            auto_paths=(Path.FREE_FORM, Path.BOT_INITIATED),
            free_form_style="none",
        ),
        ChannelTable(
            Channel.WECHAT,
            "WeChat",
            paths=(Path.FREE_FORM,),
            auto_paths=(Path.FREE_FORM,),
            free_form_style="none",
        ),
        *(
            ChannelTable(
                channel, label, paths=(Path.DIRECT,), auto_paths=(Path.DIRECT,), free_form_style="none"
            )
            for channel, label in (
                (Channel.TELEGRAM, "Telegram"),
                (Channel.LINE, "LINE"),
                (Channel.SMS, "SMS"),
                (Channel.EMAIL, "E-mail"),
                (Channel.WEBCHAT, "Web chat"),
            )
        ),
    )
}

# Which rule family governs each path (the path's evaluator looks its rules up through this).
PATH_FAMILY: Mapping[Path, Family[Any]] = {
    Path.FREE_FORM: WINDOW,
    Path.HUMAN_AGENT: HUMAN_AGENT,
    Path.MESSAGE_TAG: MESSAGE_TAG,
    Path.CUSTOMER_FEEDBACK: CUSTOMER_FEEDBACK,
    Path.UTILITY_TEMPLATE: TEMPLATE,
    Path.AUTHENTICATION_TEMPLATE: TEMPLATE,
    Path.MARKETING_TEMPLATE: TEMPLATE,
    Path.MARKETING_MESSAGE: MARKETING_MESSAGE,
    Path.PRIVATE_REPLY: PRIVATE_REPLY,
    Path.PLUS_ONE: PLUS_ONE,
    Path.BOT_INITIATED: BOT_INITIATED,
    Path.DIRECT: DIRECT,
}

# Template categories that fit each purpose (W10): anything user-requested and non-promotional is utility.
PURPOSE_TEMPLATE_CATEGORIES: Mapping[Purpose, frozenset[TemplateCategory]] = {
    Purpose.SUPPORT: frozenset({TemplateCategory.UTILITY}),
    Purpose.ORDER_UPDATE: frozenset({TemplateCategory.UTILITY}),
    Purpose.ACCOUNT_UPDATE: frozenset({TemplateCategory.UTILITY}),
    Purpose.EVENT_UPDATE: frozenset({TemplateCategory.UTILITY}),
    Purpose.REMINDER: frozenset({TemplateCategory.UTILITY}),
    Purpose.FEEDBACK: frozenset({TemplateCategory.UTILITY}),
    Purpose.AUTHENTICATION: frozenset({TemplateCategory.AUTHENTICATION}),
    Purpose.NEWS: frozenset({TemplateCategory.MARKETING}),
    Purpose.MARKETING: frozenset({TemplateCategory.MARKETING}),
}

MARKETING_PATHS = frozenset({Path.MARKETING_TEMPLATE, Path.MARKETING_MESSAGE})
TAGGED_PATHS = frozenset({Path.HUMAN_AGENT, Path.MESSAGE_TAG, Path.CUSTOMER_FEEDBACK})
# A no-window channel's contact who asked for "no post-24-hour messages" may still get replies this long.
OUTSIDE_WINDOW_COURTESY = 24 * HOUR
