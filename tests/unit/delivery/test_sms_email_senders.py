"""SMS (SNS Publish) and e-mail (SESv2 SendEmail) senders against botocore's Stubber: the exact
request, every error-table row, throttling retried, ambiguity never retried."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery import mail, sms
from windowkeeper.delivery.mail import MailSender
from windowkeeper.delivery.platform import PlatformErrorRule
from windowkeeper.delivery.router import ChannelRouter
from windowkeeper.delivery.sms import SmsSender
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.policy.model import Channel, ContactState, Content, ContentKind, Decision, Path, ReasonCode

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NUMBER = AccountConfig(tenant_id="acme", channel=Channel.SMS, account_id="+14155550100")
CUSTOMER = ContactState(channel=Channel.SMS, account_id=NUMBER.account_id, contact_id="+14255550182")
SUPPORT = AccountConfig(tenant_id="acme", channel=Channel.EMAIL, account_id="support@acme.example")
ANA = ContactState(channel=Channel.EMAIL, account_id=SUPPORT.account_id, contact_id="ana.souza@example.com")
ALLOWED = Decision(
    allowed=True, path=Path.DIRECT, rule=None, reasons=(), explanation="ok", decided_at=AT, valid_until=None
)
HELLO = Content(kind=ContentKind.TEXT, text="Your order shipped")
SMS_REQUEST = {
    "PhoneNumber": "+14255550182",
    "Message": "Your order shipped",
    "MessageAttributes": {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": "+14155550100"},
    },
}


def client(service: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="unit", aws_secret_access_key="unit")
    return session.client(service, region_name="eu-west-1")  # type: ignore[call-overload]


@pytest.fixture
def sns() -> Iterator[tuple[Any, Stubber]]:
    sns_client = client("sns")
    with Stubber(sns_client) as stubber:
        yield sns_client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def ses() -> Iterator[tuple[Any, Stubber]]:
    ses_client = client("sesv2")
    with Stubber(ses_client) as stubber:
        yield ses_client, stubber
        stubber.assert_no_pending_responses()


def no_sleep(_seconds: float) -> None:
    return None


def status_of(row: PlatformErrorRule) -> int:
    return 429 if row.transient and "Many" in str(row.code) else 400


def test_an_sms_goes_from_the_accounts_number_as_transactional_and_comes_back_with_its_id(
    sns: tuple[Any, Stubber],
) -> None:
    sns_client, stubber = sns
    stubber.add_response("publish", {"MessageId": "0b1d4a0e-sms"}, SMS_REQUEST)
    result = SmsSender(client=sns_client, sleep=no_sleep).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert result.ok and result.platform_message_id == "0b1d4a0e-sms" and result.attempts == 1


@pytest.mark.parametrize("row", sms.ERRORS, ids=lambda r: f"{r.code}:{r.text or ''}")
def test_each_sms_error_row_says_what_it_means(sns: tuple[Any, Stubber], row: PlatformErrorRule) -> None:
    sns_client, stubber = sns
    text = f"Invalid parameter: PhoneNumber Reason: {row.text or 'something else'}"
    for _ in range(3 if row.transient else 1):
        stubber.add_client_error("publish", str(row.code), text, http_status_code=status_of(row))
    result = SmsSender(client=sns_client, sleep=no_sleep).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert not result.ok and result.known_error
    assert result.meaning == row.meaning and result.sources == (row.source,)
    assert result.reason is row.reason and result.effects == row.effects
    assert result.transient is row.transient
    assert result.error is not None and result.error.details == row.code
    assert result.attempts == (3 if row.transient else 1)


def test_opted_out_is_a_refusal_that_marks_the_number_unreachable(sns: tuple[Any, Stubber]) -> None:
    sns_client, stubber = sns
    stubber.add_client_error("publish", "OptedOut", "Phone number is opted out", http_status_code=400)
    result = SmsSender(client=sns_client).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert result.refused_on_policy and result.reason is ReasonCode.OPTED_OUT
    assert result.effects.unreachable and result.effects.unreachable_reason == "sms:opted_out"


def test_throttling_is_retried_then_succeeds(sns: tuple[Any, Stubber]) -> None:
    sns_client, stubber = sns
    stubber.add_client_error("publish", "Throttling", "Rate exceeded", http_status_code=400)
    stubber.add_response("publish", {"MessageId": "m-2"}, SMS_REQUEST)
    slept: list[float] = []
    result = SmsSender(client=sns_client, sleep=slept.append).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert result.ok and result.attempts == 2 and len(slept) == 1


def test_an_internal_error_may_have_sent_so_it_is_unknown_and_not_retried(sns: tuple[Any, Stubber]) -> None:
    sns_client, stubber = sns
    stubber.add_client_error("publish", "InternalError", "Internal error", http_status_code=500)
    result = SmsSender(client=sns_client, sleep=no_sleep).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert result.delivery_unknown and result.attempts == 1


def test_an_unknown_code_is_reported_verbatim_not_guessed(sns: tuple[Any, Stubber]) -> None:
    sns_client, stubber = sns
    stubber.add_client_error("publish", "SomethingNew", "A new error", http_status_code=400)
    result = SmsSender(client=sns_client).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert not result.ok and not result.known_error and result.reason is None
    assert result.error is not None and result.error.details == "SomethingNew"


class Failing:
    """A client whose every call raises ``error`` (what the network does, not AWS)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def publish(self, **_: Any) -> Any:
        self.calls += 1
        raise self.error


def test_a_read_timeout_is_unknown_and_not_retried() -> None:
    failing = Failing(ReadTimeoutError(endpoint_url="https://sns.eu-west-1.amazonaws.com/"))
    result = SmsSender(client=failing, sleep=no_sleep).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert result.delivery_unknown and failing.calls == 1


def test_a_refused_connection_is_retried_then_transient() -> None:
    failing = Failing(EndpointConnectionError(endpoint_url="https://sns.eu-west-1.amazonaws.com/"))
    result = SmsSender(client=failing, sleep=no_sleep).send(NUMBER, CUSTOMER, ALLOWED, HELLO, {})
    assert result.transient and not result.delivery_unknown and failing.calls == 3


def test_media_and_overlong_texts_are_refused_locally_and_nothing_is_sent() -> None:
    failing = Failing(AssertionError("nothing may be sent"))
    sender = SmsSender(client=failing)
    image = Content(kind=ContentKind.MEDIA, media_url="https://x/y.png", media_type="image")
    assert sender.send(NUMBER, CUSTOMER, ALLOWED, image, {}).reason is ReasonCode.CHANNEL_UNSUPPORTED
    long = Content(kind=ContentKind.TEXT, text="x" * 1601)
    assert sender.send(NUMBER, CUSTOMER, ALLOWED, long, {}).reason is ReasonCode.CONTENT_INVALID
    assert failing.calls == 0


def email_request(**overrides: Any) -> dict[str, Any]:
    request = {
        "FromEmailAddress": "Acme Support <support@acme.example>",
        "Destination": {"ToAddresses": ["ana.souza@example.com"]},
        "Content": {
            "Simple": {
                "Subject": {"Data": "Your Acme order", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": "Your order shipped", "Charset": "UTF-8"}},
            }
        },
        "ConfigurationSetName": "windowkeeper",
    }
    request.update(overrides)
    return request


EMAIL_CREDENTIALS = {
    "from_name": "Acme Support",
    "subject": "Your Acme order",
    "configuration_set_name": "windowkeeper",
}


def test_an_email_goes_from_the_accounts_address_to_the_contact(ses: tuple[Any, Stubber]) -> None:
    ses_client, stubber = ses
    stubber.add_response("send_email", {"MessageId": "0100018c-ses"}, email_request())
    result = MailSender(client=ses_client).send(SUPPORT, ANA, ALLOWED, HELLO, EMAIL_CREDENTIALS)
    assert result.ok and result.platform_message_id == "0100018c-ses"


def test_without_credentials_the_address_alone_is_the_sender(ses: tuple[Any, Stubber]) -> None:
    ses_client, stubber = ses
    plain = email_request(FromEmailAddress="support@acme.example")
    plain.pop("ConfigurationSetName")
    plain["Content"]["Simple"]["Subject"]["Data"] = "Message from support@acme.example"
    stubber.add_response("send_email", {"MessageId": "m"}, plain)
    assert MailSender(client=ses_client).send(SUPPORT, ANA, ALLOWED, HELLO, {}).ok


@pytest.mark.parametrize("row", mail.ERRORS, ids=lambda r: str(r.code))
def test_each_email_error_row_says_what_it_means(ses: tuple[Any, Stubber], row: PlatformErrorRule) -> None:
    ses_client, stubber = ses
    for _ in range(3 if row.transient else 1):
        stubber.add_client_error(
            "send_email", str(row.code), "as SES says it", http_status_code=status_of(row)
        )
    result = MailSender(client=ses_client, sleep=no_sleep).send(
        SUPPORT, ANA, ALLOWED, HELLO, EMAIL_CREDENTIALS
    )
    assert not result.ok and result.known_error
    assert result.meaning == row.meaning and result.reason is row.reason and result.effects == row.effects
    assert result.transient is row.transient


def test_every_row_of_both_tables_names_its_source() -> None:
    assert all(row.source and row.meaning for row in (*sms.ERRORS, *mail.ERRORS))


def test_the_router_sends_sms_and_email_through_their_senders(
    sns: tuple[Any, Stubber], ses: tuple[Any, Stubber]
) -> None:
    sns[1].add_response("publish", {"MessageId": "s-1"}, SMS_REQUEST)
    ses[1].add_response("send_email", {"MessageId": "e-1"}, email_request())

    class NoMeta:
        def send(self, *_: Any) -> DeliveryResult:
            raise AssertionError("SMS and e-mail are not Meta's")

    router = ChannelRouter(
        NoMeta(),
        lambda account: EMAIL_CREDENTIALS if account.channel is Channel.EMAIL else {},
        {Channel.SMS: lambda: SmsSender(client=sns[0]), Channel.EMAIL: lambda: MailSender(client=ses[0])},
    )
    assert router.send(NUMBER, CUSTOMER, ALLOWED, HELLO).platform_message_id == "s-1"
    assert router.send(SUPPORT, ANA, ALLOWED, HELLO).platform_message_id == "e-1"
