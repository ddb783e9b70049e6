"""What is known at ``at``: the contact's state as of that instant, its free-form window, and the
``Ask`` every path evaluator reads.

"As of" matters: a decision can be asked for any instant, so anything stamped after ``at`` has not
happened yet. Those future instants are kept as boundaries -- the answer may change there.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from windowkeeper.policy.model import (
    AccountProfile,
    AccountUsage,
    Comment,
    ConsentScope,
    ContactState,
    Content,
    CustomerActionKind,
    DecisionInput,
    MarketingOptIn,
    OutboundRecord,
    OutboundRequest,
    Path,
    Purpose,
    Sender,
)
from windowkeeper.policy.rules import (
    AD_WINDOW,
    CHANNELS,
    MARKETING_PATHS,
    OUTSIDE_WINDOW_COURTESY,
    WINDOW,
    ChannelTable,
    DayRules,
    Rule,
    WindowParams,
    rules_on,
)


class Facts(NamedTuple):
    """The contact's state as of ``at``: anything stamped after ``at`` has not happened yet."""

    last_action_at: datetime | None
    comment: Comment | None
    ad_started_at: datetime | None
    outbound: tuple[OutboundRecord, ...]
    opt_ins: tuple[MarketingOptIn, ...]
    unreachable: bool
    closed_early_at: datetime | None
    backoff_until: datetime | None
    boundaries: frozenset[datetime]  # the stamps after ``at``: the facts change there


def facts_at(contact: ContactState, at: datetime, *, every_claim_known: bool = False) -> Facts:
    """The contact as of ``at``; ``every_claim_known``: sends on ``outbound`` count whatever their stamp.

    A send decided on the item as just read must see every claim already on it: a concurrent
    request that read its clock a few ms later stamps its claim after this one's ``at``, yet it is
    stored, so a one-shot or capped rule that ignored it would let a second message through.

    Written out stamp by stamp (no helper per stamp): every decision and check runs it once.
    """
    future: list[datetime] = []
    comment = contact.pending_comment
    if comment is not None and comment.at > at:
        future.append(comment.at)
        comment = None
    outbound = contact.outbound
    if outbound and not every_claim_known:
        later = [o.at for o in outbound if o.at > at]
        if later:
            future += later
            outbound = tuple(o for o in outbound if o.at <= at)
    opt_ins = contact.marketing_opt_ins
    if opt_ins:
        later = [o.opted_in_at for o in opt_ins if o.opted_in_at > at]
        if later:
            future += later
            opt_ins = tuple(o for o in opt_ins if o.opted_in_at <= at)
    # A back-off is the opposite of a stamp: it matters only while it lies ahead of ``at``.
    backoff = contact.marketing_backoff_until
    if backoff is not None:
        if backoff > at:
            future.append(backoff)
        else:
            backoff = None
    last_action_at = contact.last_customer_action_at
    if last_action_at is not None and last_action_at > at:
        future.append(last_action_at)
        last_action_at = None
    # Meta's "unreachable" (blocked, 131026...) holds until the customer acts again: a person who
    # writes to us after being marked unreachable has shown the channel works once more.
    unreachable = False
    unreachable_since = contact.unreachable_since
    if unreachable_since is not None:
        if unreachable_since > at:
            future.append(unreachable_since)
        else:
            unreachable = last_action_at is None or last_action_at <= unreachable_since
    ad_started_at = contact.ad_conversation_started_at
    if ad_started_at is not None and ad_started_at > at:
        future.append(ad_started_at)
        ad_started_at = None
    closed_early_at = contact.window_closed_early_at
    if closed_early_at is not None and closed_early_at > at:
        future.append(closed_early_at)
        closed_early_at = None
    if last_action_at is not None and ConsentScope.OUTSIDE_WINDOW in contact.opted_out:
        # "No messages outside the window": the courtesy after the contact's last message ends
        # here whether or not a path is refused now, so the answer may change at that instant.
        courtesy_end = last_action_at + OUTSIDE_WINDOW_COURTESY
        if courtesy_end > at:
            future.append(courtesy_end)
    # Positional, in field order: a NamedTuple builds twice as fast so (every call makes one).
    return Facts(
        last_action_at,
        comment,
        ad_started_at,
        outbound,
        opt_ins,
        unreachable,
        closed_early_at,
        backoff,
        frozenset(future) if future else _NO_BOUNDARIES,
    )


