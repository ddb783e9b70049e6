"""The contact as of an earlier instant, folded from its journal (pure: no table)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowkeeper import errors
from windowkeeper.asof import LONGEST_LOOKBACK, consent_entry, record_as_of, require_answerable, verdict_entry
from windowkeeper.http import status_of
from windowkeeper.instants import to_ms
from windowkeeper.policy import rules
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.history_records import HistoryEntry, history_item
from windowkeeper.store.keys import contact_pk

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
PK = contact_pk(Channel.MESSENGER, "104812345678901", "7100000000000001")


def stored(**fields: Any) -> ContactRecord:
    return ContactRecord(
        pk=PK,
        tenant_id="acme",
        channel=Channel.MESSENGER,
        account_id="104812345678901",
        contact_id="7100000000000001",
        **fields,
    )


def message(at: datetime, entry_id: str) -> HistoryEntry:
    return HistoryEntry(
        entry_id=entry_id,
        at_ms=to_ms(at),
        source="webhook",
        kind="message",
        action=CustomerActionKind.MESSAGE,
        opens_window=True,
    )


def keyword(at: datetime, entry_id: str, *, out: bool) -> HistoryEntry:
    scopes = (ConsentScope.ALL,)
    return HistoryEntry(
        entry_id=entry_id,
        at_ms=to_ms(at),
        source="webhook",
        kind="message",
        opt_out=scopes if out else (),
        opt_in=() if out else scopes,
        consent_source="keyword",
    )


THREE_DAYS_AGO = NOW - timedelta(days=3)
AN_HOUR_AGO = NOW - timedelta(hours=1)


def test_a_customer_who_wrote_three_days_ago_and_an_hour_ago_had_written_two_days_ago() -> None:
    record = stored(last_customer_action_ms=to_ms(AN_HOUR_AGO), last_customer_action_kind="message")
    journal = [message(THREE_DAYS_AGO, "m1"), message(AN_HOUR_AGO, "m2")]

    then = record_as_of(record, journal, NOW - timedelta(days=2))

    assert then.last_customer_action_ms == to_ms(THREE_DAYS_AGO)
    assert then.to_state().last_customer_action_kind is CustomerActionKind.MESSAGE


def test_before_the_first_message_the_contact_had_never_written() -> None:
    record = stored(last_customer_action_ms=to_ms(AN_HOUR_AGO))
    then = record_as_of(record, [message(AN_HOUR_AGO, "m1")], NOW - timedelta(days=1))
    assert then.last_customer_action_ms is None


def test_consent_as_of_is_the_newest_word_by_then_whatever_order_the_journal_lists() -> None:
    stop, start = NOW - timedelta(days=2), NOW - timedelta(days=1)
    journal = [keyword(start, "k2", out=False), keyword(stop, "k1", out=True)]
    record = stored(consent_all_out_ms=to_ms(stop), consent_all_in_ms=to_ms(start))

    def opted_out(at: datetime) -> frozenset[ConsentScope]:
        return record_as_of(record, journal, at).scopes_opted_out()

    assert opted_out(stop + timedelta(hours=1)) == {ConsentScope.ALL}
    assert opted_out(start + timedelta(hours=1)) == frozenset()
    assert opted_out(stop - timedelta(hours=1)) == frozenset()
    assert record.scopes_opted_out() == frozenset()  # the item alone knows only the newest word


def test_an_agents_marketing_opt_in_is_an_opt_in_on_record_from_its_instant_on() -> None:
    """As the consent route stores it: the scope's opt-in, and a marketing opt-in on record."""
    entry = consent_entry("a1", NOW, source="agent", opt_in=[ConsentScope.MARKETING])
    before = record_as_of(stored(), [entry], NOW - timedelta(seconds=1))
    after = record_as_of(stored(), [entry], NOW)
    assert before.all_marketing_opt_ins() == []
    assert [o.opted_in_ms for o in after.all_marketing_opt_ins()] == [to_ms(NOW)]
    everything = consent_entry("a2", NOW, source="agent", opt_in=[ConsentScope.ALL])
    assert record_as_of(stored(), [everything], NOW).consent_on_record


def test_metas_verdicts_are_journaled_and_never_expire() -> None:
    entry = verdict_entry(
        "d1",
        NOW,
        window_closed_early=False,
        unreachable_reason="meta:131026",
        marketing_opted_out=True,
        marketing_backoff_until=None,
    )
    assert entry is not None and entry.lasts
    assert "expires_at" not in history_item(PK, entry, retention_days=30)
    later = record_as_of(stored(), [entry], NOW + timedelta(minutes=1))
    assert later.unreachable_since_ms == to_ms(NOW)
    assert later.scopes_opted_out() == {ConsentScope.MARKETING}
    assert "expires_at" in history_item(PK, message(NOW, "m"), retention_days=30)


def test_an_instant_the_retention_no_longer_covers_is_refused_with_422() -> None:
    require_answerable(NOW - timedelta(days=23), NOW, 30)
    with pytest.raises(errors.DomainError) as refused:
        require_answerable(NOW - timedelta(days=23, seconds=1), NOW, 30)
    assert (status_of(refused.value), refused.value.reason) == (422, "history_expired")


def _spans(value: Any) -> list[timedelta]:
    """Every timedelta inside a rule's parameters (nested dataclasses and tuples too)."""
    if isinstance(value, timedelta):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _spans(getattr(value, f.name))]
    if isinstance(value, tuple | list | frozenset | set):
        return [s for item in value for s in _spans(item)]
    return []


def test_no_rule_looks_back_further_than_the_journal_horizon_allows_for() -> None:
    spans = [s for rule in rules.RULES for s in _spans(rule.params)]
    assert spans  # the scan sees the rules' windows
    backward = [s for s in spans if s <= timedelta(days=31)]  # Viber's month counts usage, not history
    assert max(backward) <= LONGEST_LOOKBACK


@settings(max_examples=100, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=10 * 24 * 60), min_size=1, max_size=8, unique=True),
    ask=st.integers(min_value=0, max_value=10 * 24 * 60),
    seed=st.randoms(use_true_random=False),
)
def test_the_fold_ignores_the_order_of_the_journal(offsets: list[int], ask: int, seed: Any) -> None:
    start = NOW - timedelta(days=10)
    journal = [
        message(start + timedelta(minutes=m), f"m{i}")
        if i % 3
        else keyword(start + timedelta(minutes=m), f"k{i}", out=i % 2 == 0)
        for i, m in enumerate(offsets)
    ]
    shuffled = list(journal)
    seed.shuffle(shuffled)
    at = start + timedelta(minutes=ask)
    assert record_as_of(stored(), shuffled, at) == record_as_of(stored(), journal, at)
    expected = max((e.at_ms for e in journal if e.action and e.at_ms <= to_ms(at)), default=None)
    assert record_as_of(stored(), journal, at).last_customer_action_ms == expected
