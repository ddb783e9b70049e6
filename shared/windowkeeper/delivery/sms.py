"""SMS out through Amazon SNS ``Publish`` to a phone number, from the account's own number.

``Publish(PhoneNumber=<contact, E.164>, Message=<text>, MessageAttributes={
"AWS.SNS.SMS.SMSType": Transactional, "AWS.MM.SMS.OriginationNumber": <the account's number>})``;
SNS hands the message to AWS End User Messaging SMS, which delivers it and keeps the opt-out list.

Why SNS and not End User Messaging's own ``SendTextMessage`` (pinpoint-sms-voice-v2): both reach
the same SMS network and honour the same opt-out list, but moto here implements SNS's ``Publish``
and not ``SendTextMessage``, so the send path can be tested offline end to end; the origination
number attribute makes the reply land on the number's two-way topic as with ``SendTextMessage``.
Switching is one module: the error table below would gain End User Messaging's codes.

The account's secret needs no key (the function's IAM role is the credential); SNS's errors are
read by ``delivery/aws_call.py`` against ``ERRORS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.aws_call import AwsSend, send_client
from windowkeeper.delivery.platform import PlatformErrorRule, TextSender, local_refusal
from windowkeeper.graph.results import ContactEffects, DeliveryResult
from windowkeeper.policy.model import Channel, ContactState, ReasonCode

SOURCE = "aws:sns/Publish"  # SNS API reference: Publish errors, OptedOutException, common errors
MAX_SMS_CHARS = 1600  # SNS splits longer texts itself; at most 1,600 characters a message

ERRORS: tuple[PlatformErrorRule, ...] = (
    PlatformErrorRule(
        "OptedOut",
        "The number is on the account's SMS opt-out list (the customer texted STOP): nothing reaches "
        "it until they opt in again.",
        SOURCE,
        reason=ReasonCode.OPTED_OUT,
        effects=ContactEffects(unreachable=True, unreachable_reason="sms:opted_out"),
    ),
    PlatformErrorRule(
        "InvalidParameter",
        "SNS says the number is opted out of SMS from this account.",
        SOURCE,
        reason=ReasonCode.OPTED_OUT,
        effects=ContactEffects(unreachable=True, unreachable_reason="sms:opted_out"),
        text="opted out",
    ),
    PlatformErrorRule(
        "InvalidParameter",
        "SNS refused a parameter (a number not in E.164, an origination number the account does not "
        "own, a text too long).",
        SOURCE,
    ),
    PlatformErrorRule("ParameterValueInvalid", "SNS refused a parameter's value.", SOURCE),
    PlatformErrorRule("ValidationException", "SNS refused the request as invalid.", SOURCE),
    PlatformErrorRule(
        "AuthorizationError", "The function's role may not publish SMS (IAM): nothing was sent.", SOURCE
    ),
    PlatformErrorRule("Throttled", "SNS throttled the request (429).", SOURCE, transient=True),
    PlatformErrorRule("Throttling", "SNS's API rate limit: rate exceeded.", SOURCE, transient=True),
    PlatformErrorRule("ThrottlingException", "SNS's API rate limit: rate exceeded.", SOURCE, transient=True),
    PlatformErrorRule("KMSThrottling", "KMS throttled SNS's encryption.", SOURCE, transient=True),
)


class SmsSender(TextSender):
    channel = Channel.SMS
    label = "SMS"

    def __init__(self, endpoint_url: str | None = None, client: Any = None, **options: Any) -> None:
        self._endpoint_url = endpoint_url
        self._given_client = client
        self.call = AwsSend(Channel.SMS, ERRORS, **options)

    @cached_property
    def client(self) -> Any:
        return self._given_client or send_client("sns", self._endpoint_url)

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        if len(text) > MAX_SMS_CHARS:
            return local_refusal(
                ReasonCode.CONTENT_INVALID, f"an SMS carries at most {MAX_SMS_CHARS} characters"
            )
        attributes = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": account.account_id},
        }
        return self.call.deliver(
            lambda: self.client.publish(
                PhoneNumber=contact.contact_id, Message=text, MessageAttributes=attributes
            )
        )


def from_env() -> SmsSender:
    from windowkeeper.delivery.platform import base_url  # noqa: PLC0415

    return SmsSender(base_url(Channel.SMS, "") or None)
