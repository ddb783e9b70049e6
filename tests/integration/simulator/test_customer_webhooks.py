"""Playing customers: real-shaped, Meta-serialised, signed webhooks POSTed to the service."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from tests.integration.simulator.conftest import (
    APP_SECRET,
    INSTAGRAM,
    LOOPBACK_ONLY,
    PAGE,
    WHATSAPP,
    Received,
)

pytestmark = LOOPBACK_ONLY

AT = datetime(2026, 11, 19, 10, 0, 30, tzinfo=UTC)


def verify(received: Received) -> dict[str, Any]:
    """What the webhook function does: HMAC over the exact bytes, then parse."""
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["x-hub-signature-256"], expected)
    parsed: dict[str, Any] = json.loads(received.body)
    return parsed


def test_messenger_message_is_signed_escaped_and_timestamped_in_milliseconds(sim, receiver):
    delivery = sim.customer_writes(
        "messenger", PAGE, "6754321098765432", "Könnt ihr bis Dienstag liefern? 🚚", at=AT
    )
    assert delivery.status_code == 200
    received = receiver.received[0]
    assert received.headers["content-type"] == "application/json"
    assert b"\\u00f6" in received.body and b"\\ud83d\\ude9a" in received.body
    assert received.body.isascii() and b", " not in received.body and b": " not in received.body
    payload = verify(received)
    assert payload["object"] == "page"
    event = payload["entry"][0]["messaging"][0]
    assert payload["entry"][0]["id"] == PAGE.account_id
    assert event["sender"] == {"id": "6754321098765432"} and event["recipient"] == {"id": PAGE.account_id}
    assert event["timestamp"] == 1_795_082_430_000
    assert event["message"]["text"] == "Könnt ihr bis Dienstag liefern? 🚚"
    assert event["message"]["mid"].startswith("m_")


def test_a_re_serialised_body_would_not_verify(sim, receiver):
    sim.customer_writes("messenger", PAGE, "6754321098765432", "Olá, está aberto amanhã?", at=AT)
    received = receiver.received[0]
    reserialised = json.dumps(json.loads(received.body), ensure_ascii=False).encode()
    forged = "sha256=" + hmac.new(APP_SECRET.encode(), reserialised, hashlib.sha256).hexdigest()
    assert forged != received.headers["x-hub-signature-256"]


def test_instagram_message_uses_the_instagram_object(sim, receiver):
    sim.customer_writes("instagram", INSTAGRAM, "17849000000000042", "Hi!", at=AT)
    payload = verify(receiver.received[0])
    assert payload["object"] == "instagram"
    assert payload["entry"][0]["messaging"][0]["timestamp"] == 1_795_082_430_000


def test_whatsapp_message_names_the_waba_and_the_phone_number_with_seconds_as_a_string(sim, receiver):
    sim.customer_writes("whatsapp", WHATSAPP, "34600111222", "¿Tenéis la talla 42?", at=AT)
    payload = verify(receiver.received[0])
    assert payload["object"] == "whatsapp_business_account"
    entry = payload["entry"][0]
    assert entry["id"] == WHATSAPP.waba_id
    value = entry["changes"][0]["value"]
    assert entry["changes"][0]["field"] == "messages"
    assert value["metadata"]["phone_number_id"] == WHATSAPP.account_id
    assert value["contacts"][0]["wa_id"] == "34600111222"
    message = value["messages"][0]
    assert message["timestamp"] == "1795082430" and message["type"] == "text"
    assert message["text"]["body"] == "¿Tenéis la talla 42?" and message["id"].startswith("wamid.")


def test_other_customer_actions_have_their_shapes(sim, receiver):
    sim.customer_postback("messenger", PAGE, "6754321098765432", "Talk to a person", "HUMAN", at=AT)
    sim.customer_reacts("messenger", PAGE, "6754321098765432", "m_target", at=AT)
    sim.customer_calls(WHATSAPP, "34600111222", at=AT)
    sim.customer_comments("instagram", INSTAGRAM, "17849000000000042", "17858893269000001", "Precio?", at=AT)
    sim.customer_marketing_preference(WHATSAPP, "34600111222", "stop", at=AT)
    sim.customer_clicks_ad("whatsapp", WHATSAPP, "34600111222", "Hi, is this still on sale?", at=AT)
    sim.message_status(WHATSAPP, "34600111222", "wamid.HBgLabc", "failed", at=AT, error_code=131049)
    bodies = [verify(r) for r in receiver.received]

    postback = bodies[0]["entry"][0]["messaging"][0]["postback"]
    assert postback["payload"] == "HUMAN" and postback["title"] == "Talk to a person"
    assert bodies[1]["entry"][0]["messaging"][0]["reaction"]["mid"] == "m_target"
    call = bodies[2]["entry"][0]["changes"][0]
    assert call["field"] == "calls" and call["value"]["calls"][0]["from"] == "34600111222"
    comment = bodies[3]["entry"][0]["changes"][0]
    assert comment["field"] == "comments" and comment["value"]["id"] == "17858893269000001"
    prefs = bodies[4]["entry"][0]["changes"][0]
    assert prefs["field"] == "user_preferences" and prefs["value"]["user_preferences"][0]["value"] == "stop"
    referral = bodies[5]["entry"][0]["changes"][0]["value"]["messages"][0]["referral"]
    assert referral["source_type"] == "ad" and referral["ctwa_clid"]
    status = bodies[6]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131049


def test_the_window_book_keeps_the_latest_customer_action(sim):
    earlier = datetime(2026, 11, 18, tzinfo=UTC)
    sim.customer_writes("messenger", PAGE, "6754321098765432", "second", at=AT)
    sim.customer_writes("messenger", PAGE, "6754321098765432", "late-arriving first", at=earlier)
    assert sim.last_customer_action(PAGE.channel, PAGE.account_id, "6754321098765432") == AT
