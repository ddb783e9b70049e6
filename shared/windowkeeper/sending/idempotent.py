"""The send endpoint's answer to a send, once per ``Idempotency-Key``.

A retry with the same key returns the first answer, same status and body, without a second
call to Meta. Only failures where the message *certainly* did not go (503 ``graph_unavailable``
/ ``graph_throttled``) are forgotten, so a retry with the key tries again. Every other answer is
remembered: sent, refused, Meta's definite error, and 502 ``delivery_unknown`` (the request
reached Meta and no answer came back): a retry replays it instead of sending the message twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from windowkeeper import errors
from windowkeeper.auth import Principal
from windowkeeper.ports.idempotency import Answer, IdempotencyKey, OnceOnly
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import SendOutcome

IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_EXPIRES_SECONDS = 24 * 3600  # clients (bots, job runners) retry within a day at most

FAILURE_MESSAGES = {
    "graph_error": "Meta answered with an error; the message was not sent.",
    "graph_unavailable": "Meta could not be reached or was temporarily unavailable; the message was not "
    "sent. Retry later.",
    "graph_throttled": "Meta is throttling this account; the message was not sent. Retry later.",
    "delivery_unknown": "The request reached Meta but no answer came back, so the message may or may "
    "not have been delivered. It was not retried, to avoid sending it twice: check the conversation "
    "before sending again. A retry with the same Idempotency-Key returns this answer.",
}


class Sends(Protocol):
    def send(self, principal: Principal, request: SendRequest, now: datetime) -> SendOutcome: ...


def outcome_body(outcome: SendOutcome) -> dict[str, Any]:
    """The JSON body the send endpoint answers with for an outcome."""
    body: dict[str, Any] = {
        "status": outcome.status,
        "decision_id": outcome.decision_id,
        "decision": outcome.decision.summary(),
    }
    if outcome.status == "sent":
        body["platform_message_id"] = outcome.platform_message_id
    if outcome.graph_error is not None:
        body["graph_error"] = outcome.graph_error
    if outcome.status in ("failed", "unknown"):
        body["reason"] = outcome.failure_reason
        body["known"] = outcome.known_error
        reason = outcome.failure_reason or "graph_error"
        body["message"] = FAILURE_MESSAGES.get(reason, FAILURE_MESSAGES["graph_error"])
    return body


@dataclass(frozen=True)
class SendAnswer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False  # the first answer to this key, given again without sending


@dataclass
class IdempotentSender:
    sends: Sends
    once: OnceOnly

    def send(
        self, principal: Principal, request: SendRequest, now: datetime, *, key: str | None
    ) -> SendAnswer:
        if key is None:
            answer, _ = self._answer(principal, request, now)
            return SendAnswer(answer["status_code"], answer["body"])
        if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
            raise errors.InvalidInput(
                "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 characters."
            )
        idempotency_key = IdempotencyKey(
            subject=principal.subject,
            tenant_id=principal.tenant_id,
            key=key,
            request_sha256=hashlib.sha256(request.model_dump_json().encode()).hexdigest(),
        )
        answer, replayed = self.once.run_once(idempotency_key, lambda: self._answer(principal, request, now))
        return SendAnswer(answer["status_code"], answer["body"], replayed=replayed)

    def _answer(self, principal: Principal, request: SendRequest, now: datetime) -> tuple[Answer, bool]:
        outcome = self.sends.send(principal, request, now)
        answer: Answer = {"status_code": outcome.http_status, "body": outcome_body(outcome)}
        return answer, not outcome.retryable
