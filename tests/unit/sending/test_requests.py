"""The API body models: spoofed senders refused, content checked, templates resolved via the account."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tests.support.accounts import template
from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.http import status_of
from windowkeeper.policy.model import Channel, ContentKind, TemplateCategory, TemplateStatus
from windowkeeper.sending.api_models import CheckRequest, SendRequest

ORDER_SHIPPED = template("order_shipped", body="Hi {{1}}, order {{2}} has shipped.")
WHATSAPP_NUMBER = AccountConfig(
    channel=Channel.WHATSAPP, account_id="109876543210987", tenant_id="acme", templates=(ORDER_SHIPPED,)
)


def body(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "channel": "whatsapp",
        "account_id": "109876543210987",
        "contact_id": "447700900123",
        "content": {"type": "text", "text": "Your order is on its way."},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize("spoofed_field", ["sender", "human", "agent_id"])
def test_a_body_naming_its_own_sender_is_refused(spoofed_field: str) -> None:
    with pytest.raises(ValidationError) as error:
        SendRequest.model_validate(body(**{spoofed_field: "agent-7"}))
    assert error.value.errors()[0]["loc"] == (spoofed_field,)
    assert error.value.errors()[0]["type"] == "extra_forbidden"


def test_a_spoofed_sender_inside_content_is_refused_too() -> None:
    with pytest.raises(ValidationError):
        SendRequest.model_validate(body(content={"type": "text", "text": "hi", "sender": "human"}))


def test_text_content_needs_text() -> None:
    with pytest.raises(ValidationError, match="needs 'text'"):
        SendRequest.model_validate(body(content={"type": "text"}))


def test_media_content_needs_an_https_url_and_a_type() -> None:
    with pytest.raises(ValidationError, match="media_url"):
        SendRequest.model_validate(body(content={"type": "media", "media_type": "image"}))
    with pytest.raises(ValidationError):
        SendRequest.model_validate(
            body(content={"type": "media", "media_type": "image", "media_url": "http://x.test/a.png"})
        )


def test_unknown_channel_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        SendRequest.model_validate(body(channel="myspace"))
    assert error.value.errors()[0]["loc"] == ("channel",)


def test_a_named_template_is_resolved_through_the_account_registry() -> None:
    request = SendRequest.model_validate(
        body(
            content={
                "type": "template",
                "template": {"name": "order_shipped", "language": "en_US", "parameters": ["Ana", "A-1009"]},
            }
        )
    )
    content = request.content.to_content(WHATSAPP_NUMBER)
    assert content.kind is ContentKind.TEMPLATE
    assert content.template is not None
    assert content.template.category is TemplateCategory.UTILITY
    assert content.template.status is TemplateStatus.APPROVED
    assert content.template.parameters == ("Ana", "A-1009")


def test_a_template_the_account_does_not_know_is_a_400_unknown_template() -> None:
    request = SendRequest.model_validate(
        body(content={"type": "template", "template": {"name": "order_shipped", "language": "pt_BR"}})
    )
    with pytest.raises(errors.DomainError) as error:
        request.content.to_content(WHATSAPP_NUMBER)
    assert (status_of(error.value), error.value.reason) == (400, "unknown_template")


def test_check_at_must_carry_an_offset() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        CheckRequest.model_validate(body(at="2026-11-20T10:00:00"))
    check = CheckRequest.model_validate(body(at="2026-11-20T12:00:00+02:00"))
    assert check.at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_outbound_request_carries_tag_purpose_and_confirmation() -> None:
    request = SendRequest.model_validate(
        body(tag="HUMAN_AGENT", purpose="support", confirm_not_promotional=True, comment_id="c_1")
    )
    outbound = request.outbound_request()
    assert (outbound.tag, outbound.purpose, outbound.confirm_not_promotional, outbound.comment_id) == (
        "HUMAN_AGENT",
        "support",
        True,
        "c_1",
    )
