"""Doing a request once per idempotency key (``store.idempotency_table.PowertoolsIdempotency``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

Answer = dict[str, Any]
"""What is remembered for a key: JSON-ready, e.g. ``{"status_code": 200, "body": {...}}``."""


@dataclass(frozen=True)
class IdempotencyKey:
    """Whose key it is, the key, and a digest of the request it first came with."""

    subject: str
    tenant_id: str
    key: str
    request_sha256: str


class OnceOnly(Protocol):
    def run_once(self, key: IdempotencyKey, work: Callable[[], tuple[Answer, bool]]) -> tuple[Answer, bool]:
        """Run ``work`` the first time ``key`` is seen, and answer what it answered then.

        ``work`` answers ``(answer, remember)``: an answer not remembered is forgotten, so the
        next request with the key runs again. Returns ``(answer, replayed)``. Raises
        ``errors.Unprocessable`` (``idempotency_key_reused``) for the key with another request,
        and ``errors.Conflict`` (``request_in_progress``) while the first is still running.
        """
        ...
