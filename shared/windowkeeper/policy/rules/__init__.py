"""Every messaging rule as dated data, and the per-channel table.

A rule is a frozen record: id, family (what it governs), channels, the dates it is in force,
fact-sheet sources (``/work/shared/meta-policy.md``), confidence, a one-line summary and typed
parameters. The engine asks "which rule of this family is in force on this channel at this
instant?" (``in_force``), so a Meta change is a data edit here: add a record with the new
``effective_from`` and close the old one with ``effective_until``. Decisions "as of" an earlier
instant then use the rules in force at that instant.

Dates are UTC days; ``effective_from`` is inclusive, ``effective_until`` exclusive (the first day the
rule no longer applies, e.g. the day Meta starts answering error 100).

The records live by what they are about: ``record`` (the ``Rule`` record), ``params`` (each
family's parameters), ``windows``, ``tags``, ``templates``, ``marketing``, ``comments``,
``other_channels`` and the undated ``channels`` table. This module assembles ``RULES`` in table
order (the order ``in_force`` answers in) and holds the look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from windowkeeper.policy.model import Channel, Path
from windowkeeper.policy.rules.channels import (
    CHANNELS,
    MARKETING_PATHS,
    OUTSIDE_WINDOW_COURTESY,
    PATH_FAMILY,
    PURPOSE_TEMPLATE_CATEGORIES,
    TAGGED_PATHS,
    ChannelTable,
    FreeFormStyle,
)
from windowkeeper.policy.rules.comments import PRIVATE_REPLY_RULES
from windowkeeper.policy.rules.marketing import EU_UK_JP_KR_AU, MARKETING_RULES
from windowkeeper.policy.rules.other_channels import OTHER_CHANNEL_RULES
from windowkeeper.policy.rules.params import (
    AD_WINDOW,
    BOT_INITIATED,
    CUSTOMER_FEEDBACK,
    DIRECT,
    HUMAN_AGENT,
    MARKETING_BACKOFF,
    MARKETING_MESSAGE,
    MESSAGE_TAG,
    PLUS_ONE,
    PRIVATE_REPLY,
    REGION_BLOCK,
    TEMPLATE,
    WINDOW,
    AdWindowParams,
    BackoffParams,
    BotInitiatedParams,
    DirectParams,
    MarketingMessageParams,
    PlusOneParams,
    PrivateReplyParams,
    RegionBlockParams,
    TagParams,
    TemplateParams,
    WindowParams,
    WindowSpan,
)
from windowkeeper.policy.rules.record import (
    DAY,
    HOUR,
    INSTAGRAM,
    MESSENGER,
    MESSENGER_AND_INSTAGRAM,
    Confidence,
    Family,
    P,
    Rule,
    day_start,
)
from windowkeeper.policy.rules.tags import POLICY_2020, TAG_RULES, TAGS_RETIRED_2026
from windowkeeper.policy.rules.templates import TEMPLATE_RULES, template_status_of_event
from windowkeeper.policy.rules.windows import WINDOW_RULES

__all__ = [
    "AD_WINDOW",
    "BOT_INITIATED",
    "CHANNELS",
    "CUSTOMER_FEEDBACK",
    "DAY",
    "DIRECT",
    "EU_UK_JP_KR_AU",
    "HOUR",
    "HUMAN_AGENT",
    "INSTAGRAM",
    "MARKETING_BACKOFF",
    "MARKETING_MESSAGE",
    "MARKETING_PATHS",
    "MESSAGE_TAG",
    "MESSENGER",
    "MESSENGER_AND_INSTAGRAM",
    "OUTSIDE_WINDOW_COURTESY",
    "PATH_FAMILY",
    "PLUS_ONE",
    "POLICY_2020",
    "PRIVATE_REPLY",
    "PURPOSE_TEMPLATE_CATEGORIES",
    "REGION_BLOCK",
    "RULES",
    "TAGGED_PATHS",
    "TAGS_RETIRED_2026",
    "TEMPLATE",
    "WINDOW",
    "AdWindowParams",
    "BackoffParams",
    "BotInitiatedParams",
    "ChannelTable",
    "Confidence",
    "DayRules",
    "DirectParams",
    "Family",
    "FreeFormStyle",
    "MarketingMessageParams",
    "PlusOneParams",
    "PrivateReplyParams",
    "RegionBlockParams",
    "Rule",
    "TagParams",
    "TemplateParams",
    "WindowParams",
    "WindowSpan",
    "day_start",
    "first_in_force",
    "in_force",
    "marketing_backoff_until",
    "rule_by_id",
    "rule_change_instants",
    "rules_of",
    "rules_on",
    "template_status_of_event",
]


# Table order: ``in_force`` answers in it, and the first rule in force wins where several are.
RULES: tuple[Rule[Any], ...] = (
    *WINDOW_RULES,
    *TAG_RULES,
    *TEMPLATE_RULES,
    *MARKETING_RULES,
    *PRIVATE_REPLY_RULES,
    *OTHER_CHANNEL_RULES,
)


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