_NO_BOUNDARIES: frozenset[datetime] = frozenset()


def switched_on(account: AccountProfile, switch: str) -> bool:
    """An ``AccountProfile`` bool field named by rule data (missing counts as off)."""
    return bool(getattr(account, switch, False))


def action_opens_window(rule: Rule[WindowParams] | None, kind: CustomerActionKind | None) -> bool:
    """Whether a customer action of ``kind`` opens a free-form window under ``rule``."""
    return rule is not None and kind in rule.params.opening_kinds


class Window(NamedTuple):
    """The free-form window in force at ``at`` (``opened_at`` None: nothing opened it)."""

    rule: Rule[WindowParams] | None
    opened_at: datetime | None = None
    closes_at: datetime | None = None
    message_cap: int | None = None

    def is_open(self, at: datetime) -> bool:
        return (
            self.opened_at is not None
            and self.closes_at is not None
            and self.opened_at <= at < self.closes_at
        )


def free_form_window(
    contact: ContactState,
    account: AccountProfile,
    *,
    last_action_at: datetime | None,
    ad_started_at: datetime | None,
    closed_early_at: datetime | None,
    rules: DayRules,
) -> Window:
    """The window the contact's last action opened, under ``rules`` (those in force at the instant
    the caller judges by: the decision's ``at``, or the last action for ``window_closings``).

    The instants are passed in so callers choose between the "as of" facts and the stored state.
    """
    rule = rules.first(WINDOW)
    if rule is None or last_action_at is None:
        return Window(rule)
    span = rule.params.span_for(contact.last_customer_action_kind)
    if span is None:  # a comment or marketing opt-in does not open a window
        return Window(rule)
    closes_at = last_action_at + span.length
    ad_rule = rules.first(AD_WINDOW)
    if (
        ad_rule is not None
        and switched_on(account, ad_rule.params.profile_switch)
        and ad_started_at is not None
        and contact.entry_point in ad_rule.params.entry_points
    ):
        closes_at = max(closes_at, ad_started_at + ad_rule.params.length)
    if closed_early_at is not None and closed_early_at >= last_action_at:
        closes_at = min(closes_at, closed_early_at)
    return Window(rule, last_action_at, closes_at, span.message_cap)


class Ask(NamedTuple):
    """Everything an evaluator may look at. ``content``/``request`` None: "is this path open at all?"."""

    contact: ContactState
    account: AccountProfile
    sender: Sender
    at: datetime
    usage: AccountUsage
    facts: Facts
    window: Window
    table: ChannelTable
    rules: DayRules  # the rules in force on the contact's channel at ``at``
    content: Content | None = None
    request: OutboundRequest = OutboundRequest()

    @property
    def channel_label(self) -> str:
        return self.table.label

    @property
    def contacted(self) -> bool:
        return self.facts.last_action_at is not None

    def is_marketing(self, path: Path) -> bool:
        return path in MARKETING_PATHS or self.request.purpose is Purpose.MARKETING


def ask_at(inp: DecisionInput, at: datetime) -> Ask:
    """The request and the contact's state as of ``at`` (``at`` already checked to be UTC)."""
    contact = inp.contact
    facts = facts_at(contact, at, every_claim_known=inp.every_claim_known)
    rules = rules_on(contact.channel, at)
    window = free_form_window(
        contact,
        inp.account,
        last_action_at=facts.last_action_at,
        ad_started_at=facts.ad_started_at,
        closed_early_at=facts.closed_early_at,
        rules=rules,
    )
    # Positional, in field order (contact, account, sender, at, usage, facts, window, table,
    # rules, content, request): a NamedTuple builds twice as fast so.
    return Ask(
        contact,
        inp.account,
        inp.sender,
        at,
        inp.usage,
        facts,
        window,
        CHANNELS[contact.channel],
        rules,
        inp.content,
        inp.request,
    )
