"""webhook Lambda: Meta's webhooks in (``GET /webhook`` handshake, ``POST /webhook`` events), and
the other platforms' (``GET|POST /webhook/{channel}/{account_id}``: Viber, Telegram, LINE, WeChat,
web chat), and ``POST /v1/events`` (JWT, automation): the same facts from a platform that hears a
channel itself.

Thin by design: it takes the exact body bytes from the API Gateway event (base64-decoded when
``isBase64Encoded``; never re-serialised, the signature covers these bytes), reads the clock (the
only place it is read) and calls ``windowkeeper.ingest.service``, then turns the outcome into an
HTTP answer and metrics. powertools' ``APIGatewayHttpResolver`` does the routing (404/405 and
the shared error shape come with it); the raw body is read from the event it already parsed.

Tracing follows the stack's ``EnableTracing`` parameter (``POWERTOOLS_TRACE_DISABLED``): only when
it is on is a powertools ``Tracer`` created, because creating one loads aws-xray-sdk (+250-350 ms
on every cold start of the hottest function) even when tracing is disabled.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from windowkeeper.auth import AuthError
from windowkeeper.clock import Clock, system_clock
from windowkeeper.http import ApiError, error_response, install_error_handlers, json_body, request_principal
from windowkeeper.ingest.channels.base import InboundRequest
from windowkeeper.ingest.service import Outcome
from windowkeeper.observability import logger, metrics, traced
from windowkeeper.wiring import webhook as webhook_wiring

app = APIGatewayHttpResolver()
install_error_handlers(app)

WEBHOOK_PATH = "/webhook"


# The edge's clock: read once per request, and passed down as ``now`` (tests pin it).
utc_now: Clock = system_clock


def _answer(outcome: Outcome) -> Response[Any]:
    for name, value in outcome.metrics.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return Response(status_code=outcome.status, content_type=outcome.content_type, body=outcome.body)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", "surrogatepass")  # the signature then decides on these bytes
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApiError(400, "body_not_base64", "The body is flagged base64 but is not.") from error


@app.get(WEBHOOK_PATH)
def subscribe() -> Response[Any]:
    params = app.current_event.query_string_parameters or {}
    return _answer(webhook_wiring.handle_subscription(params, webhook_wiring.WebhookSettings.from_env()))


@app.post(WEBHOOK_PATH)
def receive() -> Response[Any]:
    try:
        body = _raw_body()
    except ApiError as error:
        return error_response(error)
    outcome = webhook_wiring.handle_post(
        body,
        app.current_event.headers or {},
        webhook_wiring.WebhookSettings.from_env(),
        now=utc_now(),
        time_left=_time_left,
    )
    return _answer(outcome)


CHANNEL_PATH = "/webhook/<channel>/<account_id>"


@app.get(CHANNEL_PATH)
@app.post(CHANNEL_PATH)
def receive_channel(channel: str, account_id: str) -> Response[Any]:
    """Viber, Telegram, LINE, WeChat and web chat: the URL names the channel and the account."""
    try:
        body = _raw_body()
    except ApiError as error:
        return error_response(error)
    event = app.current_event
    request = InboundRequest(
        method=event.request_context.http.method.upper(),
        body=body,
        headers={k.lower(): v for k, v in (event.headers or {}).items()},
        query=dict(event.query_string_parameters or {}),
    )
    outcome = webhook_wiring.handle_channel(
        channel,
        account_id,
        request,
        webhook_wiring.WebhookSettings.from_env(),
        now=utc_now(),
        time_left=_time_left,
    )
    return _answer(outcome)


@app.get("/webhook/webchat/<account_id>/messages")
def read_webchat_messages(account_id: str) -> Response[Any]:
    """A site's chat widget reads its visitor's conversation (the visitor token says who)."""
    event = app.current_event
    request = InboundRequest(
        method="GET",
        body=b"",
        headers={k.lower(): v for k, v in (event.headers or {}).items()},
        query=dict(event.query_string_parameters or {}),
    )
    outcome = webhook_wiring.handle_webchat_messages(
        account_id, request, webhook_wiring.WebhookSettings.from_env(), now=utc_now()
    )
    return _answer(outcome)


EVENTS_PATH = "/v1/events"


@app.post(EVENTS_PATH)
def receive_customer_events() -> Response[Any]:
    """Customer actions and consent reported by a platform that hears a channel itself (JWT)."""
    event = app.current_event
    try:
        principal = request_principal(event)
    except AuthError as error:
        status = 401 if error.reason == "unauthenticated" else 403
        return error_response(ApiError(status, error.reason, error.message))
    outcome = webhook_wiring.handle_customer_events(
        json_body(event), principal, webhook_wiring.WebhookSettings.from_env(), now=utc_now()
    )
    return _answer(outcome)


def _time_left() -> float:
    """Seconds this invocation has left before the function's timeout (the body's work is bounded by it)."""
    remaining = getattr(app.lambda_context, "get_remaining_time_in_millis", None)
    return float("inf") if remaining is None else float(remaining()) / 1000  # no context: a direct call


def _resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


_traced_resolve = traced(_resolve)  # decided once per container, at import


@logger.inject_lambda_context(log_event=False)  # the event holds message text and phone numbers
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _traced_resolve(event, context)
