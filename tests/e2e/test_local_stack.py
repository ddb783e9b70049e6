"""The whole service, locally: customers write through Meta's (simulated) signed webhooks on
Messenger, Instagram and WhatsApp, agents and bots send through the HTTP API with their own
tokens, and what reaches Meta (the simulator) or is refused is what the rules say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.helpers import E2E_VERIFY_TOKEN, http
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

MESSENGER_PAGE = "1111"
INSTAGRAM_ACCOUNT = "2222"
WHATSAPP_NUMBER = "3333"
TWO_DAYS_AGO = timedelta(days=2)


def customer_writes(
    stack: LocalStack, channel: Channel, account: str, contact: str, text: str, ago: timedelta = timedelta(0)
) -> None:
    assert stack.simulator is not None
    at = datetime.now(UTC) - ago
    delivery = stack.simulator.simulator.customer_writes(channel, account, contact, text, at)
    assert delivery.status_code == 200, delivery.response_text


def delivered_to(stack: LocalStack, contact: str) -> list[dict[str, Any]]:
    reply = http("GET", f"{stack.simulator_url}/_sim/requests?edge=messages")
    assert reply.status == 200
    requests = reply.body["requests"] if isinstance(reply.body, dict) else reply.body
    return [r for r in requests if 200 <= r["status"] < 300 and _recipient(r["body"]) == contact]


def _recipient(body: dict[str, Any]) -> str | None:
    recipient = body.get("recipient") or {}
    return recipient.get("id") or body.get("to")


def text_message(channel: str, account: str, contact: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "channel": channel,
        "account_id": account,
        "contact_id": contact,
        "content": {"type": "text", "text": text},
        **extra,
    }


# -- the gateway and the webhook handshake ---------------------------------------------------


def test_webhook_verification_handshake(stack: LocalStack) -> None:
    ok = http(
        "GET",
        f"{stack.webhook_url}?hub.mode=subscribe&hub.verify_token={E2E_VERIFY_TOKEN}&hub.challenge=1158201444",
    )
    assert (ok.status, ok.body) == (200, 1158201444)
    wrong = http(
        "GET", f"{stack.webhook_url}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444"
    )
    assert wrong.status == 403


def test_api_needs_a_token_signed_by_the_local_key(stack: LocalStack) -> None:
    reply = http(
        "POST", f"{stack.api_url}/v1/messages", text_message("messenger", MESSENGER_PAGE, "psid-x", "hi")
    )
    assert (reply.status, reply.body) == (401, {"message": "Unauthorized"})
    forged = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("messenger", MESSENGER_PAGE, "psid-x", "hi"),
        token="eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    )
    assert forged.status == 401


# -- Messenger: two days after the customer's last message ------------------------------------


def test_human_agent_reply_after_two_days_goes_with_the_human_agent_tag(
    stack: LocalStack, agent_token: str
) -> None:
    contact = "psid-e2e-late-1"
    customer_writes(
        stack, Channel.MESSENGER, MESSENGER_PAGE, contact, "Is my tent repaired yet?", ago=TWO_DAYS_AGO
    )

    check = http(
        "POST",
        f"{stack.api_url}/v1/messages/check",
        text_message("messenger", MESSENGER_PAGE, contact, "Yes, ready for pickup."),
        token=agent_token,
    )
    # The free-form window closed a day ago; the engine picks HUMAN_AGENT for a person.
    assert check.status == 200 and check.body["status"] == "allowed", check.body
    assert check.body["decision"]["path"] == "human_agent"
    free_form = next(o for o in check.body["decision"]["options"] if o["path"] == "free_form")
    assert free_form["allowed_now"] is False

    sent = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("messenger", MESSENGER_PAGE, contact, "Yes, ready for pickup."),
        token=agent_token,
    )
    assert sent.status == 200, sent.body
    assert sent.body["status"] == "sent" and sent.body["decision"]["path"] == "human_agent"
    [graph_call] = delivered_to(stack, contact)
    assert graph_call["body"]["messaging_type"] == "MESSAGE_TAG"
    assert graph_call["body"]["tag"] == "HUMAN_AGENT"
    assert graph_call["body"]["message"]["text"] == "Yes, ready for pickup."


def test_bot_is_refused_human_only_after_two_days(stack: LocalStack, bot_token: str) -> None:
    contact = "psid-e2e-late-2"
    customer_writes(stack, Channel.MESSENGER, MESSENGER_PAGE, contact, "Hello?", ago=TWO_DAYS_AGO)
    reply = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("messenger", MESSENGER_PAGE, contact, "Automated follow-up"),
        token=bot_token,
    )
    assert reply.body["status"] == "refused", reply.body
    assert "human_only" in reply.body["decision"]["reasons"]
    assert reply.status >= 400
    assert delivered_to(stack, contact) == []


def test_bot_answers_freely_inside_the_window(stack: LocalStack, bot_token: str) -> None:
    contact = "psid-e2e-fresh"
    customer_writes(stack, Channel.MESSENGER, MESSENGER_PAGE, contact, "What are your opening hours?")
    reply = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("messenger", MESSENGER_PAGE, contact, "9 to 5, Monday to Saturday."),
        token=bot_token,
    )
    assert reply.status == 200 and reply.body["decision"]["path"] == "free_form", reply.body
    [graph_call] = delivered_to(stack, contact)
    assert graph_call["body"]["messaging_type"] == "RESPONSE"


# -- Instagram ---------------------------------------------------------------------------------


def test_instagram_in_window_reply_and_late_bot_refusal(stack: LocalStack, bot_token: str) -> None:
    fresh, late = "igsid-e2e-fresh", "igsid-e2e-late"
    customer_writes(stack, Channel.INSTAGRAM, INSTAGRAM_ACCOUNT, fresh, "Do you ship to Ireland?")
    customer_writes(
        stack, Channel.INSTAGRAM, INSTAGRAM_ACCOUNT, late, "Do you ship to Spain?", ago=TWO_DAYS_AGO
    )
    ok = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("instagram", INSTAGRAM_ACCOUNT, fresh, "Yes, in 3 days."),
        token=bot_token,
    )
    assert ok.status == 200 and ok.body["status"] == "sent", ok.body
    assert len(delivered_to(stack, fresh)) == 1
    refused = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("instagram", INSTAGRAM_ACCOUNT, late, "Yes, in 5 days."),
        token=bot_token,
    )
    assert refused.body["status"] == "refused" and "window_closed" in refused.body["decision"]["reasons"]
    assert delivered_to(stack, late) == []


# -- WhatsApp: free-form after 24 h refused, an approved template delivered --------------------


def test_whatsapp_after_24_hours_needs_a_template(stack: LocalStack, agent_token: str) -> None:
    contact = "447700900123"
    customer_writes(
        stack,
        Channel.WHATSAPP,
        WHATSAPP_NUMBER,
        contact,
        "Can I change my delivery address?",
        ago=TWO_DAYS_AGO,
    )

    free_form = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("whatsapp", WHATSAPP_NUMBER, contact, "Sure, what is the new address?"),
        token=agent_token,
    )
    assert free_form.body["status"] == "refused", free_form.body
    assert "window_closed" in free_form.body["decision"]["reasons"]
    template_paths = {o["path"] for o in free_form.body["decision"]["options"] if o["allowed_now"]}
    assert "utility_template" in template_paths
    assert delivered_to(stack, contact) == []

    template = {
        "channel": "whatsapp",
        "account_id": WHATSAPP_NUMBER,
        "contact_id": contact,
        "content": {
            "type": "template",
            "template": {
                "name": "order_update",
                "language": "en_US",
                "parameters": ["A-1042", "ready to ship"],
            },
        },
        "purpose": "order_update",
    }
    sent = http("POST", f"{stack.api_url}/v1/messages", template, token=agent_token)
    assert sent.status == 200 and sent.body["status"] == "sent", sent.body
    assert sent.body["decision"]["path"] == "utility_template"
    [graph_call] = delivered_to(stack, contact)
    assert graph_call["body"]["type"] == "template"
    assert graph_call["body"]["template"]["name"] == "order_update"


def test_paused_template_is_refused(stack: LocalStack, agent_token: str) -> None:
    contact = "447700900456"
    customer_writes(stack, Channel.WHATSAPP, WHATSAPP_NUMBER, contact, "Any sales coming?", ago=TWO_DAYS_AGO)
    paused = {
        "channel": "whatsapp",
        "account_id": WHATSAPP_NUMBER,
        "contact_id": contact,
        "content": {"type": "template", "template": {"name": "summer_clearance", "language": "en_US"}},
        "purpose": "marketing",
    }
    reply = http("POST", f"{stack.api_url}/v1/messages", paused, token=agent_token)
    assert reply.body["status"] == "refused", reply.body
    assert delivered_to(stack, contact) == []


def test_a_template_meta_pauses_is_refused_by_the_next_send_until_meta_reinstates_it(
    stack: LocalStack, agent_token: str
) -> None:
    """Meta's ``message_template_status_update`` (played by the simulator, signed, over HTTP) is
    kept as the template's state: the next send of it is refused without reaching Meta."""
    assert stack.simulator is not None
    sim = stack.simulator.simulator
    contact = "447700900789"
    customer_writes(
        stack, Channel.WHATSAPP, WHATSAPP_NUMBER, contact, "Is my order packed?", ago=TWO_DAYS_AGO
    )
    order_update = {
        "channel": "whatsapp",
        "account_id": WHATSAPP_NUMBER,
        "contact_id": contact,
        "content": {
            "type": "template",
            "template": {"name": "order_update", "language": "en_US", "parameters": ["A-2077", "packed"]},
        },
        "purpose": "order_update",
    }
    paused_at = datetime.now(UTC)
    assert sim.template_status_update(WHATSAPP_NUMBER, "order_update", "PAUSED", paused_at).status_code == 200
    try:
        refused = http("POST", f"{stack.api_url}/v1/messages", order_update, token=agent_token)
        assert refused.status == 409, refused.body
        assert "template_not_approved" in refused.body["decision"]["reasons"]
        assert delivered_to(stack, contact) == []
    finally:
        reinstated = sim.template_status_update(
            WHATSAPP_NUMBER, "order_update", "REINSTATED", paused_at + timedelta(seconds=1)
        )
        assert reinstated.status_code == 200
    sent = http("POST", f"{stack.api_url}/v1/messages", order_update, token=agent_token)
    assert sent.status == 200 and sent.body["status"] == "sent", sent.body


