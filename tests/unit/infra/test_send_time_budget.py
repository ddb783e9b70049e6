"""The send function's time budget: Lambda's timeout holds the Graph budget and the writes around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from cfnlint.decode import decode

from windowkeeper.graph.client import (
    ATTEMPT_TIMEOUT,
    GRAPH_BUDGET_SECONDS,
    RESERVED_AROUND_DELIVERY_SECONDS,
)

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "template.yaml"
API_GATEWAY_INTEGRATION_LIMIT_SECONDS = 30  # HTTP API's maximum integration timeout


def _send_function_timeout() -> int:
    template, problems = decode(str(TEMPLATE))
    assert not problems and template is not None
    properties: dict[str, Any] = template["Resources"]["SendFunction"]["Properties"]
    timeout: int = properties["Timeout"]
    return timeout


def test_the_send_function_answers_before_api_gateway_gives_up() -> None:
    assert _send_function_timeout() < API_GATEWAY_INTEGRATION_LIMIT_SECONDS


def test_the_graph_budget_leaves_room_for_the_writes_after_delivery() -> None:
    assert _send_function_timeout() - GRAPH_BUDGET_SECONDS >= RESERVED_AROUND_DELIVERY_SECONDS


def test_one_full_attempt_fits_in_the_graph_budget() -> None:
    phases = (ATTEMPT_TIMEOUT.connect, ATTEMPT_TIMEOUT.write, ATTEMPT_TIMEOUT.read, ATTEMPT_TIMEOUT.pool)
    assert all(isinstance(p, float) for p in phases)
    assert sum(p for p in phases if p is not None) <= GRAPH_BUDGET_SECONDS
    assert isinstance(ATTEMPT_TIMEOUT, httpx.Timeout)
