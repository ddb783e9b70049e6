"""The payload builders other tests reuse: encoding, signing, batching, event shapes (no sockets)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from windowkeeper_tools.simulator import payloads as p

AT = datetime(2026, 11, 19, 10, 0, 30, tzinfo=UTC)


def test_serialize_escapes_non_ascii_like_meta_and_signature_matches_hmac_of_those_bytes():
    body = p.serialize(p.messenger_message("1001", "2002", "äöå", AT, mid="m_1"))
    assert b"\\u00e4\\u00f6\\u00e5" in body and body.isascii()
    expected = hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert p.signature(body, "app-secret") == f"sha256={expected}"


def test_batch_merges_entries_of_one_object_only():
    first = p.messenger_message("1001", "2002", "one", AT)
    second = p.messenger_postback("1001", "2003", "Get Started", "GET_STARTED", AT)
    merged = p.batch(first, second)
    assert merged["object"] == "page" and len(merged["entry"]) == 2
    with pytest.raises(ValueError, match="different objects"):
        p.batch(first, p.whatsapp_text("3003", "4004", "34600111222", "hola", AT))


def test_echo_comes_from_the_page_with_the_app_id():
    event = p.messenger_echo("1001", "2002", "Sent from the inbox", AT, app_id="263902037430900")["entry"][0]
    message = event["messaging"][0]["message"]
    assert event["messaging"][0]["sender"] == {"id": "1001"}
    assert message["is_echo"] is True and message["app_id"] == 263902037430900


def test_marketing_opt_in_carries_the_token():
    optin = p.messenger_marketing_opt_in("1001", "2002", "7733112200", AT)["entry"][0]["messaging"][0][
        "optin"
    ]
    assert optin["type"] == "notification_messages" and optin["notification_messages_token"] == "7733112200"


def test_handover_event_names_the_new_owner():
    event = p.messenger_handover(
        "1001", "2002", AT, action="pass_thread_control", new_owner_app_id="263902037430900"
    )
    assert event["entry"][0]["messaging"][0]["pass_thread_control"]["new_owner_app_id"] == "263902037430900"


def test_whatsapp_status_delivered_has_pricing_and_failed_has_errors():
    delivered = p.whatsapp_status(
        "3003", "4004", "34600111222", "wamid.X", AT, pricing_type="free_entry_point"
    )
    status = delivered["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["pricing"]["type"] == "free_entry_point" and "errors" not in status
    failed = p.whatsapp_status(
        "3003", "4004", "34600111222", "wamid.X", AT, status="failed", error_code=131050
    )
    status = failed["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["errors"][0]["code"] == 131050 and "pricing" not in status


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        p.messenger_message("1001", "2002", "hi", datetime(2026, 11, 19, 10, 0))


def test_builders_produce_json_ready_dicts():
    for payload in (
        p.instagram_comment("1001", "2002", "c1", "nice", AT),
        p.messenger_comment("1001", "2002", "555_666", "nice", AT),
        p.whatsapp_call("3003", "4004", "34600111222", AT),
        p.whatsapp_user_preferences("3003", "4004", "34600111222", "resume", AT),
        p.whatsapp_ad_message("3003", "4004", "34600111222", "hi", AT, ad_id="120"),
        p.messenger_ad_message("1001", "2002", "hi", AT, ad_id="120"),
    ):
        assert json.loads(p.serialize(payload)) == payload
