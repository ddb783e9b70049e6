"""E-mail, played: SESv2 ``SendEmail``, and a customer's mail as SES receiving publishes it to SNS.

API (the local stack points ``EMAIL_API_BASE_URL`` at ``/email`` here; botocore speaks SESv2's
REST-JSON): ``POST /email/v2/email/outbound-emails`` with ``FromEmailAddress``,
``Destination.ToAddresses`` and ``Content.Simple``. Answers ``{"MessageId"}`` or an error as
SESv2 does (``{"__type": code, "message"}``): ``MessageRejected`` when the From address is not a
verified identity (here: not one of the registered e-mail accounts; as in the SES sandbox) or the
content is empty, ``BadRequestException`` for a recipient address that cannot be parsed; a fault
gives ``TooManyRequestsException`` (429) or a 500.

Plays (``/_sim/customer`` ``kind``, ``contact_id`` = the customer's address, ``text`` the body,
``subject`` optional): ``message`` (default), ``stop`` (body STOP), ``unsubscribe`` (subject
"unsubscribe"), ``start`` (body START), ``auto_reply`` (an out-of-office, ``Auto-Submitted``),
``forged`` (SES's DKIM and DMARC verdicts FAIL). Each is SES's ``Received`` notification with the
MIME message as ``content``, published on the e-mail topic and posted as SNS's HTTP delivery to
the local stack's SNS bridge (``aws_sns.py``).
"""

from __future__ import annotations

import json
import uuid
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
from windowkeeper_tools.simulator.platforms import ApiCall, Play, PlayedEvent, aws_sns
from windowkeeper_tools.simulator.simulator import Simulator

SEND_PATH = "/v2/email/outbound-emails"
KINDS = ("message", "stop", "unsubscribe", "start", "auto_reply", "forged")


def _error(status: int, code: str, message: str) -> SimResponse:
    return SimResponse(status, {"__type": code, "message": message})


def _address(value: str) -> str:
    return value.rsplit("<", 1)[-1].rstrip(">").strip().lower()


class EmailSim:
    channel = Channel.EMAIL

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse:
        if call.method != "POST" or call.path != SEND_PATH:
            return _error(404, "NotFoundException", f"No such operation: {call.method} {call.path}")
        body = call.body if isinstance(call.body, dict) else {}
        sender = _address(str(body.get("FromEmailAddress") or ""))
        recipients = [str(a) for a in (body.get("Destination") or {}).get("ToAddresses") or []]
        simple = (body.get("Content") or {}).get("Simple") or {}
        text = ((simple.get("Body") or {}).get("Text") or {}).get("Data")
        if not recipients or any("@" not in a for a in recipients):
            return _error(400, "BadRequestException", "Missing final '@domain'")
        if sender not in {r.account_id.lower() for r in sim.registered_accounts(Channel.EMAIL)}:
            return _error(
                400,
                "MessageRejected",
                f"Email address is not verified. The following identities failed the check in region "
                f"EU-WEST-1: {sender}",
            )
        if not isinstance(text, str) or not text.strip():
            return _error(400, "MessageRejected", "Message body is empty")
        users = sim.platform_users(Channel.EMAIL, sender)
        for recipient in recipients:
            users.sent.setdefault(_address(recipient), []).append(sim.now())
        return SimResponse(200, {"MessageId": f"0100018c{uuid.uuid4().hex}-000000"})

    def fault(self, fault: Fault) -> SimResponse:
        if fault.kind == "disconnect":
            return SimResponse(0, None, disconnect=True)
        if fault.kind == "throttle":
            return _error(429, "TooManyRequestsException", "Maximum sending rate exceeded.")
        if fault.kind == "error":
            return _error(fault.status or 400, fault.message or "MessageRejected", "Rejected")
        return _error(fault.status or 500, "InternalFailure", fault.message or "Internal failure")

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent:
        if play.kind not in KINDS:
            raise ValueError(f"unknown e-mail action {play.kind!r}: {', '.join(KINDS)}")
        subject = str(play.request.get("subject") or "Hello")
        text = play.text or "Hi, a question about my order."
        if play.kind in ("stop", "start"):
            text = play.kind.upper()
        if play.kind == "unsubscribe":
            subject, text = "unsubscribe", ""
        if play.kind == "auto_reply":
            subject, text = "Out of office", "I am away until Monday."
        sender = play.contact_id
        message_id = uuid.uuid4().hex[:32]
        mime = EmailMessage()
        mime["From"] = sender
        mime["To"] = ref.account_id
        mime["Subject"] = subject
        mime["Date"] = format_datetime(play.at)
        mime["Message-ID"] = f"<{message_id}@mail.example.com>"
        if play.kind == "auto_reply":
            mime["Auto-Submitted"] = "auto-replied"
        mime.set_content(text)
        verdict = "FAIL" if play.kind == "forged" else "PASS"
        notification: dict[str, Any] = {
            "notificationType": "Received",
            "mail": {
                "timestamp": aws_sns.iso(play.at),
                "source": _address(sender),
                "messageId": message_id,
                "destination": [ref.account_id],
                "headersTruncated": False,
                "headers": [{"name": k, "value": str(v)} for k, v in mime.items()],
                "commonHeaders": {
                    "returnPath": _address(sender),
                    "from": [sender],
                    "to": [ref.account_id],
                    "messageId": mime["Message-ID"],
                    "subject": subject,
                },
            },
            "receipt": {
                "timestamp": aws_sns.iso(play.at),
                "processingTimeMillis": 420,
                "recipients": [ref.account_id],
                "spamVerdict": {"status": "PASS"},
                "virusVerdict": {"status": "PASS"},
                "spfVerdict": {"status": "PASS"},
                "dkimVerdict": {"status": verdict},
                "dmarcVerdict": {"status": verdict},
                "action": {"type": "SNS", "topicArn": aws_sns.topic_arn(Channel.EMAIL), "encoding": "UTF8"},
            },
            "content": mime.as_string(),
        }
        sns = aws_sns.http_notification(aws_sns.topic_arn(Channel.EMAIL), json.dumps(notification), play.at)
        users = sim.platform_users(Channel.EMAIL, ref.account_id)
        users.last_message[_address(sender)] = play.at
        return PlayedEvent(
            aws_sns.body(sns),
            aws_sns.played_headers(sns),
            {},
            notification,
            url=aws_sns.bridge_url(sim.webhook_url) if sim.webhook_url else None,
        )


PLATFORM = EmailSim()
