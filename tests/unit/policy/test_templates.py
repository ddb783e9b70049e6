"""WhatsApp templates and Messenger utility templates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.policy.conftest import BOT, LAST_MESSAGE, MS, account, ask, contact, template, utc
from windowkeeper.policy.engine import decide
from windowkeeper.policy.model import (
    Channel,
    ConsentScope,
    Content,
    MarketingOptIn,
    Path,
    Purpose,
    ReasonCode,
    TemplateCategory,
    TemplateStatus,
)

AFTER_WINDOW = LAST_MESSAGE + timedelta(days=3)
OPTED_IN = (MarketingOptIn(opted_in_at=LAST_MESSAGE - timedelta(days=30)),)
US_BLOCK = utc(2025, 4, 1, 0, 0)


def test_whatsapp_utility_template_goes_outside_the_window() -> None:
    decision = decide(
        ask(contact(Channel.WHATSAPP), sender=BOT, content=template(), purpose=Purpose.ORDER_UPDATE),
        AFTER_WINDOW,
    )
    assert decision.path is Path.UTILITY_TEMPLATE
    assert decision.send_fields == {"type": "template", "category": "UTILITY"}


@pytest.mark.parametrize(
    "status", [s for s in TemplateStatus if s is not TemplateStatus.APPROVED], ids=lambda s: s.value
)
def test_whatsapp_template_must_be_approved(status: TemplateStatus) -> None:
    decision = decide(
        ask(contact(Channel.WHATSAPP), sender=BOT, content=template(status=status)), AFTER_WINDOW
    )
    assert decision.reasons == (ReasonCode.TEMPLATE_NOT_APPROVED,)


def test_whatsapp_template_category_must_match_the_purpose() -> None:
    decision = decide(
        ask(contact(Channel.WHATSAPP), sender=BOT, content=template(), purpose=Purpose.MARKETING),
        AFTER_WINDOW,
    )
    assert decision.reasons == (ReasonCode.TEMPLATE_CATEGORY_MISMATCH,)


def test_whatsapp_utility_template_with_a_promotional_body_is_refused() -> None:
    promo = template(body="Your order {{1}} shipped! Enjoy frete grátis on the next one.")
    decision = decide(ask(contact(Channel.WHATSAPP), sender=BOT, content=promo), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.PROMOTIONAL_CONTENT,)
    assert decision.matched_phrase == "frete grátis"


def test_whatsapp_authentication_template() -> None:
    otp = template(TemplateCategory.AUTHENTICATION, body="{{1}} is your verification code.", name="otp")
    decision = decide(ask(contact(Channel.WHATSAPP), sender=BOT, content=otp), AFTER_WINDOW)
    assert decision.path is Path.AUTHENTICATION_TEMPLATE
    assert decision.send_fields == {"type": "template", "category": "AUTHENTICATION"}


def test_whatsapp_template_to_a_consenting_number_that_never_wrote() -> None:
    state = contact(Channel.WHATSAPP, last=None, consent_on_record=True)
    assert decide(ask(state, sender=BOT, content=template()), AFTER_WINDOW).path is Path.UTILITY_TEMPLATE
    stranger = contact(Channel.WHATSAPP, last=None)
    assert decide(ask(stranger, sender=BOT, content=template()), AFTER_WINDOW).reasons == (
        ReasonCode.NEVER_CONTACTED,
    )


# --- WhatsApp marketing -------------------------------------------------------------------


def marketing() -> Content:
    return template(TemplateCategory.MARKETING, body="New arrivals are in, {{1}}!", name="new_arrivals")


def test_whatsapp_marketing_template_with_opt_in_goes() -> None:
    state = contact(Channel.WHATSAPP, marketing_opt_ins=OPTED_IN, recipient_country_code="44")
    decision = decide(ask(state, sender=BOT, content=marketing(), purpose=Purpose.MARKETING), AFTER_WINDOW)
    assert decision.path is Path.MARKETING_TEMPLATE
    assert decision.send_fields == {"type": "template", "category": "MARKETING"}


def test_whatsapp_marketing_template_without_opt_in() -> None:
    decision = decide(ask(contact(Channel.WHATSAPP), sender=BOT, content=marketing()), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.OPT_IN_REQUIRED,)


def test_whatsapp_marketing_template_after_stop() -> None:
    state = contact(
        Channel.WHATSAPP, marketing_opt_ins=OPTED_IN, opted_out=frozenset({ConsentScope.MARKETING})
    )
    decision = decide(ask(state, sender=BOT, content=marketing()), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.OPTED_OUT,)
    # Stopping marketing leaves utility templates alone.
    assert decide(ask(state, sender=BOT, content=template()), AFTER_WINDOW).allowed


def test_whatsapp_marketing_to_us_numbers_is_blocked_from_2025_04_01() -> None:
    last = utc(2025, 3, 20, 12, 0)
    opt_in = (MarketingOptIn(opted_in_at=last - timedelta(days=10)),)
    state = contact(Channel.WHATSAPP, last=last, marketing_opt_ins=opt_in, recipient_country_code="1")
    before = decide(ask(state, sender=BOT, content=marketing()), US_BLOCK - MS)
    assert before.path is Path.MARKETING_TEMPLATE
    assert before.valid_until == US_BLOCK
    for at in (US_BLOCK, US_BLOCK + MS):
        blocked = decide(ask(state, sender=BOT, content=marketing()), at)
        assert blocked.reasons == (ReasonCode.REGION_BLOCKED,)
        assert blocked.rule is not None and blocked.rule.rule_id == "whatsapp.marketing.us_block"


def test_whatsapp_marketing_waits_out_a_131049_back_off() -> None:
    backoff_until = AFTER_WINDOW + timedelta(hours=6)
    state = contact(Channel.WHATSAPP, marketing_opt_ins=OPTED_IN, marketing_backoff_until=backoff_until)
    waiting = decide(ask(state, sender=BOT, content=marketing()), backoff_until - MS)
    assert waiting.reasons == (ReasonCode.BACKOFF,)
    assert waiting.valid_until == backoff_until
    assert decide(ask(state, sender=BOT, content=marketing()), backoff_until).allowed


def test_whatsapp_marketing_turned_off_on_cloud_api() -> None:
    state = contact(Channel.WHATSAPP, marketing_opt_ins=OPTED_IN)
    profile = account(Channel.WHATSAPP, whatsapp_marketing_via_cloud_api=False)
    decision = decide(ask(state, sender=BOT, content=marketing(), account_profile=profile), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.PERMISSION_MISSING,)


# --- Messenger utility templates ------------------------------------------------------------


def test_messenger_utility_template_outside_the_window() -> None:
    decision = decide(ask(sender=BOT, content=template(), purpose=Purpose.ORDER_UPDATE), AFTER_WINDOW)
    assert decision.path is Path.UTILITY_TEMPLATE
    assert decision.send_fields == {"messaging_type": "UTILITY"}
    assert decision.rule is not None and decision.rule.confidence == "M"


def test_messenger_utility_template_needs_page_utility_messaging() -> None:
    profile = account(permissions=frozenset({"human_agent"}))
    decision = decide(ask(sender=BOT, content=template(), account_profile=profile), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.PERMISSION_MISSING,)


def test_messenger_utility_template_can_be_turned_off_by_the_account() -> None:
    profile = account(allow_messenger_utility_templates=False)
    decision = decide(ask(sender=BOT, content=template(), account_profile=profile), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.PERMISSION_MISSING,)


def test_messenger_takes_no_marketing_templates() -> None:
    decision = decide(ask(sender=BOT, content=marketing()), AFTER_WINDOW)
    assert decision.reasons == (ReasonCode.TEMPLATE_CATEGORY_MISMATCH,)


def test_messenger_utility_template_screened_in_spanish() -> None:
    promo = template(body="Tu pedido {{1}} ya salió. ¡Usa el cupón INVIERNO!")
    decision = decide(ask(sender=BOT, content=promo), AFTER_WINDOW)
    assert decision.matched_phrase == "cupón"
    confirmed = decide(ask(sender=BOT, content=promo, confirm_not_promotional=True), AFTER_WINDOW)
    assert confirmed.allowed and confirmed.confirmed_not_promotional


def test_templates_on_a_channel_without_them_are_unsupported() -> None:
    decision = decide(
        ask(contact(Channel.TELEGRAM, subscribed=True), sender=BOT, content=template()), AFTER_WINDOW
    )
    assert decision.reasons == (ReasonCode.CHANNEL_UNSUPPORTED,)
