"""POST/GET /webhook end to end on moto: stored state, published events, quarantine, write counts."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.integration.webhook.conftest import NOW, WebhookStack, http_event
from tests.unit.ingest.meta_fixtures import (
    BASE_MS,
    BASE_S,
    IG_ID,
    IGSID,
    MESSENGER,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID_A,
    PSID_B,
    WA_ID,
    WA_ID_US,
    raw,
    unescaped_utf8,
)
from windowkeeper import observability
from windowkeeper.ingest.signature import sign
from windowkeeper.instants import to_ms
from windowkeeper.quarantine import quarantine_key
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.keys import contact_pk, due_bucket
from windowkeeper.wiring import webhook as webhook_wiring

PK_A = contact_pk("messenger", PAGE_ID, PSID_A)
PK_B = contact_pk("messenger", PAGE_ID, PSID_B)
PK_WA = contact_pk("whatsapp", PHONE_NUMBER_ID, WA_ID)
HOUR_MS = 3600 * 1000


def opted_out(item: dict[str, Any] | None) -> list[str]:
    """The scopes the stored consent facts leave opted out (what the engine will read)."""
    assert item is not None
    return sorted(s.value for s in ContactRecord.from_item(item).scopes_opted_out())


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(response["body"])
    return parsed


# ---------------------------------------------------------------- handshake


def test_subscription_handshake_echoes_the_challenge(stack: WebhookStack) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": stack.verify_token, "hub.challenge": "1158201444"}
    response = stack.call(http_event("GET", query=query))
    assert response["statusCode"] == 200
    assert response["body"] == "1158201444"
    assert response["headers"]["Content-Type"].startswith("text/plain")


def test_subscription_with_a_wrong_token_is_403_with_a_reason(stack: WebhookStack) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}
    response = stack.call(http_event("GET", query=query))
    assert response["statusCode"] == 403
    assert body_of(response)["reason"] == "verification_failed"
    assert "1158201444" not in response["body"]


# ---------------------------------------------------------------- authenticity and size


def test_unsigned_post_is_401_and_stores_nothing(stack: WebhookStack) -> None:
    response = stack.post(raw("messenger_text_batched_two_entries.json"), signature=None)
    assert response["statusCode"] == 401
    assert body_of(response) == {
        "status": "error",
        "reason": "signature_missing",
        "message": "The X-Hub-Signature-256 header is missing.",
    }
    assert stack.metrics()["SignatureRejected"] == 1
    assert stack.contact(PK_A) is None and stack.published() == [] and stack.quarantined() == []


def test_wrongly_signed_post_is_401(stack: WebhookStack) -> None:
    body = raw("messenger_text_batched_two_entries.json")
    response = stack.post(body, signature=sign(body, "not-the-app-secret"))
    assert response["statusCode"] == 401
    assert body_of(response)["reason"] == "signature_invalid"
    assert stack.contact(PK_A) is None


def test_re_serialized_body_fails_the_signature(stack: WebhookStack) -> None:
    """A proxy that parses and re-dumps the JSON changes the bytes Meta signed."""
    original = raw("messenger_text_batched_two_entries.json")
    header = sign(original, stack.app_secret)
    compact = json.dumps(json.loads(original), separators=(",", ":")).encode()
    response = stack.post(compact, signature=header)
    assert response["statusCode"] == 401
    assert body_of(response)["reason"] == "signature_invalid"


def test_non_ascii_text_signed_in_its_escaped_form_is_accepted_and_decoded(stack: WebhookStack) -> None:
    body = raw("instagram_text_non_ascii.json")
    assert b"\\u00e4" in body and body.isascii()  # Meta's escaped form, byte for byte
    response = stack.post(body)
    assert response["statusCode"] == 200
    (event,) = stack.published()
    assert event["detail"]["text"] == "Grüße aus München, äöå 😀"
    (logged,) = stack.messages(contact_pk("instagram", IG_ID, IGSID))
    assert logged["text"] == "Grüße aus München, äöå 😀"


def test_the_same_text_signed_as_utf8_bytes_is_checked_on_those_bytes(stack: WebhookStack) -> None:
    utf8 = unescaped_utf8(raw("instagram_text_non_ascii.json"))
    assert "Grüße".encode() in utf8
    escaped_signature = sign(raw("instagram_text_non_ascii.json"), stack.app_secret)
    assert stack.post(utf8, signature=escaped_signature)["statusCode"] == 401


def test_base64_encoded_body_is_verified_on_the_decoded_bytes(stack: WebhookStack) -> None:
    body = raw("instagram_text_non_ascii.json")
    response = stack.post(body, base64_encoded=True)
    assert response["statusCode"] == 200
    assert body_of(response) == {"status": "ok", "events": 1}


def test_oversized_body_is_413_before_any_signature_check(stack: WebhookStack) -> None:
    limit = stack.resources.max_webhook_body_bytes
    body = b'{"object":"page","entry":[' + b" " * limit + b"]}"
    response = stack.post(body, signature=None)  # unsigned, yet 413: size is checked first
    assert response["statusCode"] == 413
    assert body_of(response)["reason"] == "body_too_large"
    assert stack.quarantined() == []


# ---------------------------------------------------------------- Messenger state and events


def test_batched_entries_update_each_contact_once_and_publish_every_event(stack: WebhookStack) -> None:
    response = stack.post(raw("messenger_text_batched_two_entries.json"))
    assert response["statusCode"] == 200
    assert body_of(response) == {"status": "ok", "events": 3}
    metrics = stack.metrics()
    assert metrics["StateWrites"] == 2  # two contacts, three events
    assert metrics["ParsedEvents"] == 3

    contact_a = stack.contact(PK_A)
    assert contact_a is not None
    assert contact_a["last_customer_action_ms"] == BASE_MS + 3000  # the postback, the newest
    assert contact_a["last_customer_action_kind"] == "postback"
    assert contact_a["last_inbound_event_id"] == "m_AaA2xyz-postback"
    assert contact_a["tenant_id"] == "acme" and contact_a["subscribed"] is True
    assert contact_a["account_shard"].startswith(f"A#messenger#{PAGE_ID}#")
    # The notice: 24 h window from the customer's own timestamp, minus the hour of lead time.
    closes_ms = BASE_MS + 3000 + 24 * HOUR_MS
    assert contact_a["due_kind"] == "window.closing_soon"
    assert contact_a["due_at_ms"] == closes_ms - HOUR_MS
    assert contact_a["due_window_ms"] == contact_a["last_customer_action_ms"]
    assert contact_a["due_bucket"] == due_bucket(
        NOW.fromtimestamp((closes_ms - HOUR_MS) / 1000, NOW.tzinfo), PK_A
    )

    events = stack.published()
    assert sorted(e["detail"]["event_id"] for e in events) == [
        "m_AaA1xyz-first",
        "m_AaA2xyz-postback",
        "m_BbB1xyz-qr",
    ]
    assert {e["detail-type"] for e in events} == {"customer.action"}
    assert all(e["detail"]["route"] == "bot" for e in events)
    assert [m["message_id"] for m in stack.messages(PK_A)] == ["m_AaA1xyz-first", "m_AaA2xyz-postback"]
    assert stack.messages(PK_A)[0]["expires_at"] == (BASE_MS + 1000) // 1000 + 30 * 86400


def test_a_duplicate_post_changes_nothing_and_republishes_the_same_ids(stack: WebhookStack) -> None:
    body = raw("messenger_text_batched_two_entries.json")
    stack.post(body)
    before = stack.contact(PK_A)
    first_ids = sorted(e["detail"]["event_id"] for e in stack.published())

    response = stack.post(body)
    assert response["statusCode"] == 200
    assert stack.metrics()["StateWrites"] == 2  # one failed conditional write per contact, no second
    assert stack.contact(PK_A) == before
    assert sorted(e["detail"]["event_id"] for e in stack.published()) == first_ids
    assert len(stack.messages(PK_A)) == 2


def test_an_older_ad_message_arriving_late_keeps_its_entry_point_but_not_the_window(
    stack: WebhookStack,
) -> None:
    """Issue 10, defect 2: the entry point and ad start are not behind the window's guard."""
    stack.post(raw("messenger_text_stop_keyword.json"))  # T+8000, also an opt-out
    newer = stack.contact(PK_A)
    assert newer is not None and newer["last_customer_action_ms"] == BASE_MS + 8000

    late = raw("messenger_ad_referral_first_message.json")  # T+1000, delivered late
    assert stack.post(late)["statusCode"] == 200
    after = stack.contact(PK_A)
    assert after is not None
    assert after["last_customer_action_ms"] == BASE_MS + 8000
    assert after["last_inbound_event_id"] == "m_stop-1"
    assert after["entry_point"] == "click_to_messenger_ad"  # its own instant, not the window's
    assert after["ad_conversation_started_ms"] == BASE_MS + 1000
    assert after["due_window_ms"] == BASE_MS + 8000
    assert opted_out(after) == ["all"]
    (event,) = stack.published()[-1:]
    assert event["detail"]["event_id"] == "m_ad-first"  # still published, at least once


