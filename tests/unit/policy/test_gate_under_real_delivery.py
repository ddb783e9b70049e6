"""Issue 10, the send side: answers the gate gave wrongly under real delivery.

* A send decided on the item as just read counts every claim on it, even one stamped a few ms
  after its own clock (a concurrent request that read the clock later claimed first).
* While a person owns the conversation, automation is refused ``human_owns_conversation`` and
  told when it may speak again (idle return) or what would hand it back.
* Smaller wrong answers: HUMAN_AGENT asked for by a bot, the feedback template under HUMAN_AGENT,
  templates with the wrong number of parameters, promotions typed into a template's parameters.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
    feedback_template,
    template,
    text,
)
from windowkeeper.policy.engine import decide
from windowkeeper.policy.model import (
    Channel,
    Comment,
    DecisionInput,
    HumanOwner,
    MarketingOptIn,
    OutboundRecord,
    Path,
    Purpose,
    ReasonCode,
    Sender,
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


# --- defect 6: while a person owns the conversation, automation is refused and told when ---------

IDLE = timedelta(hours=4)  # the account default, human_idle_return_seconds
TOOK_OVER = LAST_MESSAGE + timedelta(minutes=5)  # an agent took the conversation, window open


def held(**fields: Any) -> HumanOwner:
    return HumanOwner(agent_id="agent-maria", **fields)


def test_a_bot_in_an_open_window_is_refused_while_an_agent_owns_the_conversation() -> None:
    state = contact(human_owner=held(since=TOOK_OVER, last_activity_at=TOOK_OVER + timedelta(hours=1)))
    at = TOOK_OVER + timedelta(hours=2)

    decision = decide(ask(state, sender=BOT), at)

    returns_at = TOOK_OVER + timedelta(hours=1) + IDLE
    assert not decision.allowed
    assert decision.reasons[0] is ReasonCode.HUMAN_OWNS_CONVERSATION  # then HUMAN_AGENT's human_only
    assert decision.valid_until == returns_at
    assert "agent-maria" in decision.explanation and "hands it back" in decision.explanation
    free_form = next(o for o in decision.options if o.path is Path.FREE_FORM)
    assert (free_form.opens_at, free_form.closes_at) == (returns_at, LAST_MESSAGE + timedelta(hours=24))
    assert free_form.needs.startswith("the conversation handed back to the bot")
    # The idle return: from then on the bot may speak again.
    assert decide(ask(state, sender=BOT), returns_at - MS).reasons[0] is ReasonCode.HUMAN_OWNS_CONVERSATION
    assert decide(ask(state, sender=BOT), returns_at).path is Path.FREE_FORM


@pytest.mark.parametrize("sender", [BOT, SCHEDULE], ids=["bot", "follow_up"])
def test_every_automation_is_held_back_but_people_are_not(sender: Sender) -> None:
    state = contact(human_owner=held(since=TOOK_OVER))
    at = TOOK_OVER + timedelta(minutes=30)

    assert decide(ask(state, sender=sender), at).reasons[0] is ReasonCode.HUMAN_OWNS_CONVERSATION
    assert decide(ask(state, sender=AGENT), at).path is Path.FREE_FORM
    assert decide(ask(contact(), sender=sender), at).path is Path.FREE_FORM  # the bot's conversation


def test_a_path_closed_anyway_keeps_its_reason_and_names_the_owner() -> None:
    state = contact(human_owner=held(since=AFTER_WINDOW - timedelta(hours=1)))
    template_or_nothing = decide(ask(state, sender=BOT), AFTER_WINDOW)

    assert template_or_nothing.reasons[0] is ReasonCode.WINDOW_CLOSED
    assert ReasonCode.HUMAN_OWNS_CONVERSATION in template_or_nothing.reasons


def test_an_allowed_path_that_closes_before_the_idle_return_never_opens_for_the_bot() -> None:
    window_closes = LAST_MESSAGE + timedelta(hours=24)
    state = contact(human_owner=held(since=window_closes - timedelta(hours=1)))

    decision = decide(ask(state, sender=BOT), window_closes - timedelta(minutes=30))

    free_form = next(o for o in decision.options if o.path is Path.FREE_FORM)
    assert free_form.opens_at is None and free_form.closes_at == window_closes


def test_a_takeover_after_the_instant_asked_about_has_not_happened_yet() -> None:
    state = contact(human_owner=held(since=TOOK_OVER))

    before = decide(ask(state, sender=BOT), TOOK_OVER - MS)

    assert before.path is Path.FREE_FORM
    assert before.valid_until == TOOK_OVER  # the answer changes when the agent takes over


def test_a_hold_with_no_instant_has_lapsed() -> None:
    state = contact(human_owner=held())
    assert decide(ask(state, sender=BOT), TOOK_OVER).path is Path.FREE_FORM


# --- defect 8: smaller wrong answers --------------------------------------------------------------


def test_a_bot_asking_for_human_agent_inside_the_window_is_human_only_not_sent_untagged() -> None:
    decision = decide(ask(sender=BOT, tag="HUMAN_AGENT"), LAST_MESSAGE + timedelta(hours=3))

    assert not decision.allowed
    assert decision.reasons == (ReasonCode.HUMAN_ONLY,)
    # A person asking for it inside the window still goes untagged, and a bot's plain message too.
    assert (
        decide(ask(sender=AGENT, tag="HUMAN_AGENT"), LAST_MESSAGE + timedelta(hours=3)).path is Path.FREE_FORM
    )
    assert decide(ask(sender=BOT), LAST_MESSAGE + timedelta(hours=3)).path is Path.FREE_FORM


def test_a_bot_asking_for_human_agent_after_seven_days_is_still_human_only() -> None:
    decision = decide(ask(sender=BOT, tag="HUMAN_AGENT"), LAST_MESSAGE + timedelta(days=8))
    assert decision.reasons == (ReasonCode.HUMAN_ONLY,)


def test_a_persons_feedback_template_on_instagram_never_goes_under_human_agent() -> None:
    two_days_later = LAST_MESSAGE + timedelta(days=2)  # HUMAN_AGENT open, no free-form
    decision = decide(
        ask(contact(Channel.INSTAGRAM), sender=AGENT, content=feedback_template()), two_days_later
    )

    assert not decision.allowed
    assert set(decision.reasons) == {ReasonCode.CONTENT_INVALID}
    assert "Instagram has no feedback template" in decision.explanation
    # On Messenger it goes with its own tag, and never under HUMAN_AGENT even when asked.
    messenger = decide(ask(sender=AGENT, content=feedback_template()), two_days_later)
    assert messenger.path is Path.CUSTOMER_FEEDBACK
    asked = decide(ask(sender=AGENT, content=feedback_template(), tag="HUMAN_AGENT"), two_days_later)
    assert asked.reasons == (ReasonCode.CONTENT_INVALID, ReasonCode.WINDOW_CLOSED)


@pytest.mark.parametrize(
    "parameters", [(), ("Ana",), ("Ana", "#4411", "extra")], ids=["none", "fewer", "more"]
)
def test_a_template_with_the_wrong_number_of_parameters_is_content_invalid(
    parameters: tuple[str, ...],
) -> None:
    content = template(body="Hi {{1}}, your order {{2}} has shipped.", parameters=parameters)
    decision = decide(ask(contact(Channel.WHATSAPP), sender=BOT, content=content), AFTER_WINDOW)

    assert decision.reasons == (ReasonCode.CONTENT_INVALID,)
    assert f"takes 2 parameter(s) and {len(parameters)} were given" in decision.explanation
    filled = template(body="Hi {{1}}, your order {{2}} has shipped.", parameters=("Ana", "#4411"))
    assert decide(ask(contact(Channel.WHATSAPP), sender=BOT, content=filled), AFTER_WINDOW).allowed


def test_named_parameters_count_once_each() -> None:
    content = template(
        body="Hi {{first_name}}, {{first_name}}'s order is {{status}}.", parameters=("Ana", "packed")
    )
    decision = decide(ask(contact(Channel.WHATSAPP), sender=BOT, content=content), AFTER_WINDOW)
    assert decision.path is Path.UTILITY_TEMPLATE


def test_the_promotional_screen_reads_the_template_as_rendered() -> None:
    content = template(body="Hi {{1}}, your order {{2}}", parameters=("Ana", "shipped. Buy now 50% off"))
    decision = decide(ask(contact(Channel.WHATSAPP), sender=BOT, content=content), AFTER_WINDOW)

    assert decision.reasons == (ReasonCode.PROMOTIONAL_CONTENT,)
    assert decision.matched_phrase == "50% off"
