"""Plain HTTP helpers for the end-to-end tests (stdlib only: the client must not share code with
the service under test)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

E2E_APP_SECRET = "e2e-app-secret-5f1d0c"
E2E_VERIFY_TOKEN = "e2e-verify-token"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def http(
    method: str, url: str, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None
) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
            reply_headers = dict(response.headers.items())
    except urllib.error.HTTPError as error:
        raw = error.read()
        status = error.code
        reply_headers = dict(error.headers.items())
    text = raw.decode("utf-8") if raw else ""
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Reply(status, parsed, reply_headers)
