"""The simulator's opt-ins, statuses, template status updates and policy enforcement: real shapes.

Each is compared with the recorded fixture of the same webhook (tests/fixtures/meta), key for key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.simulator.conftest import LOOPBACK_ONLY, PAGE, WHATSAPP
from tests.integration.simulator.test_customer_webhooks import verify
from windowkeeper_tools.simulator import Simulator
from windowkeeper_tools.simulator.server import play_customer

pytestmark = LOOPBACK_ONLY

AT = datetime(2026, 11, 19, 10, 0, 30, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "meta"


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def keys(node: Any) -> Any:
    """The shape of a payload: its keys, recursively (values differ, shapes must not)."""
    if isinstance(node, dict):
        return {k: keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [keys(node[0])] if node else []
    return type(node).__name__


def test_a_messenger_marketing_opt_in_carries_its_token_like_metas(sim: Simulator, receiver: Any) -> None:
    sim.customer_opts_in("messenger", PAGE, "6754321098765432", AT, token="7720000000000000042")
    (body,) = [verify(r) for r in receiver.received]
    optin = body["entry"][0]["messaging"][0]["optin"]
    assert optin["notification_messages_token"] == "7720000000000000042"
    assert optin["notification_messages_status"] == "RESUME_NOTIFICATIONS"
    assert keys(body) == keys(fixture("messenger_marketing_optin_token.json"))


def test_a_whatsapp_opt_in_is_a_user_preferences_resume(sim: Simulator, receiver: Any) -> None:
    sim.customer_opts_in("whatsapp", WHATSAPP, "34600111222", AT)
    (body,) = [verify(r) for r in receiver.received]
    change = body["entry"][0]["changes"][0]
    assert (
        change["field"] == "user_preferences" and change["value"]["user_preferences"][0]["value"] == "resume"
    )


def test_messenger_delivered_and_read_statuses(sim: Simulator, receiver: Any) -> None:
    sim.messenger_status("messenger", PAGE, "6754321098765432", "delivered", AT, message_ids=["m_abc"])
    sim.messenger_status("messenger", PAGE, "6754321098765432", "read", AT)
    delivered, read = [verify(r)["entry"][0]["messaging"][0] for r in receiver.received]
    assert delivered["delivery"]["mids"] == ["m_abc"] and delivered["delivery"]["watermark"] > 0
    assert read["read"]["watermark"] > 0
    recorded = fixture("messenger_delivery_and_read.json")["entry"][0]["messaging"]
    assert {"delivery", "read"} <= {k for event in recorded for k in event}
    with pytest.raises(ValueError, match="WhatsApp"):
        sim.messenger_status("messenger", PAGE, "6754321098765432", "failed", AT)


def test_a_failed_whatsapp_status_through_the_control_endpoint_names_its_error(
    sim: Simulator, receiver: Any
) -> None:
    request = {
        "channel": "whatsapp",
        "account_id": WHATSAPP.account_id,
        "contact_id": "34600111222",
        "kind": "status",
        "message_id": "wamid.HBgLxyz",
        "status": "failed",
        "error_code": 131026,
        "at": AT.isoformat(),
    }
    play_customer(sim, request)
    (body,) = [verify(r) for r in receiver.received]
    status = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131026
    assert keys(status["errors"]) == keys(
        fixture("whatsapp_status_failed_131026.json")["entry"][0]["changes"][0]["value"]["statuses"][0][
            "errors"
        ]
    )


def test_a_template_status_update_has_metas_shape(sim: Simulator, receiver: Any) -> None:
    play_customer(
        sim,
        {
            "channel": "whatsapp",
            "account_id": WHATSAPP.account_id,
            "kind": "template_status",
            "template": "order_update",
            "event": "APPROVED",
            "at": AT.isoformat(),
        },
    )
    sim.template_status_update(WHATSAPP, "order_update", "PAUSED", AT)
    approved, paused = [verify(r) for r in receiver.received]
    assert keys(approved) == keys(fixture("whatsapp_template_status_update.json"))
    assert approved["entry"][0]["id"] == WHATSAPP.waba_id
    value = paused["entry"][0]["changes"][0]["value"]
    assert value["event"] == "PAUSED" and value["other_info"]["title"] == "FIRST_PAUSE"


def test_a_policy_enforcement_has_metas_shape_and_no_sender(sim: Simulator, receiver: Any) -> None:
    play_customer(
        sim,
        {
            "channel": "messenger",
            "account_id": PAGE.account_id,
            "kind": "policy_enforcement",
            "action": "warning",
        },
    )
    sim.policy_enforcement("messenger", PAGE, "block", AT, reason="Spam reports")
    warning, block = [verify(r) for r in receiver.received]
    assert keys(warning) == keys(fixture("messenger_policy_enforcement_warning.json"))
    event = block["entry"][0]["messaging"][0]
    assert "sender" not in event and event["policy_enforcement"] == {
        "action": "block",
        "reason": "Spam reports",
    }
    with pytest.raises(ValueError, match="Messenger/Instagram"):
        sim.policy_enforcement("whatsapp", WHATSAPP, "warning", AT)


def test_meta_refuses_a_template_it_paused_and_sends_it_again_once_reinstated(
    sim: Simulator, receiver: Any
) -> None:
    """The simulator's own send API follows the verdicts it plays, as Meta's does (132015)."""

    def send_order_shipped() -> Any:
        body = {
            "messaging_product": "whatsapp",
            "to": "447700900123",
            "type": "template",
            "template": {"name": "order_shipped", "language": {"code": "en_US"}},
        }
        path = f"/v25.0/{WHATSAPP.account_id}/messages"
        return sim.handle_graph("POST", path, {}, {"authorization": "Bearer EAAG-wa-token"}, body)

    assert send_order_shipped().status == 200
    sim.template_status_update(WHATSAPP, "order_shipped", "PAUSED", AT)
    paused = send_order_shipped()
    assert (paused.status, paused.body["error"]["code"]) == (400, 132015)
    sim.template_status_update(WHATSAPP, "order_shipped", "REINSTATED", AT)
    assert send_order_shipped().status == 200
