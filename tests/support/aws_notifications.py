"""Lambda SNS records as SNS delivers them, carrying End User Messaging SMS and SES notifications.

Shapes: the Lambda SNS event (``Records[].Sns``), End User Messaging SMS's two-way payload and SES
receiving's notification (``ingest/channels/sms.py``, ``mail.py`` cite the docs).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

REGION = "eu-west-1"
AWS_ACCOUNT = "123456789012"
SMS_TOPIC_ARN = f"arn:aws:sns:{REGION}:{AWS_ACCOUNT}:windowkeeper-sms-inbound"
EMAIL_TOPIC_ARN = f"arn:aws:sns:{REGION}:{AWS_ACCOUNT}:windowkeeper-email-inbound"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sns_record(topic_arn: str, message: str, *, at: datetime, message_id: str) -> dict[str, Any]:
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": None,
            "Message": message,
            "Timestamp": iso(at),
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N8=",
            "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
            "UnsubscribeUrl": f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:2bcfbf39",
            "MessageAttributes": {},
        },
    }


def two_way_sms(
    *,
    sender: str,
    number: str,
    text: str,
    message_id: str,
    at: datetime,
    keyword: str | None = None,
    topic_arn: str = SMS_TOPIC_ARN,
) -> dict[str, Any]:
    payload = {
        "originationNumber": sender,
        "destinationNumber": number,
        "messageKeyword": keyword if keyword is not None else (text.split() or [""])[0].upper(),
        "messageBody": text,
        "inboundMessageId": message_id,
        "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    return sns_record(topic_arn, json.dumps(payload), at=at, message_id=f"sns-{message_id}")


def mime(*, sender: str, to: str, subject: str, body: str, extra_headers: str = "") -> str:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        f"{extra_headers}\r\n{body}\r\n"
    )


def ses_received(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    body: str,
    message_id: str,
    at: datetime,
    verdicts: dict[str, str] | None = None,
    encoding: str = "UTF8",
    extra_headers: str = "",
    topic_arn: str = EMAIL_TOPIC_ARN,
) -> dict[str, Any]:
    """SES receiving's notification for one mail (SNS action), in a Lambda SNS record."""
    statuses = {"spf": "PASS", "dkim": "PASS", "dmarc": "PASS", "spam": "PASS", "virus": "PASS"}
    statuses.update(verdicts or {})
    to = ", ".join(recipients)
    content = mime(sender=sender, to=to, subject=subject, body=body, extra_headers=extra_headers)
    if encoding == "BASE64":
        content = base64.b64encode(content.encode()).decode()
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    notification = {
        "notificationType": "Received",
        "mail": {
            "timestamp": iso(at),
            "source": address,
            "messageId": message_id,
            "destination": recipients,
            "headersTruncated": False,
            "headers": [
                {"name": "From", "value": sender},
                {"name": "To", "value": ", ".join(recipients)},
                {"name": "Subject", "value": subject},
            ],
            "commonHeaders": {
                "returnPath": address,
                "from": [sender],
                "to": recipients,
                "messageId": f"<{message_id}@mail.example.com>",
                "subject": subject,
            },
        },
        "receipt": {
            "timestamp": iso(at),
            "processingTimeMillis": 574,
            "recipients": recipients,
            **{f"{name}Verdict": {"status": status} for name, status in statuses.items()},
            "action": {"type": "SNS", "topicArn": topic_arn, "encoding": encoding},
        },
        "content": content,
    }
    return sns_record(topic_arn, json.dumps(notification), at=at, message_id=f"sns-{message_id}")
