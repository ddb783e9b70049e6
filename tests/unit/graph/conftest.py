"""Accounts, contacts and decisions as the send path hands them to the Graph client."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from windowkeeper.accounts import AccountConfig
from windowkeeper.graph import GraphClient
from windowkeeper.policy.model import (
    Channel,
    ContactState,
    Decision,
    Path,
    RuleRef,
    Template,
    TemplateCategory,
    TemplateStatus,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PAGE_TOKEN = "EAAG-page-token-not-a-real-one"

MESSENGER_PAGE = AccountConfig(
    channel=Channel.MESSENGER,
    account_id="104857600000001",
    tenant_id="acme",
    permissions=frozenset({"human_agent", "page_utility_messaging"}),
    access_token_secret_id="windowkeeper/acme/messenger",
)
INSTAGRAM_ACCOUNT = AccountConfig(
    channel=Channel.INSTAGRAM,
    account_id="17841400000000001",
    tenant_id="acme",
    permissions=frozenset({"human_agent"}),
    access_token_secret_id="windowkeeper/acme/instagram",
)
WHATSAPP_NUMBER = AccountConfig(
    channel=Channel.WHATSAPP,
    account_id="106540352242922",
    waba_id="102290129340398",
    tenant_id="acme",
    access_token_secret_id="windowkeeper/acme/whatsapp",
)

ORDER_SHIPPED = Template(
    name="order_shipped",
    language="en_US",
    category=TemplateCategory.UTILITY,
    status=TemplateStatus.APPROVED,
    parameters=("Ana", "A-1042"),
    body="Hi {{1}}, your order {{2}} has shipped.",
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
    return Decision(
        allowed=True,
        path=path,
        send_fields=send_fields,
        rule=RuleRef(rule_id=f"test.{path.value}", sources=("M1",), confidence="H", summary="test"),
        explanation="allowed for the test",
        decided_at=at,
        valid_until=None,
    )


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
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return httpx.Response(status, json={"error": error})


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
        options.setdefault("clock", lambda: NOW)
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