def test_a_late_consent_change_applies_without_moving_the_window(stack: WebhookStack) -> None:
    stack.post(raw("messenger_reaction_love.json"))  # T+7000 renews the window
    stack.post(raw("messenger_marketing_optin_token.json"))  # T+9000: consent only
    stack.post(raw("messenger_text_start_keyword.json"))  # T+9500
    stack.published()
    stack.post(raw("messenger_text_stop_keyword.json"))  # T+8000, arrives last
    assert stack.metrics()["StateWrites"] == 2  # the window part is stale; the STOP fact is news
    contact = stack.contact(PK_A)
    assert contact is not None
    assert contact["last_customer_action_ms"] == BASE_MS + 9500
    assert opted_out(contact) == []  # START (9500) is newer than STOP (8000)
    assert contact["consent_all_out_ms"] == BASE_MS + 8000  # the STOP is kept, with its instant
    record = ContactRecord.from_item(contact)
    assert [o.token for o in record.all_marketing_opt_ins()] == ["7720000000000000001"]


def test_a_late_stop_message_applies_its_opt_out_without_moving_the_window(stack: WebhookStack) -> None:
    """The fallback: the window part is stale, the consent part is news; only consent is written."""
    stack.post(raw("whatsapp_call_user_initiated.json"))  # window at S+400
    late_stop = json.loads(raw("whatsapp_text_with_bsuid.json"))  # the S+30 message, delivered late...
    late_stop["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "stop"  # ...saying STOP
    stack.published()
    assert stack.post(json.dumps(late_stop).encode())["statusCode"] == 200
    assert stack.metrics()["StateWrites"] == 2  # blind attempt refused by the window guard, then consent
    contact = stack.contact(PK_WA)
    assert contact is not None
    assert (contact["last_customer_action_kind"], contact["last_customer_action_ms"]) == (
        "call",
        (BASE_S + 400) * 1000,
    )
    assert opted_out(contact) == ["all"] and contact["consent_all_out_ms"] == (BASE_S + 30) * 1000
    assert contact["due_window_ms"] == (BASE_S + 400) * 1000  # the notice still follows the newest window
    assert sorted(e["detail-type"] for e in stack.published()) == [
        "contact.consent_changed",
        "customer.action",
    ]


def test_stop_keyword_opts_out_and_start_opts_back_in(stack: WebhookStack) -> None:
    stack.post(raw("messenger_text_stop_keyword.json"))
    stopped = stack.contact(PK_A)
    assert opted_out(stopped) == ["all"]
    assert stopped is not None and stopped["consent_all_out_ms"] == BASE_MS + 8000
    consent_events = [e for e in stack.published() if e["detail-type"] == "contact.consent_changed"]
    assert [e["detail"]["opted_out"] for e in consent_events] == [["all"]]

    stack.post(raw("messenger_text_start_keyword.json"))
    assert stack.metrics()["StateWrites"] == 1  # each fact has its own guard: no list to guess
    started = stack.contact(PK_A)
    assert opted_out(started) == [] and started is not None and started["consent_on_record"] is True


def test_page_inbox_echo_makes_the_next_customer_message_route_to_a_human(stack: WebhookStack) -> None:
    stack.post(raw("messenger_text_batched_two_entries.json"))
    stack.published()
    stack.post(raw("messenger_echo_page_inbox.json"))  # T+60 s: a person typed in Meta's inbox
    contact = stack.contact(PK_A)
    assert contact is not None and contact["owner"] == "human"
    assert contact["last_customer_action_ms"] == BASE_MS + 3000  # an echo opens nothing
    assert [m["sender"] for m in stack.messages(PK_A) if m["direction"] == "out"] == ["page_inbox"]

    stack.post(raw("messenger_reaction_love.json"))
    (event,) = stack.published()
    assert event["detail"]["route"] == "human"


def test_handover_to_page_inbox_and_back(stack: WebhookStack) -> None:
    stack.post(raw("messenger_handover_page_inbox_takes_control.json"))
    taken = stack.contact(PK_A)
    assert taken is not None
    assert (taken["owner"], taken["routing_owner_app_id"]) == ("human", "263902037430900")
    assert [e["detail-type"] for e in stack.published()] == ["conversation.handover"]

    stack.post(raw("messenger_handover_page_inbox_takes_then_passes_back.json"))
    back = stack.contact(PK_A)
    assert back is not None
    assert (back["owner"], back["routing_owner_app_id"]) == ("bot", "424242424242")
    assert back["owner_since_ms"] == BASE_MS + 200000


def test_standby_messages_renew_the_window_but_route_away_from_the_bot(stack: WebhookStack) -> None:
    stack.post(raw("messenger_standby_message.json"))
    contact = stack.contact(PK_A)
    assert contact is not None and contact["last_customer_action_ms"] == BASE_MS + 4000
    (event,) = stack.published()
    assert event["detail"]["route"] == "human" and event["detail"]["standby"] is True


def test_deliveries_and_reads_are_published_without_a_state_write(stack: WebhookStack) -> None:
    stack.post(raw("messenger_delivery_and_read.json"))
    assert stack.metrics()["StateWrites"] == 0
    assert stack.contact(PK_A) is None
    assert [e["detail"]["status"] for e in stack.published()] == ["delivered", "read"]


def test_click_to_messenger_ad_records_the_entry_point(stack: WebhookStack) -> None:
    stack.post(raw("messenger_ad_referral_first_message.json"))
    contact = stack.contact(PK_A)
    assert contact is not None
    assert contact["entry_point"] == "click_to_messenger_ad"
    assert contact["ad_conversation_started_ms"] == BASE_MS + 1000


def test_unknown_event_kind_is_counted_kept_and_the_rest_processed(stack: WebhookStack) -> None:
    body = raw("messenger_unknown_event_kind_message_edit.json")
    response = stack.post(body)
    assert response["statusCode"] == 200
    assert stack.metrics()["UnknownEventKinds"] == 1
    assert stack.contact(PK_B) is not None
    (kept,) = stack.quarantined()
    assert kept["body"] == body
    assert kept["metadata"]["reason"] == "unknown_event_kind"
    assert "message_edit" in kept["metadata"]["detail"]


def test_unknown_account_entry_is_refused_and_the_rest_of_the_batch_processed(stack: WebhookStack) -> None:
    body = raw("messenger_two_pages_one_unknown.json")
    response = stack.post(body)
    assert response["statusCode"] == 200
    assert stack.metrics()["UnknownAccount"] == 1
    assert stack.contact(PK_A) is not None
    assert stack.contact(contact_pk("messenger", "199900000000999", "7300000000000999")) is None
    assert [e["detail"]["event_id"] for e in stack.published()] == ["m_known-page"]
    (kept,) = stack.quarantined()
    assert kept["key"] == quarantine_key(body, NOW)
    assert kept["metadata"]["reason"] == "unknown_account"
    assert "199900000000999" in kept["metadata"]["detail"]


# ---------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"object": "page", "entry": [', "invalid_json"),
        (b'["not", "an", "object"]', "schema_invalid"),
        (b'{"object": "page", "entry": []}', "schema_invalid"),
        (b'{"object": "user", "entry": [{"id": "1", "changes": []}]}', "unsupported_object"),
    ],
)
def test_authentic_but_unusable_bodies_are_quarantined_and_acknowledged(
    stack: WebhookStack, body: bytes, reason: str
) -> None:
    response = stack.post(body)
    assert response["statusCode"] == 200  # Meta would only resend the same bytes
    assert body_of(response) == {"status": "ok", "events": 0, "quarantined": reason}
    assert stack.metrics()["Quarantined"] == 1
    (kept,) = stack.quarantined()
    assert kept["body"] == body
    assert kept["key"] == f"quarantine/2026/11/21/{__import__('hashlib').sha256(body).hexdigest()}.json"
    assert kept["metadata"]["reason"] == reason


