"""The shared moto fixture: every integration test gets a fresh AWS built from infra/template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from tests.support.clock import freeze
from windowkeeper import aws as wk_aws
from windowkeeper import secrets
from windowkeeper_tools.aws_resources import Resources, create_all

APP_SECRET = "integration-app-secret-0123456789abcdef"
# The instant the process clock stops at for a test module that names no NOW of its own.
SUITE_NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """Stop the process clock at the test module's ``NOW`` (or the suite's).

    The handlers' clocks are pinned to the same instants by the stacks; freezing the process as
    well means a wall-clock read that slipped in below the edge answers this exact instant, so
    assertions on exact instants catch it, and the suite gives the same answers on any date.
    """
    now = getattr(request.module, "NOW", SUITE_NOW)
    with freeze(now):
        yield now


VERIFY_TOKEN = "integration-verify-token"


@pytest.fixture
def app_secret() -> str:
    """The Meta app secret stored in the webhook secret: sign test webhook bodies with it."""
    return APP_SECRET


@pytest.fixture
def verify_token() -> str:
    """The verify token stored in the webhook secret (the GET /webhook handshake)."""
    return VERIFY_TOKEN


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, app_secret: str, verify_token: str) -> Iterator[Resources]:
    """Tables, bus, bucket, secret, schedule group and queues from the template, under moto.

    The env var contract is exported so handlers find them; cached clients and secrets are
    dropped before and after so nothing leaks between tests.
    """
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        resources = create_all(app_secret=app_secret, verify_token=verify_token)
        for name, value in resources.environment().items():
            monkeypatch.setenv(name, value)
        wk_aws.reset_clients()
        secrets.clear_cache()
        try:
            yield resources
        finally:
            wk_aws.reset_clients()
            secrets.clear_cache()
