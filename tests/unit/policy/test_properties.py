"""Properties of the engine over generated contacts, accounts, senders, requests and instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.policy.conftest import AGENT, BOT, SCHEDULE, feedback_template, template, text
from windowkeeper.policy.engine import check, decide
from windowkeeper.policy.model import (
    AccountProfile,
    AccountUsage,
    Channel,
    Comment,
    ConsentScope,
    ContactState,
    CustomerActionKind,
    Decision,
    DecisionInput,
    EntryPoint,
    HumanOwner,
    MarketingOptIn,
    OutboundRecord,
    OutboundRequest,
    Path,
    Purpose,
    TemplateCategory,
    TemplateStatus,
)
from windowkeeper.policy.rules import MARKETING_PATHS

EARLIEST = datetime(2019, 1, 1)
LATEST = datetime(2027, 6, 1)

instants = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC))
offsets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))
channels = st.sampled_from(list(Channel))
kinds = st.sampled_from(list(CustomerActionKind))
texts = st.sampled_from(
    [
        "Your order #4411 has shipped.",
        "Sorry for the wait, your refund is processed.",
        "Use code WINTER for 20% off!",
        "Frete grátis hoje",
        "Tu pedido sale hoy",
    ]
)
contents = st.one_of(
    texts.map(text),
    st.builds(
        template,
        st.sampled_from(list(TemplateCategory)),
        st.sampled_from([TemplateStatus.APPROVED, TemplateStatus.APPROVED, TemplateStatus.PAUSED]),
        texts,
    ),
    st.just(feedback_template()),
)
requests = st.builds(
    OutboundRequest,
    tag=st.sampled_from(
        [
            None,
            None,
            "HUMAN_AGENT",
            "ACCOUNT_UPDATE",
            "POST_PURCHASE_UPDATE",
            "SHIPPING_UPDATE",
            "CUSTOMER_FEEDBACK",
        ]
    ),
    purpose=st.none() | st.sampled_from(list(Purpose)),
    confirm_not_promotional=st.booleans(),
    comment_id=st.sampled_from([None, None, "c-1"]),
)
senders = st.sampled_from([AGENT, BOT, SCHEDULE])


@st.composite
def contact_states(draw: st.DrawFn, channel: Channel, at: datetime) -> ContactState:
    def near() -> datetime:
        return at - draw(offsets) + draw(st.sampled_from([timedelta(0), timedelta(0), timedelta(hours=3)]))

    last = draw(st.none() | st.just(near()))
    outbound = tuple(
        OutboundRecord(at=near(), path=draw(st.sampled_from(list(Path))))
        for _ in range(draw(st.integers(0, 4)))
    )
    return ContactState(
        channel=channel,
        account_id="acct",
        contact_id="contact",
        last_customer_action_at=last,
        last_customer_action_kind=draw(kinds) if last else None,
        entry_point=draw(st.none() | st.sampled_from(list(EntryPoint))),
        ad_conversation_started_at=last if draw(st.booleans()) else None,
        pending_comment=Comment(comment_id="c-1", at=near()) if draw(st.booleans()) else None,
        subscribed=draw(st.booleans()),
        consent_on_record=draw(st.booleans()),
        opted_out=frozenset(draw(st.sets(st.sampled_from(list(ConsentScope)), max_size=2))),
        marketing_opt_ins=(MarketingOptIn(token="tok", opted_in_at=near()),) if draw(st.booleans()) else (),
        recipient_country_code=draw(st.sampled_from([None, "1", "44", "55"])),
        recipient_region=draw(st.sampled_from([None, "US", "BR", "DE"])),
        marketing_backoff_until=near() + timedelta(days=1) if draw(st.booleans()) else None,
        unreachable_since=near() if draw(st.integers(0, 9)) == 0 else None,
        window_closed_early_at=near() if draw(st.integers(0, 9)) == 0 else None,
        outbound=outbound,
        human_owner=(
            HumanOwner(agent_id="agent-1", since=near(), last_activity_at=draw(st.none() | st.just(near())))
            if draw(st.integers(0, 3)) == 0
            else None
        ),
    )


@st.composite
def accounts(draw: st.DrawFn, channel: Channel) -> AccountProfile:
    return AccountProfile(
        channel=channel,
        account_id="acct",
        tenant_id="t",
        permissions=frozenset(
            draw(st.sets(st.sampled_from(["human_agent", "page_utility_messaging", "news_page_index"])))
        ),
        ctm_seven_day_window=draw(st.booleans()),
        tagged_messages_per_24h_cap=draw(st.sampled_from([None, 1, 2])),
        viber_bot_created_on=draw(st.sampled_from([None, date(2023, 1, 1), date(2024, 3, 1)])),
        viber_paid_messages=draw(st.booleans()),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DecisionInput, datetime]:
    channel = draw(channels)
    at = draw(instants)
    inp = DecisionInput(
        contact=draw(contact_states(channel, at)),
        account=draw(accounts(channel)),
        sender=draw(senders),
        content=draw(contents),
        request=draw(requests),
        usage=AccountUsage(bot_initiated_this_month=draw(st.sampled_from([0, 9_999, 10_000]))),
        every_claim_known=draw(st.booleans()),
    )
    return inp, at


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _comparable(decision: Decision) -> dict[str, Any]:
    return decision.model_dump(exclude={"decided_at", "explanation"})


@PROPERTY_SETTINGS
@given(scenarios())
def test_decide_never_raises_and_always_explains(scenario: tuple[DecisionInput, datetime]) -> None:
    inp, at = scenario
    decision = decide(inp, at)
    assert decision.explanation
    assert decision.allowed == (decision.path is not None)
    assert decision.allowed or decision.reasons
    if decision.valid_until is not None:
        assert decision.valid_until > at


@PROPERTY_SETTINGS
@given(scenarios())
def test_nothing_free_form_on_a_closed_window(scenario: tuple[DecisionInput, datetime]) -> None:
    inp, at = scenario
    decision = decide(inp, at)
    if decision.path is not Path.FREE_FORM:
        return
    last = inp.contact.last_customer_action_at
    assert last is not None and last <= at
    longest = timedelta(hours=48) if inp.contact.channel is Channel.WECHAT else timedelta(hours=24)
    ad_start = inp.contact.ad_conversation_started_at
    in_ad_window = (
        inp.account.ctm_seven_day_window and ad_start is not None and at < ad_start + timedelta(days=7)
    )
    assert at < last + longest or in_ad_window


@PROPERTY_SETTINGS
@given(scenarios())
def test_no_human_agent_for_a_non_human(scenario: tuple[DecisionInput, datetime]) -> None:
    inp, at = scenario
    decision = decide(inp, at)
    if not inp.sender.is_human:
        assert decision.path is not Path.HUMAN_AGENT
        assert not any(o.path is Path.HUMAN_AGENT and o.allowed_now for o in decision.options)


@PROPERTY_SETTINGS
@given(scenarios(), st.floats(min_value=0, max_value=1))
def test_a_later_customer_message_never_narrows_what_is_allowed(
    scenario: tuple[DecisionInput, datetime], fraction: float
) -> None:
    inp, at = scenario
    earlier = inp.contact.last_customer_action_at
    if earlier is None or earlier > at:
        return
    later = earlier + (at - earlier) * fraction
    newer = inp.contact.model_copy(
        update={"last_customer_action_at": later, "last_customer_action_kind": CustomerActionKind.MESSAGE}
    )
    before = decide(inp, at)
    after = decide(inp.model_copy(update={"contact": newer}), at)
    if before.allowed:
        assert after.allowed, (before.path, after.reasons)


@PROPERTY_SETTINGS
@given(scenarios())
def test_an_opted_out_contact_gets_no_marketing(scenario: tuple[DecisionInput, datetime]) -> None:
    inp, at = scenario
    decision = decide(inp, at)
    scopes = inp.contact.opted_out
    if ConsentScope.ALL in scopes:
        assert not decision.allowed
    if ConsentScope.MARKETING in scopes:
        assert decision.path not in MARKETING_PATHS
        assert not (decision.allowed and inp.request.purpose is Purpose.MARKETING)
        assert not any(o.path in MARKETING_PATHS and o.allowed_now for o in decision.options)


@PROPERTY_SETTINGS
@given(scenarios(), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_the_decision_holds_until_valid_until(
    scenario: tuple[DecisionInput, datetime], fraction: float
) -> None:
    inp, at = scenario
    first = decide(inp, at)
    horizon = first.valid_until or at + timedelta(days=400)
    later = at + (horizon - at) * fraction
    if later >= horizon:  # rounding at the microsecond
        return
    assert _comparable(decide(inp, later)) == _comparable(first)


@PROPERTY_SETTINGS
@given(scenarios(), st.sampled_from([0, 0, -5, 9, 14]))
def test_check_gives_the_same_yes_no_and_path_as_decide(
    scenario: tuple[DecisionInput, datetime], offset_hours: int
) -> None:
    # Some instants carry a non-UTC offset: the per-day rule index is keyed by UTC date.
    inp, at = scenario
    at = at.astimezone(timezone(timedelta(hours=offset_hours)))
    decision = decide(inp, at)
    answer = check(inp, at)
    assert (answer.allowed, answer.path) == (decision.allowed, decision.path)
