"""POST /v1/messages and /v1/messages/check end to end: handler → engine → GraphClient → moto."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.send.conftest import AGENT, BOT, GLOBEX_AGENT, NOW, SendStack
from tests.support.accounts import (
    GLOBEX_PAGE_ID,
    IG_ACCOUNT_ID,
    OTHER_TENANT,
    PAGE_ID,
    PAGE_TOKEN,
    TENANT,
    WA_PHONE_NUMBER_ID,
)
from tests.support.seed import human_owner
from windowkeeper import aws as wk_aws
from windowkeeper.events import DetailType
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper.store.keys import DECISION_SK_PREFIX, MESSAGE_SK_PREFIX, violation_key

PSID = "6789012345678901"
IGSID = "1789012345678902"
WA_ID = "447700900123"


def text_message(
    channel: str, account_id: str, contact_id: str, text: str, **extra: object
) -> dict[str, object]:
    return {
        "channel": channel,
        "account_id": account_id,
        "contact_id": contact_id,
        "content": {"type": "text", "text": text},
        **extra,
    }


# --- Messenger ----------------------------------------------------------------------------------
def test_messenger_reply_inside_the_window_goes_free_form(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=3))

    status, body = stack.send(text_message("messenger", PAGE_ID, PSID, "Your order ships today."), claims=BOT)

    assert status == 200, body
    assert body["status"] == "sent"
    assert body["decision"]["path"] == "free_form"
    assert body["platform_message_id"].startswith("m_")
    [request] = stack.meta.requests
    assert request.url.path == f"/v25.0/{PAGE_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    sent = json.loads(request.content)
    assert sent["recipient"] == {"id": PSID}
    assert sent["messaging_type"] == "RESPONSE"
    assert "tag" not in sent
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert [(o.path.value, o.by_human, o.at_ms) for o in contact.outbound] == [
        ("free_form", False, to_ms(NOW))
    ]
    assert contact.owner == "bot"  # a bot's send never takes a conversation
    [logged] = stack.items(Channel.MESSENGER, PAGE_ID, PSID, MESSAGE_SK_PREFIX)
    assert logged["direction"] == "out"
    assert logged["message_id"] == body["platform_message_id"]
    assert logged["sender"] == "bot"
    assert [(e.detail_type, e.event_id) for e in stack.published] == [
        (DetailType.MESSAGE_SENT, body["decision_id"])
    ]


def test_a_human_agent_two_days_later_sends_with_human_agent_and_takes_over(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(days=2))

    status, body = stack.send(
        text_message(
            "messenger", PAGE_ID, PSID, "The replacement part arrived; it ships today.", tag="HUMAN_AGENT"
        ),
        claims=AGENT,
    )

    assert status == 200, body
    assert body["decision"]["path"] == "human_agent"
    sent = stack.meta.bodies()[0]
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (contact.owner, contact.owner_agent_id) == ("human", "agent-ana")
    assert contact.owner_since_ms == contact.owner_last_activity_ms == to_ms(NOW)
    assert contact.outbound[-1].by_human and contact.outbound[-1].tag == "HUMAN_AGENT"
    handovers = [e for e in stack.published if e.detail_type == DetailType.HANDOVER]
    assert [(h.detail["owner"], h.detail["agent_id"], h.detail["previous_owner"]) for h in handovers] == [
        ("human", "agent-ana", "bot")
    ]


def test_a_second_human_send_refreshes_activity_without_a_new_handover(stack: SendStack) -> None:
    earlier = to_ms(NOW - timedelta(minutes=30))
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=timedelta(hours=1),
        **human_owner(NOW, since_ago=timedelta(minutes=30), last_activity_ago=timedelta(minutes=30)),
    )

    status, _ = stack.send(text_message("messenger", PAGE_ID, PSID, "One more detail."), claims=AGENT)

    assert status == 200
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (contact.owner_since_ms, contact.owner_last_activity_ms) == (earlier, to_ms(NOW))
    assert not [e for e in stack.published if e.detail_type == DetailType.HANDOVER]


def test_a_bot_is_refused_while_an_agent_owns_the_conversation_and_told_when(stack: SendStack) -> None:
    # "The bot stays quiet", says the console: an agent took over 30 min ago, active 10 min ago.
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=timedelta(hours=1),
        **human_owner(NOW, since_ago=timedelta(minutes=30), last_activity_ago=timedelta(minutes=10)),
    )

    status, body = stack.send(
        text_message("messenger", PAGE_ID, PSID, "Anything else I can help with?"), claims=BOT
    )

    returns_at = NOW - timedelta(minutes=10) + timedelta(hours=4)
    assert (status, body["status"]) == (409, "refused")
    assert body["decision"]["reasons"][0] == "human_owns_conversation"
    assert body["decision"]["valid_until"] == returns_at.isoformat().replace("+00:00", "Z")
    free_form = next(o for o in body["decision"]["options"] if o["path"] == "free_form")
    assert free_form["opens_at"] == body["decision"]["valid_until"]
    assert stack.meta.requests == []
    # The agent who owns it still writes freely.
    status, body = stack.send(
        text_message("messenger", PAGE_ID, PSID, "Your refund is on its way."), claims=AGENT
    )
    assert (status, body["decision"]["path"]) == (200, "free_form")


def test_a_bot_asking_for_human_agent_is_refused_human_only_without_calling_meta(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(days=2))

    status, body = stack.send(
        text_message("messenger", PAGE_ID, PSID, "Following up on your ticket.", tag="HUMAN_AGENT"),
        claims=BOT,
    )

    assert status == 409
    assert body["status"] == "refused"
    assert body["decision"]["allowed"] is False
    assert "human_only" in body["decision"]["reasons"]
    assert stack.meta.requests == []
    assert stack.contact(Channel.MESSENGER, PAGE_ID, PSID).outbound == []
    assert [e.detail_type for e in stack.published] == [DetailType.MESSAGE_REFUSED]


def test_a_retired_tag_is_refused_after_its_retirement_and_allowed_as_of_before(stack: SendStack) -> None:
    # The customer last wrote on 2026-02-26, before ACCOUNT_UPDATE was retired (2026-04-27).
    stack.seed_contact(
        Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=NOW - datetime(2026, 2, 26, 9, 0, tzinfo=UTC)
    )
    message = text_message(
        "messenger",
        PAGE_ID,
        PSID,
        "Your application was approved.",
        tag="ACCOUNT_UPDATE",
        purpose="account_update",
    )

    status, body = stack.send(message, claims=BOT)
    assert status == 409
    assert "tag_retired" in body["decision"]["reasons"]
    assert stack.meta.requests == []

    status, body = stack.call(
        "POST", "/v1/messages/check", {**message, "at": "2026-03-01T10:00:00Z"}, claims=BOT
    )
    assert status == 200
    assert body["status"] == "allowed"
    assert body["decision"]["path"] == "message_tag"


# --- WhatsApp -----------------------------------------------------------------------------------
def test_whatsapp_text_inside_the_service_window(stack: SendStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(hours=5))

    message = text_message("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, "Thanks, on it.")
    status, body = stack.send(message, claims=BOT)

    assert status == 200, body
    assert body["platform_message_id"].startswith("wamid.")
    sent = stack.meta.bodies()[0]
    assert (sent["to"], sent["type"], sent["text"]["body"]) == (WA_ID, "text", "Thanks, on it.")


def test_whatsapp_free_form_outside_the_window_is_refused(stack: SendStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(hours=30))

    status, body = stack.send(text_message("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, "Still there?"), claims=BOT)

    assert status == 409
    assert set(body["decision"]["reasons"]) & {"window_closed", "template_required"}
    assert any(o["path"] == "utility_template" for o in body["decision"]["options"])
    assert stack.meta.requests == []


def test_whatsapp_utility_template_outside_the_window(stack: SendStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(days=4))

    status, body = stack.send(
        {
            "channel": "whatsapp",
            "account_id": WA_PHONE_NUMBER_ID,
            "contact_id": WA_ID,
            "content": {
                "type": "template",
                "template": {"name": "order_shipped", "language": "en_US", "parameters": ["Ana", "A-1009"]},
            },
            "purpose": "order_update",
        },
        claims=BOT,
    )

    assert status == 200, body
    assert body["decision"]["path"] == "utility_template"
    sent = stack.meta.bodies()[0]
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "order_shipped"
    contact = stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert contact.outbound[-1].template_category is not None
    [logged] = stack.items(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, MESSAGE_SK_PREFIX)
    assert logged["text"] == "Hi Ana, order A-1009 has shipped."


def order_shipped(*parameters: str) -> dict[str, object]:
    return {
        "channel": "whatsapp",
        "account_id": WA_PHONE_NUMBER_ID,
        "contact_id": WA_ID,
        "content": {
            "type": "template",
            "template": {"name": "order_shipped", "language": "en_US", "parameters": list(parameters)},
        },
        "purpose": "order_update",
    }


def test_a_template_missing_a_parameter_is_refused_before_meta(stack: SendStack) -> None:
    # order_shipped declares two ("Hi {{1}}, order {{2}} has shipped."): Meta would answer 132000.
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(days=4))

    status, body = stack.send(order_shipped("Ana"), claims=BOT)

    assert (status, body["decision"]["reasons"]) == (409, ["content_invalid"])
    assert "takes 2 parameter(s) and 1 were given" in body["decision"]["explanation"]
    assert stack.meta.requests == []


def test_a_promotion_typed_into_a_utility_templates_parameter_is_refused(stack: SendStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(days=4))

    status, body = stack.send(order_shipped("Ana", "A-1009 shipped. Buy now 50% off"), claims=BOT)

    assert (status, body["decision"]["reasons"]) == (409, ["promotional_content"])
    assert body["decision"]["matched_phrase"] == "50% off"
    assert stack.meta.requests == []


# --- Instagram ----------------------------------------------------------------------------------
def test_instagram_eight_days_later_nothing_may_go_even_for_a_person(stack: SendStack) -> None:
    stack.seed_contact(Channel.INSTAGRAM, IG_ACCOUNT_ID, IGSID, customer_wrote_ago=timedelta(days=8))

    status, body = stack.send(
        text_message("instagram", IG_ACCOUNT_ID, IGSID, "Sorry for the delay!", tag="HUMAN_AGENT"),
        claims=AGENT,
    )

    assert status == 409
    assert "window_closed" in body["decision"]["reasons"]
    assert stack.meta.requests == []


# --- principals and tenants ---------------------------------------------------------------------
def test_a_body_that_names_a_sender_is_refused(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(days=2))
    spoofed = text_message("messenger", PAGE_ID, PSID, "hello", tag="HUMAN_AGENT", sender={"kind": "human"})

    status, body = stack.send(spoofed, claims=BOT)

    assert status == 400
    assert body["reason"] == "invalid_request"
    assert body["problems"][0]["field"] == "sender"
    assert stack.meta.requests == []


def test_a_cross_tenant_send_is_forbidden_and_audited(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))

    status, body = stack.send(text_message("messenger", PAGE_ID, PSID, "hi"), claims=GLOBEX_AGENT)

    assert (status, body["reason"]) == (403, "forbidden_tenant")
    assert stack.meta.requests == []
    assert stack.items(Channel.MESSENGER, PAGE_ID, PSID, DECISION_SK_PREFIX) == []  # not in acme's space
    audit = wk_aws.table(stack.table_name).get_item(
        Key=violation_key(OTHER_TENANT, f"{NOW:%Y-%m-%d}", "messenger", PAGE_ID, "agent-mallory")
    )["Item"]
    assert (audit["kind"], audit["attempts"]) == ("tenant_violation", 1)
    assert (audit["principal_subject"], audit["tenant_id"], audit["account_tenant_id"]) == (
        "agent-mallory",
        "globex",
        TENANT,
    )


def test_no_principal_is_401(stack: SendStack) -> None:
    status, body = stack.send(text_message("messenger", PAGE_ID, PSID, "hi"), claims=None)
    assert (status, body["reason"]) == (401, "unauthenticated")


def test_unknown_account_and_unknown_contact_are_404(stack: SendStack) -> None:
    status, body = stack.send(text_message("messenger", "999", PSID, "hi"))
    assert (status, body["reason"]) == (404, "unknown_account")
    status, body = stack.send(text_message("messenger", PAGE_ID, "never-wrote", "hi"))
    assert (status, body["reason"]) == (404, "unknown_contact")


@pytest.mark.parametrize(
    ("raw_body", "reason", "field"),
    [
        ("{not json", "invalid_json", None),
        ("", "invalid_request", None),
        ('{"channel": "messenger"}', "invalid_request", "account_id"),
        (
            json.dumps(text_message("messenger", PAGE_ID, PSID, "hi", purpose="world_domination")),
            "invalid_request",
            "purpose",
        ),
    ],
)
def test_bad_bodies_are_400_with_the_field(
    stack: SendStack, raw_body: str, reason: str, field: str | None
) -> None:
    status, body = stack.call("POST", "/v1/messages", raw_body=raw_body)
    assert (status, body["status"], body["reason"]) == (400, "error", reason)
    assert body["message"]
    if field is not None:
        assert field in {p["field"] for p in body["problems"]}


def test_an_unregistered_template_is_400_unknown_template(stack: SendStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(days=4))
    status, body = stack.send(
        {
            "channel": "whatsapp",
            "account_id": WA_PHONE_NUMBER_ID,
            "contact_id": WA_ID,
            "content": {"type": "template", "template": {"name": "spring_sale", "language": "en_US"}},
        }
    )
    assert (status, body["reason"]) == (400, "unknown_template")


# --- idempotency --------------------------------------------------------------------------------
def test_a_retried_request_sends_once_and_returns_the_first_answer(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    message = text_message("messenger", PAGE_ID, PSID, "Your refund is on its way.")
    key = {"Idempotency-Key": "order-1009-refund-notice"}

    first = stack.send(message, claims=BOT, headers=key)
    second = stack.send(message, claims=BOT, headers=key)

    assert first[0] == 200
    assert second == first
    assert len(stack.meta.requests) == 1
    assert len(stack.contact(Channel.MESSENGER, PAGE_ID, PSID).outbound) == 1


def test_the_same_key_with_another_body_is_422(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    key = {"Idempotency-Key": "k-1"}
    stack.send(text_message("messenger", PAGE_ID, PSID, "first"), claims=BOT, headers=key)

    status, body = stack.send(text_message("messenger", PAGE_ID, PSID, "second"), claims=BOT, headers=key)

    assert (status, body["reason"]) == (422, "idempotency_key_reused")
    assert len(stack.meta.requests) == 1


def test_keys_are_per_principal_and_requests_without_a_key_are_not_deduplicated(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    message = text_message("messenger", PAGE_ID, PSID, "ping")

    stack.send(message, claims=BOT)
    stack.send(message, claims=BOT)
    stack.send(message, claims=BOT, headers={"Idempotency-Key": "same"})
    stack.send(message, claims=AGENT, headers={"Idempotency-Key": "same"})

    assert len(stack.meta.requests) == 4


def test_a_transient_failure_is_not_remembered_so_the_retry_sends(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    stack.meta.answer_error(2, status=500, times=3)  # every attempt of the first request fails
    message = text_message("messenger", PAGE_ID, PSID, "Your table is ready.")
    key = {"Idempotency-Key": "table-ready-42"}

    status, body = stack.send(message, claims=BOT, headers=key)
    assert (status, body["status"], body["reason"]) == (503, "failed", "graph_unavailable")
    assert stack.contact(Channel.MESSENGER, PAGE_ID, PSID).outbound == []

    status, body = stack.send(message, claims=BOT, headers=key)
    assert (status, body["status"]) == (200, "sent")
    assert len(stack.meta.requests) == 4


# --- Meta's verdicts ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("channel", "account_id", "contact_id", "code", "subcode", "reason", "attribute"),
    [
        ("messenger", PAGE_ID, PSID, 10, 2018278, "window_closed", "window_closed_early_ms"),
        ("instagram", IG_ACCOUNT_ID, IGSID, 10, 2534022, "window_closed", "window_closed_early_ms"),
        ("messenger", PAGE_ID, PSID, 551, 1545041, "unreachable", "unreachable_since_ms"),
        ("messenger", PAGE_ID, PSID, 10, 2018108, "unreachable", "unreachable_since_ms"),
        ("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, 131047, None, "window_closed", "window_closed_early_ms"),
        ("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, 131026, None, "unreachable", "unreachable_since_ms"),
        ("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, 131049, None, "backoff", "marketing_backoff_until_ms"),
        ("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, 131050, None, "opted_out", "opted_out"),
    ],
)
def test_metas_policy_refusal_is_recorded_on_the_contact(
    stack: SendStack,
    channel: str,
    account_id: str,
    contact_id: str,
    code: int,
    subcode: int | None,
    reason: str,
    attribute: str,
) -> None:
    stack.seed_contact(Channel(channel), account_id, contact_id, customer_wrote_ago=timedelta(hours=2))
    stack.meta.answer_error(code, subcode)

    status, body = stack.send(text_message(channel, account_id, contact_id, "hello again"), claims=BOT)

    assert status == 409, body
    assert body["status"] == "refused"
    assert body["decision"]["allowed"] is False
    assert body["decision"]["reasons"] == [reason]
    assert (body["graph_error"]["code"], body["graph_error"]["subcode"]) == (code, subcode)
    contact = stack.contact(Channel(channel), account_id, contact_id)
    recorded = contact.scopes_opted_out() if attribute == "opted_out" else getattr(contact, attribute)
    if attribute == "opted_out":
        assert recorded == {ConsentScope.MARKETING}
        assert contact.consent_marketing_out_ms is not None  # a consent fact with its own instant
    elif attribute == "marketing_backoff_until_ms":
        assert recorded == to_ms(NOW + timedelta(hours=24))  # from the request's now, by the rule
    else:
        assert recorded == to_ms(NOW)
    assert contact.outbound == []
    [audit] = stack.items(Channel(channel), account_id, contact_id, DECISION_SK_PREFIX)
    assert audit["outcome"] == "refused"
    assert audit["graph_error"]["code"] == code
    assert [e.detail_type for e in stack.published] == [DetailType.MESSAGE_REFUSED]


def test_an_unknown_graph_error_is_502_and_reported_verbatim(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    stack.meta.answer_error(987654, 31337)

    status, body = stack.send(text_message("messenger", PAGE_ID, PSID, "hello"), claims=BOT)

    assert status == 502
    assert (body["status"], body["reason"], body["known"]) == ("failed", "graph_error", False)
    assert body["graph_error"] == {"code": 987654, "subcode": 31337, "message": "(#987654) scripted error"}
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert contact.outbound == [] and contact.window_closed_early_ms is None


# --- the audit trail ------------------------------------------------------------------------------
def test_the_audit_trail_holds_every_decision_with_the_text_hashed(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(days=2))
    secret_text = "Your new PIN is 4921 and your card ends in 0042."

    sent_status, sent = stack.send(
        text_message("messenger", PAGE_ID, PSID, secret_text, tag="HUMAN_AGENT", purpose="support"),
        claims=AGENT,
    )
    refused_status, refused = stack.send(
        text_message("messenger", PAGE_ID, PSID, secret_text, tag="HUMAN_AGENT"), claims=BOT
    )

    assert (sent_status, refused_status) == (200, 409)
    audits = stack.items(Channel.MESSENGER, PAGE_ID, PSID, DECISION_SK_PREFIX)
    by_id = {a["audit_id"]: a for a in audits}
    assert set(by_id) == {sent["decision_id"], refused["decision_id"]}
    allowed = by_id[sent["decision_id"]]
    assert allowed["outcome"] == "sent" and allowed["allowed"] is True
    assert (allowed["principal_subject"], allowed["principal_kind"]) == ("agent-ana", "human")
    assert (allowed["channel"], allowed["account_id"], allowed["contact_id"]) == ("messenger", PAGE_ID, PSID)
    assert allowed["path"] == "human_agent"
    assert allowed["rule_id"] == sent["decision"]["rule"]["rule_id"]
    assert allowed["rule_sources"] == sent["decision"]["rule"]["sources"]
    assert allowed["platform_message_id"] == sent["platform_message_id"]
    assert allowed["text_sha256"] == hashlib.sha256(secret_text.encode()).hexdigest()
    assert int(allowed["expires_at"]) == int((NOW + timedelta(days=400)).timestamp())
    denied = by_id[refused["decision_id"]]
    assert denied["outcome"] == "refused" and "human_only" in denied["reasons"]
    assert (denied["principal_kind"], denied["automation_kind"]) == ("automation", "bot")
    for audit in audits:
        assert "4921" not in json.dumps(audit, default=str)


def test_check_decides_without_sending_or_auditing(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=20))
    message = text_message("messenger", PAGE_ID, PSID, "Are you still interested?")

    now_status, now_body = stack.call("POST", "/v1/messages/check", message, claims=BOT)
    later_status, later_body = stack.call(
        "POST", "/v1/messages/check", {**message, "at": "2026-11-21T16:00:00Z"}, claims=BOT
    )

    assert (now_status, now_body["status"], now_body["decision"]["path"]) == (200, "allowed", "free_form")
    assert (later_status, later_body["status"]) == (200, "refused")
    assert "window_closed" in later_body["decision"]["reasons"]
    assert stack.meta.requests == []
    assert stack.items(Channel.MESSENGER, PAGE_ID, PSID, DECISION_SK_PREFIX) == []


def test_check_across_tenants_is_forbidden(stack: SendStack) -> None:
    status, body = stack.call(
        "POST", "/v1/messages/check", text_message("messenger", GLOBEX_PAGE_ID, PSID, "hi"), claims=AGENT
    )
    assert (status, body["reason"]) == (403, "forbidden_tenant")


@pytest.mark.parametrize("asked_about", ["2019-06-01T00:00:00Z", "2031-06-01T00:00:00Z"])
def test_a_cross_tenant_check_about_another_instant_is_recorded_at_server_time(
    stack: SendStack, asked_about: str
) -> None:
    """The instant a /check asks about never stamps what is stored: a back-dated violation would
    be born expired (TTL deletes it before anyone sees it), a future-dated one newest forever."""
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    request = {**text_message("messenger", PAGE_ID, PSID, "hi"), "at": asked_about}

    status, body = stack.call("POST", "/v1/messages/check", request, claims=GLOBEX_AGENT)

    assert (status, body["reason"]) == (403, "forbidden_tenant")
    record = wk_aws.table(stack.table_name).get_item(
        Key=violation_key(OTHER_TENANT, f"{NOW:%Y-%m-%d}", "messenger", PAGE_ID, "agent-mallory")
    )["Item"]
    assert record["first_at_ms"] == record["last_at_ms"] == to_ms(NOW)
    assert record["expires_at"] == int((NOW + timedelta(days=400)).timestamp())


def test_logs_carry_no_message_text_token_or_phone_number(
    stack: SendStack, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(hours=1))
    stack.meta.answer_error(131026)  # an error path logs more than a success
    stack.send(text_message("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, "Code word: pelican"), claims=BOT)
    stack.send(text_message("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, "Code word: pelican"), claims=BOT)

    output = capsys.readouterr()
    # Our loggers (powertools' is named after the service; botocore's own DEBUG wire logs are not ours).
    ours = [r for r in caplog.records if r.name.startswith("windowkeeper")]
    assert ours
    records = [json.dumps(vars(record), default=str) for record in ours]
    logged = output.out + output.err + "\n".join(records)
    assert "send decided" in logged  # the decision was logged...
    for secret in ("pelican", WA_ID, PAGE_TOKEN):
        assert secret not in logged  # ...without what must never be


def test_a_rejected_token_is_kept_as_the_accounts_health_and_refuses_the_next_send(stack: SendStack) -> None:
    """Meta's 190 turns into state: /v1/accounts says what to do, the next send is refused
    without calling Meta, and the alarm's metric and the event go out."""
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    stack.meta.answer_error(190, 463, status=401)
    message = text_message("messenger", PAGE_ID, PSID, "Your replacement part ships tomorrow.")
    first, _ = stack.send(message, claims=BOT)
    assert first == 502

    status, accounts = stack.call("GET", "/v1/accounts")
    [page] = [a for a in accounts["accounts"] if a["account_id"] == PAGE_ID]
    assert status == 200 and page["health"]["status"] == "token_invalid"
    assert "replace the token" in page["health"]["what_to_do"]

    calls = len(stack.meta.requests)
    second, body = stack.send(message, claims=BOT)
    assert (second, body["decision"]["reasons"]) == (409, ["account_unavailable"])
    assert len(stack.meta.requests) == calls
    assert DetailType.ACCOUNT_HEALTH_CHANGED in [e.detail_type for e in stack.published]
