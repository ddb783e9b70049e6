"""Issue 10, the send side: answers the gate gave wrongly under real delivery.

* A send decided on the item as just read counts every claim on it, even one stamped a few ms
  after its own clock (a concurrent request that read the clock later claimed first).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.policy.conftest import AGENT, BOT, LAST_MESSAGE, MS, account, ask, contact, text
from windowkeeper.policy.engine import decide
from windowkeeper.policy.model import (
    Channel,
    Comment,
    DecisionInput,
    MarketingOptIn,
    OutboundRecord,
    Path,
    Purpose,
    ReasonCode,
)

AFTER_WINDOW = LAST_MESSAGE + timedelta(days=3)
TOKEN = MarketingOptIn(token="sub-token-77", opted_in_at=LAST_MESSAGE - timedelta(days=60))
MARKETING_PAGE = account(
    marketing_ad_account_id="act_570012345678901", marketing_campaign_id="120210000000001"
)


def sending(inp: DecisionInput) -> DecisionInput:
    """The same question asked by the send path, on the item as just read."""
    return inp.model_copy(update={"every_claim_known": True})


# --- defect 7: a claim stamped a few ms after this request's clock still counts -------------------


def test_a_marketing_claim_stamped_after_this_requests_clock_still_caps_it() -> None:
    other_request_claimed = OutboundRecord(at=AFTER_WINDOW + 3 * MS, path=Path.MARKETING_MESSAGE)
    state = contact(marketing_opt_ins=(TOKEN,), recipient_region="MX", outbound=(other_request_claimed,))
    inp = ask(
        state,
        sender=BOT,
        content=text("Spring sale"),
        purpose=Purpose.MARKETING,
        account_profile=MARKETING_PAGE,
    )

    as_of = decide(inp, AFTER_WINDOW)  # "as of" that instant the other send had not happened yet
    send = decide(sending(inp), AFTER_WINDOW)

    assert as_of.path is Path.MARKETING_MESSAGE
    assert not send.allowed and ReasonCode.FREQUENCY_LIMITED in send.reasons
    marketing = next(o for o in send.options if o.path is Path.MARKETING_MESSAGE)
    assert marketing.opens_at == other_request_claimed.at + timedelta(hours=48)


def test_a_tagged_claim_stamped_after_this_requests_clock_still_counts_against_the_cap() -> None:
    claimed = OutboundRecord(at=AFTER_WINDOW + MS, path=Path.HUMAN_AGENT, tag="HUMAN_AGENT", by_human=True)
    inp = ask(
        contact(outbound=(claimed,)), sender=AGENT, account_profile=account(tagged_messages_per_24h_cap=1)
    )

    assert decide(inp, AFTER_WINDOW).path is Path.HUMAN_AGENT
    assert ReasonCode.FREQUENCY_LIMITED in decide(sending(inp), AFTER_WINDOW).reasons


@pytest.mark.parametrize("channel", [Channel.MESSENGER, Channel.INSTAGRAM])
def test_a_private_reply_claimed_a_few_ms_later_closes_the_comment(channel: Channel) -> None:
    commented = LAST_MESSAGE
    state = contact(
        channel,
        last=None,
        pending_comment=Comment(comment_id="178414000000_98765", at=commented),
        outbound=(OutboundRecord(at=commented + timedelta(hours=1) + 2 * MS, path=Path.PRIVATE_REPLY),),
    )
    inp = ask(state, sender=BOT, comment_id="178414000000_98765")

    assert decide(inp, commented + timedelta(hours=1)).path is Path.PRIVATE_REPLY
    assert decide(sending(inp), commented + timedelta(hours=1)).reasons == (ReasonCode.WINDOW_CLOSED,)
