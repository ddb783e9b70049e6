"""``windowkeeper.http.json_body``: any body that is not JSON is a 400 in the error shape, never a 500."""

from __future__ import annotations

import base64

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from windowkeeper.http import ApiError, json_body


def event_with(raw: bytes) -> APIGatewayProxyEventV2:
    # Binary-looking bodies reach the function base64-encoded, as API Gateway sends them.
    return APIGatewayProxyEventV2({"body": base64.b64encode(raw).decode(), "isBase64Encoded": True})


def test_a_json_body_is_parsed() -> None:
    assert json_body(event_with(b'{"to": "human"}')) == {"to": "human"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"B\xd8\x86\xc5o\x12", "invalid_encoding", id="not-utf-8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "json_too_deep", id="nested-too-deep"),
        pytest.param(b"{not json", "invalid_json", id="malformed"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_saying_why(raw: bytes, reason: str) -> None:
    with pytest.raises(ApiError) as refused:
        json_body(event_with(raw))
    assert (refused.value.status, refused.value.reason) == (400, reason)
    assert refused.value.body()["message"].endswith(".")


def test_an_empty_body_is_400_invalid_request() -> None:
    with pytest.raises(ApiError) as refused:
        json_body(event_with(b""))
    assert (refused.value.status, refused.value.reason) == (400, "invalid_request")
