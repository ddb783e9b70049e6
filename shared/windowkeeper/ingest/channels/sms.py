"""SMS in: AWS End User Messaging SMS two-way messages, published to an SNS topic.

AWS delivers them, not our HTTP route: End User Messaging publishes each message a customer texts
to the business's number as JSON on the number's two-way SNS topic (AWS End User Messaging SMS
user guide, "Example of a two-way SMS message payload for Amazon SNS topics")::

    {"originationNumber": "+14255550182", "destinationNumber": "+12125550101",
     "messageKeyword": "JOIN", "messageBody": "EXAMPLE",
     "inboundMessageId": "cae173d2-...", "previousPublishedMessageId": "wJalr..."}

and SNS invokes the inbound function (``ingest/aws_inbound.py``): IAM authenticates the
invocation and the record's ``TopicArn`` must be the configured SMS topic.

* Account = ``destinationNumber`` (the business's number, E.164, as configured); contact =
  ``originationNumber``; the instant is the SNS envelope's ``Timestamp`` (the payload has none).
* Every message is the customer writing (no window on SMS; fact sheet §7, C2). A whole-message
  keyword of the account's lists changes consent (``ChannelEvents.customer_message``): STOP opts
  out of everything, START is consent on record, which is what the ``consent.direct`` rule asks
  for before anything is sent. An inbound message alone is not consent.
* The carriers' own opt-out and opt-in words (STOPALL, CANCEL, END, QUIT, OPTOUT, REVOKE /
  UNSTOP: CTIA's list, which End User Messaging honours on its opt-out list whatever we do) are
  honoured too when the account's lists do not hold them: the number is opted out at the carrier
  either way, and the gate must not say "can go" for a message that cannot.
* HELP (End User Messaging answers it itself) is kept in the conversation log as a message and
  changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import ChannelEvents, UnparsableBody
from windowkeeper.ingest.keywords import keyword_form, keyword_intent
from windowkeeper.ingest.normalize.common import first_problem
from windowkeeper.ingest.phone import country_calling_code
from windowkeeper.ingest.sns import SnsNotice, notice_json
from windowkeeper.policy.model import Channel, ConsentScope

# CTIA's standard opt-out / opt-in words (End User Messaging keeps a number's opt-out list from
# them); folded the way ``keywords.keyword_form`` folds a message.
CARRIER_OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "opt out", "opt-out", "revoke"}
)
CARRIER_OPT_IN_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
ALL = frozenset({ConsentScope.ALL})


class InboundSms(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    originationNumber: str
    destinationNumber: str
    messageBody: str = ""
    messageKeyword: str | None = None
    inboundMessageId: str
    previousPublishedMessageId: str | None = None

    @field_validator("originationNumber", "destinationNumber")
    @classmethod
    def _e164(cls, value: str) -> str:
        number = "".join(value.split())
        if not (number.startswith("+") and number[1:].isdigit() and 7 <= len(number) <= 16):
            raise ValueError("not an E.164 phone number")
        return number


@dataclass(frozen=True)
class SmsMessage:
    """One two-way message, read: the account it is for and what it says."""

    sms: InboundSms
    at_ms: int
    unencodable: int = 0

    @property
    def account_ids(self) -> tuple[str, ...]:
        return (self.sms.destinationNumber,)

    @property
    def ignored(self) -> bool:
        return False

    def file(self, account: AccountConfig, out: ChannelEvents) -> None:
        sms = self.sms
        contact_id = sms.originationNumber
        event_id = f"sms:{sms.inboundMessageId}"
        text = sms.messageBody
        form = keyword_form(text)
        out.customer_message(
            contact_id,
            at_ms=self.at_ms,
            event_id=event_id,
            text=text,
            country_code=country_calling_code(contact_id),
            detail={
                "keyword": sms.messageKeyword,
                "help": form in HELP_WORDS,
                "in_reply_to": sms.previousPublishedMessageId,
            },
        )
        if keyword_intent(text, account.profile()) is not None:
            return  # the account's own keyword lists decided (customer_message filed it)
        if form in CARRIER_OPT_OUT_WORDS:
            out.consent(
                contact_id,
                at_ms=self.at_ms,
                event_id=f"{event_id}:carrier",
                opt_out=ALL,
                source="sms_carrier_keyword",
            )
        elif form in CARRIER_OPT_IN_WORDS:
            out.consent(
                contact_id,
                at_ms=self.at_ms,
                event_id=f"{event_id}:carrier",
                opt_in=ALL,
                source="sms_carrier_keyword",
                consent_on_record=True,
            )


class SmsInbound:
    channel = Channel.SMS

    def read(self, notice: SnsNotice) -> SmsMessage:
        payload, unencodable = notice_json(notice)
        try:
            sms = InboundSms.model_validate(payload)
        except ValidationError as error:
            raise UnparsableBody("schema_invalid", first_problem(error)) from error
        return SmsMessage(sms, notice.at_ms, unencodable)


READER = SmsInbound()