def test_an_entry_that_fails_the_schema_is_quarantined_while_the_others_are_stored(
    stack: WebhookStack,
) -> None:
    data = json.loads(raw("messenger_text_batched_two_entries.json"))
    data["entry"][1]["messaging"][0]["timestamp"] = "yesterday"
    body = json.dumps(data).encode()
    assert stack.post(body)["statusCode"] == 200
    contact = stack.contact(PK_A)
    assert contact is not None and contact["last_customer_action_ms"] == BASE_MS + 1000
    (kept,) = stack.quarantined()
    assert kept["metadata"]["reason"] == "schema_invalid"


# ---------------------------------------------------------------- Instagram


def test_instagram_comment_becomes_a_pending_private_reply(stack: WebhookStack) -> None:
    stack.post(raw("instagram_comment_on_post.json"))
    contact = stack.contact(contact_pk("instagram", IG_ID, IGSID))
    assert contact is not None
    assert contact["pending_comment_id"] == "17860000000000004"
    assert contact["pending_comment_ms"] == (BASE_S + 20) * 1000
    assert contact["pending_comment_replied"] is False
    assert "last_customer_action_ms" not in contact  # a comment is no full window
    (event,) = stack.published()
    assert event["detail"]["kind"] == "comment" and event["detail"]["route"] == "bot"


