"""IdempotentSender on an in-memory ``OnceOnly``: a retry never sends twice, a sure failure may."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from tests.support.decisions import allowed_decision
from tests.support.fakes.idempotency import InMemoryOnceOnly
from windowkeeper import errors
from windowkeeper.auth import AUTOMATION_GROUP, Principal
from windowkeeper.policy.model import AutomationKind, Path
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.idempotent import IdempotentSender
from windowkeeper.sending.service import SendOutcome

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BOT = Principal(
    subject="bot-orders",
    tenant_id="acme",
    groups=frozenset({AUTOMATION_GROUP}),
    automation_kind=AutomationKind.BOT,
)
REQUEST = SendRequest.model_validate(
    {
        "channel": "messenger",
        "account_id": "104812345678901",
        "contact_id": "psid-anna",
        "content": {"type": "text", "text": "Your parcel is at the pick-up point."},
    }
)


def outcome(status: Literal["sent", "failed", "unknown"], http_status: int, **fields: Any) -> SendOutcome:
    return SendOutcome(
        status=status,
        decision=allowed_decision(Path.FREE_FORM, NOW),
        decision_id="d-1",
        http_status=http_status,
        platform_message_id=fields.pop("platform_message_id", None),
        graph_error=None,
        **fields,
    )


class ScriptedSends:
    def __init__(self, *outcomes: SendOutcome) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def send(self, principal: Principal, request: SendRequest, now: datetime) -> SendOutcome:
        self.calls += 1
        return self.outcomes.pop(0)


def test_a_retry_with_the_key_replays_the_first_answer_without_sending() -> None:
    sends = ScriptedSends(outcome("sent", 200, platform_message_id="m_1"))
    sender = IdempotentSender(sends=sends, once=InMemoryOnceOnly())

    first = sender.send(BOT, REQUEST, NOW, key="order-1042")
    retry = sender.send(BOT, REQUEST, NOW, key="order-1042")

    assert (first.status_code, first.replayed) == (200, False)
    assert (retry.status_code, retry.body, retry.replayed) == (200, first.body, True)
    assert sends.calls == 1


def test_a_message_that_may_have_gone_is_never_sent_again() -> None:
    sends = ScriptedSends(outcome("unknown", 502, failure_reason="delivery_unknown"))
    sender = IdempotentSender(sends=sends, once=InMemoryOnceOnly())

    first = sender.send(BOT, REQUEST, NOW, key="order-1042")
    retry = sender.send(BOT, REQUEST, NOW, key="order-1042")

    assert first.body["reason"] == "delivery_unknown" and retry.replayed
    assert sends.calls == 1


def test_a_message_that_certainly_did_not_go_is_tried_again() -> None:
    sends = ScriptedSends(
        outcome("failed", 503, failure_reason="graph_throttled", retryable=True),
        outcome("sent", 200, platform_message_id="m_2"),
    )
    sender = IdempotentSender(sends=sends, once=InMemoryOnceOnly())

    first = sender.send(BOT, REQUEST, NOW, key="order-1042")
    retry = sender.send(BOT, REQUEST, NOW, key="order-1042")

    assert (first.status_code, retry.status_code, retry.replayed) == (503, 200, False)
    assert sends.calls == 2


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_outside_1_to_255_characters_is_refused(key: str) -> None:
    sender = IdempotentSender(sends=ScriptedSends(), once=InMemoryOnceOnly())

    with pytest.raises(errors.InvalidInput) as refused:
        sender.send(BOT, REQUEST, NOW, key=key)

    assert refused.value.reason == "invalid_idempotency_key"
