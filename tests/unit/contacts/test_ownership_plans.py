"""The contact-item changes an agent makes: what is SET/REMOVEd and what the write is guarded on."""

from __future__ import annotations

from typing import Any

import pytest

from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper.store.contact_change_records import (
    ContactChange,
    activity_change,
    bot_owner_change,
    consent_change,
    human_owner_change,
)
from windowkeeper.store.contact_changes import _update_arguments
from windowkeeper.store.contact_item import OWNER_ATTRIBUTES, ContactRecord, StoredOptIn
from windowkeeper.store.keys import contact_pk

AT_MS = 1_795_000_000_000
PK = contact_pk(Channel.WHATSAPP, "109876543210001", "5511987654321")


def record(**fields: Any) -> ContactRecord:
    return ContactRecord(
        pk=PK,
        tenant_id="acme",
        channel=Channel.WHATSAPP,
        account_id="109876543210001",
        contact_id="5511987654321",
        **fields,
    )


# --- consent -------------------------------------------------------------------------------------
def test_marketing_opt_out_records_its_own_fact_and_guards_only_it() -> None:
    change = consent_change(
        record(), scope=ConsentScope.MARKETING, opt_out=True, at_ms=AT_MS, recorded_by="agent-1"
    )
    assert change is not None
    assert dict(change.set) == {"consent_marketing_out_ms": AT_MS}
    assert change.guard == ("consent_marketing_out_ms",)


def test_an_opt_out_already_as_new_writes_nothing() -> None:
    current = record(consent_marketing_out_ms=AT_MS)
    assert (
        consent_change(current, scope=ConsentScope.MARKETING, opt_out=True, at_ms=AT_MS, recorded_by="a")
        is None
    )


def test_opt_in_undoes_only_that_scope() -> None:
    current = record(consent_marketing_out_ms=AT_MS - 10, consent_outside_window_out_ms=AT_MS - 10)
    change = consent_change(
        current, scope=ConsentScope.OUTSIDE_WINDOW, opt_out=False, at_ms=AT_MS, recorded_by="a"
    )
    assert change is not None
    after = current.model_copy(update=dict(change.set))
    assert after.scopes_opted_out() == {ConsentScope.MARKETING}


def test_the_older_opted_out_list_is_still_read_and_undone_by_a_newer_opt_in() -> None:
    current = record(opted_out=[ConsentScope.MARKETING], consent_changed_ms=AT_MS - 1000)
    assert current.scopes_opted_out() == {ConsentScope.MARKETING}
    change = consent_change(
        current, scope=ConsentScope.MARKETING, opt_out=False, at_ms=AT_MS, recorded_by="a"
    )
    assert change is not None
    assert current.model_copy(update=dict(change.set)).scopes_opted_out() == frozenset()


def test_marketing_opt_in_by_an_agent_files_an_opt_in_on_record() -> None:
    earlier = StoredOptIn(purpose="marketing", token="sub-token-1", opted_in_ms=AT_MS - 10_000)
    current = record(consent_marketing_out_ms=AT_MS - 5, marketing_opt_ins=[earlier])
    change = consent_change(
        current, scope=ConsentScope.MARKETING, opt_out=False, at_ms=AT_MS, recorded_by="agent-7"
    )
    assert change is not None
    assert change.set["consent_marketing_in_ms"] == AT_MS
    opt_ins = change.set["marketing_opt_ins"]
    assert opt_ins[0]["token"] == "sub-token-1"  # Meta's token from the customer's own opt-in is kept
    assert opt_ins[-1] == {"purpose": "marketing", "opted_in_ms": AT_MS, "recorded_by": "agent-7"}


def test_opt_in_to_everything_puts_consent_on_record() -> None:
    current = record(consent_all_out_ms=AT_MS - 5)
    change = consent_change(current, scope=ConsentScope.ALL, opt_out=False, at_ms=AT_MS, recorded_by="a")
    assert change is not None
    assert change.set["consent_all_in_ms"] == AT_MS
    assert change.set["consent_on_record"] is True


