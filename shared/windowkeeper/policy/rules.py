"""Every messaging rule as dated data, and the per-channel table.

A rule is a frozen record: id, family (what it governs), channels, the dates it is in force,
fact-sheet sources (``/work/shared/meta-policy.md``), confidence, a one-line summary and typed
parameters. The engine asks "which rule of this family is in force on this channel at this
instant?" (``in_force``), so a Meta change is a data edit here: add a record with the new
``effective_from`` and close the old one with ``effective_until``. Decisions "as of" an earlier
instant then use the rules in force at that instant.

Dates are UTC days; ``effective_from`` is inclusive, ``effective_until`` exclusive (the first day the
rule no longer applies, e.g. the day Meta starts answering error 100).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any, Generic, Literal, TypeVar

from windowkeeper.policy.model import (
    Channel,
    ContentKind,
    CustomerActionKind,
    EntryPoint,
    Path,
    Purpose,
    RuleRef,
    TemplateCategory,
)

P = TypeVar("P")
Confidence = Literal["H", "M", "L"]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@lru_cache(maxsize=512)
def day_start(day: date) -> datetime:
    """The UTC instant a dated rule change takes effect (cached: rule dates are a few dozen days)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


# --- parameters, one small record per family ------------------------------------------------


@dataclass(frozen=True)
class WindowSpan:
    """Customer actions of these kinds open a free-form window of this length (and message cap)."""

    kinds: frozenset[CustomerActionKind]
    length: timedelta
    message_cap: int | None = None  # outbound messages allowed per window (WeChat)


@dataclass(frozen=True)
class WindowParams:
    spans: tuple[WindowSpan, ...]
    # Outside the window only templates may go (WhatsApp): adds ``template_required`` to refusals.
    template_outside_window: bool = False

    @cached_property
    def opening_kinds(self) -> frozenset[CustomerActionKind]:
        return frozenset().union(*(span.kinds for span in self.spans))

    def span_for(self, kind: CustomerActionKind | None) -> WindowSpan | None:
        for span in self.spans:
            if kind in span.kinds:
                return span
        return None


@dataclass(frozen=True)
class AdWindowParams:
    """A longer window after the first message that follows an ad click, if the account opts in."""

    length: timedelta
    entry_points: frozenset[EntryPoint]
    profile_switch: str = "ctm_seven_day_window"


@dataclass(frozen=True)
class TagParams:
    tag: str
    purposes: frozenset[Purpose]
    # How long after the customer's last window-opening action the tag may be used; None = any time.
    after_last_action: timedelta | None = None
    human_only: bool = False
    permission: str | None = None
    content_kinds: frozenset[ContentKind] | None = None  # None = any content
    non_promotional: bool = True
    replacement: str = "an approved utility template"


@dataclass(frozen=True)
class PlusOneParams:
    extra_messages: int = 1


@dataclass(frozen=True)
class TemplateParams:
    category: TemplateCategory
    path: Path
    send_fields: Mapping[str, Any]
    permission: str | None = None
    profile_switch: str | None = None  # AccountProfile bool field that must be true
    requires_opt_in: bool = False
    non_promotional: bool = False
    honours_backoff: bool = False  # WhatsApp 131049: wait before the next marketing template


@dataclass(frozen=True)
class MarketingMessageParams:
    api: str
    token_field: str
    frequency: timedelta  # at most one message per token per this period
    excluded_regions: frozenset[str] = frozenset()
    # Sent with POST /act_{ad_account}/messages under a campaign: the account must name both.
    needs_ad_account: bool = False


@dataclass(frozen=True)
class PrivateReplyParams:
    within: timedelta
    messages: int = 1


@dataclass(frozen=True)
class BotInitiatedParams:
    free_quota_per_month: int | None = None
    free_quota_for_bots_created_before: date | None = None


@dataclass(frozen=True)
class DirectParams:
    # Who may be messaged at all: users who started/followed the bot, or whose consent is on record.
    audience: Literal["subscribed", "consent_on_record", "conversation"]