# -- tenants -----------------------------------------------------------------------------------


def test_other_tenant_cannot_send_on_acme_accounts(stack: LocalStack, other_tenant_token: str) -> None:
    contact = "psid-e2e-tenant"
    customer_writes(stack, Channel.MESSENGER, MESSENGER_PAGE, contact, "Hi")
    reply = http(
        "POST",
        f"{stack.api_url}/v1/messages",
        text_message("messenger", MESSENGER_PAGE, contact, "Hello from Globex"),
        token=other_tenant_token,
    )
    assert reply.status == 403
    assert reply.body["reason"] == "forbidden_tenant"
    assert delivered_to(stack, contact) == []


# -- what the console reads --------------------------------------------------------------------


def test_console_reads_conversations_messages_and_accounts(stack: LocalStack, agent_token: str) -> None:
    contact = "psid-e2e-console"
    customer_writes(stack, Channel.MESSENGER, MESSENGER_PAGE, contact, "Where is my order?")
    conversations = http("GET", f"{stack.api_url}/v1/conversations?limit=50", token=agent_token)
    assert conversations.status == 200, conversations.body
    row = next(c for c in conversations.body["conversations"] if c["contact_id"] == contact)
    assert row["state"] == "open" and row["windows"]["free_form_closes_at"]
    messages = http(
        "GET", f"{stack.api_url}/v1/contacts/messenger/{MESSENGER_PAGE}/{contact}/messages", token=agent_token
    )
    assert messages.status == 200, messages.body
    assert [m["text"] for m in messages.body["messages"]] == ["Where is my order?"]
    accounts = http("GET", f"{stack.api_url}/v1/accounts", token=agent_token)
    assert accounts.status == 200
    # acme's accounts in the example file: Meta's three and one per other channel.
    assert {a["account_id"] for a in accounts.body["accounts"]} == {
        MESSENGER_PAGE,
        INSTAGRAM_ACCOUNT,
        WHATSAPP_NUMBER,
        "acme_support_bot",
        "acmeoutdoor",
        "2000000001",
        "gh_acme0000001",
        "acme-site",
        "+14155550100",
        "support@acme.example",
    }
    console = http("GET", f"{stack.api_url}/console/")
    assert console.status == 200 and "agent console" in console.body


