"""The rule table is well-formed data: ids, dates, sources, channel coverage."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta, timezone

from windowkeeper.policy.model import Channel, Path
from windowkeeper.policy.rules import (
    CHANNELS,
    DIRECT,
    MESSAGE_TAG,
    PATH_FAMILY,
    RULES,
    TEMPLATE,
    WINDOW,
    day_start,
    in_force,
    rule_by_id,
    rule_change_instants,
    rules_of,
    rules_on,
)

SOURCE_ID = re.compile(r"^(M|I|W|C|P|O)\d{1,2}$")


def test_rule_ids_are_unique() -> None:
    ids = [r.rule_id for r in RULES]
    assert len(ids) == len(set(ids))


def test_every_rule_cites_fact_sheet_sources_and_has_a_summary() -> None:
    for rule in RULES:
        assert rule.sources and all(SOURCE_ID.match(s) for s in rule.sources), rule.rule_id
        assert rule.summary and rule.confidence in {"H", "M", "L"}
        assert rule.channels


def test_effective_dates_are_ordered() -> None:
    for rule in RULES:
        if rule.effective_from and rule.effective_until:
            assert rule.effective_from < rule.effective_until, rule.rule_id


def test_each_channel_has_at_most_one_window_rule_in_force_at_every_change() -> None:
    for channel in Channel:
        for rule in rules_of(WINDOW, channel):
            for day in (rule.effective_from, rule.effective_until):
                if day is not None:
                    assert len(in_force(WINDOW, channel, day_start(day))) <= 1


def test_every_channel_has_a_way_to_send() -> None:
    today = day_start(date(2026, 11, 21))
    for channel in Channel:
        assert channel in CHANNELS
        has_window = bool(in_force(WINDOW, channel, today))
        assert has_window or bool(in_force(DIRECT, channel, today)), channel


def test_channel_paths_all_have_a_rule_family() -> None:
    for table in CHANNELS.values():
        for path in table.paths:
            assert path in PATH_FAMILY
            assert rules_of(PATH_FAMILY[path], table.channel), (table.channel, path)


def test_retirement_dates_match_the_decisions_table() -> None:
    assert rule_by_id("messenger.tag.account_update").effective_until == date(2026, 4, 27)
    assert rule_by_id("messenger.tag.shipping_update").effective_until == date(2020, 3, 4)
    assert rule_by_id("messenger.plus_one").effective_until == date(2020, 3, 4)
    assert rule_by_id("wechat.window.48h.cap5").effective_from == date(2023, 6, 12)
    assert rule_by_id("whatsapp.marketing.us_block").effective_from == date(2025, 4, 1)
    assert rule_by_id("messenger.recurring_notifications.48h").effective_until == date(2026, 2, 10)


def test_instagram_has_no_tags_but_human_agent_and_whatsapp_has_templates() -> None:
    assert not rules_of(MESSAGE_TAG, Channel.INSTAGRAM)
    assert {r.params.path for r in rules_of(TEMPLATE, Channel.WHATSAPP)} == {
        Path.UTILITY_TEMPLATE,
        Path.AUTHENTICATION_TEMPLATE,
        Path.MARKETING_TEMPLATE,
    }


def test_the_rules_of_the_day_are_those_in_force_at_every_instant_of_it() -> None:
    # The index answers per (channel, UTC day); each rule's own dates answer per instant. They
    # must agree just before, at and just after every rule change, whatever the offset `at` has.
    offsets = [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=14))]
    families = {r.family for r in RULES}
    for channel in Channel:
        for change in rule_change_instants(channel):
            for instant in (change - timedelta(microseconds=1), change, change + timedelta(hours=23)):
                for offset in offsets:
                    day = rules_on(channel, instant.astimezone(offset))
                    for family in families:
                        scanned = tuple(r for r in rules_of(family, channel) if r.in_force(instant))
                        assert day.of(family) == scanned, (channel, instant, offset, family.name)
                        assert in_force(family, channel, instant.astimezone(offset)) == scanned
