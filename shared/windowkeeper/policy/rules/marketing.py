"""Messenger marketing after the window: Marketing Messages and, before them, recurring notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from windowkeeper.policy.rules.params import MARKETING_MESSAGE, MarketingMessageParams
from windowkeeper.policy.rules.record import HOUR, MESSENGER, Rule

# Recipients Messenger's Marketing Messages API cannot reach (M11): EU member states, UK, JP, KR, AU.
EU_UK_JP_KR_AU = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("GB", "UK", "JP", "KR", "AU"),
    }
)

MARKETING_RULES: tuple[Rule[Any], ...] = (
    # Until recurring notifications ended, a marketing message could still go through the Page
    # Send API with the opt-in token (the token API Marketing Messages grew out of).
    Rule(
        rule_id="messenger.marketing_messages.page_send_api",
        family=MARKETING_MESSAGE,
        channels=MESSENGER,
        sources=("M11",),
        confidence="M",
        summary="Marketing Messages with the Page token: opt-in subscription token, recipient outside "
        "EU/UK/JP/KR/AU, one per token per 48 h.",
        params=MarketingMessageParams(
            api="marketing_messages",
            token_field="subscription_token",
            frequency=48 * HOUR,
            excluded_regions=EU_UK_JP_KR_AU,
        ),
        effective_from=date(2025, 7, 1),
        effective_until=date(2026, 2, 10),
    ),
    # From then on only the Marketing Messages API: POST /act_{AD_ACCOUNT_ID}/messages.
    Rule(
        rule_id="messenger.marketing_messages",
        family=MARKETING_MESSAGE,
        channels=MESSENGER,
        sources=("M11",),
        confidence="M",
        summary="Marketing Messages API (ad account and campaign): opt-in subscription token, recipient "
        "outside EU/UK/JP/KR/AU, one per token per 48 h.",
        params=MarketingMessageParams(
            api="marketing_messages",
            token_field="subscription_token",
            frequency=48 * HOUR,
            excluded_regions=EU_UK_JP_KR_AU,
            needs_ad_account=True,
        ),
        effective_from=date(2026, 2, 10),
    ),
    Rule(
        rule_id="messenger.recurring_notifications.24h",
        family=MARKETING_MESSAGE,
        channels=MESSENGER,
        sources=("M15", "M3"),
        confidence="M",
        summary="Recurring notifications: opt-in token, one per token per 24 h.",
        params=MarketingMessageParams(
            api="recurring_notifications", token_field="subscription_token", frequency=24 * HOUR
        ),
        effective_from=date(2022, 5, 19),
        effective_until=date(2025, 9, 1),
    ),
    Rule(
        rule_id="messenger.recurring_notifications.48h",
        family=MARKETING_MESSAGE,
        channels=MESSENGER,
        sources=("M11", "M3"),
        confidence="M",
        summary="Recurring notifications: one per token per rolling 48 h; discontinued 2026-02-10.",
        params=MarketingMessageParams(
            api="recurring_notifications", token_field="subscription_token", frequency=48 * HOUR
        ),
        effective_from=date(2025, 9, 1),
        effective_until=date(2026, 2, 10),
    ),
)