@dataclass(frozen=True)
class RegionBlockParams:
    country_codes: frozenset[str]
    paths: frozenset[Path]


@dataclass(frozen=True)
class BackoffParams:
    """After Meta reports one of these errors for a contact, no marketing to them for ``wait``."""

    error_codes: frozenset[int]
    wait: timedelta


@dataclass(frozen=True)
class Family(Generic[P]):
    """A kind of rule; the type parameter is its parameter record, so look-ups stay typed."""

    name: str


WINDOW: Family[WindowParams] = Family("window")
AD_WINDOW: Family[AdWindowParams] = Family("ad_window")
HUMAN_AGENT: Family[TagParams] = Family("human_agent")
CUSTOMER_FEEDBACK: Family[TagParams] = Family("customer_feedback")
MESSAGE_TAG: Family[TagParams] = Family("message_tag")
PLUS_ONE: Family[PlusOneParams] = Family("plus_one")
TEMPLATE: Family[TemplateParams] = Family("template")
MARKETING_MESSAGE: Family[MarketingMessageParams] = Family("marketing_message")
PRIVATE_REPLY: Family[PrivateReplyParams] = Family("private_reply")
BOT_INITIATED: Family[BotInitiatedParams] = Family("bot_initiated")
DIRECT: Family[DirectParams] = Family("direct")
REGION_BLOCK: Family[RegionBlockParams] = Family("region_block")
MARKETING_BACKOFF: Family[BackoffParams] = Family("marketing_backoff")


