"""The simulated Graph API: real-shaped answers, windows enforced from its own customer record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.simulator.conftest import INSTAGRAM, LOOPBACK_ONLY, PAGE, WHATSAPP
from windowkeeper_tools.simulator import SimulatorServer

pytestmark = LOOPBACK_ONLY

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TOKEN = {"Authorization": "Bearer EAAG-simulated-page-token"}
PSID, IGSID, WA_ID = "6754321098765432", "17849000000000042", "34600111222"


@pytest.fixture(autouse=True)
def frozen_clock(sim):
    sim.set_now(NOW)


@pytest.fixture
def post(server: SimulatorServer, http: httpx.Client) -> Callable[..., httpx.Response]:
    """POST a Graph API call to the running simulator (with a token unless ``headers`` says otherwise)."""

    def call(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        return http.post(f"{server.url}{path}", json=body, headers=TOKEN if headers is None else headers)

    return call


def messenger_text(psid: str, messaging_type: str = "RESPONSE", tag: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recipient": {"id": psid},
        "messaging_type": messaging_type,
        "message": {"text": "Hello again"},
    }
    if tag:
        body["tag"] = tag
    return body


def whatsapp_text(wa_id: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_id,
        "type": "text",
        "text": {"body": "Hola"},
    }


def test_messenger_reply_inside_the_window_gets_a_recipient_and_message_id(post, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Is my order on its way?", at=NOW - timedelta(hours=2))
    answer = post(f"/v25.0/{PAGE.account_id}/messages", messenger_text(PSID))
    assert answer.status_code == 200
    assert answer.json()["recipient_id"] == PSID
    assert answer.json()["message_id"].startswith("m_")


def test_messenger_free_form_two_days_later_is_refused_with_meta_error(post, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Hi", at=NOW - timedelta(days=2))
    answer = post(f"/v25.0/{PAGE.account_id}/messages", messenger_text(PSID))
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (10, 2018278, "OAuthException")
    assert error["fbtrace_id"] and "outside of allowed window" in error["message"]


def test_human_agent_tag_works_up_to_seven_days_and_not_after(post, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Hi", at=NOW - timedelta(days=6, hours=23))
    tagged = messenger_text(PSID, "MESSAGE_TAG", "HUMAN_AGENT")
    assert post(f"/v25.0/{PAGE.account_id}/messages", tagged).status_code == 200

    sim.set_now(NOW + timedelta(hours=2))  # now 7 days 1 hour after the customer's message
    late = post(f"/v25.0/{PAGE.account_id}/messages", tagged)
    assert late.json()["error"]["error_subcode"] == 2018278


def test_instagram_window_error_has_its_own_subcode_and_no_other_tag(post, sim):
    sim.customer_writes("instagram", INSTAGRAM, IGSID, "Do you ship to Lisbon?", at=NOW - timedelta(days=2))
    path = f"/v25.0/{INSTAGRAM.account_id}/messages"
    assert post(path, messenger_text(IGSID)).json()["error"]["error_subcode"] == 2534022
    assert post(path, messenger_text(IGSID, "MESSAGE_TAG", "HUMAN_AGENT")).status_code == 200
    assert (
        post(path, messenger_text(IGSID, "MESSAGE_TAG", "CUSTOMER_FEEDBACK")).json()["error"]["code"] == 100
    )


def test_retired_tags_fail_with_invalid_parameter_from_2026_04_27(post, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Order 1042?", at=datetime(2026, 3, 1, tzinfo=UTC))
    body = messenger_text(PSID, "MESSAGE_TAG", "POST_PURCHASE_UPDATE")
    sim.set_now(datetime(2026, 3, 10, tzinfo=UTC))
    assert post(f"/v25.0/{PAGE.account_id}/messages", body).status_code == 200
    sim.set_now(datetime(2026, 4, 27, tzinfo=UTC))
    refused = post(f"/v25.0/{PAGE.account_id}/messages", body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 100
    assert refused.json()["error"]["message"] == "(#100) Invalid parameter"


def test_a_contact_who_never_wrote_cannot_be_messaged(post):
    answer = post(f"/v25.0/{PAGE.account_id}/messages", messenger_text("1111111111"))
    assert (answer.json()["error"]["code"], answer.json()["error"]["error_subcode"]) == (100, 2018001)


def test_whatsapp_answers_with_wamid_and_refuses_free_form_after_24_hours(post, sim):
    sim.customer_writes("whatsapp", WHATSAPP, WA_ID, "Hola", at=NOW - timedelta(hours=23))
    path = f"/v25.0/{WHATSAPP.account_id}/messages"
    ok = post(path, whatsapp_text(WA_ID))
    assert ok.status_code == 200
    assert ok.json()["messaging_product"] == "whatsapp"
    assert ok.json()["contacts"] == [{"input": WA_ID, "wa_id": WA_ID}]
    assert ok.json()["messages"][0]["id"].startswith("wamid.HBgL")

    sim.set_now(NOW + timedelta(hours=1, seconds=1))
    refused = post(path, whatsapp_text(WA_ID))
    error = refused.json()["error"]
    assert error["code"] == 131047 and "24 hours" in error["error_data"]["details"]


def test_a_whatsapp_call_opens_the_window(post, sim):
    sim.customer_calls(WHATSAPP, WA_ID, at=NOW - timedelta(hours=1))
    assert post(f"/v25.0/{WHATSAPP.account_id}/messages", whatsapp_text(WA_ID)).status_code == 200


def test_whatsapp_templates_go_any_time_but_paused_or_unknown_ones_fail(post, sim):
    path = f"/v25.0/{WHATSAPP.account_id}/messages"

    def template(name: str) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "to": WA_ID,
            "type": "template",
            "template": {"name": name, "language": {"code": "en_US"}},
        }

    accepted = post(path, template("order_shipped"))
    assert accepted.status_code == 200 and accepted.json()["messages"][0]["message_status"] == "accepted"
    assert post(path, template("winter_sale")).json()["error"]["code"] == 132015
    assert post(path, template("no_such_template")).json()["error"]["code"] == 132001


def test_one_private_reply_per_comment_within_seven_days(post, sim):
    sim.customer_comments(
        "instagram", INSTAGRAM, IGSID, "17858893269000001", "Price?", at=NOW - timedelta(days=6)
    )
    body = {"recipient": {"comment_id": "17858893269000001"}, "message": {"text": "Sent you the price list!"}}
    path = f"/v25.0/{INSTAGRAM.account_id}/messages"
    assert post(path, body).status_code == 200
    second = post(path, body)
    assert (second.json()["error"]["code"], second.json()["error"]["error_subcode"]) == (100, 2534025)


def test_a_call_without_a_token_is_refused(post, sim):
    sim.customer_writes("messenger", PAGE, PSID, "Hi", at=NOW)
    answer = post(f"/v25.0/{PAGE.account_id}/messages", messenger_text(PSID), headers={})
    assert answer.json()["error"]["code"] == 104


def test_thread_control_answers_success(post, sim):
    body = {"recipient": {"id": PSID}, "target_app_id": "263902037430900", "metadata": "to the inbox"}
    answer = post(f"/v25.0/{PAGE.account_id}/pass_thread_control", body)
    assert answer.status_code == 200 and answer.json() == {"success": True}


def test_unknown_edges_get_graphs_unsupported_request_error(post):
    answer = post(f"/v25.0/{PAGE.account_id}/feed", {"message": "hi"})
    assert answer.json()["error"]["error_subcode"] == 33