def test_a_fact_newer_than_the_agents_instant_is_not_moved_back() -> None:
    # The webhook stamps consent with the customer's event time, which may be ahead of our clock.
    current = record(consent_all_out_ms=AT_MS + 5000)
    assert consent_change(current, scope=ConsentScope.ALL, opt_out=True, at_ms=AT_MS, recorded_by="a") is None
    # ...and a newer opt-out of the same scope still wins over an agent's older opt-in.
    change = consent_change(current, scope=ConsentScope.ALL, opt_out=False, at_ms=AT_MS, recorded_by="a")
    assert change is not None
    assert current.model_copy(update=dict(change.set)).scopes_opted_out() == {ConsentScope.ALL}


# --- ownership -----------------------------------------------------------------------------------
def test_takeover_starts_a_fresh_hold() -> None:
    change = human_owner_change("agent-maria", AT_MS, routing_owner_app_id=None)
    assert dict(change.set) == {
        "owner": "human",
        "owner_agent_id": "agent-maria",
        "owner_since_ms": AT_MS,
        "owner_last_activity_ms": AT_MS,
    }
    assert change.guard == OWNER_ATTRIBUTES


def test_takeover_with_routing_records_the_thread_owner_app() -> None:
    change = human_owner_change("agent-maria", AT_MS, routing_owner_app_id="263902037430900")
    assert change.set["routing_owner_app_id"] == "263902037430900"


def test_giving_back_clears_the_agent_and_the_idle_clock() -> None:
    change = bot_owner_change(AT_MS, routing_owner_app_id=None, routing_changed=False)
    assert dict(change.set) == {"owner": "bot", "owner_since_ms": AT_MS}
    assert change.remove == ("owner_agent_id", "owner_last_activity_ms")


def test_giving_back_after_release_forgets_the_thread_owner() -> None:
    change = bot_owner_change(AT_MS, routing_owner_app_id=None, routing_changed=True)
    assert "routing_owner_app_id" in change.remove


def test_giving_back_after_taking_the_thread_from_metas_inbox_records_our_app() -> None:
    change = bot_owner_change(AT_MS, routing_owner_app_id="555000111222333", routing_changed=True)
    assert change.set["routing_owner_app_id"] == "555000111222333"
    assert "routing_owner_app_id" not in change.remove


def test_activity_only_moves_the_idle_clock() -> None:
    assert dict(activity_change(AT_MS).set) == {"owner_last_activity_ms": AT_MS}


# --- the UpdateItem arguments ----------------------------------------------------------------------
def test_update_is_attribute_level_and_bumps_the_version() -> None:
    raw = {"pk": PK, "sk": "STATE", "version": 7, "owner": "bot", "owner_since_ms": AT_MS - 1}
    change = human_owner_change("agent-maria", AT_MS, routing_owner_app_id=None)
    args = _update_arguments(PK, raw, 7, change)
    assert args["UpdateExpression"].startswith("SET version = :next_version, ")
    assert args["ExpressionAttributeValues"][":next_version"] == 8
    assert "REMOVE" not in args["UpdateExpression"]
    assert args["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    condition = args["ConditionExpression"]
    assert condition.startswith("attribute_exists(pk) AND version = :version")
    names = {v: k for k, v in args["ExpressionAttributeNames"].items()}
    # Guards compare with what was stored, and a missing attribute must still be missing.
    assert f"{names['owner']} = :g0" in condition
    assert args["ExpressionAttributeValues"][":g0"] == "bot"
    assert f"attribute_not_exists({names['owner_agent_id']})" in condition


def test_item_without_version_or_owner_is_guarded_as_missing_not_as_defaults() -> None:
    raw = {"pk": PK, "sk": "STATE"}  # the model reads owner="bot", version=0 from this
    args = _update_arguments(PK, raw, 0, ContactChange(set={"owner": "human"}, guard=("owner",)))
    assert "attribute_not_exists(version)" in args["ConditionExpression"]
    assert "attribute_not_exists(#n" in args["ConditionExpression"]
    assert ":g0" not in args["ExpressionAttributeValues"]


@pytest.mark.parametrize("attribute", ["owner", "opted_out"])
def test_every_attribute_goes_through_a_placeholder(attribute: str) -> None:
    args = _update_arguments(PK, {"pk": PK}, 0, ContactChange(set={attribute: "x"}))
    assert attribute not in args["UpdateExpression"]
    assert attribute in args["ExpressionAttributeNames"].values()
