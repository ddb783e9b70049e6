"""The contacts API's service on in-memory stores: handover, consent and what an agent sees.

The same behaviour runs over HTTP against moto in ``tests/integration/contacts``; here every
store is a fake (``tests/support/fakes/sending.py``), and Meta's thread control answers as told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.accounts import PAGE_ID, TENANT, WA_PHONE_NUMBER_ID, messenger_page, whatsapp_number
from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.graph import delivered
from tests.support.fakes.sending import InMemorySendStores
from tests.support.seed import contact_record
from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import AGENTS_GROUP, Principal
from windowkeeper.events import BusEvent, DetailType, PublishError
from windowkeeper.graph.results import ContactEffects, DeliveryResult, GraphError
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import AutomationKind, Channel, ConsentScope
from windowkeeper.sending.api_models import AuditFilters, ConsentRequest, HandoverRequest
from windowkeeper.sending.contacts_service import ContactRef, ContactsService

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
PSID = "psid-anna"
OUR_APP_ID = "424242424242"
AGENT = Principal(subject="agent-maria", tenant_id=TENANT, groups=frozenset({AGENTS_GROUP}))
BOT = Principal.system(TENANT, AutomationKind.BOT, "bot-orders")
GLOBEX_AGENT = Principal(subject="agent-olaf", tenant_id="globex", groups=frozenset({AGENTS_GROUP}))
ANNA = ContactRef(Channel.MESSENGER, PAGE_ID, PSID)


@dataclass
class ScriptedThreadControl:
    """Meta's conversation-routing calls, answering the next scripted result (ok by default)."""

    answers: list[DeliveryResult] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def _answer(self, call: str) -> DeliveryResult:
        self.calls.append(call)
        return self.answers.pop(0) if self.answers else delivered("")

    def take_thread_control(
        self, account: AccountConfig, contact_id: str, metadata: str = ""
    ) -> DeliveryResult:
        return self._answer("take")

    def pass_thread_control(
        self, account: AccountConfig, contact_id: str, target_app_id: str, metadata: str = ""
    ) -> DeliveryResult:
        return self._answer(f"pass:{target_app_id}")

    def release_thread_control(self, account: AccountConfig, contact_id: str) -> DeliveryResult:
        return self._answer("release")


class Contacts:
    def __init__(self, *accounts: AccountConfig, wrote_ago: timedelta = timedelta(hours=2)) -> None:
        self.stores = InMemorySendStores()
        self.meta = ScriptedThreadControl()
        self.published: list[BusEvent] = []
        self.publish_fails = False
        self.anna = contact_record(
            Channel.MESSENGER, PAGE_ID, PSID, tenant_id=TENANT, wrote_at=NOW - wrote_ago
        )
        self.stores.contacts.put(self.anna)
        self.service = ContactsService(
            stores=self.stores.ports(),
            accounts=InMemoryAccounts.of(*(accounts or (messenger_page(),)), whatsapp_number()),
            thread_control=lambda: self.meta,
            publish=self._publish,
            new_id=iter(f"audit-{n}" for n in range(1, 100)).__next__,
        )

    def _publish(self, events: Sequence[BusEvent]) -> int:
        if self.publish_fails:
            raise PublishError("1 of 1 events were not accepted: ['InternalFailure']")
        self.published.extend(events)
        return len(events)

    def stored(self) -> Any:
        return self.stores.contacts.record(self.anna.pk)


def test_an_agent_takes_the_conversation_and_the_bot_gets_it_back() -> None:
    contacts = Contacts()
    taken = contacts.service.handover(AGENT, ANNA, HandoverRequest(to="human"), NOW)
    assert (
        taken["changed"]
        and taken["owner"]["owner"] == "human"
        and taken["owner"]["agent_id"] == "agent-maria"
    )
    assert (contacts.stored().owner, contacts.stored().owner_since_ms) == ("human", to_ms(NOW))

    later = NOW + timedelta(minutes=20)
    back = contacts.service.handover(BOT, ANNA, HandoverRequest(to="bot"), later)
    assert back["changed"] and back["owner"]["owner"] == "bot"
    assert [e.detail_type for e in contacts.published] == [DetailType.HANDOVER, DetailType.HANDOVER]
    assert contacts.meta.calls == []  # no conversation routing on this page: Meta is not asked


def test_an_automation_cannot_take_a_conversation() -> None:
    contacts = Contacts()
    with pytest.raises(errors.Forbidden) as refused:
        contacts.service.handover(BOT, ANNA, HandoverRequest(to="human"), NOW)
    assert refused.value.reason == "human_only"
    assert contacts.stores.contacts.writes == 0 and contacts.published == []


