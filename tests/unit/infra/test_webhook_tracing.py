"""Tracing on the webhook (issue #3): the same EnableTracing switch as the other functions, and no
X-Ray SDK on the default cold start."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.unit.infra.conftest import REPO_ROOT
from windowkeeper import observability

PROBE = (
    "import sys, webhook_app; "
    "print('aws_xray_sdk' in sys.modules, webhook_app._traced_resolve is webhook_app._resolve)"
)


def _import_webhook_app(trace_disabled: str | None) -> tuple[bool, bool]:
    """(aws-xray-sdk loaded, handler left untraced) after importing webhook_app in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    if trace_disabled is not None:
        env["POWERTOOLS_TRACE_DISABLED"] = trace_disabled
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "functions" / "webhook"), str(REPO_ROOT / "shared")])
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    loaded, untraced = result.stdout.split()
    return loaded == "True", untraced == "True"


def test_webhook_tracing_follows_the_enable_tracing_parameter(cfn_template: dict[str, Any]) -> None:
    assert cfn_template["Parameters"]["EnableTracing"]["Default"] == "false"
    mode = cfn_template["Resources"]["WebhookFunction"]["Properties"]["TracingConfig"]["Mode"]
    assert mode == {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}
    environment = cfn_template["Resources"]["WebhookFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["TracingEnabled", "false", "true"]}


@pytest.mark.parametrize("trace_disabled", ["true", None])
def test_default_cold_start_loads_no_xray_sdk(trace_disabled: str | None) -> None:
    assert _import_webhook_app(trace_disabled) == (False, True)


def test_enabled_tracing_wraps_the_handler_in_a_tracer() -> None:
    assert _import_webhook_app("false") == (True, False)


@pytest.mark.parametrize(
    ("value", "enabled"), [("false", True), ("0", True), ("False ", True), ("true", False), ("1", False)]
)
def test_tracing_enabled_reads_the_powertools_switch(value: str, enabled: bool) -> None:
    assert observability.tracing_enabled({"POWERTOOLS_TRACE_DISABLED": value}) is enabled
    assert observability.tracing_enabled({}) is False
