"""The exact request each decision turns into, per channel and path (M1, M10, M11, M12, I1, I2, W1)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.unit.graph.conftest import (
    IGSID,
    INSTAGRAM_ACCOUNT,
    MESSENGER_PAGE,
    ORDER_SHIPPED,
    PAGE_TOKEN,
    PSID,
    WA_ID,
    WHATSAPP_NUMBER,
    contact,
    decision,
)
from windowkeeper.graph import GraphRequestError, build_send_request
from windowkeeper.graph.errors import Condition
from windowkeeper.policy.model import Channel, Content, ContentKind, Path

HELLO = Content(kind=ContentKind.TEXT, text="Your parcel left the warehouse this morning.")


def test_messenger_reply_inside_window_posts_response_to_the_page_with_bearer_token(make_client):
    client, recorder = make_client()
    result = client.send(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(Path.FREE_FORM, messaging_type="RESPONSE"),
        HELLO,
    )

    request = recorder.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"https://graph.example.test/v25.0/{MESSENGER_PAGE.account_id}/messages"
    assert request.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert PAGE_TOKEN not in str(request.url)
    assert recorder.body() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Your parcel left the warehouse this morning."},
    }
    assert result.ok and result.platform_message_id == "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"
    assert result.attempts == 1


def test_human_agent_after_two_days_is_tagged_even_if_the_engine_only_names_the_path(make_client):
    client, recorder = make_client()
    client.send(MESSENGER_PAGE, contact(Channel.MESSENGER, PSID), decision(Path.HUMAN_AGENT), HELLO)
    assert recorder.body()["messaging_type"] == "MESSAGE_TAG"
    assert recorder.body()["tag"] == "HUMAN_AGENT"


def test_instagram_human_agent_goes_to_the_instagram_account_node(make_client):
    client, recorder = make_client(
        [httpx.Response(200, json={"recipient_id": IGSID, "message_id": "aWdfZAG1f"})]
    )
    result = client.send(
        INSTAGRAM_ACCOUNT,
        contact(Channel.INSTAGRAM, IGSID),
        decision(Path.HUMAN_AGENT, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT"),
        HELLO,
    )
    assert recorder.requests[0].url.path == f"/v25.0/{INSTAGRAM_ACCOUNT.account_id}/messages"
    assert recorder.body() == {
        "recipient": {"id": IGSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": HELLO.text},
    }
    assert result.platform_message_id == "aWdfZAG1f"


def test_messenger_utility_template_uses_messaging_type_utility_and_body_parameters():
    content = Content(kind=ContentKind.TEMPLATE, template=ORDER_SHIPPED)
    request = build_send_request(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(Path.UTILITY_TEMPLATE, messaging_type="UTILITY"),
        content,
    )
    assert request.body == {
        "recipient": {"id": PSID},
        "messaging_type": "UTILITY",
        "message": {
            "template": {
                "name": "order_shipped",
                "language": {"code": "en_US"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1042"}],
                    }
                ],
            }
        },
    }


def test_customer_feedback_template_carries_its_tag_and_a_csat_question():
    content = Content(kind=ContentKind.FEEDBACK_TEMPLATE, text="How did we do with your return?")
    request = build_send_request(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(
            Path.CUSTOMER_FEEDBACK, feedback={"business_privacy": {"url": "https://acme.example/privacy"}}
        ),
        content,
    )
    assert request.body["messaging_type"] == "MESSAGE_TAG"
    assert request.body["tag"] == "CUSTOMER_FEEDBACK"
    payload = request.body["message"]["attachment"]["payload"]
    assert request.body["message"]["attachment"]["type"] == "template"
    assert payload["template_type"] == "customer_feedback"
    assert payload["feedback_screens"][0]["questions"][0]["title"] == "How did we do with your return?"
    assert payload["business_privacy"] == {"url": "https://acme.example/privacy"}


def test_media_becomes_a_reusable_attachment_on_messenger_and_a_document_link_on_whatsapp():
    pdf = Content(
        kind=ContentKind.MEDIA,
        media_type="file",
        media_url="https://cdn.acme.example/invoice.pdf",
        text="Invoice",
    )
    messenger = build_send_request(
        MESSENGER_PAGE, contact(Channel.MESSENGER, PSID), decision(Path.FREE_FORM), pdf
    )
    assert messenger.body["message"] == {
        "attachment": {
            "type": "file",
            "payload": {"url": "https://cdn.acme.example/invoice.pdf", "is_reusable": True},
        }
    }
    whatsapp = build_send_request(
        WHATSAPP_NUMBER, contact(Channel.WHATSAPP, WA_ID), decision(Path.FREE_FORM, type="text"), pdf
    )
    assert whatsapp.body["type"] == "document"
    assert whatsapp.body["document"] == {"link": "https://cdn.acme.example/invoice.pdf", "caption": "Invoice"}


def test_private_reply_addresses_the_comment_without_messaging_type():
    request = build_send_request(
        INSTAGRAM_ACCOUNT,
        contact(Channel.INSTAGRAM, IGSID),
        decision(Path.PRIVATE_REPLY, recipient={"comment_id": "17858893269000001"}),
        Content(kind=ContentKind.TEXT, text="Thanks for asking! Sizes are in your DMs."),
    )
    assert request.path == f"{INSTAGRAM_ACCOUNT.account_id}/messages"
    assert request.body == {
        "recipient": {"comment_id": "17858893269000001"},
        "message": {"text": "Thanks for asking! Sizes are in your DMs."},
    }


def test_marketing_message_defaults_to_the_page_send_api_with_the_opt_in_token():
    request = build_send_request(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(Path.MARKETING_MESSAGE, api="marketing_messages", subscription_token="7733112200"),
        Content(kind=ContentKind.TEXT, text="Our winter sale starts Friday."),
    )
    assert request.path == f"{MESSENGER_PAGE.account_id}/messages"
    assert request.body == {
        "recipient": {"notification_messages_token": "7733112200"},
        "message": {"text": "Our winter sale starts Friday."},
    }
    assert Condition.MARKETING_API in request.conditions


def test_marketing_message_with_a_campaign_goes_to_the_marketing_message_api(make_client):
    client, recorder = make_client(
        [httpx.Response(200, json={"success": True, "marketing_message_tracking_id": "98ecd977-245a"})]
    )
    result = client.send(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(
            Path.MARKETING_MESSAGE,
            api="marketing_messages",
            subscription_token="7733112200",
            ad_account_id="act_5550001",
            campaign_id="120210000000001",
            min_conversation_gap_seconds=3600,
        ),
        Content(kind=ContentKind.TEXT, text="Our winter sale starts Friday."),
    )
    assert recorder.requests[0].url.path == "/v25.0/act_5550001/messages"
    assert recorder.body() == {
        "message_id": "120210000000001",
        "messenger_delivery_data": {"subscription_token": "7733112200"},
        "message": {"text": "Our winter sale starts Friday."},
        "min_conversation_gap_seconds": 3600,
    }
    assert result.platform_message_id == "98ecd977-245a"


def test_whatsapp_text_inside_the_window(make_client):
    answer = httpx.Response(
        200,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
            "messages": [{"id": "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}],
        },
    )
    client, recorder = make_client([answer])
    result = client.send(
        WHATSAPP_NUMBER,
        contact(Channel.WHATSAPP, WA_ID),
        decision(Path.FREE_FORM, type="text"),
        Content(kind=ContentKind.TEXT, text="¡Hola! Tu pedido está en camino."),
    )
    assert recorder.requests[0].url.path == f"/v25.0/{WHATSAPP_NUMBER.account_id}/messages"
    assert recorder.body() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "text": {"body": "¡Hola! Tu pedido está en camino.", "preview_url": False},
        "type": "text",
    }
    assert result.platform_message_id == "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def test_whatsapp_template_sends_name_language_and_components_but_not_the_category():
    request = build_send_request(
        WHATSAPP_NUMBER,
        contact(Channel.WHATSAPP, WA_ID),
        decision(Path.UTILITY_TEMPLATE, type="template", category="UTILITY"),
        Content(kind=ContentKind.TEMPLATE, template=ORDER_SHIPPED),
    )
    assert request.body["type"] == "template"
    assert request.body["template"] == {
        "name": "order_shipped",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1042"}],
            }
        ],
    }
    assert "category" not in request.body


def test_whatsapp_template_decision_with_free_text_is_a_bug_not_a_request():
    with pytest.raises(GraphRequestError):
        build_send_request(
            WHATSAPP_NUMBER,
            contact(Channel.WHATSAPP, WA_ID),
            decision(Path.UTILITY_TEMPLATE, type="template"),
            HELLO,
        )


def test_message_tag_without_a_tag_is_refused_before_calling_meta():
    with pytest.raises(GraphRequestError):
        build_send_request(
            MESSENGER_PAGE,
            contact(Channel.MESSENGER, PSID),
            decision(Path.MESSAGE_TAG, messaging_type="MESSAGE_TAG"),
            HELLO,
        )


def test_a_retired_tag_sent_after_its_retirement_date_is_marked_on_the_request():
    after = datetime(2026, 5, 2, tzinfo=UTC)
    before = datetime(2026, 3, 1, tzinfo=UTC)
    fields = {"messaging_type": "MESSAGE_TAG", "tag": "POST_PURCHASE_UPDATE"}
    late = build_send_request(
        MESSENGER_PAGE, contact(Channel.MESSENGER, PSID), decision(Path.MESSAGE_TAG, after, **fields), HELLO
    )
    early = build_send_request(
        MESSENGER_PAGE, contact(Channel.MESSENGER, PSID), decision(Path.MESSAGE_TAG, before, **fields), HELLO
    )
    assert Condition.RETIRED_TAG in late.conditions
    assert Condition.RETIRED_TAG not in early.conditions


def test_a_refused_decision_is_never_delivered(make_client):
    client, recorder = make_client()
    refused = decision(Path.FREE_FORM).model_copy(update={"allowed": False, "path": None})
    with pytest.raises(ValueError, match="did not allow"):
        client.send(MESSENGER_PAGE, contact(Channel.MESSENGER, PSID), refused, HELLO)
    assert recorder.requests == []


def test_thread_control_calls_post_to_the_page_edges(make_client):
    client, recorder = make_client([httpx.Response(200, json={"success": True})] * 3)
    passed = client.pass_thread_control(MESSENGER_PAGE, PSID, "263902037430900", metadata="agent takes over")
    client.take_thread_control(MESSENGER_PAGE, PSID)
    client.release_thread_control(MESSENGER_PAGE, PSID)
    assert [r.url.path for r in recorder.requests] == [
        f"/v25.0/{MESSENGER_PAGE.account_id}/pass_thread_control",
        f"/v25.0/{MESSENGER_PAGE.account_id}/take_thread_control",
        f"/v25.0/{MESSENGER_PAGE.account_id}/release_thread_control",
    ]
    assert recorder.body(0) == {
        "recipient": {"id": PSID},
        "target_app_id": "263902037430900",
        "metadata": "agent takes over",
    }
    assert recorder.body(2) == {"recipient": {"id": PSID}}
    assert passed.ok and passed.platform_message_id is None


def test_thread_control_on_whatsapp_is_answered_locally(make_client):
    client, recorder = make_client()
    result = client.take_thread_control(WHATSAPP_NUMBER, WA_ID)
    assert not result.ok and result.reason is not None and result.reason.value == "channel_unsupported"
    assert result.attempts == 0 and recorder.requests == []


def test_recurring_notifications_go_to_the_page_send_api_with_the_token():
    request = build_send_request(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(
            Path.MARKETING_MESSAGE,
            datetime(2025, 12, 1, tzinfo=UTC),
            api="recurring_notifications",
            subscription_token="7733112200",
            ad_account_id="act_1",
            campaign_id="2",
        ),
        Content(kind=ContentKind.TEXT, text="Back in stock: the boots you liked."),
    )
    assert request.path == f"{MESSENGER_PAGE.account_id}/messages"
    assert request.body["recipient"] == {"notification_messages_token": "7733112200"}
    assert "messaging_type" not in request.body
