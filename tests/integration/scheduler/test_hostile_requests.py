"""The scheduler's routes against bodies, ids and instants built to break them: a 400 with a reason
and a sentence, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

import scheduler_app
from tests.integration.scheduler.conftest import BOT, CONTEXT, NOW, SchedulerStack
from tests.integration.scheduler.test_followups import followup_body
from tests.integration.scheduler.test_reengagement import marketing_job
from tests.support.accounts import PAGE_ID, WA_PHONE_NUMBER_ID
from tests.support.events import http_api_event
from windowkeeper.policy.model import Channel

WA_CONTACT = "4915100000001"
POST_ROUTES = ["/v1/followups", "/v1/reengagements"]
EXTREME_INSTANTS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


def assert_clear_400(status: int, body: dict[str, Any], reason: str) -> None:
    assert (status, body["status"], body["reason"]) == (400, "error", reason), body
    assert body["message"].endswith(".") and len(body["message"]) > 20


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_body_that_is_not_utf8_is_400(stack: SchedulerStack, path: str) -> None:
    event = http_api_event(
        "POST", path, received_at=NOW, claims=BOT, raw_body=b'{"channel": "\xff\xfe"}', base64_encoded=True
    )
    response = scheduler_app.handler(event, CONTEXT)
    assert_clear_400(response["statusCode"], json.loads(response["body"]), "invalid_encoding")


@pytest.mark.parametrize("path", POST_ROUTES)
def test_json_nested_10000_deep_is_400(stack: SchedulerStack, path: str) -> None:
    event = http_api_event("POST", path, received_at=NOW, claims=BOT, raw_body="[" * 10_000 + "]" * 10_000)
    response = scheduler_app.handler(event, CONTEXT)
    assert_clear_400(response["statusCode"], json.loads(response["body"]), "json_too_deep")


@pytest.mark.parametrize("send_at", EXTREME_INSTANTS)
def test_an_extreme_send_at_is_400_with_a_reason(stack: SchedulerStack, send_at: str) -> None:
    body = followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_CONTACT, NOW + timedelta(hours=2))
    body["send_at"] = send_at
    status, answer = stack.call("POST", "/v1/followups", body)
    assert_clear_400(status, answer, "invalid_request")
    assert answer["problems"][0]["field"] == "send_at"


@pytest.mark.parametrize("run_at", EXTREME_INSTANTS)
def test_an_extreme_run_at_is_400_with_a_reason(stack: SchedulerStack, run_at: str) -> None:
    body = marketing_job(Channel.MESSENGER, PAGE_ID, contact_ids=["6523948100000001"])
    body["run_at"] = run_at
    status, answer = stack.call("POST", "/v1/reengagements", body)
    assert_clear_400(status, answer, "invalid_request")


def test_ids_of_the_wrong_length_or_shape_are_400(stack: SchedulerStack) -> None:
    body = followup_body(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4" * 3000, NOW + timedelta(hours=2))
    status, answer = stack.call("POST", "/v1/followups", body)
    assert_clear_400(status, answer, "invalid_request")

    job = marketing_job(Channel.MESSENGER, PAGE_ID, contact_ids=["ok-1", "not ok"])
    status, answer = stack.call("POST", "/v1/reengagements", job)
    assert_clear_400(status, answer, "invalid_request")

    long_id = "f" * 3000
    for method, path in [
        ("GET", f"/v1/followups/{long_id}"),
        ("DELETE", f"/v1/followups/{long_id}"),
        ("GET", f"/v1/reengagements/{long_id}"),
    ]:
        status, answer = stack.call(method, path)
        assert_clear_400(status, answer, "invalid_id")

    query = {"channel": "whatsapp", "account_id": WA_PHONE_NUMBER_ID, "contact_id": "9" * 3000}
    status, answer = stack.call("GET", "/v1/followups", query=query)
    assert_clear_400(status, answer, "invalid_id")

    status, answer = stack.call("GET", f"/v1/reengagements/{'a' * 32}", query={"after": "C#" + "x" * 3000})
    assert_clear_400(status, answer, "invalid_cursor")
