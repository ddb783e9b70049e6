"""``OnceOnly`` in memory: the first answer per (subject, tenant, key), unless not to be remembered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from windowkeeper import errors
from windowkeeper.ports.idempotency import Answer, IdempotencyKey


@dataclass
class InMemoryOnceOnly:
    answers: dict[tuple[str, str, str], tuple[str, Answer]] = field(default_factory=dict)
    running: set[tuple[str, str, str]] = field(default_factory=set)

    def run_once(self, key: IdempotencyKey, work: Callable[[], tuple[Answer, bool]]) -> tuple[Answer, bool]:
        slot = (key.subject, key.tenant_id, key.key)
        if slot in self.answers:
            digest, answer = self.answers[slot]
            if digest != key.request_sha256:
                raise errors.Unprocessable(
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used with a different request body.",
                )
            return answer, True
        if slot in self.running:
            raise errors.Conflict(
                "request_in_progress", "A request with this Idempotency-Key is still being processed."
            )
        self.running.add(slot)
        try:
            answer, remember = work()
        finally:
            self.running.discard(slot)
        if remember:
            self.answers[slot] = (key.request_sha256, answer)
        return answer, False
