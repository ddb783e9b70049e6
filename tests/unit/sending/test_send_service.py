"""The send gate on in-memory stores: what one send decides, claims, delivers and records.

The same behaviour runs against moto in ``tests/integration/send``; here every store is a fake
(``tests/support/fakes/sending.py``, kept honest by ``tests/integration/contracts``), so each
case runs in milliseconds and can stage what a table cannot easily be made to do on cue: another
writer slipping in between a send's read and its claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.accounts import PAGE_ID, TENANT, globex_page, messenger_page
from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.graph import ScriptedGraph, meta_error, no_answer
from tests.support.fakes.sending import InMemorySendStores
from tests.support.seed import contact_record
from windowkeeper import errors
from windowkeeper.auth import AGENTS_GROUP, Principal
from windowkeeper.events import BusEvent, DetailType
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import AutomationKind, Channel, Path, ReasonCode
from windowkeeper.policy.rules import template_status_of_event
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import MAX_CLAIM_ATTEMPTS, SendService
from windowkeeper.store.health_records import token_fingerprint
from windowkeeper.store.history_records import HistoryEntry

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
PSID = "psid-anna"
BOT = Principal.system(TENANT, AutomationKind.BOT, "bot-orders")
AGENT = Principal(subject="agent-maria", tenant_id=TENANT, groups=frozenset({AGENTS_GROUP}))
GLOBEX_AGENT = Principal(subject="agent-olaf", tenant_id="globex", groups=frozenset({AGENTS_GROUP}))


def text_request(text: str = "Your parcel is at the pick-up point.", **fields: Any) -> SendRequest:
    return SendRequest.model_validate(
        {
            "channel": "messenger",
            "account_id": PAGE_ID,
            "contact_id": PSID,
            "content": {"type": "text", "text": text},
            **fields,
        }
    )


class Gate:
    """A send service on fakes, with the contact Anna who wrote ``wrote_ago`` before NOW."""

    def __init__(self, wrote_ago: timedelta, **contact: Any) -> None:
        self.token = "EAAG-first-page-token"  # the account's token, as its secret holds it now
        self.stores = InMemorySendStores()
        self.graph = ScriptedGraph()
        self.published: list[BusEvent] = []
        self.record = contact_record(
            Channel.MESSENGER, PAGE_ID, PSID, tenant_id=TENANT, wrote_at=NOW - wrote_ago, **contact
        )
        self.stores.contacts.put(self.record)
        self.service = SendService(
            stores=self.stores.ports(),
            accounts=InMemoryAccounts.of(messenger_page(), globex_page()),
            graph=self.graph,
            publish=self._publish,
            new_id=iter(f"decision-{n}" for n in range(1, 100)).__next__,
            token_fingerprint=lambda _account: token_fingerprint(self.token),
        )

    def _publish(self, events: Sequence[BusEvent]) -> int:
        self.published.extend(events)
        return len(events)

    def stored(self) -> Any:
        return self.stores.contacts.record(self.record.pk)

    def event_types(self) -> list[str]:
        return [e.detail_type for e in self.published]


def test_a_bot_reply_inside_the_window_is_claimed_delivered_logged_and_audited() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    outcome = gate.service.send(BOT, text_request(), NOW)

    assert (outcome.status, outcome.http_status, outcome.platform_message_id) == ("sent", 200, "m_1")
    assert outcome.decision.path is Path.FREE_FORM
    assert len(gate.graph.calls) == 1
    stored = gate.stored()
    assert [(o.path, o.at_ms, o.by_human) for o in stored.outbound] == [(Path.FREE_FORM, to_ms(NOW), False)]
    assert stored.version == gate.record.version + 1  # one write: the claim
    [audit] = gate.stores.audit.of(gate.record.pk)
    assert (audit.outcome, audit.path, audit.principal_kind) == ("sent", "free_form", "automation")
    assert audit.text_sha256 is not None and "parcel" not in audit.model_dump_json()
    [logged] = gate.stores.conversation_log.items.values()
    assert (logged["direction"], logged["status"], logged["sender"]) == ("out", "sent", "bot")
    assert gate.event_types() == [DetailType.MESSAGE_SENT]


def test_a_refusal_by_the_engine_calls_nobody_and_claims_nothing() -> None:
    gate = Gate(wrote_ago=timedelta(hours=30))
    outcome = gate.service.send(BOT, text_request(), NOW)

    assert (outcome.status, outcome.http_status) == ("refused", 409)
    assert ReasonCode.WINDOW_CLOSED in outcome.decision.reasons
    assert gate.graph.calls == []
    assert gate.stores.contacts.writes == 0
    [audit] = gate.stores.audit.of(gate.record.pk)
    assert (audit.outcome, audit.allowed) == ("refused", False)
    assert gate.event_types() == [DetailType.MESSAGE_REFUSED]


def test_another_tenants_agent_is_refused_and_counted_under_its_own_tenant() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    with pytest.raises(errors.Forbidden) as refused:
        gate.service.send(GLOBEX_AGENT, text_request(), NOW)

    assert refused.value.reason == "forbidden_tenant"
    assert list(gate.stores.violations.counts.items()) == [
        (("globex", "2026-11-21", "messenger", PAGE_ID, "agent-olaf"), 1)
    ]
    assert gate.stores.audit.of(gate.record.pk) == ()  # nothing lands in the other tenant's space
    assert gate.graph.calls == [] and gate.published == []


def test_a_contact_who_never_wrote_is_not_found() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    with pytest.raises(errors.NotFound) as missing:
        gate.service.send(BOT, text_request().model_copy(update={"contact_id": "psid-nobody"}), NOW)
    assert missing.value.reason == "unknown_contact"


def test_a_send_that_loses_its_claim_decides_again_on_what_is_stored_now() -> None:
    """An agent takes the conversation between the bot's read and its claim: the bot stands down."""
    gate = Gate(wrote_ago=timedelta(hours=2))

    def agent_takes_over(pk: str) -> None:
        gate.stores.contacts.before_write = None  # once
        item = gate.stores.contacts.items[pk]
        item.update(
            owner="human",
            owner_agent_id="agent-maria",
            owner_since_ms=to_ms(NOW - timedelta(seconds=5)),
            owner_last_activity_ms=to_ms(NOW - timedelta(seconds=5)),
            version=int(item.get("version", 0)) + 1,
        )

    gate.stores.contacts.before_write = agent_takes_over
    outcome = gate.service.send(BOT, text_request(), NOW)

    assert outcome.status == "refused"
    assert ReasonCode.HUMAN_OWNS_CONVERSATION in outcome.decision.reasons
    assert gate.graph.calls == []
    assert gate.stored().outbound == []


