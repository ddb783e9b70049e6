"""What the send path tells operations: the metrics the template's alarms watch."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.integration.send.conftest import SendStack
from tests.support.accounts import PAGE_ID
from windowkeeper.policy.model import Channel

PSID = "7300000000000101"


def emitted(capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            for definition in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = record[definition["Name"]]
                values[definition["Name"]] = sum(value) if isinstance(value, list) else value
    return values


def test_an_expired_or_revoked_page_token_is_counted_for_its_alarm(
    stack: SendStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    stack.meta.answer_error(190, 463)  # "Error validating access token: Session has expired"
    capsys.readouterr()

    status, body = stack.send(
        {
            "channel": "messenger",
            "account_id": PAGE_ID,
            "contact_id": PSID,
            "content": {"type": "text", "text": "Your order shipped."},
        }
    )

    assert status >= 400 and body["graph_error"]["code"] == 190
    metrics = emitted(capsys)
    assert metrics["PageTokenInvalid"] == 1
    assert metrics["GraphErrors"] == 1
