"""The SMS and e-mail inbound function on moto, invoked as SNS invokes it (Lambda SNS events)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import aws_inbound_app
from tests.integration.webhook.conftest import CONTEXT, WebhookStack
from tests.support.aws_notifications import EMAIL_TOPIC_ARN, SMS_TOPIC_ARN, ses_received, two_way_sms
from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.model import Channel
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.keys import contact_pk
from windowkeeper.wiring import webhook as webhook_wiring

NOW = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 21, 22, 59, 30, tzinfo=UTC)
NUMBER = AccountConfig(tenant_id="acme", channel=Channel.SMS, account_id="+14155550100")
SUPPORT = AccountConfig(tenant_id="acme", channel=Channel.EMAIL, account_id="support@acme.example")
CUSTOMER = "+14255550182"


@pytest.fixture
def inbound(stack: WebhookStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookStack]:
    AccountStore(stack.resources.table_name).put_all([NUMBER, SUPPORT])
    monkeypatch.setenv("SMS_INBOUND_TOPIC_ARN", SMS_TOPIC_ARN)
    monkeypatch.setenv("EMAIL_INBOUND_TOPIC_ARN", EMAIL_TOPIC_ARN)
    monkeypatch.setattr(aws_inbound_app, "utc_now", lambda: NOW)
    yield stack


def invoke(stack: WebhookStack, *records: dict[str, Any]) -> dict[str, Any]:
    stack.capsys.readouterr()
    result: dict[str, Any] = aws_inbound_app.handler({"Records": list(records)}, CONTEXT)
    return result


def text(body: str, topic_arn: str = SMS_TOPIC_ARN) -> dict[str, Any]:
    return two_way_sms(
        sender=CUSTOMER,
        number=NUMBER.account_id,
        text=body,
        message_id="m-1",
        at=SENT_AT,
        topic_arn=topic_arn,
    )


def test_a_start_text_is_stored_as_consent_on_record_and_published(inbound: WebhookStack) -> None:
    result = invoke(inbound, text("START"))
    assert result["records"][0]["status_code"] == 200, result
    item = inbound.contact(contact_pk("sms", NUMBER.account_id, CUSTOMER))
    assert item is not None and item["consent_on_record"] is True
    kinds = {e["detail-type"] for e in inbound.published()}
    assert {"customer.action", "contact.consent_changed"} <= kinds
    assert inbound.metrics()["ParsedEvents"] == 1


def test_a_record_of_another_topic_stores_nothing(inbound: WebhookStack) -> None:
    result = invoke(inbound, text("START", topic_arn="arn:aws:sns:eu-west-1:999999999999:other"))
    assert result["records"][0]["status_code"] == 403 and result["records"][0]["reason"] == "unknown_topic"
    assert inbound.contact(contact_pk("sms", NUMBER.account_id, CUSTOMER)) is None
    assert not inbound.quarantined()


def test_a_mail_failing_dkim_is_quarantined_in_s3(inbound: WebhookStack) -> None:
    forged = ses_received(
        sender="ceo@acme.example",
        recipients=[SUPPORT.account_id],
        subject="Urgent",
        body="Please wire the money",
        message_id="forged-1",
        at=SENT_AT,
        verdicts={"dkim": "FAIL", "dmarc": "FAIL"},
    )
    assert invoke(inbound, forged)["records"][0]["status_code"] == 200
    (kept,) = inbound.quarantined()
    assert "email_not_authentic" in str(kept["metadata"])
    assert inbound.contact(contact_pk("email", SUPPORT.account_id, "ceo@acme.example")) is None


def test_a_notification_that_cannot_be_stored_raises_so_lambda_retries(
    inbound: WebhookStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    webhook_wiring.reset_caches()
    with pytest.raises(aws_inbound_app.StorageUnavailable):
        invoke(inbound, text("hello"))