def test_a_claim_race_that_never_settles_answers_contact_busy_and_sends_nothing() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    races: list[str] = []

    def another_send_writes(pk: str) -> None:
        races.append(pk)
        item = gate.stores.contacts.items[pk]
        item["version"] = int(item.get("version", 0)) + 1

    gate.stores.contacts.before_write = another_send_writes
    with pytest.raises(errors.Conflict) as busy:
        gate.service.send(BOT, text_request(), NOW)

    assert busy.value.reason == "contact_busy"
    assert len(races) == MAX_CLAIM_ATTEMPTS
    assert gate.graph.calls == []


def test_meta_closing_the_window_early_releases_the_claim_and_records_the_verdict() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    gate.graph.answers.append(
        meta_error(Channel.MESSENGER, 400, 10, 2534022, "Message sent outside of allowed window.")
    )
    outcome = gate.service.send(BOT, text_request(), NOW)

    assert (outcome.status, outcome.http_status) == ("refused", 409)
    assert outcome.decision.reasons == (ReasonCode.WINDOW_CLOSED,)
    stored = gate.stored()
    assert stored.outbound == []  # Meta did not take it: the claim is gone, caps do not count it
    assert stored.window_closed_early_ms == to_ms(NOW)
    [journal] = gate.stores.history.read(gate.record.pk, until_ms=to_ms(NOW))
    assert journal.closed_early and journal.at_ms == to_ms(NOW)
    # The next bot message is refused by the engine without calling Meta.
    again = gate.service.send(BOT, text_request("Anything else?"), NOW + timedelta(minutes=1))
    assert again.status == "refused" and len(gate.graph.calls) == 1


def test_no_answer_from_meta_keeps_the_claim_and_is_not_retryable() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    gate.graph.answers.append(no_answer())
    outcome = gate.service.send(BOT, text_request(), NOW)

    assert (outcome.status, outcome.http_status, outcome.failure_reason) == (
        "unknown",
        502,
        "delivery_unknown",
    )
    assert not outcome.retryable
    assert len(gate.stored().outbound) == 1  # it may have been delivered: caps keep counting it
    [logged] = gate.stores.conversation_log.items.values()
    assert logged["status"] == "unknown"
    assert gate.published == []


def test_a_human_agents_send_takes_the_conversation_over() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    outcome = gate.service.send(AGENT, text_request("Hi Anna, Maria here. Let me check that for you."), NOW)

    assert outcome.status == "sent"
    stored = gate.stored()
    assert (stored.owner, stored.owner_agent_id, stored.owner_since_ms) == (
        "human",
        "agent-maria",
        to_ms(NOW),
    )
    assert gate.event_types() == [DetailType.HANDOVER, DetailType.MESSAGE_SENT]
    handover = gate.published[0].detail
    assert (handover["owner"], handover["cause"], handover["previous_owner"]) == (
        "human",
        "agent_send",
        "bot",
    )


def test_check_as_of_an_earlier_instant_decides_on_the_journal() -> None:
    """The contact wrote 2 h ago: an hour ago the window was open, three hours ago it was not."""
    gate = Gate(wrote_ago=timedelta(hours=2))
    gate.stores.history.put(
        gate.record.pk,
        HistoryEntry(
            entry_id="mid.anna.1",
            at_ms=to_ms(NOW - timedelta(hours=2)),
            source="webhook",
            kind="message",
            action="message",
            opens_window=True,
        ),
        retention_days=90,
    )
    an_hour_ago = gate.service.check(BOT, text_request(), at=NOW - timedelta(hours=1), now=NOW)
    before_it = gate.service.check(BOT, text_request(), at=NOW - timedelta(hours=3), now=NOW)

    assert an_hour_ago.allowed and an_hour_ago.path is Path.FREE_FORM
    assert not before_it.allowed and ReasonCode.NEVER_CONTACTED in before_it.reasons
    assert gate.graph.calls == [] and gate.stores.contacts.writes == 0


