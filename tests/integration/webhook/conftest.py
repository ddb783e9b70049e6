"""The webhook function on moto, driven through API Gateway HTTP API v2 events.

Published events are read back from an SQS queue that a test rule routes the bus to; metrics are
read from the EMF lines powertools prints; the handler's clock is pinned to ``NOW``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import webhook_app
from tests.support.bus import BusCapture, capture_bus
from tests.support.events import LambdaContext, http_api_event
from tests.unit.ingest.meta_fixtures import ALL_ACCOUNTS
from windowkeeper import aws as wk_aws
from windowkeeper.ingest.signature import sign
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import STATE_SK
from windowkeeper.wiring import webhook as webhook_wiring
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # an hour after the fixtures' events


CONTEXT = LambdaContext("windowkeeper-webhook")


def http_event(
    method: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """A request from Meta's servers to ``/webhook``, as the Lambda receives it."""
    return http_api_event(
        method,
        "/webhook",
        received_at=NOW,
        raw_body=body,
        headers=headers,
        query=query,
        base64_encoded=base64_encoded,
        source_ip="173.252.127.1",
        user_agent="facebookexternalua",
    )


@dataclass
class WebhookStack:
    resources: Resources
    app_secret: str
    verify_token: str
    bus: BusCapture
    capsys: pytest.CaptureFixture[str]

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        self.capsys.readouterr()  # metrics of this call only
        response: dict[str, Any] = webhook_app.handler(event, CONTEXT)
        return response

    def post(
        self, body: bytes, *, signature: str | None = "sign", base64_encoded: bool = False
    ) -> dict[str, Any]:
        headers = {}
        if signature == "sign":
            headers["x-hub-signature-256"] = sign(body, self.app_secret)
        elif signature is not None:
            headers["x-hub-signature-256"] = signature
        return self.call(http_event("POST", body=body, headers=headers, base64_encoded=base64_encoded))

    def contact(self, pk: str) -> dict[str, Any] | None:
        item = wk_aws.table(self.resources.table_name).get_item(Key={"pk": pk, "sk": STATE_SK}).get("Item")
        return plain(item) if item else None

    def messages(self, pk: str) -> list[dict[str, Any]]:
        table = wk_aws.table(self.resources.table_name)
        items = table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :msg)",
            ExpressionAttributeValues={":pk": pk, ":msg": "MSG#"},
        )["Items"]
        return [plain(i) for i in items]

    def published(self) -> list[dict[str, Any]]:
        """Every event the bus delivered to the test queue since the last call."""
        return self.bus.drain()

    def metrics(self) -> dict[str, float]:
        """The metric values in the EMF line the last call printed."""
        values: dict[str, float] = {}
        for line in self.capsys.readouterr().out.splitlines():
            if line.startswith("{") and '"_aws"' in line:
                record = json.loads(line)
                for definition in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                    value = record[definition["Name"]]
                    values[definition["Name"]] = sum(value) if isinstance(value, list) else value
        return values

    def quarantined(self) -> list[dict[str, Any]]:
        s3 = wk_aws.client("s3")
        listing = s3.list_objects_v2(Bucket=self.resources.quarantine_bucket, Prefix="quarantine/")
        out = []
        for entry in listing.get("Contents", []):
            obj = s3.get_object(Bucket=self.resources.quarantine_bucket, Key=entry["Key"])
            out.append({"key": entry["Key"], "body": obj["Body"].read(), "metadata": obj["Metadata"]})
        return out


@pytest.fixture
def stack(
    aws: Resources,
    app_secret: str,
    verify_token: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[WebhookStack]:
    webhook_wiring.reset_caches()
    AccountStore(aws.table_name).put_all(ALL_ACCOUNTS)
    bus = capture_bus(aws.bus_name, "webhook-test-events")
    monkeypatch.setattr(webhook_app, "utc_now", lambda: NOW)
    yield WebhookStack(aws, app_secret, verify_token, bus, capsys)
    webhook_wiring.reset_caches()
