"""effective_owner (idle return to the bot) and conversation_state (the console's label)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from windowkeeper.instants import to_ms
from windowkeeper.ownership import ConversationState, conversation_state, effective_owner
from windowkeeper.policy.model import (
    AccountProfile,
    Channel,
    ConsentScope,
    ContactState,
    Option,
    Path,
    ReasonCode,
)
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.keys import contact_pk

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
FOUR_HOURS = 4 * 3600


def page(idle_return_seconds: int = FOUR_HOURS) -> AccountProfile:
    return AccountProfile(
        channel=Channel.MESSENGER,
        account_id="104857600000001",
        tenant_id="acme",
        human_idle_return_seconds=idle_return_seconds,
    )


def contact_record(**fields: object) -> ContactRecord:
    return ContactRecord(
        pk=contact_pk(Channel.MESSENGER, "104857600000001", "6543210987654321"),
        tenant_id="acme",
        channel=Channel.MESSENGER,
        account_id="104857600000001",
        contact_id="6543210987654321",
        **fields,
    )


def agent_holding(since: datetime, last_activity: datetime | None) -> ContactRecord:
    return contact_record(
        owner="human",
        owner_agent_id="agent-maria",
        owner_since_ms=to_ms(since),
        owner_last_activity_ms=to_ms(last_activity) if last_activity else None,
    )


# --- effective_owner ---------------------------------------------------------------------------------
def test_bot_owned_conversation_stays_with_the_bot() -> None:
    ownership = effective_owner(contact_record(), page(), NOW)
    assert ownership.owner == "bot"
    assert ownership.agent_id is None
    assert ownership.returns_to_bot_at is None


def test_agent_active_an_hour_ago_still_holds_the_conversation_for_three_more_hours() -> None:
    record = agent_holding(since=NOW - timedelta(hours=2), last_activity=NOW - timedelta(hours=1))
    ownership = effective_owner(record, page(), NOW)
    assert ownership.owner == "human"
    assert ownership.agent_id == "agent-maria"
    assert ownership.since == NOW - timedelta(hours=2)
    assert ownership.returns_to_bot_at == NOW + timedelta(hours=3)
    assert not ownership.returned_on_idle


@pytest.mark.parametrize(
    ("idle_for", "owner"),
    [
        (timedelta(seconds=FOUR_HOURS) - timedelta(milliseconds=1), "human"),  # just inside
        (timedelta(seconds=FOUR_HOURS), "bot"),  # exactly at the idle limit
        (timedelta(seconds=FOUR_HOURS) + timedelta(milliseconds=1), "bot"),  # just after
    ],
)
def test_idle_return_boundary(idle_for: timedelta, owner: str) -> None:
    record = agent_holding(since=NOW - timedelta(days=1), last_activity=NOW - idle_for)
    assert effective_owner(record, page(), NOW).owner == owner


def test_idle_return_reports_when_the_bot_got_it_back() -> None:
    last_activity = NOW - timedelta(hours=5)
    ownership = effective_owner(
        agent_holding(since=NOW - timedelta(hours=6), last_activity=last_activity), page(), NOW
    )
    assert ownership.returned_on_idle
    assert ownership.agent_id is None
    assert ownership.since == last_activity + timedelta(seconds=FOUR_HOURS)


def test_idle_clock_starts_at_takeover_when_the_agent_never_acted() -> None:
    record = agent_holding(since=NOW - timedelta(hours=3), last_activity=None)
    ownership = effective_owner(record, page(), NOW)
    assert ownership.owner == "human"
    assert ownership.returns_to_bot_at == NOW + timedelta(hours=1)


def test_account_idle_setting_is_honoured() -> None:
    record = agent_holding(since=NOW - timedelta(hours=1), last_activity=NOW - timedelta(minutes=31))
    assert effective_owner(record, page(idle_return_seconds=1800), NOW).owner == "bot"
    assert effective_owner(record, page(idle_return_seconds=3600), NOW).owner == "human"


def test_human_owner_without_any_instant_has_lapsed() -> None:
    # A hold is a lease: without an instant to count idleness from, the bot has the conversation.
    record = contact_record(owner="human", owner_agent_id="agent-maria")
    ownership = effective_owner(record, page(), NOW)
    assert ownership.owner == "bot"
    assert ownership.returned_on_idle


# --- conversation_state --------------------------------------------------------------------------
def state(**fields: object) -> ContactState:
    return ContactState(channel=Channel.MESSENGER, account_id="104857600000001", contact_id="6543", **fields)


def option(path: Path, allowed: bool, closes_at: datetime | None = None, *reasons: ReasonCode) -> Option:
    return Option(path=path, allowed_now=allowed, closes_at=closes_at, reasons=reasons)


LEAD = timedelta(hours=1)


def label(
    contact: ContactState, options: list[Option], free_form_closes_at: datetime | None = None
) -> ConversationState:
    return conversation_state(
        contact, options, free_form_closes_at=free_form_closes_at, lead_time=LEAD, now=NOW
    )


def test_free_form_open_for_hours_is_open() -> None:
    options = [option(Path.FREE_FORM, True, NOW + timedelta(hours=5)), option(Path.HUMAN_AGENT, False)]
    assert label(state(), options) is ConversationState.OPEN


@pytest.mark.parametrize(
    ("closes_in", "expected"),
    [
        (LEAD + timedelta(milliseconds=1), ConversationState.OPEN),
        (LEAD, ConversationState.CLOSING_SOON),
        (timedelta(minutes=5), ConversationState.CLOSING_SOON),
    ],
)
def test_closing_soon_within_the_accounts_lead_time(
    closes_in: timedelta, expected: ConversationState
) -> None:
    options = [option(Path.FREE_FORM, True, NOW + closes_in)]
    assert label(state(), options) is expected


def test_closing_instant_falls_back_to_window_closings() -> None:
    options = [option(Path.FREE_FORM, True)]
    assert (
        label(state(), options, free_form_closes_at=NOW + timedelta(minutes=10))
        is ConversationState.CLOSING_SOON
    )
    assert label(state(), options, free_form_closes_at=NOW + timedelta(hours=10)) is ConversationState.OPEN


def test_channel_without_window_is_open_with_no_countdown() -> None:
    assert label(state(), [option(Path.DIRECT, True)]) is ConversationState.OPEN


def test_only_human_agent_left() -> None:
    options = [
        option(Path.FREE_FORM, False, None, ReasonCode.WINDOW_CLOSED),
        option(Path.HUMAN_AGENT, True, NOW + timedelta(days=5)),
        option(Path.UTILITY_TEMPLATE, True),
    ]
    assert label(state(), options) is ConversationState.HUMAN_AGENT_ONLY


def test_only_templates_left() -> None:
    options = [
        option(Path.FREE_FORM, False, None, ReasonCode.WINDOW_CLOSED),
        option(Path.HUMAN_AGENT, False, None, ReasonCode.WINDOW_CLOSED),
        option(Path.UTILITY_TEMPLATE, True),
    ]
    assert label(state(), options) is ConversationState.TEMPLATE_ONLY


def test_nothing_left_is_expired() -> None:
    options = [option(Path.FREE_FORM, False), option(Path.HUMAN_AGENT, False)]
    assert label(state(), options) is ConversationState.EXPIRED


def test_opted_out_of_everything_wins_over_an_open_window() -> None:
    options = [option(Path.FREE_FORM, True, NOW + timedelta(hours=5))]
    assert label(state(opted_out=frozenset({ConsentScope.ALL})), options) is ConversationState.OPTED_OUT


def test_marketing_opt_out_alone_leaves_the_conversation_open() -> None:
    options = [option(Path.FREE_FORM, True, NOW + timedelta(hours=5))]
    assert label(state(opted_out=frozenset({ConsentScope.MARKETING})), options) is ConversationState.OPEN


def test_outside_window_opt_out_shows_opted_out_once_the_window_is_gone() -> None:
    contact = state(opted_out=frozenset({ConsentScope.OUTSIDE_WINDOW}))
    assert label(contact, [option(Path.FREE_FORM, True, NOW + timedelta(hours=5))]) is ConversationState.OPEN
    closed = [option(Path.FREE_FORM, False), option(Path.UTILITY_TEMPLATE, False, None, ReasonCode.OPTED_OUT)]
    assert label(contact, closed) is ConversationState.OPTED_OUT


def test_unreachable_contact() -> None:
    contact = state(unreachable_since=NOW - timedelta(days=1), unreachable_reason="meta:551/1545041")
    assert label(contact, [option(Path.FREE_FORM, False)]) is ConversationState.UNREACHABLE
