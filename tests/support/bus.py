"""What was published: a record of ``publish()`` calls, and a capture of what the bus delivered."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tests.support.event_schemas import assert_conforms
from windowkeeper import aws as wk_aws
from windowkeeper import bus
from windowkeeper.events import BusEvent


def recording_publish(into: list[BusEvent]) -> Callable[[Sequence[BusEvent]], int]:
    """A ``publish`` that records each event, then makes the real call against moto's bus.

    Each event's detail is checked against its schema in docs/events first.
    """

    def publish(bus_events: Sequence[BusEvent]) -> int:
        for event in bus_events:
            assert_conforms(event.detail_type, json.loads(event.entry("-")["Detail"]))
        into.extend(bus_events)
        return bus.publish(bus_events)

    return publish


@dataclass(frozen=True)
class BusCapture:
    """An SQS queue behind a rule matching every Windowkeeper event on the bus.

    Reading it proves the event reached the bus with the right source, detail-type and detail,
    which a recorded ``publish`` call cannot. Each detail is checked against its schema in docs/events.
    """

    queue_url: str

    def drain(self) -> list[dict[str, Any]]:
        """Every event delivered since the last drain, in the EventBridge envelope, each checked."""
        received = self.queue_messages()
        for envelope in received:
            assert_conforms(envelope["detail-type"], envelope["detail"])
        return received

    def queue_messages(self) -> list[dict[str, Any]]:
        """Every event delivered since the last drain, unchecked."""
        sqs = wk_aws.client("sqs")
        received: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def capture_bus(bus_name: str, queue_name: str = "test-bus-capture") -> BusCapture:
    """Route every ``source: windowkeeper`` event on ``bus_name`` to a new queue."""
    sqs = wk_aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"{queue_name}-rule"
    client = wk_aws.client("events")
    client.put_rule(Name=rule, EventBusName=bus_name, EventPattern=json.dumps({"source": ["windowkeeper"]}))
    client.put_targets(Rule=rule, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return BusCapture(queue_url)
