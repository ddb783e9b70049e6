"""Messenger and Instagram message tags (HUMAN_AGENT, CUSTOMER_FEEDBACK, the retired ones) and
the pre-2020 "24+1" follow-up, retired with the legacy tags."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from windowkeeper.policy.model import ContentKind, Purpose
from windowkeeper.policy.rules.params import (
    CUSTOMER_FEEDBACK,
    HUMAN_AGENT,
    MESSAGE_TAG,
    PLUS_ONE,
    PlusOneParams,
    TagParams,
)
from windowkeeper.policy.rules.record import DAY, MESSENGER, MESSENGER_AND_INSTAGRAM, Confidence, Rule


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

TAG_RULES: tuple[Rule[Any], ...] = (
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
)
