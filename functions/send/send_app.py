"""send Lambda: the HTTP API in front of every outbound message (and the contacts API's routes).

Thin by design: each route reads the principal from the JWT authorizer's claims, validates the
body with the pydantic models of ``windowkeeper.sending.api_models``, reads the clock (the only
place it is read), calls ``SendService`` and shapes the JSON answer. Rules live in the engine,
I/O in the stores and the Graph client.

``Idempotency-Key`` (optional header) goes through powertools idempotency on the idempotency
table, keyed on (principal subject, tenant, key): a retry returns the first answer, same status
and body, without a second call to Meta. Reusing a key with another body is 422; a retry while
the first is still running is 409. Only failures where the message *certainly* did not go (503
``graph_unavailable`` / ``graph_throttled``: Meta throttled us or could not be reached) are
forgotten, so a retry with the same key tries again. Every other answer is remembered: sent,
refused, Meta's definite error, and 502 ``{"status": "unknown", "reason": "delivery_unknown"}``
(the request reached Meta and no answer came back, so the message may have been delivered): a
retry with the same key replays that answer instead of sending the message a second time.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from contacts_routes import router

from windowkeeper import aws
from windowkeeper.auth import Principal
from windowkeeper.clock import Clock, system_clock
from windowkeeper.http import (
    ApiError,
    install_api_error_handlers,
    json_body,
    json_response,
    request_principal,
)
from windowkeeper.sending.api_models import CheckRequest, SendRequest
from windowkeeper.sending.service import GraphSender, SendOutcome, SendService
from windowkeeper.store.account_table import AccountStore

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()
install_api_error_handlers(
    app, logger, metrics, internal_message="Something went wrong on our side; the message was not sent."
)
app.include_router(router)

IDEMPOTENCY_HEADER = "idempotency-key"
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_EXPIRES_SECONDS = 24 * 3600  # clients (bots, job runners) retry within a day at most

_idempotency_config = IdempotencyConfig(
    event_key_jmespath="[subject, tenant_id, key]",
    payload_validation_jmespath="body_sha256",  # same key, other body → IdempotencyValidationError
    expires_after_seconds=IDEMPOTENCY_EXPIRES_SECONDS,
)
_service: SendService | None = None


# --- wiring, once per container ------------------------------------------------------------------
def _default_graph() -> GraphSender:
    from windowkeeper.graph.settings import client_from_env  # noqa: PLC0415  (httpx only when needed)

    return client_from_env()


def get_service() -> SendService:
    global _service  # noqa: PLW0603  (one service per container, built on first use)
    if _service is None:
        _service = SendService(
            table_name=os.environ["TABLE_NAME"],
            accounts=AccountStore(os.environ["TABLE_NAME"]),
            graph=_default_graph(),
            metrics=metrics,
        )
    return _service


def use_service(service: SendService | None) -> None:
    """Replace the container's service (tests and the local stack inject their Graph client)."""
    global _service  # noqa: PLW0603
    _service = service
    _idempotent_send.cache_clear()


# --- idempotency -----------------------------------------------------------------------------------
class _RetryableAnswerError(Exception):
    """Raised inside the idempotent function so powertools forgets the attempt (certainly not sent)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(answer.get("body", {}).get("reason"))
        self.answer = answer


def _send_answer(
    *,
    idempotency: dict[str, str],
    principal: Principal,
    request: SendRequest,
    now: datetime,
    ran: list[bool] | None = None,
) -> dict[str, Any]:
    """One send, shaped as ``{"status_code", "body"}`` (what the idempotency table remembers).

    ``ran`` (not part of the idempotency key) is marked when the send really runs: a replayed
    answer never gets here, which is how ``post_message`` tells a replay from a send.
    """
    del idempotency  # only the key material powertools hashes
    if ran is not None:
        ran.append(True)
    outcome = get_service().send(principal, request, now)
    answer = {"status_code": outcome.http_status, "body": outcome_body(outcome)}
    if outcome.retryable:
        raise _RetryableAnswerError(answer)
    return answer


@cache
def _idempotent_send() -> Any:
    persistence = DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE_NAME"], boto3_client=aws.client("dynamodb")
    )
    return idempotent_function(
        _send_answer,
        data_keyword_argument="idempotency",
        persistence_store=persistence,
        config=_idempotency_config,
    )


# --- response shapes ---------------------------------------------------------------------------------
def outcome_body(outcome: SendOutcome) -> dict[str, Any]:
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
        body["message"] = _FAILURE_MESSAGES.get(reason, _FAILURE_MESSAGES["graph_error"])
    return body


_FAILURE_MESSAGES = {
    "graph_error": "Meta answered with an error; the message was not sent.",
    "graph_unavailable": "Meta could not be reached or was temporarily unavailable; the message was not "
    "sent. Retry later.",
    "graph_throttled": "Meta is throttling this account; the message was not sent. Retry later.",
    "delivery_unknown": "The request reached Meta but no answer came back, so the message may or may "
    "not have been delivered. It was not retried, to avoid sending it twice: check the conversation "
    "before sending again. A retry with the same Idempotency-Key returns this answer.",
}


# --- routes ----------------------------------------------------------------------------------------
# The edge's clock: read once per request, and passed down as ``now`` (tests pin it).
utc_now: Clock = system_clock


@app.post("/v1/messages")
def post_message() -> Response[Any]:
    principal = request_principal(app.current_event)
    request = SendRequest.model_validate(json_body(app.current_event))
    now = utc_now()
    key = app.current_event.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        try:
            answer = _send_answer(idempotency={}, principal=principal, request=request, now=now)
        except _RetryableAnswerError as retryable:
            answer = retryable.answer
        return json_response(answer["status_code"], answer["body"])
    if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 characters.")
    idempotency = {
        "subject": principal.subject,
        "tenant_id": principal.tenant_id,
        "key": key,
        "body_sha256": hashlib.sha256(request.model_dump_json().encode()).hexdigest(),
    }
    ran: list[bool] = []
    try:
        answer = _idempotent_send()(
            idempotency=idempotency, principal=principal, request=request, now=now, ran=ran
        )
        if not ran:
            metrics.add_metric(name="IdempotentReplays", unit=MetricUnit.Count, value=1)
    except _RetryableAnswerError as retryable:
        answer = retryable.answer
    except IdempotencyValidationError as error:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body.",
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise ApiError(
            409, "request_in_progress", "A request with this Idempotency-Key is still being processed."
        ) from error
    return json_response(answer["status_code"], answer["body"])


@app.post("/v1/messages/check")
def post_check() -> Response[Any]:
    principal = request_principal(app.current_event)
    request = CheckRequest.model_validate(json_body(app.current_event))
    now = utc_now()
    decision = get_service().check(principal, request, at=request.at or now, now=now)
    metrics.add_metric(
        name="ChecksAllowed" if decision.allowed else "ChecksRefused", unit=MetricUnit.Count, value=1
    )
    return json_response(
        200, {"status": "allowed" if decision.allowed else "refused", "decision": decision.summary()}
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