@dataclass(frozen=True)
class Rule(Generic[P]):
    rule_id: str
    family: Family[P]
    channels: frozenset[Channel]
    sources: tuple[str, ...]
    confidence: Confidence
    summary: str
    params: P
    effective_from: date | None = None
    effective_until: date | None = None

    def in_force(self, at: datetime) -> bool:
        starts, ends = self.bounds
        return (starts is None or at >= starts) and (ends is None or at < ends)

    def started_by(self, at: datetime) -> bool:
        starts = self.bounds[0]
        return starts is None or at >= starts

    @cached_property
    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The instants the rule starts and stops (None: undated), built once per rule."""
        return (
            day_start(self.effective_from) if self.effective_from else None,
            day_start(self.effective_until) if self.effective_until else None,
        )

    def ref(self) -> RuleRef:
        """The rule as a decision cites it (one immutable ``RuleRef`` per rule, shared)."""
        return self._ref

    @cached_property
    def _ref(self) -> RuleRef:
        return RuleRef(
            rule_id=self.rule_id, sources=self.sources, confidence=self.confidence, summary=self.summary
        )


MESSENGER = frozenset({Channel.MESSENGER})
INSTAGRAM = frozenset({Channel.INSTAGRAM})
MESSENGER_AND_INSTAGRAM = MESSENGER | INSTAGRAM

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


def _tag(
    tag: str,
    purposes: Iterable[Purpose],
    *,
    sources: tuple[str, ...],
    summary: str,
    effective_from: date | None,
    effective_until: date | None,
    confidence: Confidence = "H",
) -> Rule[TagParams]:
    return Rule(
        rule_id=f"messenger.tag.{tag.lower()}",
        family=MESSAGE_TAG,
        channels=MESSENGER,
        sources=sources,
        confidence=confidence,
        summary=summary,
        params=TagParams(tag=tag, purposes=frozenset(purposes)),
        effective_from=effective_from,
        effective_until=effective_until,
    )


TAGS_RETIRED_2026 = date(2026, 4, 27)
POLICY_2020 = date(2020, 3, 4)
_LEGACY_TAG_PURPOSES: dict[str, tuple[Purpose, ...]] = {
    "BUSINESS_PRODUCTIVITY": (Purpose.SUPPORT,),
    "COMMUNITY_ALERT": (Purpose.ACCOUNT_UPDATE,),
    "CONFIRMED_EVENT_REMINDER": (Purpose.EVENT_UPDATE, Purpose.REMINDER),
    "PAIRING_UPDATE": (Purpose.ACCOUNT_UPDATE,),
    "APPLICATION_UPDATE": (Purpose.ACCOUNT_UPDATE,),
    "PAYMENT_UPDATE": (Purpose.ORDER_UPDATE, Purpose.ACCOUNT_UPDATE),
    "PERSONAL_FINANCE_UPDATE": (Purpose.ACCOUNT_UPDATE,),
    "SHIPPING_UPDATE": (Purpose.ORDER_UPDATE,),
    "RESERVATION_UPDATE": (Purpose.EVENT_UPDATE, Purpose.REMINDER),
    "ISSUE_RESOLUTION": (Purpose.SUPPORT,),
    "APPOINTMENT_UPDATE": (Purpose.EVENT_UPDATE, Purpose.REMINDER),
    "GAME_EVENT": (Purpose.EVENT_UPDATE,),
    "TRANSPORTATION_UPDATE": (Purpose.EVENT_UPDATE,),
    "FEATURE_FUNCTIONALITY_UPDATE": (Purpose.ACCOUNT_UPDATE,),
    "TICKET_UPDATE": (Purpose.EVENT_UPDATE,),
}

# Recipients Messenger's Marketing Messages API cannot reach (M11): EU member states, UK, JP, KR, AU.
EU_UK_JP_KR_AU = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("GB", "UK", "JP", "KR", "AU"),
    }
)

_WA_TEMPLATE_SOURCES = ("W1", "W2", "W10", "W12")

RULES: tuple[Rule[Any], ...] = (
    # --- free-form windows -------------------------------------------------------------------
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
    # --- Messenger / Instagram tags ----------------------------------------------------------
    Rule(
        rule_id="meta.human_agent",
        family=HUMAN_AGENT,
        channels=MESSENGER_AND_INSTAGRAM,
        sources=("M1", "M2", "M3", "M14", "I7"),
        confidence="H",
        summary="HUMAN_AGENT: a person may reply up to 7 days after the customer's last message.",
        params=TagParams(
            tag="HUMAN_AGENT",
            purposes=frozenset({Purpose.SUPPORT}),
            after_last_action=7 * DAY,
            human_only=True,
            permission="human_agent",
        ),
    ),
    Rule(
        rule_id="messenger.customer_feedback",
        family=CUSTOMER_FEEDBACK,
        channels=MESSENGER,
        sources=("M12", "M14"),
        confidence="M",
        summary="CUSTOMER_FEEDBACK: the feedback template only, up to 7 days after the last message.",
        params=TagParams(
            tag="CUSTOMER_FEEDBACK",
            purposes=frozenset({Purpose.FEEDBACK}),
            after_last_action=7 * DAY,
            content_kinds=frozenset({ContentKind.FEEDBACK_TEMPLATE}),
        ),
        effective_from=date(2021, 6, 2),
    ),
    _tag(
        "ACCOUNT_UPDATE",
        (Purpose.ACCOUNT_UPDATE,),
        sources=("M14", "M3", "M1", "C4", "C5"),
        summary="ACCOUNT_UPDATE: non-recurring account or application changes; error 100 from 2026-04-27.",
        effective_from=date(2017, 9, 1),
        effective_until=TAGS_RETIRED_2026,
    ),
    _tag(
        "CONFIRMED_EVENT_UPDATE",
        (Purpose.EVENT_UPDATE, Purpose.REMINDER),
        sources=("M14", "M3", "M1"),
        summary="CONFIRMED_EVENT_UPDATE: updates on an event the person registered for; ends 2026-04-27.",
        effective_from=date(2019, 8, 29),
        effective_until=TAGS_RETIRED_2026,
    ),
    _tag(
        "POST_PURCHASE_UPDATE",
        (Purpose.ORDER_UPDATE,),
        sources=("M14", "M3", "M1"),
        summary="POST_PURCHASE_UPDATE: receipts, shipping and order changes; ends 2026-04-27.",
        effective_from=date(2019, 8, 29),
        effective_until=TAGS_RETIRED_2026,
    ),
    Rule(
        rule_id="messenger.tag.non_promotional_subscription",
        family=MESSAGE_TAG,
        channels=MESSENGER,
        sources=("M2",),
        confidence="M",
        summary="NON_PROMOTIONAL_SUBSCRIPTION: news from News Page Index pages only.",
        params=TagParams(
            tag="NON_PROMOTIONAL_SUBSCRIPTION",
            purposes=frozenset({Purpose.NEWS}),
            permission="news_page_index",
        ),
    ),
    *(
        _tag(
            tag,
            purposes,
            sources=("M17", "P1", "P2", "C6", "C7"),
            summary=f"{tag}: a pre-2020 tag, dead since 2020-03-04.",
            effective_from=None,
            effective_until=POLICY_2020,
        )
        for tag, purposes in _LEGACY_TAG_PURPOSES.items()
    ),
    Rule(
        rule_id="messenger.plus_one",
        family=PLUS_ONE,
        channels=MESSENGER,
        sources=("P1", "M17"),
        confidence="H",
        summary="The 24+1 rule: one extra message after the 24 h window, until 2020-03-04.",
        params=PlusOneParams(extra_messages=1),
        effective_until=POLICY_2020,
    ),
    # --- templates ---------------------------------------------------------------------------
    Rule(
        rule_id="messenger.utility_template",
        family=TEMPLATE,
        channels=MESSENGER,
        sources=("M10", "M3"),
        confidence="M",
        summary="Messenger utility templates (messaging_type UTILITY) outside the window; needs "
        "page_utility_messaging, an approved template and non-promotional content.",
        params=TemplateParams(
            category=TemplateCategory.UTILITY,
            path=Path.UTILITY_TEMPLATE,
            send_fields={"messaging_type": "UTILITY"},
            permission="page_utility_messaging",
            profile_switch="allow_messenger_utility_templates",
            non_promotional=True,
        ),
        # The earliest date the fact sheet shows them in use (image support); not the launch date.
        effective_from=date(2025, 9, 29),
    ),
    Rule(
        rule_id="whatsapp.template.utility",
        family=TEMPLATE,
        channels=frozenset({Channel.WHATSAPP}),
        sources=_WA_TEMPLATE_SOURCES,
        confidence="H",
        summary="An approved utility template may go at any time; non-promotional content only.",
        params=TemplateParams(
            category=TemplateCategory.UTILITY,
            path=Path.UTILITY_TEMPLATE,
            send_fields={"type": "template", "category": "UTILITY"},
            non_promotional=True,
        ),
    ),
    Rule(
        rule_id="whatsapp.template.authentication",
        family=TEMPLATE,
        channels=frozenset({Channel.WHATSAPP}),
        sources=_WA_TEMPLATE_SOURCES,
        confidence="H",
        summary="An approved authentication template (one-time passcode) may go at any time.",
        params=TemplateParams(
            category=TemplateCategory.AUTHENTICATION,
            path=Path.AUTHENTICATION_TEMPLATE,
            send_fields={"type": "template", "category": "AUTHENTICATION"},
        ),
    ),
    Rule(
        rule_id="whatsapp.template.marketing",
        family=TEMPLATE,
        channels=frozenset({Channel.WHATSAPP}),
        sources=(*_WA_TEMPLATE_SOURCES, "W5", "W8", "W9"),
        confidence="H",
        summary="An approved marketing template, only with a marketing opt-in, honouring stop and back-off.",
        params=TemplateParams(
            category=TemplateCategory.MARKETING,
            path=Path.MARKETING_TEMPLATE,
            send_fields={"type": "template", "category": "MARKETING"},
            profile_switch="whatsapp_marketing_via_cloud_api",
            requires_opt_in=True,
            honours_backoff=True,
        ),
    ),
    Rule(
        rule_id="whatsapp.marketing.us_block",
        family=REGION_BLOCK,
        channels=frozenset({Channel.WHATSAPP}),
        sources=("W5", "W17"),
        confidence="H",
        summary="Meta delivers no marketing templates to +1 (US) numbers from 2025-04-01.",
        params=RegionBlockParams(country_codes=frozenset({"1"}), paths=frozenset({Path.MARKETING_TEMPLATE})),
        effective_from=date(2025, 4, 1),
    ),
    Rule(
        rule_id="whatsapp.marketing.backoff_131049",
        family=MARKETING_BACKOFF,
        channels=frozenset({Channel.WHATSAPP}),
        sources=("W5",),
        confidence="H",
        summary="After error 131049 (per-user marketing limit) wait at least 24 h before the next "
        "marketing template to that contact.",
        params=BackoffParams(error_codes=frozenset({131049}), wait=24 * HOUR),
    ),
    # --- Messenger marketing after the window ---------------------------------------------------
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
    Rule(
        rule_id="meta.private_reply",
        family=PRIVATE_REPLY,
        channels=MESSENGER_AND_INSTAGRAM,
        sources=("M2", "I2", "M13"),
        confidence="H",
        summary="One private reply to a comment, within 7 days of the comment.",
        params=PrivateReplyParams(within=7 * DAY),
    ),
    # --- other channels ----------------------------------------------------------------------
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


# --- the channel table ----------------------------------------------------------------------

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


# --- look-ups -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)  # one per (channel, day): compared by identity
class DayRules:
    """The rules in force on one channel during one UTC day, by family.

    Rules change only at UTC midnights, so this is the same all day long: built once per
    (channel, day) and shared by every decision of that day (``rules_on``).
    """

    channel: Channel
    by_family: Mapping[str, tuple[Rule[Any], ...]]
    # The channel's paths that have a rule in force this day, in the table's order.
    auto_paths: tuple[Path, ...]  # tried for a plain message (free-form and direct always)
    listed_paths: tuple[Path, ...]  # worth listing as options (tags also once retired)

    def of(self, family: Family[P]) -> tuple[Rule[P], ...]:
        """The rules of ``family`` in force, in table order."""
        return self.by_family.get(family.name, ())

    def first(self, family: Family[P]) -> Rule[P] | None:
        found = self.by_family.get(family.name)
        return found[0] if found else None


@dataclass
class _RuleIndex:
    """Rules by (family, channel), and the rules in force per (channel, UTC day). Look-ups run
    thousands of times per webhook batch, so the table is indexed once per RULES object (a test
    that swaps RULES gets a fresh index)."""

    source: tuple[Rule[Any], ...] | None = None
    by_key: dict[tuple[str, Channel], tuple[Rule[Any], ...]] = field(default_factory=dict)
    by_day: dict[tuple[Channel, date], DayRules] = field(default_factory=dict)
    change_instants: dict[Channel, tuple[datetime, ...]] = field(default_factory=dict)

    def _fresh(self) -> None:
        if self.source is not RULES:
            grouped: dict[tuple[str, Channel], list[Rule[Any]]] = {}
            for rule in RULES:
                for rule_channel in rule.channels:
                    grouped.setdefault((rule.family.name, rule_channel), []).append(rule)
            self.by_key = {key: tuple(found) for key, found in grouped.items()}
            self.by_day = {}
            self.change_instants = {}
            self.source = RULES

    def lookup(self, family_name: str, channel: Channel) -> tuple[Rule[Any], ...]:
        self._fresh()
        return self.by_key.get((family_name, channel), ())

    def on(self, channel: Channel, at: datetime) -> DayRules:
        if self.source is not RULES:
            self._fresh()
        if at.tzinfo is not UTC:  # the day index is by UTC date; the instant is the same
            at = at.astimezone(UTC)
        key = (channel, at.date())
        found = self.by_day.get(key)
        if found is None:
            if len(self.by_day) > 20_000:  # a long-running process asked about very many days
                self.by_day.clear()
            found = self.by_day[key] = self._day(channel, at)
        return found

    def _day(self, channel: Channel, at: datetime) -> DayRules:
        by_family: dict[str, tuple[Rule[Any], ...]] = {}
        for (family_name, rule_channel), rules in self.by_key.items():
            if rule_channel is channel:
                current = tuple(r for r in rules if r.in_force(at))
                if current:
                    by_family[family_name] = current
        table = CHANNELS[channel]
        auto_paths = tuple(
            p
            for p in table.auto_paths
            if p in (Path.FREE_FORM, Path.DIRECT) or PATH_FAMILY[p].name in by_family
        )
        listed: list[Path] = []
        for path in table.paths:
            family = PATH_FAMILY[path]
            rules = self.by_key.get((family.name, channel), ())
            if family is TEMPLATE:
                rules = tuple(r for r in rules if r.params.path is path)
            keep_retired = path is Path.MESSAGE_TAG and any(r.started_by(at) for r in rules)
            if keep_retired or any(r.in_force(at) for r in rules):
                listed.append(path)
        return DayRules(channel, by_family, auto_paths, tuple(listed))

    def changes(self, channel: Channel) -> tuple[datetime, ...]:
        self._fresh()
        found = self.change_instants.get(channel)
        if found is None:
            instants = {
                day_start(day)
                for rule in RULES
                if channel in rule.channels
                for day in (rule.effective_from, rule.effective_until)
                if day is not None
            }
            found = self.change_instants[channel] = tuple(sorted(instants))
        return found


_RULE_INDEX = _RuleIndex()


def rules_of(family: Family[P], channel: Channel) -> tuple[Rule[P], ...]:
    """Every rule of a family for a channel, in table order, whatever its dates."""
    return _RULE_INDEX.lookup(family.name, channel)


def rules_on(channel: Channel, at: datetime) -> DayRules:
    """The rules in force on a channel during the UTC day of ``at`` (cached per channel and day).

    ``at`` must be timezone-aware."""
    return _RULE_INDEX.on(channel, at)


def in_force(family: Family[P], channel: Channel, at: datetime) -> tuple[Rule[P], ...]:
    """The rules of a family in force on a channel at an instant, in table order."""
    if at.tzinfo is None:  # naive: compared rule by rule (undated rules answer, dated ones raise)
        return tuple(r for r in rules_of(family, channel) if r.in_force(at))
    return _RULE_INDEX.on(channel, at).of(family)


def first_in_force(family: Family[P], channel: Channel, at: datetime) -> Rule[P] | None:
    found = in_force(family, channel, at)
    return found[0] if found else None


def rule_change_instants(channel: Channel) -> tuple[datetime, ...]:
    """Every instant a rule for this channel starts or stops: decisions may change there."""
    return _RULE_INDEX.changes(channel)


def marketing_backoff_until(
    channel: Channel, error_codes: Iterable[int], reported_at: datetime
) -> datetime | None:
    """Until when marketing to a contact pauses because Meta reported ``error_codes`` at
    ``reported_at`` (the failed status's timestamp, or the instant the Graph API answered);
    None when no back-off rule in force then names any of the codes.

    The ingest (status webhooks) and the Graph client (synchronous errors) both record the
    back-off through this, so the rule lives here once, as data.
    """
    codes = frozenset(error_codes)
    waits = [
        r.params.wait
        for r in in_force(MARKETING_BACKOFF, channel, reported_at)
        if codes & r.params.error_codes
    ]
    return reported_at + max(waits) if waits else None


def rule_by_id(rule_id: str) -> Rule[Any]:
    for rule in RULES:
        if rule.rule_id == rule_id:
            return rule
    raise KeyError(rule_id)
