"""What Lambda receives: API Gateway HTTP API (payload format 2.0) events, JWT authorizer claims
and a context object.

Built independently of ``windowkeeper_tools.local.apigw`` on purpose: handler tests should not
pass only because the local gateway translates requests the same (wrong) way.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from windowkeeper.instants import to_ms

ACCOUNT_ID = "123456789012"
API_ID = "a1b2c3d4e5"


def agent_claims(subject: str, tenant_id: str, **extra: str) -> dict[str, str]:
    """A console user's ID token claims, as the HTTP API JWT authorizer passes them on."""
    return {"sub": subject, "cognito:groups": "[agents]", "custom:tenant_id": tenant_id, **extra}


def automation_claims(subject: str, tenant_id: str, automation: str = "bot") -> dict[str, str]:
    """A machine client's claims (``custom:automation`` = bot | schedule | job)."""
    return {
        "sub": subject,
        "cognito:groups": "[automation]",
        "custom:tenant_id": tenant_id,
        "custom:automation": automation,
    }


def http_api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    received_at: datetime,
    claims: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: bytes | str | None = None,
    base64_encoded: bool = False,
    source_ip: str = "203.0.113.9",
    user_agent: str = "pytest",
) -> dict[str, Any]:
    """The event API Gateway hands the function for one request.

    ``body`` is sent as JSON; ``raw_body`` is sent as given (bytes are base64-encoded when
    ``base64_encoded``, as API Gateway does for binary bodies). Claims, when given, sit where the
    JWT authorizer puts them.
    """
    if raw_body is None:
        text = json.dumps(body) if body is not None else None
    elif isinstance(raw_body, bytes):
        text = base64.b64encode(raw_body).decode() if base64_encoded else raw_body.decode("utf-8")
    else:
        text = raw_body
    route_key = f"{method} {path}"
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": f"{API_ID}.execute-api.eu-west-1.amazonaws.com",
        "domainPrefix": API_ID,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": user_agent,
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": route_key,
        "stage": "$default",
        "time": received_at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": to_ms(received_at),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "user-agent": user_agent, **(headers or {})},
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": base64_encoded,
    }
    if query:
        event["queryStringParameters"] = query
    return event


@dataclass(frozen=True)
class LambdaContext:
    """The parts of the Lambda context that handlers and powertools read."""

    function_name: str
    remaining_millis: int = 25_000
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "2026/11/21/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis
