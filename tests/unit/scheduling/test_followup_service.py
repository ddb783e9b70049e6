"""FollowupService on in-memory ports: create, fire, decide again, cancel, never send twice.

No moto here: the store, Scheduler, contacts and send core are the fakes of
``tests/support/fakes`` (the same cases run on DynamoDB in ``tests/integration/contracts``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.accounts import PAGE_ID, TENANT, globex_page, messenger_page
from tests.support.decisions import allowed_decision
from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.contacts import InMemoryContacts
from tests.support.fakes.scheduling import InMemoryFollowups, Outcome, RecordingSchedules, ScriptedSender
from tests.support.seed import contact_record
from windowkeeper import errors
from windowkeeper.auth import AGENTS_GROUP, Principal
from windowkeeper.events import BusEvent
from windowkeeper.policy.model import Channel, Decision, Path, ReasonCode
from windowkeeper.scheduling.followup_service import FollowupIn, FollowupService

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SEND_AT = NOW + timedelta(hours=20)
AGENT = Principal(subject="agent-7", tenant_id=TENANT, groups=frozenset({AGENTS_GROUP}))
CONTACT = "psid-anna"


def refused(at: datetime) -> Decision:
    return Decision(
        allowed=False,
        path=None,
        rule=None,
        reasons=(ReasonCode.WINDOW_CLOSED,),
        explanation="The 24-hour window closed.",
        decided_at=at,
        valid_until=None,
    )


class Harness:
    def __init__(self, outcomes: list[Outcome]) -> None:
        self.store = InMemoryFollowups()
        self.schedules = RecordingSchedules()
        self.sender = ScriptedSender(allowed_decision(Path.FREE_FORM, NOW), outcomes)
        self.contacts = InMemoryContacts()
        self.published: list[BusEvent] = []
        accounts = InMemoryAccounts.of(messenger_page(), globex_page())
        self.contacts.put(
            contact_record(
                Channel.MESSENGER, PAGE_ID, CONTACT, tenant_id=TENANT, wrote_at=NOW - timedelta(hours=1)
            )
        )
        self.service = FollowupService(
            store=self.store,
            schedules=self.schedules,
            sender=self.sender,
            accounts=accounts.get,
            contacts=self.contacts.get,
            publish=self.record,
        )

    def record(self, events: Iterable[BusEvent]) -> int:
        batch = list(events)
        self.published.extend(batch)
        return len(batch)

    def create(self, **fields: object) -> str:
        body = FollowupIn.model_validate(
            {
                "channel": "messenger",
                "account_id": PAGE_ID,
                "contact_id": CONTACT,
                "send_at": SEND_AT.isoformat(),
                "content": {"type": "text", "text": "Did the replacement part fit?"},
                **fields,
            }
        )
        return self.service.create(AGENT, body, NOW).record.followup_id


def test_a_created_followup_is_stored_and_scheduled_once_even_when_retried() -> None:
    harness = Harness([])

    first = harness.create()
    second = harness.create()

    assert first == second
    assert list(harness.schedules.schedules) == [f"fup-{first}"]
    assert harness.schedules.schedules[f"fup-{first}"][0] == SEND_AT
    assert harness.store.get(first) is not None


def test_firing_sends_as_the_scheduler_and_records_what_happened() -> None:
    harness = Harness([Outcome("sent", allowed_decision(Path.FREE_FORM, SEND_AT), "m_01")])
    followup_id = harness.create(cancel_if_customer_replied=False)

    result = harness.service.fire(followup_id, SEND_AT)

    record = harness.store.get(followup_id)
    assert result.action == "sent"
    assert record is not None and (record.status, record.platform_message_id) == ("sent", "m_01")
    principal = harness.sender.sent[0][0]
    assert not principal.is_human_agent and principal.tenant_id == TENANT  # never the scheduling agent
    assert [e.detail_type for e in harness.published] == ["followup.sent"]


def test_a_refused_followup_tries_its_fallback_and_says_why_the_first_was_refused() -> None:
    harness = Harness(
        [
            Outcome("refused", refused(SEND_AT)),
            Outcome("sent", allowed_decision(Path.UTILITY_TEMPLATE, SEND_AT), "m_02"),
        ]
    )
    followup_id = harness.create(
        cancel_if_customer_replied=False,
        fallback_content={"type": "template", "template": {"name": "order_update", "language": "en_US"}},
    )

    result = harness.service.fire(followup_id, SEND_AT)

    record = harness.store.get(followup_id)
    assert result.action == "sent"
    assert record is not None and record.used_fallback
    assert record.explanation is not None and "window_closed" in record.explanation


def test_a_customer_reply_after_scheduling_cancels_the_followup_without_sending() -> None:
    harness = Harness([])
    followup_id = harness.create()
    harness.contacts.put(
        contact_record(
            Channel.MESSENGER, PAGE_ID, CONTACT, tenant_id=TENANT, wrote_at=NOW + timedelta(hours=3)
        )
    )

    result = harness.service.fire(followup_id, SEND_AT)

    assert (result.action, result.detail) == ("cancelled", "customer_replied")
    assert harness.sender.sent == []


def test_a_schedule_firing_twice_sends_once() -> None:
    harness = Harness([Outcome("sent", allowed_decision(Path.FREE_FORM, SEND_AT), "m_03")])
    followup_id = harness.create(cancel_if_customer_replied=False)

    first = harness.service.fire(followup_id, SEND_AT)
    again = harness.service.fire(followup_id, SEND_AT + timedelta(seconds=30))

    assert (first.action, again.action) == ("sent", "noop")
    assert len(harness.sender.sent) == 1


def test_another_tenants_account_is_not_found_and_nothing_is_stored() -> None:
    harness = Harness([])
    body = FollowupIn.model_validate(
        {
            "channel": "messenger",
            "account_id": globex_page().account_id,
            "contact_id": CONTACT,
            "send_at": SEND_AT.isoformat(),
            "content": {"type": "text", "text": "Hello"},
        }
    )

    with pytest.raises(errors.NotFound) as refused_error:
        harness.service.create(AGENT, body, NOW)

    assert refused_error.value.reason == "account_not_found"
    assert harness.store.records == {} and harness.schedules.schedules == {}
