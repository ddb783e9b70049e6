"""Each family's parameter record, and the families themselves (a family is typed by its record)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any, Literal

from windowkeeper.policy.model import (
    ContentKind,
    CustomerActionKind,
    EntryPoint,
    Path,
    Purpose,
    TemplateCategory,
)
from windowkeeper.policy.rules.record import Family


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