def test_simulate_command_plays_a_customer_through_the_running_stack(
    stack: LocalStack, agent_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from windowkeeper_tools.cli import main

    contact = "psid-e2e-cli"
    at = (datetime.now(UTC) - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code = main(
        [
            "simulate",
            "--channel",
            "messenger",
            "--account",
            MESSENGER_PAGE,
            "--contact",
            contact,
            "--text",
            "hi from the CLI",
            "--at",
            at,
            "--simulator-url",
            stack.simulator_url,
        ]
    )
    assert code == 0, capsys.readouterr().err
    view = http("GET", f"{stack.api_url}/v1/contacts/messenger/{MESSENGER_PAGE}/{contact}", token=agent_token)
    assert view.status == 200
    assert view.body["state"] == "human_agent_only"
    assert view.body["last_customer_action"]["at"].startswith(at[:16])


# -- follow-ups: the local scheduler loop fires what EventBridge Scheduler would ----------------


def test_scheduled_followup_fires_through_the_scheduler_loop(stack: LocalStack, bot_token: str) -> None:
    import time

    contact = "igsid-e2e-followup"
    customer_writes(
        stack, Channel.INSTAGRAM, INSTAGRAM_ACCOUNT, contact, "Can you tell me when it is back in stock?"
    )
    send_at = datetime.now(UTC) + timedelta(minutes=2)
    created = http(
        "POST",
        f"{stack.api_url}/v1/followups",
        {
            "channel": "instagram",
            "account_id": INSTAGRAM_ACCOUNT,
            "contact_id": contact,
            "send_at": send_at.isoformat(),
            "content": {"type": "text", "text": "It is back in stock today."},
            "purpose": "support",
        },
        token=bot_token,
    )
    assert created.status == 201, created.body
    assert delivered_to(stack, contact) == []

    # Moto never fires schedules; the loop does, on its clock. Move that clock past send_at
    # rather than wait two minutes.
    assert stack.scheduler is not None
    real_clock = stack.scheduler.clock
    stack.scheduler.clock = lambda: datetime.now(UTC) + timedelta(minutes=3)
    try:
        # The Graph call lands while the scheduler function is still running; wait for both.
        schedule_name = created.body["schedule"]["name"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and schedule_name not in {n for n, _ in stack.scheduler.fired}:
            time.sleep(0.25)
    finally:
        stack.scheduler.clock = real_clock
    calls = delivered_to(stack, contact)
    fired = [name for name, _ in stack.scheduler.fired]
    assert len(calls) == 1, f"graph calls {calls}, schedules fired {fired}"
    assert calls[0]["body"]["message"]["text"] == "It is back in stock today."
    assert schedule_name in fired
