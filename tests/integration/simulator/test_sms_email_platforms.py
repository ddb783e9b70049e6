"""The simulator plays SMS and e-mail: SNS Publish and SESv2 SendEmail over HTTP (reached with the
real senders and botocore), and customers' texts and mails as SNS delivers them, read back by the
inbound service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.simulator.conftest import APP_SECRET, LOOPBACK_ONLY, WebhookReceiver
from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.mail import MailSender
from windowkeeper.delivery.sms import SmsSender
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.ingest.aws_inbound import handle_sns_record
from windowkeeper.policy.model import (
    Channel,
    ConsentScope,
    ContactState,
    Content,
    ContentKind,
    Decision,
    Path,
    ReasonCode,
)
from windowkeeper_tools.simulator import Simulator, SimulatorServer
from windowkeeper_tools.simulator.platforms import Play, aws_sns

pytestmark = LOOPBACK_ONLY

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NUMBER = AccountConfig(tenant_id="acme", channel=Channel.SMS, account_id="+14155550100")
SUPPORT = AccountConfig(tenant_id="acme", channel=Channel.EMAIL, account_id="support@acme.example")
CUSTOMER = "+14255550182"
ANA = "ana.souza@example.com"
ALLOWED = Decision(
    allowed=True, path=Path.DIRECT, rule=None, reasons=(), explanation="ok", decided_at=NOW, valid_until=None
)
HELLO = Content(kind=ContentKind.TEXT, text="Your order shipped")
TOPICS = {aws_sns.topic_arn(Channel.SMS): Channel.SMS, aws_sns.topic_arn(Channel.EMAIL): Channel.EMAIL}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws_sim(receiver: WebhookReceiver, aws_env: None) -> Iterator[SimulatorServer]:
    simulator = Simulator(
        webhook_url=receiver.url, app_secret=APP_SECRET, accounts=[NUMBER, SUPPORT], clock=lambda: NOW
    )
    with SimulatorServer(simulator, port=0) as running:
        yield running


def play(sim: Simulator, channel: Channel, account: str, contact: str, kind: str, minute: int) -> Any:
    return sim.play_platform(channel, account, Play(contact, kind, NOW + timedelta(minutes=minute), "", {}))


def sms_to(
    server: SimulatorServer, number: str = CUSTOMER, account: AccountConfig = NUMBER
) -> DeliveryResult:
    contact = ContactState(channel=Channel.SMS, account_id=account.account_id, contact_id=number)
    sender = SmsSender(f"{server.url}/sms", sleep=lambda _s: None)
    return sender.send(account, contact, ALLOWED, HELLO, {})


def test_an_sms_is_published_until_the_customer_texts_stop_and_again_after_start(
    aws_sim: SimulatorServer,
) -> None:
    sim = aws_sim.simulator
    assert sms_to(aws_sim).ok
    play(sim, Channel.SMS, NUMBER.account_id, CUSTOMER, "stop", 1)
    opted_out = sms_to(aws_sim)
    assert opted_out.reason is ReasonCode.OPTED_OUT and opted_out.effects.unreachable
    play(sim, Channel.SMS, NUMBER.account_id, CUSTOMER, "start", 2)
    assert sms_to(aws_sim).ok
    sent = sim.platform_users(Channel.SMS, NUMBER.account_id).sent[CUSTOMER]
    assert len(sent) == 2
    (publish, *_) = sim.requests()
    assert publish.body["MessageAttributes.entry.2.Value.StringValue"] == NUMBER.account_id


def test_sns_refuses_a_bad_number_and_an_origination_number_that_is_not_ours(
    aws_sim: SimulatorServer,
) -> None:
    bad_number = sms_to(aws_sim, number="0044 7700")
    assert bad_number.error is not None and bad_number.error.details == "InvalidParameter"
    assert bad_number.known_error and bad_number.reason is None
    stranger = NUMBER.model_copy(update={"account_id": "+14155550199"})
    assert not sms_to(aws_sim, account=stranger).ok


def test_sns_throttling_is_retried_and_a_500_is_unknown(aws_sim: SimulatorServer) -> None:
    sim = aws_sim.simulator
    sim.add_fault("throttle", count=1, channel=Channel.SMS)
    throttled_then_ok = sms_to(aws_sim)
    assert throttled_then_ok.ok and throttled_then_ok.attempts == 2
    sim.add_fault("server_error", count=1, channel=Channel.SMS)
    assert sms_to(aws_sim).delivery_unknown


def test_a_played_text_is_snss_http_delivery_and_the_inbound_service_reads_it(
    aws_sim: SimulatorServer, receiver: WebhookReceiver
) -> None:
    play(aws_sim.simulator, Channel.SMS, NUMBER.account_id, CUSTOMER, "start", 0)
    (delivery,) = receiver.received
    assert delivery.path == aws_sns.SNS_BRIDGE_PATH
    assert delivery.headers["x-amz-sns-message-type"] == "Notification"
    notification = json.loads(delivery.body)
    meta = InMemoryWebhookBackends.of(NUMBER, app_secret="unused")
    outcome = handle_sns_record(aws_sns.lambda_record(notification), meta.ports(), TOPICS, now=NOW)
    assert outcome.status == 200, outcome.body
    record = meta.contact("sms", NUMBER.account_id, CUSTOMER)
    assert record is not None and record.consent_on_record


def mail_to(server: SimulatorServer, account: AccountConfig = SUPPORT) -> DeliveryResult:
    contact = ContactState(channel=Channel.EMAIL, account_id=account.account_id, contact_id=ANA)
    sender = MailSender(f"{server.url}/email", sleep=lambda _s: None)
    return sender.send(account, contact, ALLOWED, HELLO, {"from_name": "Acme Support"})


def test_an_email_is_sent_from_a_verified_address_and_rejected_from_any_other(
    aws_sim: SimulatorServer,
) -> None:
    sent = mail_to(aws_sim)
    assert sent.ok and sent.platform_message_id
    (request,) = aws_sim.simulator.requests()
    assert request.body["FromEmailAddress"] == "Acme Support <support@acme.example>"
    unverified = mail_to(aws_sim, SUPPORT.model_copy(update={"account_id": "noreply@acme.example"}))
    assert unverified.error is not None and unverified.error.details == "MessageRejected"
    assert unverified.known_error


def test_ses_throttling_is_retried(aws_sim: SimulatorServer) -> None:
    aws_sim.simulator.add_fault("throttle", count=1, channel=Channel.EMAIL)
    result = mail_to(aws_sim)
    assert result.ok and result.attempts == 2


@pytest.mark.parametrize(
    ("kind", "opted_out", "quarantined"),
    [
        ("message", False, []),
        ("unsubscribe", True, []),
        ("stop", True, []),
        ("forged", False, ["email_not_authentic"]),
    ],
)
def test_played_mails_are_read_back_as_the_customer_meant(
    aws_sim: SimulatorServer, receiver: WebhookReceiver, kind: str, opted_out: bool, quarantined: list[str]
) -> None:
    play(aws_sim.simulator, Channel.EMAIL, SUPPORT.account_id, f"Ana Souza <{ANA}>", kind, 0)
    (delivery,) = receiver.received
    meta = InMemoryWebhookBackends.of(SUPPORT, app_secret="unused")
    record = aws_sns.lambda_record(json.loads(delivery.body))
    assert handle_sns_record(record, meta.ports(), TOPICS, now=NOW).status == 200
    assert [r for _, r, _ in meta.quarantined] == quarantined
    contact = meta.contact("email", SUPPORT.account_id, ANA)
    if quarantined:
        assert contact is None
    else:
        assert contact is not None
        assert (ConsentScope.ALL in contact.scopes_opted_out()) is opted_out
