"""``OnceOnly``: powertools idempotency on the table and ``InMemoryOnceOnly`` answer alike."""

from __future__ import annotations

import pytest

from tests.support.fakes.idempotency import InMemoryOnceOnly
from windowkeeper import errors
from windowkeeper.ports.idempotency import Answer, IdempotencyKey, OnceOnly
from windowkeeper.store.idempotency_table import PowertoolsIdempotency
from windowkeeper_tools.aws_resources import Resources

KEY = IdempotencyKey(
    subject="bot-orders", tenant_id="acme", key="order-1042-shipped", request_sha256="a" * 64
)
SENT: Answer = {"status_code": 200, "body": {"status": "sent", "platform_message_id": "m_1"}}
THROTTLED: Answer = {"status_code": 503, "body": {"status": "failed", "reason": "graph_throttled"}}


@pytest.fixture(params=["in_memory", "dynamodb"])
def once(request: pytest.FixtureRequest) -> OnceOnly:
    if request.param == "in_memory":
        return InMemoryOnceOnly()
    resources: Resources = request.getfixturevalue("aws")
    return PowertoolsIdempotency(resources.idempotency_table_name, expires_after_seconds=3600)


def test_the_first_answer_is_replayed_without_running_again(once: OnceOnly) -> None:
    runs: list[int] = []

    def work() -> tuple[Answer, bool]:
        runs.append(1)
        return SENT, True

    first = once.run_once(KEY, work)
    again = once.run_once(KEY, work)

    assert first == (SENT, False)
    assert again == (SENT, True)
    assert len(runs) == 1


def test_an_answer_not_remembered_runs_again(once: OnceOnly) -> None:
    answers = [(THROTTLED, False), (SENT, True)]

    first = once.run_once(KEY, lambda: answers.pop(0))
    second = once.run_once(KEY, lambda: answers.pop(0))

    assert first == (THROTTLED, False)
    assert second == (SENT, False)


def test_the_key_with_another_request_is_refused(once: OnceOnly) -> None:
    once.run_once(KEY, lambda: (SENT, True))
    other = IdempotencyKey(KEY.subject, KEY.tenant_id, KEY.key, request_sha256="b" * 64)

    with pytest.raises(errors.Unprocessable) as refused:
        once.run_once(other, lambda: (SENT, True))

    assert refused.value.reason == "idempotency_key_reused"


def test_keys_are_per_caller(once: OnceOnly) -> None:
    once.run_once(KEY, lambda: (SENT, True))
    someone_else = IdempotencyKey("bot-billing", KEY.tenant_id, KEY.key, KEY.request_sha256)

    answer, replayed = once.run_once(someone_else, lambda: (THROTTLED, True))

    assert (answer, replayed) == (THROTTLED, False)
