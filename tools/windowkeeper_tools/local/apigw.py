"""API Gateway HTTP API (payload format 2.0) translation, both ways, as AWS does it.

Request side: lower-cased headers with repeated values joined by commas, cookies moved out of the
headers, query values URL-decoded and joined by commas, ``isBase64Encoded`` for binary bodies.
Response side: a dict with ``statusCode`` is used as given; any other return value is taken as a
JSON body with status 200 (the format-2.0 "inferred" response).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_API_ID = "local"
LOCAL_STAGE = "$default"

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES = ("+json", "+xml", "x-www-form-urlencoded")


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as received, before translation."""

    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # in arrival order, original case, repeats kept
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    host: str = "localhost"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(_TEXT_TYPES) or media.endswith(_TEXT_SUFFIXES)


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    return merged


def request_time(instant: datetime) -> str:
    """API Gateway's ``requestContext.time`` format, e.g. ``12/Mar/2020:19:03:58 +0000``."""
    return instant.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def http_api_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: dict[str, str] | None,
    claims: dict[str, str] | None,
    request_id: str | None = None,
    received_at: datetime | None = None,
) -> dict[str, Any]:
    """The event API Gateway would give the Lambda for ``request`` on ``route_key``."""
    received = received_at or datetime.now(UTC)
    lowered = [(name.lower(), value) for name, value in request.headers]
    cookies = [
        c.strip() for name, value in lowered if name == "cookie" for c in value.split(";") if c.strip()
    ]
    headers = _joined((n, v) for n, v in lowered if n != "cookie")
    query = _joined(parse_qsl(request.raw_query, keep_blank_values=True))
    user_agent = headers.get("user-agent", "")
    host = headers.get("host", request.host)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "domainName": host.split(":", 1)[0],
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "http": {
                "method": request.method.upper(),
                "path": request.raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id or uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": LOCAL_STAGE,
            "time": request_time(received),
            "timeEpoch": int(received.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if claims is not None:
        scopes = claims.get("scope")
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": claims, "scopes": scopes.split() if scopes else None}
        }
    if request.body:
        if _is_text(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def lambda_result_to_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a function's return value (format 2.0)."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in values)
        headers.extend(("Set-Cookie", str(c)) for c in result.get("cookies") or [])
        raw_body = result.get("body")
        if raw_body is None:
            body = b""
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(str(raw_body))
        else:
            body = str(raw_body).encode("utf-8")
        if body and not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return HttpResponse(int(result["statusCode"]), headers, body)
    if isinstance(result, str):
        return HttpResponse(200, [("Content-Type", "application/json")], result.encode("utf-8"))
    return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode("utf-8"))


def gateway_error(status: int, message: str) -> HttpResponse:
    """API Gateway's own error body (``{"message": "Unauthorized"}``, ``Not Found``...)."""
    return HttpResponse(
        status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode("utf-8")
    )


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object that handlers and powertools read."""

    function_name: str
    memory_limit_in_mb: int = 128
    timeout_seconds: float = 3.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = "eu-west-1"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
