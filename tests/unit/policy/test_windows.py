"""Free-form windows per channel: just inside, exactly at and just after each closing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.unit.policy.conftest import (
    AGENT,
    BOT,
    LAST_MESSAGE,
    MS,
    SCHEDULE,
    account,
    ask,
    contact,
    text,
    utc,
)
from windowkeeper.policy.engine import decide, opens_window, window_closings
from windowkeeper.policy.model import (
    Channel,
    ContactState,
    Content,
    ContentKind,
    CustomerActionKind,
    EntryPoint,
    OutboundRecord,
    Path,
    ReasonCode,
)

H24 = timedelta(hours=24)

WINDOW_24H_CHANNELS = [Channel.MESSENGER, Channel.INSTAGRAM, Channel.WHATSAPP, Channel.VIBER]


@pytest.mark.parametrize("channel", WINDOW_24H_CHANNELS)
def test_bot_reply_just_inside_the_24h_window_goes_free_form(channel: Channel) -> None:
    decision = decide(ask(contact(channel), sender=BOT), LAST_MESSAGE + H24 - MS)
    assert decision.allowed
    assert decision.path is Path.FREE_FORM
    assert decision.valid_until == LAST_MESSAGE + H24


@pytest.mark.parametrize("channel", WINDOW_24H_CHANNELS)
@pytest.mark.parametrize("offset", [timedelta(0), MS], ids=["exactly_at_close", "just_after_close"])
def test_bot_free_form_is_refused_from_the_24h_instant(channel: Channel, offset: timedelta) -> None:
    inp = ask(contact(channel), sender=BOT, account_profile=account(channel, viber_paid_messages=False))
    decision = decide(inp, LAST_MESSAGE + H24 + offset)
    if channel is Channel.VIBER:
        # Viber falls back to a bot-initiated message to a subscriber; this contact is not subscribed.
        assert ReasonCode.NEVER_CONTACTED in decision.reasons
    assert not decision.allowed
    assert ReasonCode.WINDOW_CLOSED in decision.reasons


def test_messenger_send_fields_distinguish_replies_from_scheduled_updates() -> None:
    at = LAST_MESSAGE + timedelta(hours=2)
    assert decide(ask(sender=BOT), at).send_fields == {"messaging_type": "RESPONSE"}
    assert decide(ask(sender=SCHEDULE), at).send_fields == {"messaging_type": "UPDATE"}


def test_whatsapp_free_form_outside_the_window_needs_a_template() -> None:
    decision = decide(ask(contact(Channel.WHATSAPP), sender=BOT), LAST_MESSAGE + H24)
    assert decision.reasons[:2] == (ReasonCode.WINDOW_CLOSED, ReasonCode.TEMPLATE_REQUIRED)
    assert "template" in decision.explanation


def test_whatsapp_media_send_fields_name_the_media_type() -> None:
    image = Content(kind=ContentKind.MEDIA, media_url="https://cdn.example/receipt.png", media_type="image")
    pdf = Content(kind=ContentKind.MEDIA, media_url="https://cdn.example/invoice.pdf", media_type="file")
    at = LAST_MESSAGE + timedelta(minutes=5)
    assert decide(ask(contact(Channel.WHATSAPP), content=image), at).send_fields == {"type": "image"}
    assert decide(ask(contact(Channel.WHATSAPP), content=pdf), at).send_fields == {"type": "document"}
    assert decide(ask(contact(Channel.WHATSAPP)), at).send_fields == {"type": "text"}


def test_whatsapp_reaction_is_a_user_message_and_opens_the_window() -> None:
    reacted = contact(Channel.WHATSAPP, kind=CustomerActionKind.REACTION)
    assert opens_window(reacted, LAST_MESSAGE)
    assert decide(ask(reacted, sender=BOT), LAST_MESSAGE + timedelta(hours=23)).path is Path.FREE_FORM


def test_whatsapp_call_opens_the_window_like_a_message() -> None:
    called = contact(Channel.WHATSAPP, kind=CustomerActionKind.CALL)
    assert decide(ask(called, sender=BOT), LAST_MESSAGE + timedelta(hours=23)).path is Path.FREE_FORM


@pytest.mark.parametrize(
    "kind",
    [CustomerActionKind.MARKETING_OPT_IN, CustomerActionKind.COMMENT],
    ids=["marketing_opt_in", "comment"],
)
def test_marketing_opt_in_and_comment_do_not_open_a_messenger_window(kind: CustomerActionKind) -> None:
    state = contact(kind=kind)
    decision = decide(ask(state, sender=BOT), LAST_MESSAGE + timedelta(minutes=1))
    assert not decision.allowed
    assert ReasonCode.WINDOW_CLOSED in decision.reasons
    assert not opens_window(state, LAST_MESSAGE)


def test_reactions_and_postbacks_open_a_messenger_window() -> None:
    for kind in (CustomerActionKind.REACTION, CustomerActionKind.POSTBACK, CustomerActionKind.REFERRAL):
        assert decide(ask(contact(kind=kind), sender=BOT), LAST_MESSAGE + timedelta(hours=1)).allowed


def test_instagram_story_mention_does_not_open_the_window_until_meta_says_so() -> None:
    state = contact(Channel.INSTAGRAM, kind=CustomerActionKind.STORY_MENTION)
    assert not decide(ask(state, sender=BOT), LAST_MESSAGE + timedelta(minutes=1)).allowed


def test_never_contacted_contact_gets_never_contacted() -> None:
    decision = decide(ask(contact(last=None), sender=AGENT), LAST_MESSAGE)
    assert not decision.allowed
    assert decision.reasons[0] is ReasonCode.NEVER_CONTACTED


def test_decision_as_of_before_the_customer_message_ignores_that_message() -> None:
    decision = decide(ask(sender=BOT), LAST_MESSAGE - timedelta(minutes=1))
    assert not decision.allowed
    assert decision.valid_until == LAST_MESSAGE
    assert decide(ask(sender=BOT), LAST_MESSAGE).allowed


def test_window_closed_early_by_meta_shortens_the_window() -> None:
    closed = LAST_MESSAGE + timedelta(hours=5)
    state = contact(Channel.WHATSAPP, window_closed_early_at=closed)
    assert decide(ask(state, sender=BOT), closed - MS).allowed
    assert not decide(ask(state, sender=BOT), closed).allowed
    assert window_closings(state, account(Channel.WHATSAPP)).free_form_closes_at == closed


# --- click-to-Messenger ad 7-day window: off by default, on per account, only from 2026-09-28 ---

AD_FIRST_MESSAGE = utc(2026, 10, 5, 9, 0)


def _ad_contact() -> ContactState:
    return contact(
        last=AD_FIRST_MESSAGE,
        entry_point=EntryPoint.CLICK_TO_MESSENGER_AD,
        ad_conversation_started_at=AD_FIRST_MESSAGE,
    )


def test_ctm_ad_window_is_24h_by_default() -> None:
    state = _ad_contact()
    assert not decide(ask(state, sender=BOT), AD_FIRST_MESSAGE + H24).allowed


def test_ctm_ad_window_lasts_7_days_when_the_account_turns_it_on() -> None:
    state = _ad_contact()
    profile = account(ctm_seven_day_window=True)
    seven_days = AD_FIRST_MESSAGE + timedelta(days=7)
    inside = decide(ask(state, sender=BOT, account_profile=profile), seven_days - MS)
    at_close = decide(ask(state, sender=BOT, account_profile=profile), seven_days)
    assert inside.path is Path.FREE_FORM
    assert inside.valid_until == seven_days
    assert not at_close.allowed


def test_ctm_ad_window_does_not_apply_before_meta_documented_it() -> None:
    early = utc(2026, 9, 1, 9, 0)
    state = contact(
        last=early, entry_point=EntryPoint.CLICK_TO_MESSENGER_AD, ad_conversation_started_at=early
    )
    profile = account(ctm_seven_day_window=True)
    assert not decide(ask(state, sender=BOT, account_profile=profile), early + timedelta(days=2)).allowed


# --- WeChat: 48 h, 5 messages per window from 2023-06-12, 20 before ---


def _wechat(last: datetime, sent: int) -> ContactState:
    outbound = tuple(
        OutboundRecord(at=last + timedelta(minutes=i + 1), path=Path.FREE_FORM) for i in range(sent)
    )
    return contact(Channel.WECHAT, last=last, outbound=outbound)


def test_wechat_window_is_48_hours() -> None:
    state = contact(Channel.WECHAT)
    assert decide(ask(state, sender=BOT), LAST_MESSAGE + timedelta(hours=48) - MS).allowed
    assert not decide(ask(state, sender=BOT), LAST_MESSAGE + timedelta(hours=48)).allowed


def test_wechat_fifth_message_goes_and_sixth_is_capped_after_june_2023() -> None:
    at = LAST_MESSAGE + timedelta(hours=1)
    assert decide(ask(_wechat(LAST_MESSAGE, 4), sender=BOT), at).allowed
    capped = decide(ask(_wechat(LAST_MESSAGE, 5), sender=BOT), at)
    assert capped.reasons == (ReasonCode.MESSAGE_CAP_REACHED,)


def test_wechat_cap_was_20_before_2023_06_12() -> None:
    last = utc(2023, 6, 10, 8, 0)
    before_change = utc(2023, 6, 11, 23, 59)
    assert decide(ask(_wechat(last, 19), sender=BOT), before_change).allowed
    assert not decide(ask(_wechat(last, 20), sender=BOT), before_change).allowed
    # From the change day the same window allows only 5.
    after_change = decide(ask(_wechat(last, 6), sender=BOT), utc(2023, 6, 12, 0, 0))
    assert after_change.reasons == (ReasonCode.MESSAGE_CAP_REACHED,)
    assert after_change.rule is not None and after_change.rule.rule_id == "wechat.window.48h.cap5"


def test_wechat_menu_click_gives_one_minute() -> None:
    state = contact(Channel.WECHAT, kind=CustomerActionKind.POSTBACK)
    assert decide(ask(state, sender=BOT), LAST_MESSAGE + timedelta(seconds=59)).allowed
    assert not decide(ask(state, sender=BOT), LAST_MESSAGE + timedelta(minutes=1)).allowed


def test_window_closings_for_a_messenger_contact() -> None:
    closings = window_closings(contact(), account())
    assert closings.free_form_closes_at == LAST_MESSAGE + H24
    assert closings.human_agent_closes_at == LAST_MESSAGE + timedelta(days=7)
    assert closings.feedback_closes_at == LAST_MESSAGE + timedelta(days=7)
    assert closings.private_reply_closes_at is None


def test_window_closings_without_human_agent_permission_or_channel() -> None:
    assert window_closings(contact(), account(permissions=frozenset())).human_agent_closes_at is None
    wa = window_closings(contact(Channel.WHATSAPP), account(Channel.WHATSAPP))
    assert wa.free_form_closes_at == LAST_MESSAGE + H24
    assert wa.human_agent_closes_at is None
    assert wa.feedback_closes_at is None


def test_window_closings_never_contacted() -> None:
    closings = window_closings(contact(last=None), account())
    assert closings.free_form_closes_at is None and closings.human_agent_closes_at is None


def test_explanation_names_the_closing_instant() -> None:
    decision = decide(ask(sender=BOT), utc(2026, 11, 20, 13, 2))
    assert "closed 3 h ago (2026-11-20T10:02Z)" in decision.explanation
    assert "HUMAN_AGENT is open until 2026-11-26T10:02Z" in decision.explanation
    assert "if a person sends it" in decision.explanation
    assert "utility template can go any time" in decision.explanation
    text_only = decide(ask(sender=AGENT, content=text("Sorry for the wait")), utc(2026, 11, 20, 13, 2))
    assert text_only.path is Path.HUMAN_AGENT
