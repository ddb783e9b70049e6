"""The real GraphClient against the running simulator over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.simulator.conftest import LOOPBACK_ONLY, PAGE, WHATSAPP
from tests.support.accounts import template
from tests.support.decisions import allowed_decision
from windowkeeper.graph import GraphClient
from windowkeeper.policy.model import (
    Channel,
    ContactState,
    Content,
    ContentKind,
    Decision,
    Path,
    ReasonCode,
)

pytestmark = LOOPBACK_ONLY

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PSID, WA_ID = "6754321098765432", "34600111222"
TEXT = Content(kind=ContentKind.TEXT, text="Your replacement ships tomorrow.")


def allowed(path: Path, **send_fields) -> Decision:
    return allowed_decision(path, NOW, **send_fields)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server, sim, sleeps):
    sim.set_now(NOW)
    graph = GraphClient(
        server.url, "v25.0", lambda account: "EAAG-simulated", sleep=sleeps.append, timeout=5.0
    )
    yield graph
    graph.close()


def test_a_gate_bug_shows_up_as_metas_window_error_mapped_to_our_reason(client, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Hi", at=NOW - timedelta(days=2))
    # As if the gate wrongly allowed free-form two days later:
    contact = ContactState(channel=Channel.MESSENGER, account_id=PAGE.account_id, contact_id=PSID)
    result = client.send(PAGE, contact, allowed(Path.FREE_FORM, messaging_type="RESPONSE"), TEXT)
    assert not result.ok and result.http_status == 400
    assert result.reason is ReasonCode.WINDOW_CLOSED and result.known_error
    assert result.effects.window_closed_early
    assert result.error is not None and (result.error.code, result.error.subcode) == (10, 2018278)


def test_human_agent_after_two_days_is_delivered_with_the_tag(client, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Hi", at=NOW - timedelta(days=2))
    contact = ContactState(channel=Channel.MESSENGER, account_id=PAGE.account_id, contact_id=PSID)
    result = client.send(
        PAGE, contact, allowed(Path.HUMAN_AGENT, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT"), TEXT
    )
    assert result.ok and result.platform_message_id and result.platform_message_id.startswith("m_")
    assert sim.delivered(PSID)[-1].body["tag"] == "HUMAN_AGENT"


def test_whatsapp_template_after_the_window_is_delivered(client, sim):
    sim.customer_writes("whatsapp", WHATSAPP, WA_ID, "Hola", at=NOW - timedelta(days=3))
    contact = ContactState(channel=Channel.WHATSAPP, account_id=WHATSAPP.account_id, contact_id=WA_ID)
    order_shipped = template("order_shipped", parameters=("Ana", "A-1042"))
    free_form = client.send(WHATSAPP, contact, allowed(Path.FREE_FORM, type="text"), TEXT)
    assert free_form.reason is ReasonCode.WINDOW_CLOSED
    sent = client.send(
        WHATSAPP,
        contact,
        allowed(Path.UTILITY_TEMPLATE, type="template", category="UTILITY"),
        Content(kind=ContentKind.TEMPLATE, template=order_shipped),
    )
    assert sent.ok and sent.platform_message_id and sent.platform_message_id.startswith("wamid.")


def test_server_errors_are_retried_until_the_simulator_recovers(client, sim, sleeps):
    sim.customer_writes("messenger", PAGE, PSID, "Hi", at=NOW - timedelta(minutes=5))
    sim.add_fault("server_error", count=2)
    contact = ContactState(channel=Channel.MESSENGER, account_id=PAGE.account_id, contact_id=PSID)
    result = client.send(PAGE, contact, allowed(Path.FREE_FORM, messaging_type="RESPONSE"), TEXT)
    assert result.ok and result.attempts == 3 and len(sleeps) == 2
    assert [r.status for r in sim.requests()] == [500, 500, 200]


def test_a_dropped_connection_is_not_resent_and_reported_unknown(client, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Hi", at=NOW - timedelta(minutes=5))
    sim.add_fault("disconnect")
    contact = ContactState(channel=Channel.MESSENGER, account_id=PAGE.account_id, contact_id=PSID)
    result = client.send(PAGE, contact, allowed(Path.FREE_FORM, messaging_type="RESPONSE"), TEXT)
    # The request reached Meta before the connection dropped: it may have been delivered.
    assert not result.ok and result.delivery_unknown and result.attempts == 1
    assert len(sim.requests()) == 1


def test_thread_control_round_trip(client, sim):
    result = client.pass_thread_control(PAGE, PSID, "263902037430900", metadata="escalated")
    assert result.ok
    assert sim.requests(edge="pass_thread_control")[0].body["target_app_id"] == "263902037430900"
