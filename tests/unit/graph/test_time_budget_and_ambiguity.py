"""The Graph client's time budget and its "sent or not" reading of failures.

The budget test plays Meta on a fake clock: every attempt uses up its whole timeout (connect +
write + read + pool, as httpx was told for that attempt) and ends in a retryable 503, so only
the client's arithmetic keeps the delivery inside the send function's time.
"""

from __future__ import annotations

import httpx
import pytest

from tests.unit.graph.conftest import MESSENGER_PAGE, PSID, contact, decision, ok_messenger
from windowkeeper.graph.client import GRAPH_BUDGET_SECONDS, MIN_ATTEMPT_SECONDS, GraphClient
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.policy.model import Channel, Content, ContentKind, Path

HELLO = Content(kind=ContentKind.TEXT, text="Your table for two is confirmed for 8 pm.")
TEMPORARILY_UNAVAILABLE = {
    "error": {"message": "(#2) Service temporarily unavailable", "code": 2, "is_transient": True}
}


class SlowMeta:
    """Each call takes its full timeout on the fake clock, then answers 503 with Graph code 2."""

    def __init__(self) -> None:
        self.now = 0.0
        self.attempts: list[tuple[float, float]] = []  # (started, ended) on the fake clock

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]
        started = self.now
        self.now += sum(timeout[phase] for phase in ("connect", "write", "read", "pool"))
        self.attempts.append((started, self.now))
        return httpx.Response(503, json=TEMPORARILY_UNAVAILABLE)


def send(client: GraphClient) -> DeliveryResult:
    return client.send(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(Path.FREE_FORM, messaging_type="RESPONSE"),
        HELLO,
    )


def graph_client(transport: httpx.MockTransport, **options: object) -> GraphClient:
    return GraphClient(
        "https://graph.example.test",
        "v25.0",
        lambda account: "EAAG-token",
        transport=transport,
        random=lambda: 0.5,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("max_attempts", [4, 10])
def test_no_attempt_runs_past_the_graph_budget(max_attempts: int) -> None:
    meta = SlowMeta()
    client = graph_client(
        httpx.MockTransport(meta), max_attempts=max_attempts, sleep=meta.sleep, monotonic=meta.monotonic
    )

    result = send(client)

    assert not result.ok and result.transient and not result.delivery_unknown
    assert len(meta.attempts) >= 2  # the budget still allows retrying fast-failing calls
    assert all(ended <= GRAPH_BUDGET_SECONDS + 1e-9 for _, ended in meta.attempts), meta.attempts
    assert meta.now <= GRAPH_BUDGET_SECONDS + 1e-9
    # The last attempt was given what was left, and no attempt started with too little left.
    assert all(GRAPH_BUDGET_SECONDS - started >= MIN_ATTEMPT_SECONDS for started, _ in meta.attempts)


def test_the_first_attempt_gets_the_full_per_attempt_timeout() -> None:
    meta = SlowMeta()
    client = graph_client(
        httpx.MockTransport(meta), max_attempts=1, sleep=meta.sleep, monotonic=meta.monotonic
    )
    send(client)
    [(started, ended)] = meta.attempts
    assert (started, ended) == (0.0, 17.0)  # connect 3 + write 3 + read 10 + pool 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_send_that_may_have_reached_meta_is_not_retried_and_says_unknown(failure: Exception) -> None:
    seen: list[httpx.Request] = []

    def meta(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise failure
        return ok_messenger()

    result = send(graph_client(httpx.MockTransport(meta), sleep=lambda _s: None))

    assert len(seen) == 1
    assert not result.ok and result.delivery_unknown and not result.transient
    assert result.error is not None and result.error.type == type(failure).__name__
    assert result.meaning is not None and "may have delivered" in result.meaning


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_bare_5xx_from_in_front_of_meta_is_unknown_not_retried(status: int) -> None:
    seen: list[httpx.Request] = []

    def meta(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text="<html>Bad Gateway</html>") if len(seen) == 1 else ok_messenger()

    result = send(graph_client(httpx.MockTransport(meta), sleep=lambda _s: None))

    assert len(seen) == 1
    assert not result.ok and result.delivery_unknown and not result.transient
    assert result.http_status == status


def test_graphs_temporary_error_envelope_is_not_sent_and_retried() -> None:
    answers = [httpx.Response(500, json=TEMPORARILY_UNAVAILABLE), ok_messenger()]
    result = send(graph_client(httpx.MockTransport(lambda _r: answers.pop(0)), sleep=lambda _s: None))
    assert result.ok and result.attempts == 2


def test_nothing_reached_meta_so_it_is_retried_and_reported_as_not_sent() -> None:
    def meta(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    result = send(graph_client(httpx.MockTransport(meta), sleep=lambda _s: None, max_attempts=3))

    assert result.attempts == 3
    assert not result.ok and result.transient and not result.delivery_unknown


def test_opting_in_to_retry_ambiguous_sends_still_reports_unknown_if_it_never_succeeds() -> None:
    failures: list[Exception] = [httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused")]

    def meta(_request: httpx.Request) -> httpx.Response:
        raise failures.pop(0)

    client = graph_client(
        httpx.MockTransport(meta), sleep=lambda _s: None, max_attempts=2, retry_ambiguous_sends=True
    )
    result = send(client)

    # The second failure alone says "not sent", but the first attempt may have delivered.
    assert result.attempts == 2
    assert not result.ok and result.delivery_unknown and not result.transient


def test_thread_control_is_retried_after_an_ambiguous_failure() -> None:
    answers: list[httpx.Response | Exception] = [
        httpx.ReadTimeout("read timed out"),
        httpx.Response(200, json={"success": True}),
    ]

    def meta(_request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = graph_client(httpx.MockTransport(meta), sleep=lambda _s: None)
    result = client.pass_thread_control(MESSENGER_PAGE, PSID, "263902037430900")
    assert result.ok and result.attempts == 2