def test_instagram_story_reply_and_mention(stack: WebhookStack) -> None:
    stack.post(raw("instagram_story_reply_and_mention.json"))
    contact = stack.contact(contact_pk("instagram", IG_ID, IGSID))
    assert contact is not None
    assert contact["last_customer_action_kind"] == "story_reply"  # the mention does not open it
    assert len(stack.published()) == 2


# ---------------------------------------------------------------- WhatsApp


def test_whatsapp_message_opens_the_window_keyed_on_phone_number_id(stack: WebhookStack) -> None:
    response = stack.post(raw("whatsapp_text_with_bsuid.json"))
    assert body_of(response) == {"status": "ok", "events": 1}
    contact = stack.contact(PK_WA)
    assert contact is not None
    assert contact["tenant_id"] == "globex"
    assert contact["last_customer_action_ms"] == (BASE_S + 30) * 1000  # seconds -> ms
    assert contact["recipient_country_code"] == "44"
    assert contact["whatsapp_user_id"] == "GB.13491208655302741918"
    assert contact["display_name"] == "Alex Doe"
    assert contact["due_window_ms"] == contact["last_customer_action_ms"]
    (event,) = stack.published()
    assert event["detail"]["event_id"] == "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQTFCMkMzRDQ1"
    assert event["detail"]["text"] == "Hello, I need help with my booking"


