"""The contact writer's plans (pure): what a blind first attempt guards, what a retry keeps."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.ingest.meta_fixtures import BASE_MS, PSID_A
from windowkeeper import aws
from windowkeeper.ingest.delta import ConsentDelta, ContactDelta, RoutingDelta, WindowChange
from windowkeeper.ingest.observations import ContactKey
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.contact_write_plan import DUE_ATTRIBUTES
from windowkeeper.store.contact_writer import ContactWriter
from windowkeeper.store.keys import contact_pk

KEY = ContactKey(Channel.MESSENGER, "104800000000001", PSID_A)
WRITER = ContactWriter("table", lambda record: None)
WINDOW = WindowChange(at_ms=BASE_MS, kind=CustomerActionKind.MESSAGE, event_id="m_1")
STOP = ConsentDelta(opted_out_ms=((ConsentScope.ALL, BASE_MS),))
DUE = {
    "due_bucket": "DUE#2026-11-22T21:00#03",
    "due_at_ms": BASE_MS + 23 * 3600_000,
    "due_kind": "window.closing_soon",
    "due_window_ms": BASE_MS,
}


def delta(**parts: object) -> ContactDelta:
    return ContactDelta(key=KEY, tenant_id="acme", customer_event=True, **parts)  # type: ignore[arg-type]


def test_blind_plan_guards_every_instant_and_each_consent_fact_on_its_own() -> None:
    part, window_applied = WRITER.plan(delta(window=WINDOW, consent=STOP), None, DUE)
    assert window_applied
    assert part.newer == {"last_customer_action_ms": BASE_MS, "consent_all_out_ms": BASE_MS}
    assert part.equals == {}
    assert part.set["consent_all_out_ms"] == BASE_MS
    assert part.set["due_window_ms"] == BASE_MS and part.set["subscribed"] is True
    assert part.set["account_shard"].startswith("A#messenger#104800000000001#")


def test_retry_drops_the_window_when_the_stored_one_is_newer_and_keeps_consent() -> None:
    old = {
        "last_customer_action_ms": BASE_MS + 1,
        "consent_marketing_out_ms": BASE_MS + 5,  # a newer fact of another scope changes nothing
        "consent_all_in_ms": BASE_MS - 1,
        "tenant_id": "acme",
    }
    part, window_applied = WRITER.plan(delta(window=WINDOW, consent=STOP), old, DUE)
    assert not window_applied
    assert "last_customer_action_ms" not in part.set and "due_bucket" not in part.set
    assert part.set["consent_all_out_ms"] == BASE_MS
    assert part.newer == {"consent_all_out_ms": BASE_MS}


def test_retry_of_a_fully_applied_delta_plans_nothing_to_write() -> None:
    first, _ = WRITER.plan(delta(window=WINDOW, consent=STOP), None, DUE)
    stored = {**first.set, "pk": contact_pk(KEY.channel, KEY.account_id, KEY.contact_id)}
    again, window_applied = WRITER.plan(delta(window=WINDOW, consent=STOP), stored, DUE)
    assert again.empty and not window_applied


def test_no_due_notice_removes_the_old_one() -> None:
    part, _ = WRITER.plan(delta(window=WINDOW), None, None)
    assert set(part.remove) == {"due_bucket", "due_at_ms", "due_kind", "due_window_ms"}


def test_page_inbox_activity_makes_a_human_owner_since_its_first_activity() -> None:
    routing = RoutingDelta(at_ms=BASE_MS, owner_at_ms=BASE_MS, owner="human", first_activity_ms=BASE_MS - 5)
    part, _ = WRITER.plan(delta(routing=routing), None, None)
    assert part.set["owner"] == "human" and part.set["owner_last_activity_ms"] == BASE_MS
    # "since" only ever moves to an earlier activity, and only while no explicit handover is known
    assert part.set["owner_since_ms"] == BASE_MS - 5
    assert part.older == {"owner_since_ms": BASE_MS - 5}
    assert part.equals == {"routing_explicit_ms": None}


def test_an_explicit_handover_sets_since_under_its_own_guard() -> None:
    routing = RoutingDelta(
        at_ms=BASE_MS, owner_at_ms=BASE_MS, owner="bot", app_changed_ms=BASE_MS, explicit_ms=BASE_MS
    )
    old = {"routing_changed_ms": BASE_MS + 10, "owner_since_ms": BASE_MS + 10, "tenant_id": "acme"}
    part, _ = WRITER.plan(delta(routing=routing), old, None)
    assert "owner" not in part.set  # a newer routing event decides who owns it...
    assert part.set["owner_since_ms"] == BASE_MS  # ...and this handover still says since when
    assert part.newer == {"routing_explicit_ms": BASE_MS, "routing_app_changed_ms": BASE_MS}


def test_release_to_the_bot_clears_the_human_clock_and_routing_app() -> None:
    routing = RoutingDelta(at_ms=BASE_MS, owner_at_ms=BASE_MS, owner="bot", app_changed_ms=BASE_MS)
    part, _ = WRITER.plan(delta(routing=routing), None, None)
    assert part.set["owner"] == "bot"
    assert {"routing_owner_app_id", "owner_agent_id", "owner_last_activity_ms"} <= set(part.remove)


def _answering(monkeypatch: pytest.MonkeyPatch, stored: dict[str, object]) -> list[dict[str, object]]:
    """A table whose UpdateItem answers ALL_NEW: the written window plus what ``stored`` already held."""
    calls: list[dict[str, object]] = []

    class Table:
        def update_item(self, **arguments: Any) -> dict[str, Any]:
            calls.append(arguments)
            item = {
                **arguments["Key"],
                "tenant_id": "acme",
                "channel": KEY.channel.value,
                "account_id": KEY.account_id,
                "contact_id": KEY.contact_id,
                "last_customer_action_ms": WINDOW.at_ms,
                "last_customer_action_kind": WINDOW.kind.value,
                **stored,
            }
            return {"Attributes": item}

    monkeypatch.setattr(aws, "table", lambda _name: Table())
    return calls


def test_the_notice_is_computed_once_when_the_stored_state_adds_nothing_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _answering(monkeypatch, {"display_name": "Ana", "opted_out": []})
    seen: list[ContactRecord] = []
    result = ContactWriter("t", seen.append).write(delta(window=WINDOW))
    assert (len(seen), len(calls), result.writes) == (1, 1, 1)


def test_an_ad_start_from_an_earlier_post_still_gets_the_notice_recomputed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _answering(monkeypatch, {"ad_conversation_started_ms": WINDOW.at_ms - 1_000})
    seen: list[ContactRecord] = []

    def due_for(record: ContactRecord) -> dict[str, Any] | None:
        seen.append(record)
        return dict.fromkeys(DUE_ATTRIBUTES, 1) if record.ad_conversation_started_ms else None

    result = ContactWriter("t", due_for).write(delta(window=WINDOW))
    assert [r.ad_conversation_started_ms for r in seen] == [None, WINDOW.at_ms - 1_000]
    assert (len(calls), result.writes) == (2, 2)  # the window, then the corrected notice
