"""Shared fixtures. moto is imported first so that no boto3 client is ever created unmocked."""

from __future__ import annotations

import os

# Fake credentials and a fixed region before anything imports boto3: a test that escapes moto
# fails on a bad signature instead of reaching a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "windowkeeper-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "WindowkeeperTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from datetime import UTC, datetime

import moto  # noqa: F401  (must precede every handler import)
import pytest
import time_machine

from tests.support.clock import CLOCK_ENV, start_session_clock

_TRAVELLER = pytest.StashKey[time_machine.travel]()


def pytest_configure(config: pytest.Config) -> None:
    """Move the whole process to another date when ``WINDOWKEEPER_TEST_CLOCK`` says so (each
    xdist worker runs this too). The real date is read here, the one place the tests read it."""
    traveller = start_session_clock(datetime.now(UTC))
    if traveller is not None:
        config.stash[_TRAVELLER] = traveller


def pytest_report_header(config: pytest.Config) -> str | None:
    if _TRAVELLER in config.stash:
        return f"process clock moved by {CLOCK_ENV}: now {datetime.now(UTC).isoformat()}"
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()
