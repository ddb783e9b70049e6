"""Racing sends on moto: one AWS call at a time, because moto's conditional writes are not atomic
under threads (what the race tests check is our protocol, not moto)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.client import BaseClient


@pytest.fixture
def serialised_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every botocore call under one lock, for the test's duration."""
    lock = threading.RLock()
    make_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # botocore's one entry point

    def locked(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        with lock:
            return make_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", locked)
