"""POST .../consent: an agent records an opt-out/opt-in; the gate honours it; writes lose nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from tests.support.accounts import PAGE_ID, WA_PHONE_NUMBER_ID
from windowkeeper.events import DetailType
from windowkeeper.ingest.delta import ConsentDelta, ContactDelta, WindowChange
from windowkeeper.ingest.observations import ContactKey
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind
from windowkeeper.store.contact_change_records import ContactChange, consent_change
from windowkeeper.store.contact_changes import update_contact
from windowkeeper.store.contact_item import ContactRecord, StoredOptIn
from windowkeeper.store.contact_writer import ContactWriter
from windowkeeper.wiring import send as send_wiring

from .conftest import AGENT, BOT, NOW, WINTER_SALE, ContactsStack, contact_path

WA_ID = "5511987654321"
NOTE = "Customer phoned on 21 Nov and asked for no more offers."


def consent(
    stack: ContactsStack, body: dict[str, Any], claims: dict[str, Any] = AGENT
) -> tuple[int, dict[str, Any]]:
    return stack.call(
        "POST", contact_path(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, "/consent"), body, claims=claims
    )


def marketing_check(stack: ContactsStack) -> tuple[int, dict[str, Any]]:
    return stack.call(
        "POST",
        "/v1/messages/check",
        {
            "channel": "whatsapp",
            "account_id": WA_PHONE_NUMBER_ID,
            "contact_id": WA_ID,
            "content": {"type": "template", "template": {"name": WINTER_SALE.name, "language": "en_US"}},
            "purpose": "marketing",
            "at": NOW.isoformat(),
        },
    )


def seed_opted_in_customer(stack: ContactsStack) -> ContactRecord:
    return stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        WA_ID,
        customer_wrote_ago=timedelta(days=3),
        recipient_country_code="55",
        marketing_opt_ins=[StoredOptIn(opted_in_ms=to_ms(NOW - timedelta(days=40)))],
    )


def test_marketing_opt_out_by_phone_then_a_marketing_template_is_refused(stack: ContactsStack) -> None:
    seed_opted_in_customer(stack)
    status, before = marketing_check(stack)
    assert (status, before["status"]) == (200, "allowed"), before

    status, body = consent(stack, {"scope": "marketing", "action": "opt_out", "note": NOTE})
    assert status == 200, body
    assert body["changed"] is True
    assert body["consent"]["opted_out"] == {"all": False, "marketing": True, "outside_window": False}
    assert body["consent"]["changed_at"] == "2026-11-21T10:00:00Z"

    stored = stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert stored.scopes_opted_out() == {ConsentScope.MARKETING}
    assert stored.consent_marketing_out_ms == to_ms(NOW) == stored.consent_changed_at_ms()

    status, after = marketing_check(stack)
    assert (status, after["status"]) == (200, "refused")
    assert "opted_out" in after["decision"]["reasons"]


def test_consent_change_is_audited_with_the_note_hashed(stack: ContactsStack) -> None:
    seed_opted_in_customer(stack)
    _, body = consent(stack, {"scope": "marketing", "action": "opt_out", "note": NOTE})
    [audit] = stack.items(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, "DEC#")
    assert audit["kind"] == "consent"
    assert audit["audit_id"] == body["audit_id"]
    assert audit["outcome"] == "recorded"
    assert audit["reasons"] == ["opt_out:marketing"]
    assert audit["principal_subject"] == "agent-ana"
    assert audit["note_sha256"] == hashlib.sha256(NOTE.encode()).hexdigest()
    assert NOTE not in str(audit)
    # ...and it shows in the contact's audit trail.
    _, trail = stack.call("GET", contact_path(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, "/decisions"))
    assert [d["kind"] for d in trail["decisions"]] == ["consent"]


def test_consent_change_is_published_with_a_stable_event_id(stack: ContactsStack) -> None:
    seed_opted_in_customer(stack)
    _, first = consent(stack, {"scope": "all", "action": "opt_out"})
    _, again = consent(stack, {"scope": "all", "action": "opt_out"})  # a client retry
    assert again["changed"] is False
    assert [e.detail_type for e in stack.published] == [DetailType.CONSENT_CHANGED] * 2
    assert stack.published[0].event_id == stack.published[1].event_id == first["event_id"]
    detail = stack.published[0].detail
    assert (detail["scope"], detail["action"], detail["opted_out"]) == ("all", "opt_out", ["all"])
    assert "note" not in detail
    # The second request is audited as unchanged, the state written once.
    outcomes = sorted(i["outcome"] for i in stack.items(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, "DEC#"))
    assert outcomes == ["recorded", "unchanged"]
    assert stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID).version == 1


def test_agent_records_a_marketing_opt_in_given_by_phone(stack: ContactsStack) -> None:
    stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        WA_ID,
        customer_wrote_ago=timedelta(days=3),
        recipient_country_code="55",
        opted_out=[ConsentScope.MARKETING],
    )
    status, refused = marketing_check(stack)
    assert refused["status"] == "refused"
    status, body = consent(stack, {"scope": "marketing", "action": "opt_in", "note": "asked for offers"})
    assert status == 200, body
    assert body["consent"]["opted_out"]["marketing"] is False
    assert body["consent"]["marketing_opt_ins"] == [
        {"purpose": "marketing", "opted_in_at": "2026-11-21T10:00:00Z", "has_token": False}
    ]
    raw = stack.raw_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert raw["marketing_opt_ins"][0]["recorded_by"] == "agent-ana"
    _, allowed = marketing_check(stack)
    assert allowed["status"] == "allowed", allowed


def test_only_a_person_may_record_an_opt_in(stack: ContactsStack) -> None:
    seed_opted_in_customer(stack)
    status, body = consent(stack, {"scope": "marketing", "action": "opt_in"}, claims=BOT)
    assert (status, body["reason"]) == (403, "human_only")
    status, body = consent(stack, {"scope": "marketing", "action": "opt_out"}, claims=BOT)
    assert status == 200, body


def test_bad_consent_bodies(stack: ContactsStack) -> None:
    seed_opted_in_customer(stack)
    for body in (
        {"scope": "everything", "action": "opt_out"},
        {"scope": "all", "action": "unsubscribe"},
        {"scope": "all", "action": "opt_out", "note": "x" * 1001},
        {"scope": "all", "action": "opt_out", "sender": "someone-else"},
    ):
        status, answer = consent(stack, body)
        assert (status, answer["reason"]) == (400, "invalid_request"), body
    status, answer = stack.call(
        "POST", contact_path(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, "/consent"), None
    )
    assert status == 400


def webhook_stop(table_name: str, record: ContactRecord, at_ms: int) -> None:
    """The real webhook writer records a customer's STOP (scope ``all``) stamped ``at_ms``."""
    delta = ContactDelta(
        key=ContactKey(record.channel, record.account_id, record.contact_id),
        tenant_id=record.tenant_id,
        customer_event=True,
        window=WindowChange(at_ms=at_ms, kind=CustomerActionKind.MESSAGE, event_id="wamid.stop"),
        consent=ConsentDelta(opted_out_ms=((ConsentScope.ALL, at_ms),)),
    )
    ContactWriter(table_name, lambda _: None).write(delta)


