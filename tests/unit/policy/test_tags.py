"""Messenger/Instagram tags: HUMAN_AGENT, CUSTOMER_FEEDBACK, the 2026 and 2020 retirements, 24+1."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.policy.conftest import (
    AGENT,
    BOT,
    LAST_MESSAGE,
    MS,
    ORDER_SHIPPED,
    PROMO_TEXT,
    account,
    ask,
    contact,
    feedback_template,
    text,
    utc,
)
from windowkeeper.policy.engine import decide
from windowkeeper.policy.model import Channel, OutboundRecord, Path, Purpose, ReasonCode

SEVEN_DAYS = timedelta(days=7)
HA_FIELDS = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}


# --- HUMAN_AGENT --------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.MESSENGER, Channel.INSTAGRAM])
def test_human_agent_just_inside_seven_days(channel: Channel) -> None:
    decision = decide(ask(contact(channel), sender=AGENT), LAST_MESSAGE + SEVEN_DAYS - MS)
    assert decision.path is Path.HUMAN_AGENT
    assert decision.send_fields == HA_FIELDS
    assert decision.valid_until == LAST_MESSAGE + SEVEN_DAYS
    assert decision.rule is not None and "M14" in decision.rule.sources


@pytest.mark.parametrize("channel", [Channel.MESSENGER, Channel.INSTAGRAM])
@pytest.mark.parametrize("offset", [timedelta(0), MS], ids=["exactly_at", "just_after"])
def test_human_agent_closes_at_seven_days(channel: Channel, offset: timedelta) -> None:
    decision = decide(ask(contact(channel), sender=AGENT), LAST_MESSAGE + SEVEN_DAYS + offset)
    assert not decision.allowed
    assert decision.reasons == (ReasonCode.WINDOW_CLOSED,)


def test_human_agent_opens_exactly_when_the_24h_window_closes() -> None:
    assert decide(ask(sender=AGENT), LAST_MESSAGE + timedelta(hours=24) - MS).path is Path.FREE_FORM
    assert decide(ask(sender=AGENT), LAST_MESSAGE + timedelta(hours=24)).path is Path.HUMAN_AGENT


def test_in_window_human_message_goes_free_form_untagged() -> None:
    decision = decide(ask(sender=AGENT, tag="HUMAN_AGENT"), LAST_MESSAGE + timedelta(hours=3))
    assert decision.path is Path.FREE_FORM
    assert decision.send_fields == {"messaging_type": "RESPONSE"}
    assert "untagged" in decision.explanation


def test_bot_asking_for_human_agent_after_the_window_is_human_only() -> None:
    decision = decide(ask(sender=BOT, tag="HUMAN_AGENT"), LAST_MESSAGE + timedelta(days=2))
    assert not decision.allowed
    assert decision.reasons[0] is ReasonCode.HUMAN_ONLY
    human_agent = next(o for o in decision.options if o.path is Path.HUMAN_AGENT)
    assert human_agent.closes_at == LAST_MESSAGE + SEVEN_DAYS


def test_human_agent_without_the_permission_is_permission_missing() -> None:
    profile = account(permissions=frozenset({"page_utility_messaging"}))
    decision = decide(ask(sender=AGENT, account_profile=profile), LAST_MESSAGE + timedelta(days=2))
    assert decision.reasons == (ReasonCode.WINDOW_CLOSED, ReasonCode.PERMISSION_MISSING)


def test_human_agent_does_not_exist_on_whatsapp() -> None:
    decision = decide(
        ask(contact(Channel.WHATSAPP), sender=AGENT, tag="HUMAN_AGENT"), LAST_MESSAGE + timedelta(days=2)
    )
    assert not decision.allowed
    assert ReasonCode.TAG_NOT_ALLOWED in decision.reasons


def test_promotional_human_agent_reply_is_refused_with_the_phrase() -> None:
    decision = decide(
        ask(sender=AGENT, content=text(PROMO_TEXT), tag="HUMAN_AGENT"), LAST_MESSAGE + timedelta(days=2)
    )
    assert decision.reasons[0] is ReasonCode.PROMOTIONAL_CONTENT
    assert decision.matched_phrase == "20% off"


def test_confirmed_not_promotional_human_agent_reply_goes() -> None:
    decision = decide(
        ask(sender=AGENT, content=text(PROMO_TEXT), tag="HUMAN_AGENT", confirm_not_promotional=True),
        LAST_MESSAGE + timedelta(days=2),
    )
    assert decision.path is Path.HUMAN_AGENT
    assert decision.confirmed_not_promotional


def test_promotional_text_inside_the_window_is_fine() -> None:
    decision = decide(ask(sender=BOT, content=text(PROMO_TEXT)), LAST_MESSAGE + timedelta(hours=1))
    assert decision.path is Path.FREE_FORM
    assert not decision.confirmed_not_promotional


def test_human_agent_for_a_marketing_purpose_is_not_allowed() -> None:
    decision = decide(
        ask(sender=AGENT, tag="HUMAN_AGENT", purpose=Purpose.MARKETING), LAST_MESSAGE + timedelta(days=2)
    )
    assert ReasonCode.TAG_NOT_ALLOWED in decision.reasons


def test_account_cap_on_tagged_messages_while_the_customer_is_silent() -> None:
    first_follow_up = LAST_MESSAGE + timedelta(days=1, hours=2)
    state = contact(outbound=(OutboundRecord(at=first_follow_up, path=Path.HUMAN_AGENT, tag="HUMAN_AGENT"),))
    profile = account(tagged_messages_per_24h_cap=1)
    capped = decide(ask(state, sender=AGENT, account_profile=profile), first_follow_up + timedelta(hours=5))
    assert capped.reasons[-1] is ReasonCode.FREQUENCY_LIMITED
    assert capped.valid_until == first_follow_up + timedelta(hours=24)
    freed = decide(ask(state, sender=AGENT, account_profile=profile), first_follow_up + timedelta(hours=24))
    assert freed.path is Path.HUMAN_AGENT


def test_tagged_cap_resets_when_the_customer_writes_again() -> None:
    earlier_send = LAST_MESSAGE - timedelta(hours=2)
    state = contact(outbound=(OutboundRecord(at=earlier_send, path=Path.HUMAN_AGENT, tag="HUMAN_AGENT"),))
    profile = account(tagged_messages_per_24h_cap=1)
    assert decide(
        ask(state, sender=AGENT, account_profile=profile), LAST_MESSAGE + timedelta(days=1, hours=1)
    ).allowed


# --- tags retired on 2026-04-27 -------------------------------------------------------------

RETIREMENT = utc(2026, 4, 27, 0, 0)
MARCH_LAST_MESSAGE = utc(2026, 2, 20, 9, 30)


@pytest.mark.parametrize(
    ("tag", "purpose"),
    [
        ("ACCOUNT_UPDATE", Purpose.ACCOUNT_UPDATE),
        ("CONFIRMED_EVENT_UPDATE", Purpose.EVENT_UPDATE),
        ("POST_PURCHASE_UPDATE", Purpose.ORDER_UPDATE),
    ],
)
def test_2020_tags_work_before_2026_04_27_and_are_retired_from_it(tag: str, purpose: Purpose) -> None:
    state = contact(last=MARCH_LAST_MESSAGE)
    as_of_march = decide(ask(state, sender=BOT, tag=tag, purpose=purpose), utc(2026, 3, 1, 12, 0))
    assert as_of_march.path is Path.MESSAGE_TAG
    assert as_of_march.send_fields == {"messaging_type": "MESSAGE_TAG", "tag": tag}
    assert as_of_march.valid_until == RETIREMENT

    just_before = decide(ask(state, sender=BOT, tag=tag, purpose=purpose), RETIREMENT - MS)
    assert just_before.allowed

    for at in (RETIREMENT, RETIREMENT + MS):
        refused = decide(ask(state, sender=BOT, tag=tag, purpose=purpose), at)
        assert not refused.allowed
        assert refused.reasons[0] is ReasonCode.TAG_RETIRED
        assert "utility template" in refused.explanation


def test_retired_tag_with_the_wrong_purpose_is_not_allowed() -> None:
    state = contact(last=MARCH_LAST_MESSAGE)
    decision = decide(
        ask(state, sender=BOT, tag="POST_PURCHASE_UPDATE", purpose=Purpose.ACCOUNT_UPDATE), utc(2026, 3, 1)
    )
    assert decision.reasons[0] is ReasonCode.TAG_NOT_ALLOWED


def test_tag_without_a_purpose_is_not_allowed() -> None:
    decision = decide(
        ask(contact(last=MARCH_LAST_MESSAGE), sender=BOT, tag="ACCOUNT_UPDATE"), utc(2026, 3, 1)
    )
    assert decision.reasons[0] is ReasonCode.TAG_NOT_ALLOWED


def test_promotional_tagged_message_is_refused_before_retirement() -> None:
    decision = decide(
        ask(
            contact(last=MARCH_LAST_MESSAGE),
            sender=BOT,
            content=text("Your order shipped — 10% de descuento en tu próxima compra"),
            tag="POST_PURCHASE_UPDATE",
            purpose=Purpose.ORDER_UPDATE,
        ),
        utc(2026, 3, 1),
    )
    assert decision.reasons[0] is ReasonCode.PROMOTIONAL_CONTENT
    assert decision.matched_phrase == "10% de descuento"


def test_unknown_tag_is_not_allowed() -> None:
    decision = decide(
        ask(sender=BOT, tag="FLASH_SALE", purpose=Purpose.MARKETING), LAST_MESSAGE + timedelta(days=2)
    )
    assert decision.reasons[0] is ReasonCode.TAG_NOT_ALLOWED


# --- legacy tags and 24+1, before 2020-03-04 -----------------------------------------------------

POLICY_2020 = utc(2020, 3, 4, 0, 0)
LAST_2020 = utc(2020, 2, 1, 15, 0)


def test_legacy_shipping_update_works_until_2020_03_04() -> None:
    state = contact(last=LAST_2020)
    inp = ask(state, sender=BOT, tag="SHIPPING_UPDATE", purpose=Purpose.ORDER_UPDATE)
    assert decide(inp, POLICY_2020 - MS).path is Path.MESSAGE_TAG
    retired = decide(inp, POLICY_2020)
    assert retired.reasons[0] is ReasonCode.TAG_RETIRED


def test_post_purchase_update_did_not_exist_before_the_2019_policy() -> None:
    state = contact(last=utc(2018, 5, 1))
    decision = decide(
        ask(state, sender=BOT, tag="POST_PURCHASE_UPDATE", purpose=Purpose.ORDER_UPDATE), utc(2018, 5, 3)
    )
    assert decision.reasons[0] is ReasonCode.TAG_NOT_ALLOWED


def test_24_plus_1_allows_one_follow_up_before_2020_03_04() -> None:
    state = contact(last=LAST_2020)
    at = LAST_2020 + timedelta(days=3)
    decision = decide(ask(state, sender=BOT), at)
    assert decision.path is Path.PLUS_ONE
    assert decision.send_fields == {"messaging_type": "UPDATE"}
    # The next change: the HUMAN_AGENT option closes (the 24+1 answer itself holds until 2020-03-04).
    assert decision.valid_until == LAST_2020 + SEVEN_DAYS

    followed_up = contact(
        last=LAST_2020, outbound=(OutboundRecord(at=LAST_2020 + timedelta(days=2), path=Path.PLUS_ONE),)
    )
    assert not decide(ask(followed_up, sender=BOT), at).allowed


def test_24_plus_1_ends_on_2020_03_04() -> None:
    state = contact(last=utc(2020, 3, 1, 12, 0))
    assert decide(ask(state, sender=BOT), POLICY_2020 - MS).path is Path.PLUS_ONE
    assert not decide(ask(state, sender=BOT), POLICY_2020).allowed


# --- CUSTOMER_FEEDBACK --------------------------------------------------------------------------


def test_feedback_template_goes_with_the_feedback_tag_up_to_seven_days() -> None:
    inside = decide(ask(sender=BOT, content=feedback_template()), LAST_MESSAGE + SEVEN_DAYS - MS)
    assert inside.path is Path.CUSTOMER_FEEDBACK
    assert inside.send_fields == {"messaging_type": "MESSAGE_TAG", "tag": "CUSTOMER_FEEDBACK"}
    at_close = decide(ask(sender=BOT, content=feedback_template()), LAST_MESSAGE + SEVEN_DAYS)
    assert at_close.reasons == (ReasonCode.WINDOW_CLOSED,)


def test_feedback_tag_with_plain_text_is_content_invalid() -> None:
    decision = decide(
        ask(sender=BOT, content=text(ORDER_SHIPPED), tag="CUSTOMER_FEEDBACK"),
        LAST_MESSAGE + timedelta(days=2),
    )
    assert decision.reasons[0] is ReasonCode.CONTENT_INVALID


def test_feedback_template_on_instagram_is_content_invalid() -> None:
    decision = decide(ask(contact(Channel.INSTAGRAM), sender=BOT, content=feedback_template()), LAST_MESSAGE)
    assert decision.reasons[0] is ReasonCode.CONTENT_INVALID
