"""Paths outside any window: Viber bot-initiated messages, and channels that have no window at all."""

from __future__ import annotations

from datetime import UTC, datetime

from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import AccountProfile, ConsentScope, Path, ReasonCode
from windowkeeper.policy.paths.checks import gate
from windowkeeper.policy.paths.verdict import PathResult, allow, refuse
from windowkeeper.policy.rules import (
    BOT_INITIATED,
    DIRECT,
    OUTSIDE_WINDOW_COURTESY,
    BotInitiatedParams,
    first_in_force,
)


def next_month(at: datetime) -> datetime:
    """The first instant of the next UTC calendar month (when a monthly quota resets)."""
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


BOT_INITIATED_QUOTA = "bot_initiated"  # the name the monthly count is kept under (store/quota_table.py)


def bot_initiated_free_quota(account: AccountProfile, at: datetime) -> int | None:
    """The free monthly quota the account's bot-initiated messages count against at ``at``; None
    when none does (no rule, the account pays per message, or its bot is on the newer model)."""
    rule = first_in_force(BOT_INITIATED, account.channel, at)
    if rule is None or rule.params.free_quota_per_month is None or _paid(account, rule.params):
        return None
    return rule.params.free_quota_per_month


def _paid(account: AccountProfile, params: BotInitiatedParams) -> bool:
    created = account.viber_bot_created_on
    new_model = (
        params.free_quota_for_bots_created_before is not None
        and created is not None
        and created >= params.free_quota_for_bots_created_before
    )
    return account.viber_paid_messages or new_model


def bot_initiated(ask: Ask) -> PathResult:
    """Viber: a message to a subscriber outside the window, within the free quota or paid."""
    path = Path.BOT_INITIATED
    rule = ask.rules.first(BOT_INITIATED)
    if rule is None:
        return refuse(
            path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"no bot-initiated messages on {ask.channel_label}"
        )
    if blocked := gate(ask, path, rule):
        return blocked
    if not ask.contact.subscribed:
        return refuse(path, rule, ReasonCode.NEVER_CONTACTED, "the user is not subscribed to the bot")
    params = rule.params
    paid = _paid(ask.account, params)
    if params.free_quota_per_month is None or paid:
        billing = "charged per message" if paid else "no quota"
        return allow(path, rule, f"a bot-initiated message to the subscriber can go ({billing})", {})
    reset = next_month(ask.at)
    left = params.free_quota_per_month - ask.usage.bot_initiated_this_month
    if left <= 0:
        return refuse(
            path,
            rule,
            ReasonCode.QUOTA_EXHAUSTED,
            f"this month's {params.free_quota_per_month:,} free bot-initiated messages are used up",
            opens_at=reset,
            needs="paid bot-initiated messages (viber_paid_messages) or next month's quota",
        )
    return allow(
        path,
        rule,
        f"a bot-initiated message to the subscriber can go ({left:,} free left this month)",
        {},
        boundaries=[reset],
    )


def direct(ask: Ask) -> PathResult:
    """Channels with no window: whoever the channel's audience rule admits."""
    path = Path.DIRECT
    rule = ask.rules.first(DIRECT)
    if rule is None:
        return refuse(path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"{ask.channel_label} needs a window")
    if blocked := gate(ask, path, rule):
        return blocked
    audience = rule.params.audience
    if audience == "subscribed" and not ask.contact.subscribed:
        return refuse(
            path,
            rule,
            ReasonCode.NEVER_CONTACTED,
            f"the user never started or followed the {ask.channel_label} bot",
        )
    if audience == "consent_on_record" and not ask.contact.consent_on_record:
        return refuse(
            path,
            rule,
            ReasonCode.OPT_IN_REQUIRED,
            f"{ask.channel_label} needs the recipient's consent on record",
        )
    if audience == "conversation" and not ask.contacted:
        return refuse(path, rule, ReasonCode.NEVER_CONTACTED, "the visitor never started a conversation")
    bounds = []
    if ConsentScope.OUTSIDE_WINDOW in ask.contact.opted_out and ask.facts.last_action_at is not None:
        bounds.append(ask.facts.last_action_at + OUTSIDE_WINDOW_COURTESY)
    return allow(path, rule, f"{ask.channel_label} has no window: the message can go", {}, boundaries=bounds)