def test_a_webhook_stop_between_read_and_write_is_not_lost(stack: ContactsStack) -> None:
    """The webhook records a STOP while the agent's marketing opt-out is in flight: both kept."""
    record = seed_opted_in_customer(stack)
    raced: list[bool] = []

    def plan(current: ContactRecord) -> ContactChange | None:
        if not raced:
            raced.append(True)
            webhook_stop(stack.table_name, record, to_ms(NOW - timedelta(seconds=1)))
        return consent_change(
            current, scope=ConsentScope.MARKETING, opt_out=True, at_ms=to_ms(NOW), recorded_by="a"
        )

    update_contact(stack.table_name, record.pk, plan)
    stored = stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert stored.scopes_opted_out() == {ConsentScope.ALL, ConsentScope.MARKETING}  # both kept
    assert stored.last_customer_action_ms == to_ms(NOW - timedelta(seconds=1))


def test_an_agent_opt_out_then_an_older_stop_arriving_late_leaves_all_opted_out(
    stack: ContactsStack,
) -> None:
    """Issue 10, defect 1: the agent's marketing opt-out (T+1 s) must not hide the STOP (T)."""
    record = seed_opted_in_customer(stack)
    status, body = consent(stack, {"scope": "marketing", "action": "opt_out"})
    assert status == 200, body
    webhook_stop(
        stack.table_name, record, to_ms(NOW - timedelta(seconds=1))
    )  # the customer's STOP, delivered late
    stored = stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert stored.scopes_opted_out() == {ConsentScope.ALL, ConsentScope.MARKETING}


