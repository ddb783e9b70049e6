"""Recording, reset, the clock and fault injection through ``/_sim/*`` and the Python API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.integration.simulator.conftest import LOOPBACK_ONLY, PAGE, WHATSAPP
from windowkeeper_tools.simulator import SimulatorServer

pytestmark = LOOPBACK_ONLY

PSID = "6754321098765432"
TOKEN = {"Authorization": "Bearer EAAG-simulated-page-token"}
REPLY = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "On its way!"}}


@pytest.fixture
def customer_wrote(sim):
    sim.customer_writes("messenger", PAGE, PSID, "Where is my order?")


def send(http: httpx.Client, server: SimulatorServer) -> httpx.Response:
    return http.post(f"{server.url}/v25.0/{PAGE.account_id}/messages", json=REPLY, headers=TOKEN)


def test_every_graph_call_is_recorded_without_the_token(http, server, customer_wrote):
    send(http, server)
    listing = http.get(f"{server.url}/_sim/requests").json()["requests"]
    assert len(listing) == 1
    record = listing[0]
    assert record["method"] == "POST" and record["edge"] == "messages" and record["node"] == PAGE.account_id
    assert record["channel"] == "messenger" and record["status"] == 200
    assert record["body"] == REPLY and record["token_present"] is True
    assert "EAAG-simulated-page-token" not in str(record)
    assert server.simulator.delivered(PSID)[0].body == REPLY


def test_reset_forgets_requests_and_customers(http, server, customer_wrote):
    send(http, server)
    assert http.post(f"{server.url}/_sim/reset").json() == {"status": "ok"}
    assert http.get(f"{server.url}/_sim/requests").json() == {"requests": []}
    # The customer is forgotten too, so the same reply now finds no conversation.
    assert send(http, server).json()["error"]["error_subcode"] == 2018001


def test_server_error_fault_answers_the_next_n_calls_then_clears(http, server, customer_wrote):
    armed = http.post(f"{server.url}/_sim/faults", json={"kind": "server_error", "count": 2})
    assert armed.json() == {"status": "ok", "kind": "server_error", "count": 2}
    first, second, third = send(http, server), send(http, server), send(http, server)
    assert (first.status_code, second.status_code, third.status_code) == (500, 500, 200)
    assert first.json()["error"]["is_transient"] is True
    assert [r.fault for r in server.simulator.requests()] == [True, True, False]


def test_throttle_fault_uses_the_channels_code(http, server, sim, customer_wrote):
    sim.add_fault("throttle")
    assert send(http, server).json()["error"]["code"] == 4
    sim.add_fault("throttle", channel=sim.account("whatsapp", WHATSAPP).channel)
    answer = http.post(
        f"{server.url}/v25.0/{WHATSAPP.account_id}/messages",
        json={"messaging_product": "whatsapp", "to": "34600111222", "type": "text", "text": {"body": "hi"}},
        headers=TOKEN,
    )
    assert answer.json()["error"]["code"] == 130429


def test_error_fault_answers_a_given_code(http, server, customer_wrote):
    http.post(
        f"{server.url}/_sim/faults",
        json={
            "kind": "error",
            "code": 551,
            "subcode": 1545041,
            "message": "This person isn't available right now.",
        },
    )
    error = send(http, server).json()["error"]
    assert (error["code"], error["error_subcode"], error["message"]) == (
        551,
        1545041,
        "This person isn't available right now.",
    )


def test_disconnect_fault_drops_the_connection(http, server, sim, customer_wrote):
    sim.add_fault("disconnect")
    with pytest.raises(httpx.RemoteProtocolError):
        send(http, server)
    assert send(http, server).status_code == 200


def test_bad_fault_requests_are_refused(http, server):
    answer = http.post(f"{server.url}/_sim/faults", json={"kind": "error"})
    assert answer.status_code == 400 and answer.json()["reason"] == "invalid_request"


def test_the_clock_can_be_set_over_http(http, server, customer_wrote):
    later = datetime.now(UTC) + timedelta(days=2)
    set_now = http.post(f"{server.url}/_sim/clock", json={"now": later.isoformat().replace("+00:00", "Z")})
    assert datetime.fromisoformat(set_now.json()["now"]) == later
    assert send(http, server).json()["error"]["error_subcode"] == 2018278
    http.post(f"{server.url}/_sim/clock", json={"now": None})
    assert send(http, server).status_code == 200


def test_customer_endpoint_plays_a_customer_in_the_past(http, server, receiver):
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    answer = http.post(
        f"{server.url}/_sim/customer",
        json={
            "channel": "messenger",
            "account_id": PAGE.account_id,
            "contact_id": PSID,
            "text": "Hi",
            "at": two_days_ago,
        },
    )
    assert answer.status_code == 200 and answer.json()["webhook"]["status_code"] == 200
    assert len(receiver.received) == 1
    assert send(http, server).json()["error"]["error_subcode"] == 2018278


def test_customer_endpoint_refuses_unknown_kinds(http, server):
    answer = http.post(
        f"{server.url}/_sim/customer",
        json={"channel": "messenger", "account_id": PAGE.account_id, "contact_id": PSID, "kind": "teleport"},
    )
    assert answer.status_code == 400 and "teleport" in answer.json()["message"]
