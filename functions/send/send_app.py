"""send Lambda: the HTTP API in front of every outbound message (and the contacts API's routes).

Thin by design: each route reads the principal from the JWT authorizer's claims, validates the
body with the pydantic models of ``windowkeeper.sending.api_models``, reads the clock (the only
place it is read), calls ``SendService`` and shapes the JSON answer. Rules live in the engine,
I/O in the stores and the Graph client.

``Idempotency-Key`` (optional header) is handled beside the send service
(``windowkeeper.sending.idempotent``): a retry returns the first answer without a second call to
Meta; reusing a key with another body is 422, a retry while the first still runs is 409.
The services and stores come from ``windowkeeper.wiring.send``, once per container.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from contacts_routes import router

from windowkeeper.clock import Clock, system_clock
from windowkeeper.http import install_api_error_handlers, json_body, json_response, request_principal
from windowkeeper.observability import logger, metrics
from windowkeeper.sending.api_models import CheckRequest, SendRequest
from windowkeeper.wiring import send as wiring

app = APIGatewayHttpResolver()
install_api_error_handlers(
    app, logger, metrics, internal_message="Something went wrong on our side; the message was not sent."
)
app.include_router(router)

IDEMPOTENCY_HEADER = "idempotency-key"


# --- routes ----------------------------------------------------------------------------------------
# The edge's clock: read once per request, and passed down as ``now`` (tests pin it).
utc_now: Clock = system_clock


@app.post("/v1/messages")
def post_message() -> Response[Any]:
    principal = request_principal(app.current_event)
    request = SendRequest.model_validate(json_body(app.current_event))
    now = utc_now()
    key = app.current_event.headers.get(IDEMPOTENCY_HEADER)
    answer = wiring.idempotent_sender().send(principal, request, now, key=key)
    if answer.replayed:
        metrics.add_metric(name="IdempotentReplays", unit=MetricUnit.Count, value=1)
    return json_response(answer.status_code, answer.body)


@app.post("/v1/messages/check")
def post_check() -> Response[Any]:
    principal = request_principal(app.current_event)
    request = CheckRequest.model_validate(json_body(app.current_event))
    now = utc_now()
    decision = wiring.send_service().check(principal, request, at=request.at or now, now=now)
    metrics.add_metric(
        name="ChecksAllowed" if decision.allowed else "ChecksRefused", unit=MetricUnit.Count, value=1
    )
    return json_response(
        200, {"status": "allowed" if decision.allowed else "refused", "decision": decision.summary()}
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wiring.idempotency().register_lambda_context(context)
    return app.resolve(event, context)