def test_an_agent_opt_in_undoes_only_older_opt_outs_of_its_own_scope(stack: ContactsStack) -> None:
    record = seed_opted_in_customer(stack)
    webhook_stop(stack.table_name, record, to_ms(NOW - timedelta(seconds=1)))
    status, body = consent(stack, {"scope": "marketing", "action": "opt_in"})
    assert status == 200, body
    assert body["consent"]["opted_out"] == {"all": True, "marketing": False, "outside_window": False}
    status, body = consent(stack, {"scope": "all", "action": "opt_in"})
    assert body["consent"]["opted_out"]["all"] is False


def test_consent_for_a_whatsapp_number_that_never_wrote_creates_the_contact(stack: ContactsStack) -> None:
    """Issue 10, defect 9: an opt-in collected elsewhere (a web form) before the first message."""
    status, body = consent(stack, {"scope": "marketing", "action": "opt_in", "note": "web form"})
    assert status == 200, body
    assert body["consent"]["opted_out"]["marketing"] is False
    assert [o["purpose"] for o in body["consent"]["marketing_opt_ins"]] == ["marketing"]
    stored = stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert stored.tenant_id == "acme" and stored.last_customer_action_ms is None
    assert stored.recipient_country_code == "55"
    status, view = stack.call("GET", contact_path(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID))
    assert status == 200, view
    status, listing = stack.call(
        "GET", contact_path(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, "/decisions")
    )
    assert [(d["kind"], d["source"]) for d in listing["decisions"]] == [("consent", "agent")]


def test_consent_for_an_unknown_messenger_contact_is_still_404(stack: ContactsStack) -> None:
    status, body = stack.call(
        "POST",
        contact_path(Channel.MESSENGER, PAGE_ID, "7300000000009999", "/consent"),
        {"scope": "all", "action": "opt_out"},
    )
    assert (status, body["reason"]) == (404, "unknown_contact")


def test_a_failed_publish_answers_503_and_the_retry_publishes_the_same_event(stack: ContactsStack) -> None:

    from windowkeeper.events import BusEvent, PublishError

    seed_opted_in_customer(stack)
    service = send_wiring.contacts_service()
    attempts: list[BusEvent] = []

    def flaky_publish(bus_events: Sequence[BusEvent]) -> int:
        attempts.extend(bus_events)
        if len(attempts) == 1:
            raise PublishError("1 of 1 events were not accepted: ['InternalFailure']")
        return len(bus_events)

    service.publish = flaky_publish
    status, body = consent(stack, {"scope": "outside_window", "action": "opt_out"})
    assert (status, body["reason"]) == (503, "event_publish_failed")
    stored = stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert stored.scopes_opted_out() == {ConsentScope.OUTSIDE_WINDOW}
    status, body = consent(stack, {"scope": "outside_window", "action": "opt_out"})
    assert status == 200
    assert attempts[0].event_id == attempts[1].event_id == body["event_id"]
