"""E-mail out through Amazon SES v2 ``SendEmail``, from the account's own address.

``SendEmail(FromEmailAddress=<the account's address>, Destination={"ToAddresses": [contact]},
Content={"Simple": {"Subject", "Body": {"Text"}}})``: the account's address (its ``account_id``)
must be a verified SES identity; replies come back through the receipt rule (``ingest/channels/
mail.py``). The account's secret may hold ``from_name`` (the From display name),
``subject`` (default: "Message from <from_name or address>") and ``configuration_set_name``;
the function's IAM role is the credential.

SES's suppression list does not refuse a send (the address bounces later, asynchronously), so no
row here means "opted out": that is the gate's own consent record (``consent.direct``).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.headerregistry import Address
from functools import cached_property
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.aws_call import AwsSend, send_client
from windowkeeper.delivery.platform import PlatformErrorRule, TextSender
from windowkeeper.graph.results import ContactEffects, DeliveryResult
from windowkeeper.policy.model import Channel, ContactState, ReasonCode

SOURCE = "aws:sesv2/SendEmail"  # SES API v2 reference: SendEmail errors; SES sending errors

ERRORS: tuple[PlatformErrorRule, ...] = (
    PlatformErrorRule(
        "MessageRejected",
        "SES rejected the message (in the sandbox: a recipient or sender address not verified; "
        "content it will not send).",
        SOURCE,
    ),
    PlatformErrorRule(
        "MailFromDomainNotVerifiedException",
        "The account's sending domain is not verified in SES.",
        SOURCE,
        effects=ContactEffects(account_restricted=True),
    ),
    PlatformErrorRule(
        "AccountSuspendedException",
        "SES has permanently restricted the AWS account's sending.",
        SOURCE,
        effects=ContactEffects(account_restricted=True),
    ),
    PlatformErrorRule(
        "SendingPausedException",
        "Sending is paused for the AWS account or the configuration set.",
        SOURCE,
        effects=ContactEffects(account_restricted=True),
    ),
    PlatformErrorRule(
        "LimitExceededException",
        "The account's SES sending quota is used up (daily quota).",
        SOURCE,
        reason=ReasonCode.QUOTA_EXHAUSTED,
    ),
    PlatformErrorRule(
        "TooManyRequestsException", "SES's sending rate was exceeded (429).", SOURCE, transient=True
    ),
    PlatformErrorRule(
        "NotFoundException", "A resource the request names (a configuration set) does not exist.", SOURCE
    ),
    PlatformErrorRule(
        "BadRequestException", "SES refused the request as invalid (an address it cannot parse).", SOURCE
    ),
)


class MailSender(TextSender):
    channel = Channel.EMAIL
    label = "E-mail"

    def __init__(self, endpoint_url: str | None = None, client: Any = None, **options: Any) -> None:
        self._endpoint_url = endpoint_url
        self._given_client = client
        self.call = AwsSend(Channel.EMAIL, ERRORS, **options)

    @cached_property
    def client(self) -> Any:
        return self._given_client or send_client("sesv2", self._endpoint_url)

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        from_name = str(credentials.get("from_name") or "")
        sender = (
            str(Address(display_name=from_name, addr_spec=account.account_id))
            if from_name
            else account.account_id
        )
        subject = str(credentials.get("subject") or f"Message from {from_name or account.account_id}")
        request: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [contact.contact_id]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                }
            },
        }
        if credentials.get("configuration_set_name"):
            request["ConfigurationSetName"] = str(credentials["configuration_set_name"])
        return self.call.deliver(lambda: self.client.send_email(**request))


def from_env() -> MailSender:
    from windowkeeper.delivery.platform import base_url  # noqa: PLC0415

    return MailSender(base_url(Channel.EMAIL, "") or None)