def test_a_rejected_token_stops_the_accounts_sends_until_the_token_is_replaced() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    gate.graph.answers.append(
        meta_error(Channel.MESSENGER, 400, 190, 463, "Error validating access token: Session has expired.")
    )
    first = gate.service.send(BOT, text_request(), NOW)
    assert first.status == "failed"
    health = gate.stores.health.get(Channel.MESSENGER, PAGE_ID)
    assert health is not None and (health.status, health.reason) == ("token_invalid", "graph_190")
    assert "EAAG" not in health.model_dump_json()  # a fingerprint, never the token

    later = NOW + timedelta(minutes=5)
    refused = gate.service.send(BOT, text_request("Still there?"), later)
    assert (refused.status, refused.http_status) == ("refused", 409)
    assert refused.decision.reasons == (ReasonCode.ACCOUNT_UNAVAILABLE,)
    assert "replace the token" in refused.decision.explanation
    assert len(gate.graph.calls) == 1  # Meta is not called with a token it rejected
    assert not gate.service.check(BOT, text_request(), at=later, now=later).allowed

    gate.token = "EAAG-replaced-page-token"
    again = gate.service.send(BOT, text_request("Sorry for the wait!"), later + timedelta(minutes=1))
    assert again.status == "sent" and len(gate.graph.calls) == 2
    healed = gate.stores.health.get(Channel.MESSENGER, PAGE_ID)
    assert healed is not None and (healed.status, healed.reason) == ("ok", "send_succeeded")
    changes = [
        e.detail["status"] for e in gate.published if e.detail_type == DetailType.ACCOUNT_HEALTH_CHANGED
    ]
    assert changes == ["token_invalid", "ok"]


def test_a_restriction_is_kept_and_shown_but_sends_still_go_and_a_success_clears_it() -> None:
    gate = Gate(wrote_ago=timedelta(hours=2))
    gate.graph.answers.append(
        meta_error(Channel.MESSENGER, 400, 368, 1390008, "The action attempted has been deemed abusive.")
    )
    gate.service.send(BOT, text_request(), NOW)
    restricted = gate.stores.health.get(Channel.MESSENGER, PAGE_ID)
    assert restricted is not None and restricted.status == "restricted" and not restricted.blocks_sends

    after = gate.service.send(BOT, text_request("Your order shipped."), NOW + timedelta(hours=1))
    assert after.status == "sent" and len(gate.graph.calls) == 2
    cleared = gate.stores.health.get(Channel.MESSENGER, PAGE_ID)
    assert cleared is not None and cleared.status == "ok"


def test_a_template_meta_paused_is_refused_at_once_and_allowed_again_once_reinstated() -> None:
    """The registry says APPROVED (``accounts load``); Meta's newer word, kept as template state, wins."""
    from tests.support.accounts import ORDER_SHIPPED, WA_PHONE_NUMBER_ID, whatsapp_number
    from windowkeeper.store.template_records import TemplateChange

    stores = InMemorySendStores()
    wa_id = "4915112345678"
    stores.contacts.put(
        contact_record(
            Channel.WHATSAPP, WA_PHONE_NUMBER_ID, wa_id, tenant_id=TENANT, wrote_at=NOW - timedelta(days=3)
        )
    )
    graph = ScriptedGraph()
    service = SendService(
        stores=stores.ports(),
        accounts=InMemoryAccounts.of(whatsapp_number(templates=(ORDER_SHIPPED,))),
        graph=graph,
        publish=len,
    )
    request = SendRequest.model_validate(
        {
            "channel": "whatsapp",
            "account_id": WA_PHONE_NUMBER_ID,
            "contact_id": wa_id,
            "content": {
                "type": "template",
                "template": {"name": "order_shipped", "language": "en_US", "parameters": ["Anna", "A-1042"]},
            },
        }
    )
    assert service.send(BOT, request, NOW).status == "sent"

    def meta_says(event: str, at: datetime) -> None:
        change = TemplateChange(
            name="order_shipped",
            language="en_US",
            fact="status",
            at_ms=to_ms(at),
            event=event,
            status=template_status_of_event(event),
        )
        stores.templates.apply(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, change)

    meta_says("PAUSED", NOW + timedelta(minutes=1))
    paused = service.send(BOT, request, NOW + timedelta(minutes=2))
    assert paused.status == "refused" and ReasonCode.TEMPLATE_NOT_APPROVED in paused.decision.reasons
    assert len(graph.calls) == 1

    meta_says("REINSTATED", NOW + timedelta(hours=3))
    assert service.send(BOT, request, NOW + timedelta(hours=3, minutes=1)).status == "sent"
