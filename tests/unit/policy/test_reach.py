"""Messenger opt-in marketing, private replies, consent scopes and the channels without a window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.unit.policy.conftest import AGENT, BOT, LAST_MESSAGE, MS, account, ask, contact, text, utc
from windowkeeper.policy.engine import decide, evaluate_paths, window_closings
from windowkeeper.policy.model import (
    AccountUsage,
    Channel,
    Comment,
    ConsentScope,
    CustomerActionKind,
    DecisionInput,
    MarketingOptIn,
    OutboundRecord,
    Path,
    Purpose,
    ReasonCode,
)

AFTER_WINDOW = LAST_MESSAGE + timedelta(days=3)
TOKEN = MarketingOptIn(token="sub-token-77", opted_in_at=LAST_MESSAGE - timedelta(days=60))
PROMO = "Our winter collection is here: 30% off everything this weekend."


# --- Messenger opt-in marketing -----------------------------------------------------------------


# Since 2026-02-10 opt-in marketing goes through the Marketing Messages API, which needs the
# account's ad account and campaign (M11).
MARKETING_PAGE = account(
    marketing_ad_account_id="act_570012345678901", marketing_campaign_id="120210000000001"
)


def test_messenger_marketing_message_with_a_token_outside_excluded_regions() -> None:
    state = contact(marketing_opt_ins=(TOKEN,), recipient_region="BR")
    inp = ask(
        state, sender=BOT, content=text(PROMO), purpose=Purpose.MARKETING, account_profile=MARKETING_PAGE
    )
    decision = decide(inp, AFTER_WINDOW)
    assert decision.path is Path.MARKETING_MESSAGE
    assert decision.send_fields == {
        "api": "marketing_messages",
        "subscription_token": "sub-token-77",
        "ad_account_id": "act_570012345678901",
        "campaign_id": "120210000000001",
    }


def test_messenger_marketing_inside_the_window_goes_free_form() -> None:
    state = contact(marketing_opt_ins=(TOKEN,), recipient_region="BR")
    decision = decide(ask(state, sender=BOT, content=text(PROMO), purpose=Purpose.MARKETING), LAST_MESSAGE)
    assert decision.path is Path.FREE_FORM


def test_messenger_marketing_without_a_token_needs_opt_in() -> None:
    decision = decide(
        ask(contact(recipient_region="BR"), sender=BOT, content=text(PROMO), purpose=Purpose.MARKETING),
        AFTER_WINDOW,
    )
    assert decision.reasons[0] is ReasonCode.OPT_IN_REQUIRED


@pytest.mark.parametrize("region", ["DE", "GB", "JP", "KR", "AU", None])
def test_messenger_marketing_excludes_eu_uk_jp_kr_au_and_unknown_regions(region: str | None) -> None:
    state = contact(marketing_opt_ins=(TOKEN,), recipient_region=region)
    decision = decide(ask(state, sender=BOT, content=text(PROMO), purpose=Purpose.MARKETING), AFTER_WINDOW)
    assert decision.reasons[0] is ReasonCode.REGION_BLOCKED


def test_messenger_marketing_at_most_one_per_48_hours() -> None:
    sent = AFTER_WINDOW - timedelta(hours=10)
    state = contact(
        marketing_opt_ins=(TOKEN,),
        recipient_region="MX",
        outbound=(OutboundRecord(at=sent, path=Path.MARKETING_MESSAGE),),
    )
    inp = ask(
        state, sender=BOT, content=text(PROMO), purpose=Purpose.MARKETING, account_profile=MARKETING_PAGE
    )
    limited = decide(inp, sent + timedelta(hours=48) - MS)
    assert limited.reasons[0] is ReasonCode.FREQUENCY_LIMITED
    assert limited.valid_until == sent + timedelta(hours=48)
    assert decide(inp, sent + timedelta(hours=48)).path is Path.MARKETING_MESSAGE


def test_messenger_marketing_after_stop_is_opted_out() -> None:
    state = contact(
        marketing_opt_ins=(TOKEN,), recipient_region="BR", opted_out=frozenset({ConsentScope.MARKETING})
    )
    decision = decide(ask(state, sender=BOT, content=text(PROMO), purpose=Purpose.MARKETING), AFTER_WINDOW)
    assert decision.reasons[0] is ReasonCode.OPTED_OUT


def test_recurring_notifications_before_2026_02_10_then_gone() -> None:
    # An EU recipient: the Marketing Messages API cannot reach them, recurring notifications could.
    last = utc(2026, 1, 5, 10, 0)
    opt_in = MarketingOptIn(token="notif-9", opted_in_at=last - timedelta(days=5))
    state = contact(last=last, marketing_opt_ins=(opt_in,), recipient_region="FR")
    inp = ask(state, sender=BOT, content=text(PROMO), purpose=Purpose.MARKETING)
    end = utc(2026, 2, 10, 0, 0)
    before = decide(inp, end - MS)
    assert before.path is Path.MARKETING_MESSAGE
    assert before.send_fields == {"api": "recurring_notifications", "subscription_token": "notif-9"}
    assert before.valid_until == end
    after = decide(inp, end)
    assert after.reasons[0] is ReasonCode.REGION_BLOCKED


# --- private replies ----------------------------------------------------------------------------

COMMENTED = utc(2026, 11, 10, 18, 30)


@pytest.mark.parametrize("channel", [Channel.MESSENGER, Channel.INSTAGRAM])
def test_one_private_reply_within_seven_days_of_the_comment(channel: Channel) -> None:
    state = contact(
        channel,
        last=COMMENTED,
        kind=CustomerActionKind.COMMENT,
        pending_comment=Comment(comment_id="1789-comment", at=COMMENTED),
    )
    inp = ask(state, sender=BOT, comment_id="1789-comment")
    closes = COMMENTED + timedelta(days=7)
    inside = decide(inp, closes - MS)
    assert inside.path is Path.PRIVATE_REPLY
    assert inside.send_fields == {"recipient": {"comment_id": "1789-comment"}}
    assert inside.valid_until == closes
    assert decide(inp, closes).reasons == (ReasonCode.WINDOW_CLOSED,)
    assert window_closings(state, account(channel)).private_reply_closes_at == closes
    # A comment gives no free-form window.
    assert not decide(ask(state, sender=BOT), COMMENTED + timedelta(minutes=5)).allowed


def test_only_one_private_reply_per_comment() -> None:
    state = contact(
        Channel.INSTAGRAM,
        last=COMMENTED,
        kind=CustomerActionKind.COMMENT,
        pending_comment=Comment(comment_id="1789-comment", at=COMMENTED),
        outbound=(OutboundRecord(at=COMMENTED + timedelta(hours=1), path=Path.PRIVATE_REPLY),),
    )
    decision = decide(ask(state, sender=BOT, comment_id="1789-comment"), COMMENTED + timedelta(hours=2))
    assert decision.reasons == (ReasonCode.WINDOW_CLOSED,)


# --- consent scopes, unreachable -----------------------------------------------------------------


@pytest.mark.parametrize("channel", list(Channel))
def test_stop_all_is_honoured_on_every_channel(channel: Channel) -> None:
    state = contact(channel, subscribed=True, consent_on_record=True, opted_out=frozenset({ConsentScope.ALL}))
    decision = decide(ask(state, sender=AGENT), LAST_MESSAGE + timedelta(minutes=5))
    assert not decision.allowed
    assert decision.reasons == (ReasonCode.OPTED_OUT,)
    assert all(not o.allowed_now for o in decision.options)


def test_outside_window_opt_out_allows_only_free_form() -> None:
    state = contact(opted_out=frozenset({ConsentScope.OUTSIDE_WINDOW}))
    assert decide(ask(state, sender=BOT), LAST_MESSAGE + timedelta(hours=1)).path is Path.FREE_FORM
    decision = decide(ask(state, sender=AGENT), LAST_MESSAGE + timedelta(days=2))
    assert decision.reasons == (ReasonCode.WINDOW_CLOSED, ReasonCode.OPTED_OUT)


def test_outside_window_opt_out_on_sms_allows_replies_for_24_hours() -> None:
    state = contact(Channel.SMS, consent_on_record=True, opted_out=frozenset({ConsentScope.OUTSIDE_WINDOW}))
    reply = decide(ask(state, sender=AGENT), LAST_MESSAGE + timedelta(hours=24) - MS)
    assert reply.path is Path.DIRECT
    assert reply.valid_until == LAST_MESSAGE + timedelta(hours=24)
    assert decide(ask(state, sender=AGENT), LAST_MESSAGE + timedelta(hours=24)).reasons == (
        ReasonCode.OPTED_OUT,
    )


def test_marketing_opt_out_still_allows_service_free_form() -> None:
    state = contact(opted_out=frozenset({ConsentScope.MARKETING}))
    assert decide(ask(state, sender=BOT, purpose=Purpose.SUPPORT), LAST_MESSAGE).allowed
    refused = decide(ask(state, sender=BOT, purpose=Purpose.MARKETING), LAST_MESSAGE)
    assert refused.reasons[0] is ReasonCode.OPTED_OUT


def test_unreachable_contact_from_the_instant_meta_said_so() -> None:
    since = LAST_MESSAGE + timedelta(hours=2)
    state = contact(Channel.WHATSAPP, unreachable_since=since, unreachable_reason="131026")
    assert decide(ask(state, sender=BOT), since - MS).allowed
    assert decide(ask(state, sender=BOT), since).reasons == (ReasonCode.UNREACHABLE,)


def test_unreachable_ends_when_the_customer_writes_again() -> None:
    since = LAST_MESSAGE + timedelta(hours=2)
    wrote_again = since + timedelta(days=3)
    state = contact(Channel.WHATSAPP, last=wrote_again, unreachable_since=since, unreachable_reason="131026")
    assert decide(ask(state, sender=BOT), wrote_again + timedelta(minutes=5)).allowed
    # As of before the new message, the contact was still unreachable.
    assert decide(ask(state, sender=BOT), wrote_again - MS).reasons == (ReasonCode.UNREACHABLE,)


# --- Viber -------------------------------------------------------------------------------------


def viber_bot_message(created: date, sent_this_month: int, paid: bool = False) -> DecisionInput:
    """A bot-initiated message to a subscriber, from a bot created on ``created`` that already
    sent ``sent_this_month`` such messages this month."""
    return ask(
        contact(Channel.VIBER, subscribed=True),
        sender=BOT,
        account_profile=account(Channel.VIBER, viber_bot_created_on=created, viber_paid_messages=paid),
        usage=AccountUsage(bot_initiated_this_month=sent_this_month),
    )


def test_viber_bot_initiated_within_the_free_quota() -> None:
    inp = viber_bot_message(date(2023, 1, 10), 9_999)
    decision = decide(inp, AFTER_WINDOW)
    assert decision.path is Path.BOT_INITIATED
    assert "1 free left" in decision.explanation


def test_viber_quota_exhausted_for_an_old_bot_until_next_month() -> None:
    inp = viber_bot_message(date(2023, 1, 10), 10_000)
    decision = decide(inp, AFTER_WINDOW)
    assert decision.reasons[-1] is ReasonCode.QUOTA_EXHAUSTED
    assert decision.valid_until == utc(2026, 12, 1, 0, 0)


@pytest.mark.parametrize(
    ("created", "paid"), [(date(2023, 1, 10), True), (date(2024, 2, 5), False)], ids=["paid", "new_model_bot"]
)
def test_viber_paid_or_new_model_bots_are_not_quota_limited(created: date, paid: bool) -> None:
    inp = viber_bot_message(created, 50_000, paid)
    assert decide(inp, AFTER_WINDOW).path is Path.BOT_INITIATED


def test_viber_bot_created_the_day_before_the_change_keeps_the_quota() -> None:
    inp = viber_bot_message(date(2024, 2, 4), 10_000)
    assert not decide(inp, AFTER_WINDOW).allowed


def test_viber_non_subscriber_outside_the_session() -> None:
    decision = decide(ask(contact(Channel.VIBER), sender=BOT), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.WINDOW_CLOSED, ReasonCode.NEVER_CONTACTED)


# --- channels with no window ----------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.LINE])
def test_telegram_and_line_need_the_user_to_have_started_or_followed(channel: Channel) -> None:
    assert decide(ask(contact(channel, subscribed=True), sender=BOT), AFTER_WINDOW).path is Path.DIRECT
    assert decide(ask(contact(channel), sender=BOT), AFTER_WINDOW).reasons == (ReasonCode.NEVER_CONTACTED,)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL])
def test_sms_and_email_need_consent_on_record(channel: Channel) -> None:
    allowed = decide(ask(contact(channel, last=None, consent_on_record=True), sender=BOT), AFTER_WINDOW)
    assert allowed.path is Path.DIRECT
    assert allowed.send_fields == {}
    refused = decide(ask(contact(channel), sender=BOT), AFTER_WINDOW)
    assert refused.reasons == (ReasonCode.OPT_IN_REQUIRED,)


def test_web_chat_has_no_window_once_the_visitor_wrote() -> None:
    assert decide(ask(contact(Channel.WEBCHAT), sender=BOT), LAST_MESSAGE + timedelta(days=90)).allowed
    assert decide(ask(contact(Channel.WEBCHAT, last=None), sender=BOT), AFTER_WINDOW).reasons == (
        ReasonCode.NEVER_CONTACTED,
    )


# --- evaluate_paths (what GET contact shows) --------------------------------------------------------


def test_evaluate_paths_lists_every_messenger_path_in_force() -> None:
    options = evaluate_paths(contact(), account(), AGENT, AFTER_WINDOW)
    by_path = {o.path: o for o in options}
    assert set(by_path) == {
        Path.FREE_FORM,
        Path.HUMAN_AGENT,
        Path.MESSAGE_TAG,
        Path.CUSTOMER_FEEDBACK,
        Path.UTILITY_TEMPLATE,
        Path.MARKETING_MESSAGE,
    }
    assert not by_path[Path.FREE_FORM].allowed_now
    assert by_path[Path.HUMAN_AGENT].allowed_now
    assert by_path[Path.HUMAN_AGENT].closes_at == LAST_MESSAGE + timedelta(days=7)
    assert by_path[Path.UTILITY_TEMPLATE].allowed_now


def test_evaluate_paths_for_a_bot_on_instagram_after_seven_days_offers_nothing() -> None:
    options = evaluate_paths(
        contact(Channel.INSTAGRAM), account(Channel.INSTAGRAM), BOT, LAST_MESSAGE + timedelta(days=8)
    )
    assert options and not any(o.allowed_now for o in options)


def test_outside_window_opt_out_bounds_the_answer_even_while_the_courtesy_lets_it_through() -> None:
    # Found by the valid_until property: inside the 24 h courtesy the gate lets a Telegram reply
    # through (it is then refused for another reason), so the courtesy's end must still bound it.
    state = contact(Channel.TELEGRAM, opted_out=frozenset({ConsentScope.OUTSIDE_WINDOW}))
    first = decide(ask(state, sender=AGENT), LAST_MESSAGE)
    assert first.reasons == (ReasonCode.NEVER_CONTACTED,)
    assert first.valid_until == LAST_MESSAGE + timedelta(hours=24)
    assert decide(ask(state, sender=AGENT), LAST_MESSAGE + timedelta(hours=24)).reasons == (
        ReasonCode.OPTED_OUT,
    )
