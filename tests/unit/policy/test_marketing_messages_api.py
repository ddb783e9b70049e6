"""Messenger opt-in marketing after recurring notifications ended (2026-02-10): only the Marketing
Messages API, under the account's ad account and campaign; the account's audience region stands in
for a contact whose own region Messenger never tells us."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.unit.policy.conftest import BOT, MS, account, ask, contact, text, utc
from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.engine import decide
from windowkeeper.policy.model import (
    AccountProfile,
    Channel,
    Decision,
    MarketingOptIn,
    Path,
    Purpose,
    ReasonCode,
)

RECURRING_NOTIFICATIONS_END = utc(2026, 2, 10)
AD_ACCOUNT = "act_570012345678901"
CAMPAIGN = "120210000000000001"
PROMO = "Our spring collection is here: 30% off everything this weekend."
LAST_MESSAGE = utc(2026, 1, 20, 9, 30)
OPT_IN = MarketingOptIn(token="sub-token-4410", opted_in_at=LAST_MESSAGE - timedelta(days=3))

WITH_AD_ACCOUNT = account(marketing_ad_account_id=AD_ACCOUNT, marketing_campaign_id=CAMPAIGN)


def decide_marketing(profile: AccountProfile, region: str | None, at: datetime) -> Decision:
    state = contact(last=LAST_MESSAGE, marketing_opt_ins=(OPT_IN,), recipient_region=region)
    inp = ask(state, BOT, text(PROMO), profile, purpose=Purpose.MARKETING)
    return decide(inp, at)


def test_from_2026_02_10_the_send_goes_under_the_ad_account_and_campaign() -> None:
    decision = decide_marketing(WITH_AD_ACCOUNT, "BR", RECURRING_NOTIFICATIONS_END)
    assert decision.path is Path.MARKETING_MESSAGE
    assert decision.rule is not None and decision.rule.rule_id == "messenger.marketing_messages"
    assert decision.send_fields == {
        "api": "marketing_messages",
        "subscription_token": "sub-token-4410",
        "ad_account_id": AD_ACCOUNT,
        "campaign_id": CAMPAIGN,
    }


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"marketing_ad_account_id": AD_ACCOUNT},
        {"marketing_campaign_id": CAMPAIGN},
    ],
)
def test_from_2026_02_10_without_an_ad_account_and_campaign_permission_is_missing(
    settings: dict[str, str],
) -> None:
    decision = decide_marketing(account(Channel.MESSENGER, **settings), "BR", RECURRING_NOTIFICATIONS_END)
    assert not decision.allowed
    assert decision.reasons[0] is ReasonCode.PERMISSION_MISSING
    assert "Marketing Messages ad account" in decision.explanation


def test_the_last_instant_before_2026_02_10_keeps_the_page_send_api_and_needs_no_ad_account() -> None:
    decision = decide_marketing(account(), "BR", RECURRING_NOTIFICATIONS_END - MS)
    assert decision.path is Path.MARKETING_MESSAGE
    assert decision.send_fields == {"api": "marketing_messages", "subscription_token": "sub-token-4410"}
    assert decision.valid_until == RECURRING_NOTIFICATIONS_END


def test_an_ad_account_changes_nothing_before_2026_02_10() -> None:
    """As of an earlier instant the rules of that instant apply: same request as before the change."""
    decision = decide_marketing(WITH_AD_ACCOUNT, "BR", RECURRING_NOTIFICATIONS_END - timedelta(days=1))
    assert decision.send_fields == {"api": "marketing_messages", "subscription_token": "sub-token-4410"}


def test_recurring_notifications_for_an_eu_recipient_stay_until_2026_02_10() -> None:
    before = decide_marketing(WITH_AD_ACCOUNT, "FR", RECURRING_NOTIFICATIONS_END - MS)
    assert before.send_fields == {"api": "recurring_notifications", "subscription_token": "sub-token-4410"}
    after = decide_marketing(WITH_AD_ACCOUNT, "FR", RECURRING_NOTIFICATIONS_END)
    assert after.reasons[0] is ReasonCode.REGION_BLOCKED


def test_unknown_contact_region_uses_the_accounts_audience_region() -> None:
    profile = account(
        marketing_ad_account_id=AD_ACCOUNT, marketing_campaign_id=CAMPAIGN, marketing_audience_region="MX"
    )
    decision = decide_marketing(profile, None, RECURRING_NOTIFICATIONS_END + timedelta(days=30))
    assert decision.path is Path.MARKETING_MESSAGE


def test_an_excluded_audience_region_still_refuses_unknown_contacts() -> None:
    profile = account(
        marketing_ad_account_id=AD_ACCOUNT, marketing_campaign_id=CAMPAIGN, marketing_audience_region="DE"
    )
    decision = decide_marketing(profile, None, RECURRING_NOTIFICATIONS_END + timedelta(days=30))
    assert decision.reasons[0] is ReasonCode.REGION_BLOCKED
    assert "audience region" in decision.explanation


def test_without_an_audience_region_unknown_contacts_stay_refused() -> None:
    decision = decide_marketing(WITH_AD_ACCOUNT, None, RECURRING_NOTIFICATIONS_END + timedelta(days=30))
    assert decision.reasons[0] is ReasonCode.REGION_BLOCKED


def test_the_contacts_own_region_wins_over_the_audience_region() -> None:
    profile = account(
        marketing_ad_account_id=AD_ACCOUNT, marketing_campaign_id=CAMPAIGN, marketing_audience_region="US"
    )
    decision = decide_marketing(profile, "GB", RECURRING_NOTIFICATIONS_END + timedelta(days=30))
    assert decision.reasons[0] is ReasonCode.REGION_BLOCKED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("marketing_ad_account_id", "my-ad-account"),
        ("marketing_campaign_id", "spring"),
        ("marketing_audience_region", "Brazil"),
    ],
)
def test_account_settings_are_validated_when_loaded(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        AccountConfig.model_validate(
            {"channel": "messenger", "account_id": "1111", "tenant_id": "acme", field: value}
        )
