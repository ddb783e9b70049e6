"""What the SMS and e-mail platforms share locally: SNS, which carries their customers' messages.

AWS End User Messaging SMS and SES receiving publish a customer's text or mail to an SNS topic,
and SNS invokes the inbound Lambda function. Locally the simulator plays SNS's side: it builds the
notification as SNS's HTTP delivery posts it (``x-amz-sns-message-type: Notification``) and posts
it to the local stack's SNS bridge (``SNS_BRIDGE_PATH`` on the API's origin), which wraps it into
the Lambda SNS event and invokes the function in process, as Lambda would (moto cannot invoke a
Lambda from SNS without Docker).

Topics are named by ``topic_arn``: the local stack creates them in moto and gives the function
their ARNs, so the simulator publishes to the topic the function accepts.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from windowkeeper.policy.model import Channel

SNS_BRIDGE_PATH = "/_local/sns"
LOCAL_AWS_ACCOUNT = "123456789012"  # moto's default account
SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


def topic_arn(channel: Channel, region: str = "eu-west-1") -> str:
    """The local inbound topic of ``channel`` (``windowkeeper-sms-inbound``...)."""
    return f"arn:aws:sns:{region}:{LOCAL_AWS_ACCOUNT}:windowkeeper-{channel.value}-inbound"


def bridge_url(webhook_url: str) -> str:
    """The local stack's SNS bridge on the API the webhook URL belongs to."""
    parts = urlsplit(webhook_url)
    return f"{parts.scheme}://{parts.netloc}{SNS_BRIDGE_PATH}"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def http_notification(topic: str, message: str, at: datetime) -> dict[str, Any]:
    """A notification as SNS posts it to an HTTP(S) subscription."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": message,
        "Timestamp": iso(at),
        "SignatureVersion": "1",
        "Signature": "bG9jYWwgc2ltdWxhdG9yOiBubyBTTlMgc2lnbmF0dXJl",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-local.pem",
        "UnsubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:local",
    }


def lambda_record(notification: dict[str, Any]) -> dict[str, Any]:
    """The Lambda SNS event record SNS builds from the same notification."""
    topic = str(notification["TopicArn"])
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic}:local-subscription",
        "Sns": {
            "Type": notification["Type"],
            "MessageId": notification["MessageId"],
            "TopicArn": topic,
            "Subject": notification.get("Subject"),
            "Message": notification["Message"],
            "Timestamp": notification["Timestamp"],
            "SignatureVersion": notification.get("SignatureVersion", "1"),
            "Signature": notification.get("Signature", ""),
            "SigningCertUrl": notification.get("SigningCertURL"),
            "UnsubscribeUrl": notification.get("UnsubscribeURL"),
            "MessageAttributes": {},
        },
    }


def played_headers(notification: dict[str, Any]) -> dict[str, str]:
    return {
        "Content-Type": "text/plain; charset=UTF-8",  # as SNS sends it
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": str(notification["MessageId"]),
        "x-amz-sns-topic-arn": str(notification["TopicArn"]),
    }


def body(notification: dict[str, Any]) -> bytes:
    return json.dumps(notification).encode()


def query_error(status: int, code: str, message: str, *, sender: bool = True) -> tuple[int, str]:
    """An AWS query-protocol error document (SNS)."""
    kind = "Sender" if sender else "Receiver"
    return status, (
        f'<ErrorResponse xmlns="{SNS_XMLNS}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