def test_click_to_whatsapp_ad_entry_point(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_ctwa_referral_first_message.json"))
    assert stack.contact(PK_WA)["entry_point"] == "click_to_whatsapp_ad"  # type: ignore[index]


def test_whatsapp_user_call_opens_the_window(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_call_user_initiated.json"))
    contact = stack.contact(PK_WA)
    assert contact is not None
    assert (contact["last_customer_action_kind"], contact["last_customer_action_ms"]) == (
        "call",
        (BASE_S + 400) * 1000,
    )


def test_status_131049_sets_a_24_hour_marketing_backoff(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_status_failed_131049.json"))
    contact = stack.contact(contact_pk("whatsapp", PHONE_NUMBER_ID, WA_ID_US))
    assert contact is not None
    assert contact["marketing_backoff_until_ms"] == (BASE_S + 100) * 1000 + 24 * HOUR_MS
    assert contact["recipient_country_code"] == "1"
    assert "last_customer_action_ms" not in contact and "subscribed" not in contact
    (event,) = stack.published()
    assert event["detail-type"] == "message.status" and event["detail"]["error_codes"] == [131049]


def test_status_131047_records_the_early_close(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_status_failed_131047.json"))
    assert stack.contact(PK_WA)["window_closed_early_ms"] == (BASE_S + 110) * 1000  # type: ignore[index]


def test_status_131050_and_user_preferences_stop_then_resume(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_status_failed_131050.json"))  # S+120
    assert opted_out(stack.contact(PK_WA)) == ["marketing"]
    stack.post(raw("whatsapp_user_preferences_marketing_stop.json"))  # S+200
    stack.post(raw("whatsapp_user_preferences_marketing_resume.json"))  # S+300
    contact = stack.contact(PK_WA)
    assert contact is not None
    assert opted_out(contact) == []
    record = ContactRecord.from_item(contact)
    assert record.consent_marketing_out_ms == (BASE_S + 200) * 1000
    assert record.consent_changed_at_ms() == (BASE_S + 300) * 1000
    assert [o.opted_in_ms for o in record.all_marketing_opt_ins()] == [(BASE_S + 300) * 1000]
    kinds = [e["detail-type"] for e in stack.published()]
    assert kinds.count("contact.consent_changed") == 3


def test_status_131026_marks_the_contact_unreachable(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_status_failed_131026.json"))
    contact = stack.contact(PK_WA)
    assert contact is not None
    assert (contact["unreachable_reason"], contact["unreachable_since_ms"]) == (
        "131026",
        (BASE_S + 130) * 1000,
    )
    assert "contact.unreachable" in [e["detail-type"] for e in stack.published()]


def test_free_entry_point_statuses_publish_pricing_without_writes(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_status_sent_delivered_read_free_entry_point.json"))
    assert stack.metrics()["StateWrites"] == 0
    events = stack.published()
    assert [e["detail"]["status"] for e in events] == ["sent", "delivered", "read"]
    assert events[0]["detail"]["pricing"]["type"] == "free_entry_point"


def test_whatsapp_unknown_phone_number_is_refused(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_unknown_phone_number.json"))
    assert stack.metrics()["UnknownAccount"] == 1
    assert stack.contact(contact_pk("whatsapp", "199999999999999", WA_ID)) is None
    assert [q["metadata"]["reason"] for q in stack.quarantined()] == ["unknown_account"]


def test_whatsapp_template_status_update_is_kept_as_the_templates_state(stack: WebhookStack) -> None:
    response = stack.post(raw("whatsapp_template_status_update.json"))
    assert body_of(response) == {"status": "ok", "events": 1}
    assert stack.quarantined() == []
    assert stack.metrics()["TemplateStateChanges"] == 1  # one number under the WABA


def test_every_whatsapp_message_type_in_one_batch_is_one_write(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_reaction_location_contacts_order_unsupported.json"))
    assert stack.metrics()["StateWrites"] == 1
    contact = stack.contact(PK_WA)
    assert contact is not None and contact["last_customer_action_ms"] == (BASE_S + 64) * 1000
    assert len(stack.published()) == 5  # the system note is not published


# ---------------------------------------------------------------- storage failure


def test_a_storage_failure_answers_500_so_meta_retries(
    stack: WebhookStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    response = stack.post(raw("messenger_text_batched_two_entries.json"))
    assert response["statusCode"] == 500
    assert body_of(response)["reason"] == "storage_unavailable"
    # State was written before the publish failed; Meta's retry is harmless (guards) and publishes.
    monkeypatch.setenv("EVENT_BUS_NAME", stack.resources.bus_name)
    assert stack.post(raw("messenger_text_batched_two_entries.json"))["statusCode"] == 200
    assert len(stack.published()) == 3


def test_no_message_text_or_phone_number_in_the_logs(stack: WebhookStack) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keeper = Keep()
    service_logger = logging.getLogger(observability.logger.name)  # the ingest loggers are its children
    service_logger.addHandler(keeper)
    try:
        stack.post(raw("whatsapp_text_with_bsuid.json"))
        stack.post(raw("whatsapp_unknown_phone_number.json"))
    finally:
        service_logger.removeHandler(keeper)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    assert "webhook processed" in logged
    assert "I need help with my booking" not in logged and "hello?" not in logged
    assert WA_ID not in logged and "Alex Doe" not in logged


def test_due_notice_uses_the_event_time_not_arrival(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_text_with_bsuid.json"))
    contact = stack.contact(PK_WA)
    assert contact is not None
    assert contact["due_at_ms"] == (BASE_S + 30) * 1000 + 23 * HOUR_MS
    assert contact["due_at_ms"] != to_ms(NOW) + 23 * HOUR_MS


def test_notice_is_corrected_when_stored_state_changes_the_closing(stack: WebhookStack) -> None:
    """An account with the 7-day ad window: a later plain message must keep the ad's longer window.

    The first write computes the notice from what this POST carries (no ad start); the item
    returned by the write has the ad start from the earlier POST, so one guarded update fixes it.
    """
    ad_account = MESSENGER.model_copy(update={"ctm_seven_day_window": True})
    AccountStore(stack.resources.table_name).put_all([ad_account])
    webhook_wiring.reset_caches()
    stack.post(raw("messenger_ad_referral_first_message.json"))  # T+1000, ad start
    first = stack.contact(PK_A)
    assert first is not None
    seven_days_ms = 7 * 24 * HOUR_MS
    assert first["due_at_ms"] == BASE_MS + 1000 + seven_days_ms - HOUR_MS

    stack.post(raw("messenger_reaction_love.json"))  # T+7000, nothing about the ad in it
    assert stack.metrics()["StateWrites"] == 2
    after = stack.contact(PK_A)
    assert after is not None
    assert after["last_customer_action_ms"] == BASE_MS + 7000
    assert after["due_window_ms"] == BASE_MS + 7000
    assert after["due_at_ms"] == BASE_MS + 1000 + seven_days_ms - HOUR_MS
