"""The local stack, started once per test session on ephemeral ports, and tokens to call it with.

Once per session, not per module: the handlers run in this process and, like warm Lambda
containers, keep clients and settings from their first use (see ``LocalStack.start``).

The process clock starts at ``E2E_NOW`` and ticks (the scheduler loop and the waits need time to
pass): the suite plays the same calendar whatever day it runs on, and the browser's clock is set
from it too (``test_console_browser``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.e2e.helpers import E2E_APP_SECRET, E2E_VERIFY_TOKEN
from windowkeeper_tools.local.settings import LocalSettings
from windowkeeper_tools.local.stack import LocalStack
from windowkeeper_tools.local.tokens import development_claims, mint

E2E_NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def e2e_clock() -> Iterator[datetime]:
    """The process clock from ``E2E_NOW`` on, ticking."""
    with time_machine.travel(E2E_NOW, tick=True):
        yield E2E_NOW


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, e2e_clock: datetime) -> Iterator[LocalStack]:
    settings = replace(
        LocalSettings.from_env({}),
        port=0,
        app_secret=E2E_APP_SECRET,
        verify_token=E2E_VERIFY_TOKEN,
        state_dir=Path(tmp_path_factory.mktemp("local-state")),
        scheduler_interval_seconds=0.5,
    )
    with LocalStack(settings) as running:
        yield running


@pytest.fixture(scope="session")
def agent_token(stack: LocalStack) -> str:
    assert stack.keys is not None
    return mint(stack.keys, development_claims(subject="agent-1", tenant_id="acme", human=True))


@pytest.fixture(scope="session")
def bot_token(stack: LocalStack) -> str:
    assert stack.keys is not None
    return mint(
        stack.keys, development_claims(subject="bot-1", tenant_id="acme", human=False, automation_kind="bot")
    )


@pytest.fixture(scope="session")
def other_tenant_token(stack: LocalStack) -> str:
    assert stack.keys is not None
    return mint(stack.keys, development_claims(subject="agent-9", tenant_id="globex", human=True))