def test_with_conversation_routing_a_thread_held_elsewhere_changes_nothing() -> None:
    contacts = Contacts(messenger_page(uses_conversation_routing=True, app_id=OUR_APP_ID))
    contacts.meta.answers.append(
        DeliveryResult(
            ok=False,
            platform_message_id=None,
            http_status=400,
            error=GraphError(code=10, subcode=2018300, message="(#10) Another app controls this thread"),
            reason=None,
            effects=ContactEffects(thread_controlled_elsewhere=True),
            known_error=True,
            attempts=1,
        )
    )
    with pytest.raises(errors.Conflict) as refused:
        contacts.service.handover(AGENT, ANNA, HandoverRequest(to="human"), NOW)

    assert refused.value.reason == "thread_controlled_elsewhere"
    assert contacts.meta.calls == ["take"]
    assert contacts.stored().owner == "bot" and contacts.published == []


def test_a_consent_opt_out_is_written_audited_journaled_and_published() -> None:
    contacts = Contacts()
    answer = contacts.service.record_consent(
        BOT, ANNA, ConsentRequest(scope=ConsentScope.MARKETING, action="opt_out", note="Asked by phone"), NOW
    )

    assert answer["changed"] and answer["consent"]["opted_out"]["marketing"] is True
    [audit] = contacts.stores.audit.of(contacts.anna.pk)
    assert (audit.kind, audit.source, audit.outcome) == ("consent", "api", "recorded")
    assert audit.note_sha256 is not None and "phone" not in audit.model_dump_json()
    [journal] = contacts.stores.history.read(contacts.anna.pk, until_ms=to_ms(NOW))
    assert journal.opt_out == (ConsentScope.MARKETING,)
    [event] = contacts.published
    assert event.detail_type == DetailType.CONSENT_CHANGED and event.detail["opted_out"] == ["marketing"]


def test_an_opt_in_needs_a_person() -> None:
    contacts = Contacts()
    with pytest.raises(errors.Forbidden):
        contacts.service.record_consent(
            BOT, ANNA, ConsentRequest(scope=ConsentScope.MARKETING, action="opt_in"), NOW
        )
    assert contacts.stores.contacts.writes == 0


def test_consent_for_a_whatsapp_number_that_never_wrote_creates_the_contact() -> None:
    contacts = Contacts()
    number = ContactRef(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915112345678")
    contacts.service.record_consent(
        AGENT, number, ConsentRequest(scope=ConsentScope.ALL, action="opt_in"), NOW
    )

    created = contacts.service.stores.contacts.get(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915112345678")
    assert created is not None and created.recipient_country_code == "49" and created.consent_on_record


def test_an_event_that_cannot_be_published_answers_retry_after_the_write() -> None:
    contacts = Contacts()
    contacts.publish_fails = True
    with pytest.raises(errors.Unavailable) as busy:
        contacts.service.record_consent(
            BOT, ANNA, ConsentRequest(scope=ConsentScope.MARKETING, action="opt_out"), NOW
        )
    assert busy.value.reason == "event_publish_failed"
    assert ConsentScope.MARKETING in contacts.stored().scopes_opted_out()  # kept: the retry republishes


def test_the_contact_view_says_the_window_and_refuses_another_tenant() -> None:
    contacts = Contacts(wrote_ago=timedelta(hours=23))
    view = contacts.service.contact_view(AGENT, ANNA, at=NOW, now=NOW)
    assert view["state"] == "closing_soon"
    assert view["windows"]["free_form_closes_at"] == "2026-11-21T11:00:00Z"

    with pytest.raises(errors.Forbidden):
        contacts.service.contact_view(GLOBEX_AGENT, ANNA, at=NOW, now=NOW)
    assert sum(contacts.stores.violations.counts.values()) == 1


def test_conversations_list_the_tenants_contacts_most_recent_first() -> None:
    contacts = Contacts()
    bob = contact_record(
        Channel.MESSENGER, PAGE_ID, "psid-bob", tenant_id=TENANT, wrote_at=NOW - timedelta(minutes=5)
    )
    contacts.stores.contacts.put(bob)
    listed = contacts.service.conversations(AGENT, channel=None, account_id=None, limit=10, now=NOW)
    assert [c["contact_id"] for c in listed["conversations"]] == ["psid-bob", PSID]


def test_the_tenant_audit_finds_a_consent_record_by_agent_and_refuses_a_month_and_more() -> None:
    contacts = Contacts()
    contacts.service.record_consent(
        AGENT, ANNA, ConsentRequest(scope=ConsentScope.MARKETING, action="opt_out"), NOW
    )
    everyone = AuditFilters()
    mine = contacts.service.tenant_audit(
        AGENT,
        AuditFilters(agent="agent-maria", kind="consent"),
        since=None,
        until=None,
        limit=10,
        cursor=None,
        now=NOW + timedelta(minutes=1),
    )
    theirs = contacts.service.tenant_audit(
        GLOBEX_AGENT, everyone, since=None, until=None, limit=10, cursor=None, now=NOW + timedelta(minutes=1)
    )

    assert [(e["contact_id"], e["reasons"]) for e in mine["entries"]] == [(PSID, ["opt_out:marketing"])]
    assert theirs["entries"] == []
    with pytest.raises(errors.InvalidInput) as too_long:
        contacts.service.tenant_audit(
            AGENT, everyone, since=NOW - timedelta(days=32), until=NOW, limit=10, cursor=None, now=NOW
        )
    assert too_long.value.reason == "range_too_long"
