"""Free-form windows: how long each channel's customer actions keep replies open."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from windowkeeper.policy.model import Channel, CustomerActionKind, EntryPoint
from windowkeeper.policy.rules.params import (
    AD_WINDOW,
    WINDOW,
    AdWindowParams,
    WindowParams,
    WindowSpan,
)
from windowkeeper.policy.rules.record import DAY, HOUR, INSTAGRAM, MESSENGER, MESSENGER_AND_INSTAGRAM, Rule

_MESSENGER_OPENERS = frozenset(
    {
        CustomerActionKind.MESSAGE,
        CustomerActionKind.QUICK_REPLY,
        CustomerActionKind.POSTBACK,
        CustomerActionKind.REACTION,
        CustomerActionKind.REFERRAL,
        CustomerActionKind.PLUGIN_OPT_IN,
    }
)
# Story mentions are left out: whether they open the window is an open question (fact sheet 10.7).
_INSTAGRAM_OPENERS = _MESSENGER_OPENERS - {CustomerActionKind.PLUGIN_OPT_IN} | {
    CustomerActionKind.STORY_REPLY
}
_CHAT_OPENERS = frozenset(
    {CustomerActionKind.MESSAGE, CustomerActionKind.QUICK_REPLY, CustomerActionKind.POSTBACK}
)


def _wechat_window(cap: int) -> WindowParams:
    return WindowParams(
        spans=(
            WindowSpan(_CHAT_OPENERS - {CustomerActionKind.POSTBACK}, 48 * HOUR, message_cap=cap),
            # A menu click, follow or QR scan allows 3 messages within 1 minute.
            WindowSpan(
                frozenset({CustomerActionKind.POSTBACK, CustomerActionKind.FOLLOW}),
                timedelta(minutes=1),
                message_cap=3,
            ),
        )
    )


WINDOW_RULES: tuple[Rule[Any], ...] = (
    Rule(
        rule_id="messenger.window.24h",
        family=WINDOW,
        channels=MESSENGER,
        sources=("M1", "M2"),
        confidence="H",
        summary="Free-form messages within 24 h of the person's last message, postback, reaction, referral.",
        params=WindowParams(spans=(WindowSpan(_MESSENGER_OPENERS, 24 * HOUR),)),
    ),
    Rule(
        rule_id="instagram.window.24h",
        family=WINDOW,
        channels=INSTAGRAM,
        sources=("I1", "I4", "M1"),
        confidence="H",
        summary="Free-form messages within 24 h of the person's last DM, reaction, story reply or referral.",
        params=WindowParams(spans=(WindowSpan(_INSTAGRAM_OPENERS, 24 * HOUR),)),
    ),
    Rule(
        rule_id="whatsapp.window.24h",
        family=WINDOW,
        channels=frozenset({Channel.WHATSAPP}),
        sources=("W1", "W16"),
        confidence="H",
        summary="Any message within 24 h of the user's last message (a reaction is a message) or call; "
        "only templates outside it.",
        params=WindowParams(
            spans=(
                WindowSpan(_CHAT_OPENERS | {CustomerActionKind.CALL, CustomerActionKind.REACTION}, 24 * HOUR),
            ),
            template_outside_window=True,
        ),
    ),
    Rule(
        rule_id="viber.window.24h",
        family=WINDOW,
        channels=frozenset({Channel.VIBER}),
        sources=("O1",),
        confidence="M",
        summary="A 24 h session from the user's last message.",
        params=WindowParams(spans=(WindowSpan(_CHAT_OPENERS, 24 * HOUR),)),
    ),
    Rule(
        rule_id="wechat.window.48h.cap20",
        family=WINDOW,
        channels=frozenset({Channel.WECHAT}),
        sources=("O2",),
        confidence="M",
        summary="Customer-service messages within 48 h of the user's message, at most 20 per window.",
        params=_wechat_window(20),
        effective_until=date(2023, 6, 12),
    ),
    Rule(
        rule_id="wechat.window.48h.cap5",
        family=WINDOW,
        channels=frozenset({Channel.WECHAT}),
        sources=("O2",),
        confidence="M",
        summary="Customer-service messages within 48 h of the user's message, at most 5 per window.",
        params=_wechat_window(5),
        effective_from=date(2023, 6, 12),
    ),
    Rule(
        rule_id="messenger.window.ctm_7d",
        family=AD_WINDOW,
        channels=MESSENGER_AND_INSTAGRAM,
        sources=("M2",),
        confidence="M",
        summary="After a click-to-Messenger/Direct ad the window may last 7 days from the first message.",
        params=AdWindowParams(
            length=7 * DAY,
            entry_points=frozenset({EntryPoint.CLICK_TO_MESSENGER_AD, EntryPoint.CLICK_TO_DIRECT_AD}),
        ),
        effective_from=date(2026, 9, 28),
    ),
)
