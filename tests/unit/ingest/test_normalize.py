"""The parser and normaliser against real-shaped payloads (tests/fixtures/meta)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.ingest.meta_fixtures import (
    BASE_MS,
    BASE_S,
    IG_ID,
    IGSID,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID_A,
    PSID_B,
    WA_ID,
    WA_ID_US,
    payload,
    raw,
    resolver,
)
from windowkeeper.events import DetailType
from windowkeeper.ingest.models import Envelope
from windowkeeper.ingest.normalize import normalize
from windowkeeper.ingest.observations import Normalized, Observation
from windowkeeper.policy.model import (
    Channel,
    ConsentScope,
    CustomerActionKind,
    EntryPoint,
    TemplateCategory,
    TemplateStatus,
)


def run(name_or_payload: str | dict[str, Any]) -> Normalized:
    data = payload(name_or_payload) if isinstance(name_or_payload, str) else name_or_payload
    return normalize(Envelope.model_validate(data), resolver())


def only(result: Normalized, kind: str) -> Observation:
    matches = [o for o in result.observations if o.kind == kind]
    assert len(matches) == 1, [o.kind for o in result.observations]
    return matches[0]


def test_batched_entries_give_one_observation_per_event_keyed_per_page_and_psid() -> None:
    result = run("messenger_text_batched_two_entries.json")
    assert result.events == 3
    by_id = {o.event_id: o for o in result.observations}
    first, quick, postback = by_id["m_AaA1xyz-first"], by_id["m_BbB1xyz-qr"], by_id["m_AaA2xyz-postback"]
    assert (first.key.channel, first.key.account_id, first.key.contact_id) == (
        Channel.MESSENGER,
        PAGE_ID,
        PSID_A,
    )
    assert quick.key.contact_id == PSID_B
    assert (first.action, quick.action, postback.action) == (
        CustomerActionKind.MESSAGE,
        CustomerActionKind.QUICK_REPLY,
        CustomerActionKind.POSTBACK,
    )
    assert all(o.opens_window for o in (first, quick, postback))
    assert first.at_ms == BASE_MS + 1000  # the event's own timestamp, not the entry's
    assert quick.detail["payload"] == "TRACK_ORDER"
    assert first.detail["text"] == "Hi, is my order shipped?"
    assert first.log is not None and first.log.direction == "in" and first.log.sender == "customer"
    assert first.tenant_id == "acme"


def test_page_inbox_echo_hands_the_conversation_to_a_human_and_opens_nothing() -> None:
    echo = only(run("messenger_echo_page_inbox.json"), "inbox_echo")
    assert echo.key.contact_id == PSID_A  # the recipient of an echo is the customer
    assert not echo.opens_window and echo.action is None
    assert echo.routing is not None and echo.routing.owner == "human" and echo.routing.human_activity
    assert echo.log is not None and echo.log.direction == "out" and echo.log.sender == "page_inbox"
    assert echo.detail_type is None


def test_our_own_echo_is_ignored() -> None:
    result = run("messenger_echo_own_app.json")
    assert result.observations == [] and result.ignored == 1


def test_instagram_inbox_echo_is_a_human_too() -> None:
    echo = only(run("instagram_echo_instagram_inbox.json"), "inbox_echo")
    assert echo.key == echo.key.__class__(Channel.INSTAGRAM, IG_ID, IGSID)


def test_deliveries_and_reads_publish_a_status_and_change_no_state() -> None:
    result = run("messenger_delivery_and_read.json")
    assert [o.kind for o in result.observations] == ["delivered", "read"]
    assert all(
        o.detail_type == DetailType.MESSAGE_STATUS and not o.changes_state for o in result.observations
    )


def test_click_to_messenger_ad_first_message() -> None:
    message = only(run("messenger_ad_referral_first_message.json"), "message")
    assert message.entry_point is EntryPoint.CLICK_TO_MESSENGER_AD and message.ad_started
    assert message.detail["referral"]["source"] == "ADS"


def test_m_me_link_referral_into_the_thread_opens_the_window() -> None:
    referral = only(run("messenger_referral_mme_link.json"), "referral")
    assert referral.action is CustomerActionKind.REFERRAL and referral.opens_window
    assert referral.entry_point is EntryPoint.LINK and not referral.ad_started


def test_marketing_opt_in_files_a_token_and_opens_no_window() -> None:
    result = run("messenger_marketing_optin_token.json")
    consent = only(result, "consent")
    assert not consent.opens_window and consent.action is None
    assert consent.consent is not None
    assert consent.consent.marketing_opt_in and consent.consent.token == "7720000000000000001"
    assert consent.consent.opt_in == frozenset({ConsentScope.MARKETING})
    assert consent.detail_type == DetailType.CONSENT_CHANGED
    assert "7720000000000000001" not in str(consent.detail)  # the token is not broadcast


def test_handover_to_page_inbox_then_back() -> None:
    take, give = run("messenger_handover_page_inbox_takes_then_passes_back.json").observations
    assert take.routing is not None and take.routing.owner == "human"
    assert (
        give.routing is not None
        and give.routing.owner == "bot"
        and give.routing.owner_app_id == "424242424242"
    )
    assert take.detail_type == give.detail_type == DetailType.HANDOVER


def test_standby_messages_still_open_the_window_and_are_marked() -> None:
    message = only(run("messenger_standby_message.json"), "message")
    assert message.standby and message.opens_window


def test_reaction_opens_the_messenger_window() -> None:
    reaction = only(run("messenger_reaction_love.json"), "reaction")
    assert reaction.action is CustomerActionKind.REACTION and reaction.opens_window


def test_stop_keyword_is_a_message_and_an_opt_out_of_everything() -> None:
    result = run("messenger_text_stop_keyword.json")
    message, consent = only(result, "message"), only(result, "consent")
    assert message.opens_window
    assert consent.consent is not None and consent.consent.opt_out == frozenset({ConsentScope.ALL})
    assert consent.at_ms == message.at_ms


def test_unknown_event_kind_is_counted_and_the_rest_processed() -> None:
    result = run("messenger_unknown_event_kind_message_edit.json")
    assert result.unknown_kinds == ["messenger:messaging:message_edit"]
    assert [o.event_id for o in result.observations] == ["m_BbB2-after-edit"]
    assert result.events == 2


def test_unknown_page_is_refused_and_the_known_one_processed() -> None:
    result = run("messenger_two_pages_one_unknown.json")
    assert [(r.reason, r.entry_id) for r in result.rejections] == [("unknown_account", "199900000000999")]
    assert [o.event_id for o in result.observations] == ["m_known-page"]


def test_an_entry_that_fails_the_schema_is_refused_alone() -> None:
    data = payload("messenger_text_batched_two_entries.json")
    del data["entry"][1]["messaging"][0]["timestamp"]
    result = run(data)
    assert [r.reason for r in result.rejections] == ["schema_invalid"]
    assert "timestamp" in result.rejections[0].detail
    assert {o.event_id for o in result.observations} == {"m_AaA1xyz-first", "m_BbB1xyz-qr"}


def test_new_meta_fields_do_not_break_parsing() -> None:
    data = payload("messenger_text_batched_two_entries.json")
    data["entry"][0]["messaging"][0]["message"]["brand_new_field"] = {"x": 1}
    data["entry"][0]["brand_new_entry_field"] = True
    assert len(run(data).observations) == 3


def test_plugin_opt_in_with_user_ref() -> None:
    optin = only(run("messenger_plugin_optin_user_ref.json"), "plugin_opt_in")
    assert optin.key.contact_id == "chk-ur-5f2c" and optin.opens_window


def test_sticker_and_image_messages() -> None:
    result = run("messenger_sticker_and_image.json")
    assert [o.log.kind for o in result.observations if o.log] == ["sticker", "image"]
    assert result.observations[1].detail["reply_to"] == "m_echo-own-1"


def test_policy_enforcement_is_a_page_notice() -> None:
    result = run("messenger_policy_enforcement_warning.json")
    [notice] = result.page_notices
    assert result.observations == []
    assert (notice.account.account_id, notice.action, notice.at_ms) == (PAGE_ID, "warning", BASE_MS + 12_000)
    assert notice.reason == "The bot violated our Platform Policies."


def test_feedback_is_a_customer_event_without_a_window() -> None:
    feedback = only(run("messenger_feedback_csat.json"), "feedback")
    assert feedback.detail_type == DetailType.CUSTOMER_ACTION and not feedback.opens_window


def test_instagram_story_reply_opens_and_story_mention_follows_the_engine_rule() -> None:
    result = run("instagram_story_reply_and_mention.json")
    reply, mention = only(result, "story_reply"), only(result, "story_mention")
    assert reply.opens_window
    assert not mention.opens_window  # an open question in the fact sheet; the engine leaves it out
    assert "url" not in str(mention.detail)  # story media must not be stored or passed on


def test_instagram_comment_is_a_pending_private_reply() -> None:
    comment = only(run("instagram_comment_on_post.json"), "comment")
    assert comment.key.contact_id == IGSID
    assert comment.comment_id == "17860000000000004" and not comment.opens_window
    assert comment.at_ms == (BASE_S + 20) * 1000  # entry.time in seconds


def test_non_ascii_text_is_decoded() -> None:
    message = only(run("instagram_text_non_ascii.json"), "message")
    assert message.detail["text"] == "Grüße aus München, äöå 😀"


def test_whatsapp_text_keys_on_phone_number_id_and_wa_id() -> None:
    message = only(run("whatsapp_text_with_bsuid.json"), "message")
    assert (message.key.channel, message.key.account_id, message.key.contact_id) == (
        Channel.WHATSAPP,
        PHONE_NUMBER_ID,
        WA_ID,
    )
    assert message.at_ms == (BASE_S + 30) * 1000  # string seconds -> ms
    assert message.country_code == "44"
    assert message.whatsapp_user_id == "GB.13491208655302741918"
    assert message.tenant_id == "globex" and message.opens_window


def test_whatsapp_click_to_whatsapp_ad() -> None:
    message = only(run("whatsapp_ctwa_referral_first_message.json"), "message")
    assert message.entry_point is EntryPoint.CLICK_TO_WHATSAPP_AD
    assert message.detail["referral"]["ctwa_clid"].startswith("ARAk")


def test_whatsapp_button_and_list_replies_are_quick_replies() -> None:
    result = run("whatsapp_interactive_button_and_list_replies.json")
    assert [(o.action, o.detail["payload"], o.detail["text"]) for o in result.observations] == [
        (CustomerActionKind.QUICK_REPLY, "CONFIRM_BOOKING", "Confirm"),
        (CustomerActionKind.QUICK_REPLY, "SLOT_10AM", "10:00"),
    ]
    assert result.observations[0].detail["reply_to"] == "wamid.HBgM-out-1"


def test_whatsapp_other_message_types_and_system_notes() -> None:
    result = run("whatsapp_reaction_location_contacts_order_unsupported.json")
    kinds = {o.detail["message_kind"]: o for o in result.observations}
    assert set(kinds) == {"reaction", "location", "contacts", "order", "unsupported"}
    assert result.ignored == 1  # the system note is not the customer writing
    assert all(kinds[k].opens_window for k in ("location", "contacts", "order", "unsupported"))
    assert kinds["reaction"].action is CustomerActionKind.REACTION


def test_status_131049_backs_marketing_off_for_24_hours() -> None:
    status = only(run("whatsapp_status_failed_131049.json"), "status")
    assert status.key.contact_id == WA_ID_US and status.country_code == "1"
    assert status.backoff_until_ms == (BASE_S + 100) * 1000 + 24 * 3600 * 1000
    assert status.detail["error_codes"] == [131049]


def test_status_131047_closed_the_window_early() -> None:
    status = only(run("whatsapp_status_failed_131047.json"), "status")
    assert status.closed_early and status.at_ms == (BASE_S + 110) * 1000


def test_status_131050_is_a_marketing_opt_out() -> None:
    consent = only(run("whatsapp_status_failed_131050.json"), "consent")
    assert consent.consent is not None and consent.consent.opt_out == frozenset({ConsentScope.MARKETING})
    assert consent.consent.source == "error_131050"


def test_status_131026_makes_the_contact_unreachable() -> None:
    unreachable = only(run("whatsapp_status_failed_131026.json"), "unreachable")
    assert unreachable.unreachable_reason == "131026"
    assert unreachable.detail_type == DetailType.CONTACT_UNREACHABLE


def test_free_entry_point_statuses_are_reported_without_state() -> None:
    result = run("whatsapp_status_sent_delivered_read_free_entry_point.json")
    assert [o.detail["status"] for o in result.observations] == ["sent", "delivered", "read"]
    assert result.observations[0].detail["pricing"] == {
        "type": "free_entry_point",
        "category": "referral_conversion",
    }
    assert not any(o.changes_state for o in result.observations)
    assert len({o.event_id for o in result.observations}) == 3


@pytest.mark.parametrize(
    ("name", "scope_field"),
    [
        ("whatsapp_user_preferences_marketing_stop.json", "opt_out"),
        ("whatsapp_user_preferences_marketing_resume.json", "opt_in"),
    ],
)
def test_user_preferences_stop_and_resume(name: str, scope_field: str) -> None:
    consent = only(run(name), "consent")
    assert consent.consent is not None
    assert getattr(consent.consent, scope_field) == frozenset({ConsentScope.MARKETING})


def test_a_user_call_opens_the_window() -> None:
    call = only(run("whatsapp_call_user_initiated.json"), "call")
    assert call.action is CustomerActionKind.CALL and call.opens_window


def test_a_template_status_update_is_a_template_notice_for_every_number_of_the_waba() -> None:
    result = run("whatsapp_template_status_update.json")
    assert result.unknown_kinds == [] and result.observations == [] and result.rejections == []
    [notice] = result.template_notices
    assert [a.account_id for a in notice.accounts] == [PHONE_NUMBER_ID]
    change = notice.change
    assert (change.name, change.language, change.fact) == ("order_update", "en_US", "status")
    assert (change.status, change.event, change.at_ms) == (
        TemplateStatus.APPROVED,
        "APPROVED",
        1795298900 * 1000,
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "message_template_status_update",
            {"event": "PAUSED", "reason": "LOW_QUALITY"},
            ("status", TemplateStatus.PAUSED),
        ),
        ("message_template_status_update", {"event": "FLAGGED"}, ("status", TemplateStatus.APPROVED)),
        ("message_template_status_update", {"event": "REINSTATED"}, ("status", TemplateStatus.APPROVED)),
        (
            "template_category_update",
            {"previous_category": "UTILITY", "new_category": "MARKETING"},
            ("category", TemplateCategory.MARKETING),
        ),
        (
            "message_template_quality_update",
            {"previous_quality_score": "GREEN", "new_quality_score": "RED"},
            ("quality", "RED"),
        ),
    ],
)
def test_template_notices_carry_what_meta_changed(
    field: str, value: dict[str, Any], expected: tuple[str, Any]
) -> None:
    payload = json.loads(raw("whatsapp_template_status_update.json"))
    change = payload["entry"][0]["changes"][0]
    change["field"] = field
    change["value"] = {
        "message_template_id": 1230000000001,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        **value,
    }
    result = normalize(Envelope.model_validate(payload), resolver())
    [notice] = result.template_notices
    fact, state = expected
    assert notice.change.fact == fact
    assert {
        "status": notice.change.status,
        "category": notice.change.category,
        "quality": notice.change.quality,
    }[fact] == state


def test_an_announced_recategorisation_changes_nothing_yet() -> None:
    payload = json.loads(raw("whatsapp_template_status_update.json"))
    change = payload["entry"][0]["changes"][0]
    change["field"] = "template_category_update"
    change["value"] = {
        "message_template_id": 1230000000001,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "correct_category": "MARKETING",
        "new_category": "UTILITY",
        "category_update_timestamp": 1795385300,
    }
    result = normalize(Envelope.model_validate(payload), resolver())
    assert result.template_notices == [] and result.unknown_kinds == []


def test_whatsapp_unknown_phone_number_is_refused() -> None:
    result = run("whatsapp_unknown_phone_number.json")
    assert [r.reason for r in result.rejections] == ["unknown_account"]
    assert result.observations == []
