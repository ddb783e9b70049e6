"""Accounts, contacts and decisions as the send path hands them to the Graph client."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.accounts import GRAPH_INSTAGRAM, GRAPH_PAGE, GRAPH_WHATSAPP, template
from tests.support.decisions import allowed_decision
from tests.support.meta import graph_error_body
from windowkeeper.graph import GraphClient
from windowkeeper.policy.model import (
    Channel,
    ContactState,
    Decision,
    Path,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PAGE_TOKEN = "EAAG-page-token-not-a-real-one"

MESSENGER_PAGE = GRAPH_PAGE
INSTAGRAM_ACCOUNT = GRAPH_INSTAGRAM
WHATSAPP_NUMBER = GRAPH_WHATSAPP

ORDER_SHIPPED = template(
    "order_shipped", parameters=("Ana", "A-1042"), body="Hi {{1}}, your order {{2}} has shipped."
)


def contact(channel: Channel, contact_id: str) -> ContactState:
    account_id = {
        Channel.MESSENGER: MESSENGER_PAGE.account_id,
        Channel.INSTAGRAM: INSTAGRAM_ACCOUNT.account_id,
        Channel.WHATSAPP: WHATSAPP_NUMBER.account_id,
    }[channel]
    return ContactState(channel=channel, account_id=account_id, contact_id=contact_id)


PSID = "6754321098765432"
IGSID = "17849000000000042"
WA_ID = "34600111222"


def decision(path: Path, at: datetime = NOW, **send_fields: Any) -> Decision:
    return allowed_decision(path, at, **send_fields)


class Recorder:
    """An httpx MockTransport that answers from a script and keeps every request it saw."""

    def __init__(self, answers: list[httpx.Response | Exception] | None = None) -> None:
        self.answers = list(answers or [])
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else ok_messenger()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def body(self, index: int = -1) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.requests[index].content)
        return parsed


def ok_messenger(psid: str = PSID) -> httpx.Response:
    return httpx.Response(200, json={"recipient_id": psid, "message_id": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"})


def graph_error(
    code: int, subcode: int | None = None, status: int = 400, message: str = "error", **extra: Any
) -> httpx.Response:
    body = graph_error_body(code, subcode, message=message, fbtrace_id="AbCdEf", **extra)
    return httpx.Response(status, json=body)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Callable[..., tuple[GraphClient, Recorder]]:
    def build(
        answers: list[httpx.Response | Exception] | None = None, **options: Any
    ) -> tuple[GraphClient, Recorder]:
        recorder = Recorder(answers)
        options.setdefault("random", lambda: 0.5)
        client = GraphClient(
            "https://graph.example.test",
            "v25.0",
            lambda account: PAGE_TOKEN,
            transport=httpx.MockTransport(recorder),
            sleep=sleeps.append,
            **options,
        )
        return client, recorder

    return build
