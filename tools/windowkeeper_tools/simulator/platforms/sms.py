"""SMS, played: SNS ``Publish`` to a phone number, and a customer's two-way text (via SNS).

API (the local stack points ``SMS_API_BASE_URL`` at ``/sms`` here; botocore speaks SNS's query
protocol): ``POST /sms/`` with ``Action=Publish``, ``PhoneNumber``, ``Message`` and the message
attributes ``AWS.SNS.SMS.SMSType`` and ``AWS.MM.SMS.OriginationNumber``. Answers as SNS does, in
XML: ``PublishResponse`` with a ``MessageId``, or an ``ErrorResponse``: ``InvalidParameter``
(a number not in E.164, an origination number that is not one of ours, an empty message),
``OptedOut`` (the number texted STOP to this origination number and has not texted START since:
End User Messaging's opt-out list); a fault gives ``Throttling`` or a 500 ``InternalError``.

Plays (``/_sim/customer`` ``kind``): ``message`` (default), ``stop``, ``start``, ``help``. Each is
End User Messaging SMS's two-way payload, published on the SMS topic and posted as SNS's HTTP
delivery to the local stack's SNS bridge (``aws_sns.py``).
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
from windowkeeper_tools.simulator.platforms import ApiCall, Play, PlayedEvent, aws_sns
from windowkeeper_tools.simulator.simulator import Simulator

_ids = itertools.count(1)
KEYWORD_TEXT = {"stop": "STOP", "start": "START", "help": "HELP"}
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})


def _xml(status: int, text: str) -> SimResponse:
    return SimResponse(status, None, text=text, content_type="text/xml")


def _error(code: str, message: str, status: int = 400) -> SimResponse:
    return _xml(*aws_sns.query_error(status, code, message, sender=status < 500))


def _attributes(form: dict[str, Any]) -> dict[str, str]:
    """``MessageAttributes.entry.N.Name`` / ``.Value.StringValue`` as a dict."""
    out: dict[str, str] = {}
    for index in itertools.count(1):
        name = form.get(f"MessageAttributes.entry.{index}.Name")
        if name is None:
            return out
        out[str(name)] = str(form.get(f"MessageAttributes.entry.{index}.Value.StringValue", ""))
    return out


def _e164(number: str) -> bool:
    return number.startswith("+") and number[1:].isdigit() and 7 <= len(number) <= 16


class SmsSim:
    channel = Channel.SMS

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse:
        form = call.body if isinstance(call.body, dict) else {}
        if call.method != "POST" or form.get("Action") != "Publish":
            return _error("InvalidAction", f"The action {form.get('Action')} is not valid for this endpoint.")
        phone = str(form.get("PhoneNumber") or "")
        message = form.get("Message")
        message = message if isinstance(message, str) else json.dumps(message)
        attributes = _attributes(form)
        origin = attributes.get("AWS.MM.SMS.OriginationNumber", "")
        if not _e164(phone):
            return _error(
                "InvalidParameter", "Invalid parameter: PhoneNumber Reason: input incorrectly formatted"
            )
        if not message.strip():
            return _error("InvalidParameter", "Invalid parameter: Empty message")
        if origin not in {r.account_id for r in sim.registered_accounts(Channel.SMS)}:
            return _error(
                "InvalidParameter",
                "Invalid parameter: OriginationNumber Reason: not an origination identity of the account",
            )
        users = sim.platform_users(Channel.SMS, origin)
        if phone in users.blocked and not users.reachable(phone):
            return _error("OptedOut", "Phone number is opted out")
        users.sent.setdefault(phone, []).append(sim.now())
        message_id = str(uuid.uuid4())
        result = f"<PublishResult><MessageId>{escape(message_id)}</MessageId></PublishResult>"
        metadata = f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        return _xml(200, f'<PublishResponse xmlns="{aws_sns.SNS_XMLNS}">{result}{metadata}</PublishResponse>')

    def fault(self, fault: Fault) -> SimResponse:
        if fault.kind == "disconnect":
            return SimResponse(0, None, disconnect=True)
        if fault.kind == "throttle":
            return _error("Throttling", "Rate exceeded")
        if fault.kind == "error":
            return _error(fault.message or "InvalidParameter", "Invalid parameter", fault.status or 400)
        return _error("InternalError", fault.message or "Internal error", fault.status or 500)

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent:
        if play.kind not in ("message", *KEYWORD_TEXT):
            raise ValueError(f"unknown SMS action {play.kind!r}: message, stop, start, help")
        text = KEYWORD_TEXT.get(play.kind) or play.text or "Hi"
        users = sim.platform_users(Channel.SMS, ref.account_id)
        users.last_message[play.contact_id] = play.at
        word = text.strip().upper()
        if word in OPT_OUT_WORDS:  # End User Messaging puts the number on the opt-out list
            users.blocked[play.contact_id] = play.at
        elif word in OPT_IN_WORDS:  # and takes it off again
            users.followed[play.contact_id] = play.at
        payload = {
            "originationNumber": play.contact_id,
            "destinationNumber": ref.account_id,
            "messageKeyword": (text.split() or [""])[0].upper(),
            "messageBody": text,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": None,
        }
        notification = aws_sns.http_notification(aws_sns.topic_arn(Channel.SMS), json.dumps(payload), play.at)
        return PlayedEvent(
            aws_sns.body(notification),
            aws_sns.played_headers(notification),
            {},
            payload,
            url=aws_sns.bridge_url(sim.webhook_url) if sim.webhook_url else None,
        )


PLATFORM = SmsSim()
