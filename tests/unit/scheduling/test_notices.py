"""The notice chain: which expiry notices a window gets, in which order, and what a late sweep skips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.scheduling.notices import (
    NoticeKind,
    agent_message,
    due_attributes,
    first_notice,
    next_notice,
    notice_chain,
)
from windowkeeper.store.keys import DUE_SHARDS

WROTE_AT = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
LEAD = timedelta(hours=1)


@dataclass(frozen=True)
class Closings:
    free_form_closes_at: datetime | None
    human_agent_closes_at: datetime | None = None


MESSENGER_WINDOW = Closings(WROTE_AT + timedelta(hours=24), WROTE_AT + timedelta(days=7))


def test_messenger_with_human_agent_gets_four_notices_in_time_order() -> None:
    chain = notice_chain(Channel.MESSENGER, MESSENGER_WINDOW, LEAD)

    assert [n.kind for n in chain] == [
        NoticeKind.WINDOW_CLOSING_SOON,
        NoticeKind.WINDOW_CLOSED,
        NoticeKind.HUMAN_AGENT_CLOSING_SOON,
        NoticeKind.HUMAN_AGENT_CLOSED,
    ]
    assert chain[0].due_at == WROTE_AT + timedelta(hours=23)
    assert chain[3].due_at == WROTE_AT + timedelta(days=7)


def test_whatsapp_never_gets_human_agent_notices_even_if_a_closing_is_given() -> None:
    chain = notice_chain(Channel.WHATSAPP, MESSENGER_WINDOW, LEAD)

    assert [n.kind for n in chain] == [NoticeKind.WINDOW_CLOSING_SOON, NoticeKind.WINDOW_CLOSED]


def test_channel_without_window_gets_no_notice() -> None:
    assert notice_chain(Channel.TELEGRAM, Closings(None), LEAD) == []


def test_late_sweep_skips_closing_soon_once_the_window_closed() -> None:
    chain = notice_chain(Channel.MESSENGER, MESSENGER_WINDOW, LEAD)
    late = WROTE_AT + timedelta(days=3)

    assert first_notice(chain, late) is not None
    assert first_notice(chain, late).kind is NoticeKind.WINDOW_CLOSED  # type: ignore[union-attr]
    following = next_notice(chain, NoticeKind.WINDOW_CLOSED, late)
    assert following is not None and following.kind is NoticeKind.HUMAN_AGENT_CLOSING_SOON


def test_after_the_last_notice_there_is_none() -> None:
    chain = notice_chain(Channel.MESSENGER, MESSENGER_WINDOW, LEAD)
    assert next_notice(chain, NoticeKind.HUMAN_AGENT_CLOSED, WROTE_AT + timedelta(days=8)) is None


@given(
    lead_minutes=st.integers(min_value=1, max_value=600),
    sweep_delay_minutes=st.integers(min_value=0, max_value=60 * 24 * 8),
)
def test_each_next_notice_is_later_in_the_chain_and_never_a_stale_closing_soon(
    lead_minutes: int, sweep_delay_minutes: int
) -> None:
    lead = timedelta(minutes=lead_minutes)
    chain = notice_chain(Channel.INSTAGRAM, MESSENGER_WINDOW, lead)
    now = WROTE_AT + timedelta(minutes=sweep_delay_minutes)
    seen = []
    notice = first_notice(chain, now)
    while notice is not None:
        seen.append(notice.kind)
        assert not (notice.kind.is_closing_soon and notice.closes_at <= now)
        notice = next_notice(chain, notice.kind, now)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen, key=[n.kind for n in chain].index)


def test_due_attributes_put_an_overdue_notice_in_the_current_minute_bucket() -> None:
    chain = notice_chain(Channel.WHATSAPP, Closings(WROTE_AT + timedelta(hours=24)), LEAD)
    now = WROTE_AT + timedelta(hours=23, minutes=30)  # closing soon was due half an hour ago
    attrs = due_attributes("C#whatsapp#109#4915", chain[0], to_ms(WROTE_AT), now)

    assert attrs["due_bucket"].startswith("DUE#2026-11-21T08:45#")
    assert 0 <= int(attrs["due_bucket"].rsplit("#", 1)[1]) < DUE_SHARDS
    assert attrs["due_at_ms"] == to_ms(chain[0].due_at)  # the real due instant is kept
    assert (attrs["due_kind"], attrs["due_window_ms"]) == ("window.closing_soon", to_ms(WROTE_AT))


def test_agent_message_names_the_way_out_per_channel() -> None:
    whatsapp = notice_chain(Channel.WHATSAPP, Closings(WROTE_AT + timedelta(hours=24)), LEAD)[0]
    messenger = notice_chain(Channel.MESSENGER, MESSENGER_WINDOW, LEAD)[0]

    assert agent_message(Channel.WHATSAPP, whatsapp, LEAD, human_agent_follows=False) == (
        "The messaging window closes at 2026-11-21 09:15 UTC: reply within the hour or only an approved "
        "template will work."
    )
    assert "HUMAN_AGENT" in agent_message(Channel.MESSENGER, messenger, LEAD, human_agent_follows=True)
    assert "30 minutes" in agent_message(
        Channel.MESSENGER, messenger, timedelta(minutes=30), human_agent_follows=True
    )
