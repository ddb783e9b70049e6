"""Retries: Graph 5xx errors, throttling and failures to connect are retried with full-jitter back-off;
4xx never. (What may have reached Meta is not retried: ``test_time_budget_and_ambiguity.py``.)
"""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.unit.graph.conftest import (
    MESSENGER_PAGE,
    PSID,
    WA_ID,
    WHATSAPP_NUMBER,
    contact,
    decision,
    graph_error,
    ok_messenger,
)
from windowkeeper.graph import DeliveryResult, GraphClient
from windowkeeper.policy.model import Channel, Content, ContentKind, Path

HELLO = Content(kind=ContentKind.TEXT, text="We found your booking.")


def send_messenger(client: GraphClient) -> DeliveryResult:
    return client.send(
        MESSENGER_PAGE,
        contact(Channel.MESSENGER, PSID),
        decision(Path.FREE_FORM, messaging_type="RESPONSE"),
        HELLO,
    )


def send_whatsapp(client: GraphClient) -> DeliveryResult:
    return client.send(
        WHATSAPP_NUMBER, contact(Channel.WHATSAPP, WA_ID), decision(Path.FREE_FORM, type="text"), HELLO
    )


def test_server_errors_are_retried_with_exponential_full_jitter_backoff(make_client, sleeps):
    server_error = httpx.Response(
        500, json={"error": {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True}}
    )
    client, recorder = make_client([server_error, server_error, server_error, ok_messenger()])
    result = send_messenger(client)
    assert result.ok and result.attempts == 4
    assert len(recorder.requests) == 4
    # random() is pinned at 0.5: half of 0.5, 1, 2 seconds.
    assert sleeps == [0.25, 0.5, 1.0]


def test_backoff_is_capped(make_client, sleeps):
    unavailable = graph_error(2, status=503, message="(#2) Service temporarily unavailable")
    client, _ = make_client([unavailable] * 6, max_attempts=6, backoff_cap=1.5, random=lambda: 1.0)
    result = send_messenger(client)
    assert sleeps == [0.5, 1.0, 1.5, 1.5, 1.5]
    assert not result.ok and result.transient and result.attempts == 6


def test_gives_up_after_max_attempts_and_says_the_failure_was_transient(make_client, sleeps):
    unavailable = graph_error(2, status=503, message="(#2) Service temporarily unavailable")
    client, recorder = make_client([unavailable] * 4)
    result = send_messenger(client)
    assert len(recorder.requests) == 4 and len(sleeps) == 3
    assert not result.ok and result.transient and result.known_error and not result.delivery_unknown
    assert result.reason is None and result.http_status == 503


@pytest.mark.parametrize(
    ("send", "answer"),
    [
        (send_messenger, graph_error(4, message="(#4) Application request limit reached")),
        (send_messenger, graph_error(613, message="(#613) Calls to this api have exceeded the rate limit.")),
        (
            send_messenger,
            graph_error(613, 2534040, message="(#613) Calls to this api have exceeded the rate limit."),
        ),
        (send_whatsapp, graph_error(130429, message="(#130429) Rate limit hit")),
        (
            send_whatsapp,
            graph_error(131056, message="(#131056) (Business Account, Consumer Account) pair rate limit hit"),
        ),
        (send_whatsapp, graph_error(131057, message="(#131057) Account in maintenance mode")),
        (send_whatsapp, graph_error(80007, message="(#80007) Rate limit issues")),
        (send_messenger, httpx.Response(429)),
    ],
    ids=["4", "613", "613/2534040", "130429", "131056", "131057", "80007", "http-429"],
)
def test_throttling_is_retried(make_client, sleeps, send, answer):
    success = (
        ok_messenger()
        if send is send_messenger
        else httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]})
    )
    client, _recorder = make_client([answer, success])
    result = send(client)
    assert result.ok and result.attempts == 2 and len(sleeps) == 1


def test_retry_after_header_is_honoured(make_client, sleeps):
    client, _ = make_client([httpx.Response(429, headers={"Retry-After": "3"}), ok_messenger()])
    assert send_messenger(client).ok
    assert sleeps == [3.0]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.PoolTimeout("no free connection"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_network_failures_are_retried(make_client, sleeps, failure):
    client, recorder = make_client([failure, ok_messenger()])
    result = send_messenger(client)
    assert result.ok and result.attempts == 2 and len(recorder.requests) == 2


def test_ambiguous_failures_are_final_for_sends(make_client, sleeps):
    client, _ = make_client([httpx.ReadTimeout("read timed out"), ok_messenger()])
    result = send_messenger(client)
    assert not result.ok and not result.transient and result.attempts == 1
    assert result.error is not None and result.error.type == "ReadTimeout" and result.error.code is None
    # A connect error never reached Meta, so it is retried even then.
    client, _recorder = make_client([httpx.ConnectError("refused"), ok_messenger()])
    assert send_messenger(client).ok


def test_network_failure_after_all_attempts_is_reported_not_raised(make_client, sleeps):
    client, _ = make_client([httpx.ConnectError("refused")] * 4)
    result = send_messenger(client)
    assert not result.ok and result.transient and result.http_status is None and result.attempts == 4


@pytest.mark.parametrize(
    "answer",
    [
        graph_error(10, 2018278, message="(#10) This message is sent outside of allowed window."),
        graph_error(100, message="(#100) Invalid parameter"),
        graph_error(190, status=401, message="Invalid OAuth access token."),
        graph_error(551, 1545041, message="This person isn't available right now."),
        graph_error(613, 2018338, message="(#613) tag overuse"),
    ],
    ids=["window", "invalid-parameter", "token", "unavailable", "tag-overuse"],
)
def test_client_errors_are_never_retried(make_client, sleeps, answer):
    client, recorder = make_client([answer, ok_messenger()])
    result = send_messenger(client)
    assert not result.ok and result.attempts == 1 and len(recorder.requests) == 1 and sleeps == []


def test_the_time_budget_stops_retrying_before_the_caller_times_out(make_client, sleeps):
    ticks = itertools.chain([0.0, 0.0], itertools.repeat(24.9))
    unavailable = graph_error(2, status=500, message="(#2) Service temporarily unavailable")
    client, recorder = make_client([unavailable] * 4, deadline_seconds=25.0, monotonic=lambda: next(ticks))
    result = send_messenger(client)
    assert len(recorder.requests) == 1 and sleeps == []
    assert not result.ok and result.transient


def test_the_token_is_asked_for_once_per_send_and_never_appears_in_the_url(sleeps):
    asked: list[str] = []

    def provider(account):
        asked.append(account.account_id)
        return "EAAG-secret"

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return graph_error(2, status=500) if len(seen) == 1 else ok_messenger()

    client = GraphClient(
        "https://graph.example.test",
        "v25.0",
        provider,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
    )
    assert send_messenger(client).ok
    assert asked == [MESSENGER_PAGE.account_id]
    assert all(
        "EAAG-secret" not in str(r.url) and r.headers["authorization"] == "Bearer EAAG-secret" for r in seen
    )
