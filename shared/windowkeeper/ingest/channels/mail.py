"""E-mail in: SES receiving, a receipt rule whose SNS action publishes each message to a topic.

AWS delivers them, not our HTTP route: SES receives the mail for our domain (MX), a receipt rule
with an SNS action publishes the notification (SES developer guide, "Amazon SES email receiving
notification contents")::

    {"notificationType": "Received",
     "mail": {"timestamp", "source", "messageId", "destination": [...], "headers": [...],
              "commonHeaders": {"from": ["Ana <ana@example.com>"], "subject", ...}},
     "receipt": {"recipients": [...], "spfVerdict": {"status": "PASS"}, "dkimVerdict",
                 "dmarcVerdict", "spamVerdict", "virusVerdict", "action": {"type": "SNS",
                 "encoding": "UTF8" | "BASE64"}},
     "content": "<the whole MIME message>"}

and SNS invokes the inbound function (``ingest/aws_inbound.py``; the record's ``TopicArn`` must
be the configured e-mail topic).

* "Verified the platform's way": SES's own verdicts. A ``FAIL`` on SPF, DKIM or DMARC means the
  sender is not who the mail says; a virus ``FAIL`` is malware; a spam ``FAIL`` is not a customer
  writing. Any of them: the notification is quarantined with the reason, nothing is filed.
  ``GRAY`` (no policy, unsigned) and ``PROCESSING_FAILED`` are not failures.
* Account = each recipient we own (``receipt.recipients``, lower-cased: the accounts' ids are the
  addresses, lower case); contact = the ``From`` address, lower-cased (``mail.source``, the
  envelope sender, when there is no From); the instant is ``mail.timestamp`` (when SES received
  it).
* The MIME message is parsed with the standard library's ``email`` package: the text part (or the
  HTML part's text) goes to the conversation log. An ``unsubscribe`` subject, or a body whose
  first line is STOP / UNSUBSCRIBE (an account keyword), opts out of everything; START there is
  consent on record. An inbound mail alone is not consent (``consent.direct``).
* An automatic reply (``Auto-Submitted`` other than ``no``, RFC 3834: out-of-office, delivery
  reports) is not the customer acting: ignored. SES's ``AMAZON_SES_SETUP_NOTIFICATION`` (sent
  when the rule is created) is ignored; any other notification type is counted as unknown.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import ChannelEvents, UnparsableBody
from windowkeeper.ingest.keywords import KeywordIntent, keyword_form, keyword_intent
from windowkeeper.ingest.normalize.common import first_problem
from windowkeeper.ingest.sns import SnsNotice, notice_json
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import AccountProfile, Channel, ConsentScope

RECEIVED = "Received"
SETUP_NOTIFICATION = "AMAZON_SES_SETUP_NOTIFICATION"
AUTHENTICITY_VERDICTS = ("spf", "dkim", "dmarc")
UNSUBSCRIBE_SUBJECTS = frozenset({"unsubscribe", "stop", "remove", "remove me"})
MAX_LOGGED_CHARS = 4000  # the conversation log keeps the start of a long mail
ALL = frozenset({ConsentScope.ALL})
_TAG = re.compile(r"<[^>]+>")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Verdict(_Model):
    status: str


class Header(_Model):
    name: str
    value: str


class CommonHeaders(_Model):
    from_: list[str] | None = Field(default=None, alias="from")
    subject: str | None = None


class Mail(_Model):
    timestamp: datetime
    source: str
    messageId: str
    destination: list[str] = []
    headers: list[Header] = []
    commonHeaders: CommonHeaders = CommonHeaders()


class ReceiptAction(_Model):
    type: str
    encoding: str | None = None


class Receipt(_Model):
    recipients: list[str]
    spfVerdict: Verdict | None = None
    dkimVerdict: Verdict | None = None
    dmarcVerdict: Verdict | None = None
    spamVerdict: Verdict | None = None
    virusVerdict: Verdict | None = None
    action: ReceiptAction | None = None


class ReceivedMail(_Model):
    notificationType: str
    mail: Mail
    receipt: Receipt
    content: str | None = None


@dataclass(frozen=True)
class EmailText:
    """What the customer wrote, read from the MIME message."""

    subject: str
    body: str
    auto_submitted: bool


@dataclass(frozen=True)
class EmailMessageIn:
    """One received mail, read and verified: the accounts it is for and what it says."""

    mail: ReceivedMail | None  # None: a notification with nothing to file (SES's set-up test)
    text: EmailText | None = None
    unencodable: int = 0

    @property
    def account_ids(self) -> tuple[str, ...]:
        if self.mail is None:
            return ()
        return tuple(dict.fromkeys(r.strip().lower() for r in self.mail.receipt.recipients))

    @property
    def ignored(self) -> bool:
        return self.mail is None

    def file(self, account: AccountConfig, out: ChannelEvents) -> None:
        assert self.mail is not None and self.text is not None
        mail, text = self.mail.mail, self.text
        name, address = _sender(self.mail)
        if not address:
            out.unknown("mail_without_sender")
            return
        if text.auto_submitted:
            out.ignored()
            return
        at_ms = to_ms(mail.timestamp)
        event_id = f"email:{mail.messageId}:{account.account_id}"
        out.customer_message(
            address,
            at_ms=at_ms,
            event_id=event_id,
            text=text.body[:MAX_LOGGED_CHARS],
            message_kind="email",
            display_name=name or None,
            detail={"subject": text.subject},
        )
        profile = account.profile()
        if keyword_intent(text.body, profile) is not None:
            return  # the whole body is a keyword: customer_message filed it
        intent = _intent(text, profile)
        if intent is KeywordIntent.OPT_OUT:
            out.consent(
                address,
                at_ms=at_ms,
                event_id=f"{event_id}:unsubscribe",
                opt_out=ALL,
                source="email_unsubscribe",
            )
        elif intent is KeywordIntent.OPT_IN:
            out.consent(
                address,
                at_ms=at_ms,
                event_id=f"{event_id}:start",
                opt_in=ALL,
                source="email_keyword",
                consent_on_record=True,
            )


class EmailInbound:
    channel = Channel.EMAIL

    def read(self, notice: SnsNotice) -> EmailMessageIn:
        payload, unencodable = notice_json(notice)
        kind = payload.get("notificationType") if isinstance(payload, dict) else None
        if kind == SETUP_NOTIFICATION:
            return EmailMessageIn(None)
        if kind != RECEIVED:
            raise UnparsableBody("unknown_event_kind", f"notificationType {kind!r}")
        try:
            received = ReceivedMail.model_validate(payload)
        except ValidationError as error:
            raise UnparsableBody("schema_invalid", first_problem(error)) from error
        failed = _failed_verdicts(received.receipt)
        if failed:
            reason = "email_not_authentic"
            if all(name in ("spam", "virus") for name in failed):
                reason = "email_spam_or_virus"
            raise UnparsableBody(reason, ", ".join(f"{name} FAIL" for name in failed))
        return EmailMessageIn(received, _read_content(received), unencodable)


def _failed_verdicts(receipt: Receipt) -> list[str]:
    verdicts = {
        "spf": receipt.spfVerdict,
        "dkim": receipt.dkimVerdict,
        "dmarc": receipt.dmarcVerdict,
        "spam": receipt.spamVerdict,
        "virus": receipt.virusVerdict,
    }
    return [name for name, verdict in verdicts.items() if verdict is not None and verdict.status == "FAIL"]


def _sender(received: ReceivedMail) -> tuple[str, str]:
    """(display name, address lower-cased) of the From header, else of the envelope sender."""
    for value in received.mail.commonHeaders.from_ or []:
        name, address = parseaddr(value)
        if "@" in address:
            return name, address.strip().lower()
    name, address = parseaddr(received.mail.source)
    return "", address.strip().lower() if "@" in address else ""


def _read_content(received: ReceivedMail) -> EmailText:
    """Subject, the first text part, and whether the mail was sent automatically."""
    subject = received.mail.commonHeaders.subject or ""
    headers = {h.name.lower(): h.value for h in received.mail.headers}
    content = received.content
    body = ""
    if content is not None:
        raw = _raw(content, received.receipt.action)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        subject = subject or str(message.get("subject") or "")
        headers.setdefault("auto-submitted", str(message.get("auto-submitted") or ""))
        body = _body_text(message)
    auto = headers.get("auto-submitted", "").strip().lower()
    return EmailText(subject=subject, body=body, auto_submitted=bool(auto) and auto != "no")


def _raw(content: str, action: ReceiptAction | None) -> bytes:
    if action is not None and (action.encoding or "").upper() == "BASE64":
        try:
            return base64.b64decode(content, validate=False)
        except (binascii.Error, ValueError) as error:
            raise UnparsableBody("content_invalid", "the BASE64 content does not decode") from error
    return content.encode("utf-8", "surrogatepass")


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        text = html.unescape(_TAG.sub(" ", text))
    return text.replace("\r\n", "\n").strip()


def _intent(text: EmailText, profile: AccountProfile) -> KeywordIntent | None:
    """An opt-out or opt-in said by the first line of the body or by the subject."""
    first_line = next((line for line in text.body.splitlines() if line.strip()), "")
    intent = keyword_intent(first_line, profile)
    if intent is not None:
        return intent
    if keyword_form(text.subject) in UNSUBSCRIBE_SUBJECTS:
        return KeywordIntent.OPT_OUT
    return keyword_intent(text.subject, profile)


READER = EmailInbound()
