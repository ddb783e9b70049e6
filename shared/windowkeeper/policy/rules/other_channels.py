"""The other channels: Viber's bot-initiated messages, and channels without a window."""

from __future__ import annotations

from datetime import date
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper.policy.rules.params import BOT_INITIATED, DIRECT, BotInitiatedParams, DirectParams
from windowkeeper.policy.rules.record import Rule

OTHER_CHANNEL_RULES: tuple[Rule[Any], ...] = (
    Rule(
        rule_id="viber.bot_initiated.legacy",
        family=BOT_INITIATED,
        channels=frozenset({Channel.VIBER}),
        sources=("O1",),
        confidence="L",
        summary="Before 2022-09-01 a bot could message its subscribers with no monthly quota.",
        params=BotInitiatedParams(),
        effective_until=date(2022, 9, 1),
    ),
    Rule(
        rule_id="viber.bot_initiated.quota",
        family=BOT_INITIATED,
        channels=frozenset({Channel.VIBER}),
        sources=("O1",),
        confidence="M",
        summary="Bot-initiated messages to subscribers: 10,000 free a month for bots created before "
        "2024-02-05, paid otherwise.",
        params=BotInitiatedParams(
            free_quota_per_month=10_000, free_quota_for_bots_created_before=date(2024, 2, 5)
        ),
        effective_from=date(2022, 9, 1),
    ),
    Rule(
        rule_id="telegram.direct",
        family=DIRECT,
        channels=frozenset({Channel.TELEGRAM}),
        sources=("O3",),
        confidence="M",
        summary="No window; a bot may message only users who started it.",
        params=DirectParams(audience="subscribed"),
    ),
    Rule(
        rule_id="line.direct",
        family=DIRECT,
        channels=frozenset({Channel.LINE}),
        sources=("O4",),
        confidence="M",
        summary="No window for push messages; only users who added the account.",
        params=DirectParams(audience="subscribed"),
    ),
    Rule(
        rule_id="consent.direct",
        family=DIRECT,
        channels=frozenset({Channel.SMS, Channel.EMAIL}),
        sources=("C2",),
        confidence="M",
        summary="No platform window; only with the recipient's consent on record.",
        params=DirectParams(audience="consent_on_record"),
    ),
    Rule(
        rule_id="webchat.direct",
        family=DIRECT,
        channels=frozenset({Channel.WEBCHAT}),
        sources=("C2",),
        confidence="M",
        summary="No window; the visitor must have started a conversation.",
        params=DirectParams(audience="conversation"),
    ),
)
