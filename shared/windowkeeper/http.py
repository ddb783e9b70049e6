"""The HTTP error shape every endpoint answers with, and the request plumbing the APIs share.

``{"status": "error", "reason": "<machine code>", "message": "<a sentence a person understands>"}``

``install_error_handlers`` suits any resolver; ``install_api_error_handlers`` adds what the
authenticated APIs (send, contacts, scheduler) answer alike: ``AuthError`` as 401/403 and any
unexpected exception as a logged 500.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from windowkeeper import errors
from windowkeeper.auth import AuthError, Principal, principal_from_event
from windowkeeper.jsontext import MAX_JSON_DEPTH, json_shape_problem, may_hold_lone_surrogate


class Problem(BaseModel):
    """One thing wrong with a request (``invalid_request`` only)."""

    field: str = Field(description="Dotted location of the value, e.g. `content.text`.")
    problem: str = Field(description="What is wrong with it.")


class ErrorBody(BaseModel):
    """Every error answer of the APIs: the OpenAPI document's error schema is this model's."""

    # Some errors add context (a handover refused by Meta carries ``graph_error``).
    model_config = ConfigDict(extra="allow")

    status: Literal["error"] = "error"
    reason: str = Field(min_length=1, description="Machine-readable code, e.g. `unknown_account`.")
    message: str = Field(min_length=1, description="A sentence a person understands.")
    problems: list[Problem] | None = Field(
        default=None, description="Every validation problem (`invalid_request` from a body only)."
    )


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body = ErrorBody(reason=self.reason, message=self.message, **self.extra)
        return body.model_dump(mode="json", exclude={"problems"})  # problems: validation errors only


STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 400,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unprocessable: 422,
    errors.UpstreamFailed: 502,
    errors.Unavailable: 503,
}
"""The one place a domain error becomes an HTTP status (the most specific kind wins)."""


def status_of(error: errors.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 500


def api_error_from(error: errors.DomainError) -> ApiError:
    """The HTTP answer of a domain error: its status, reason, sentence and context."""
    return ApiError(status_of(error), error.reason, error.message, **error.extra)


def json_response(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def error_response(error: ApiError) -> Response[Any]:
    return json_response(error.status, error.body())


def validation_error_response(error: ValidationError) -> Response[Any]:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
        for e in error.errors(include_url=False)
    ]
    first = problems[0] if problems else {"field": "body", "problem": "invalid"}
    body = ErrorBody(
        reason="invalid_request",
        message=f"The request is not valid: {first['field']}: {first['problem']}.",
        problems=[Problem.model_validate(problem) for problem in problems],
    )
    return json_response(400, body.model_dump(mode="json", exclude_none=True))


def _counted(response: Response[Any], metrics: Metrics | None) -> Response[Any]:
    # A request answered with an error did nothing else worth a metric; this one says so.
    if metrics is not None:
        name = "RequestsRejected" if response.status_code < 500 else "RequestsFailed"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return response


def install_error_handlers(app: APIGatewayHttpResolver, metrics: Metrics | None = None) -> None:
    """Answer ApiError, domain errors and pydantic ValidationError in the shared shape, on any route.

    With ``metrics``, every such answer is counted: ``RequestsRejected`` (4xx), ``RequestsFailed`` (5xx).
    """

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response[Any]:
        return _counted(error_response(error), metrics)

    @app.exception_handler(errors.DomainError)
    def _domain_error(error: errors.DomainError) -> Response[Any]:
        return _counted(error_response(api_error_from(error)), metrics)

    @app.exception_handler(ValidationError)
    def _validation_error(error: ValidationError) -> Response[Any]:
        return _counted(validation_error_response(error), metrics)

    @app.not_found
    def _not_found(_: Exception) -> Response[Any]:
        not_found = ApiError(404, "route_not_found", "There is no such endpoint.")
        return _counted(error_response(not_found), metrics)


def install_api_error_handlers(
    app: APIGatewayHttpResolver, logger: Logger, metrics: Metrics, *, internal_message: str
) -> None:
    """What the authenticated APIs (send, contacts, scheduler) answer alike, all counted.

    ``install_error_handlers`` plus ``AuthError`` as 401/403 and any other exception as a logged
    500 (powertools picks the most specific handler, so the 500 sees only what nothing else did).
    """
    install_error_handlers(app, metrics)

    @app.exception_handler(AuthError)
    def _auth_error(error: AuthError) -> Response[Any]:
        status = 401 if error.reason == "unauthenticated" else 403
        return _counted(error_response(ApiError(status, error.reason, error.message)), metrics)

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return _counted(error_response(ApiError(500, "internal_error", internal_message)), metrics)


def request_principal(event: BaseProxyEvent) -> Principal:
    """The caller, from the JWT authorizer's claims on the event (never from the body)."""
    return principal_from_event(event.raw_event)


_TOO_DEEP_MESSAGE = f"The request body nests objects or lists more than {MAX_JSON_DEPTH} levels deep."


def json_body(event: BaseProxyEvent) -> Any:
    """The request's JSON body, or a 400 whose reason says what is wrong with it.

    ``invalid_request`` (no body), ``invalid_encoding`` (not UTF-8, or a base64 flag on a body that
    is not base64), ``invalid_json``, ``json_too_deep`` (nested deeper than ``MAX_JSON_DEPTH``:
    no request of this API needs more, and a 10,000-deep body would otherwise exhaust the parser's
    recursion) and ``invalid_text`` (a lone UTF-16 surrogate such as ``\\ud800``: valid JSON, but no
    text we could store, hash or send).
    """
    try:
        raw = event.decoded_body
    except ValueError as error:  # UnicodeDecodeError and binascii.Error are ValueErrors
        raise ApiError(
            400, "invalid_encoding", "The request body must be JSON text encoded as UTF-8."
        ) from error
    if not raw:
        raise ApiError(400, "invalid_request", "The request needs a JSON body.")
    try:
        value = json.loads(raw)
    except RecursionError as error:
        raise ApiError(400, "json_too_deep", _TOO_DEEP_MESSAGE) from error
    except ValueError as error:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from error
    problem = json_shape_problem(value, check_text=may_hold_lone_surrogate(raw))
    if problem == "json_too_deep":
        raise ApiError(400, "json_too_deep", _TOO_DEEP_MESSAGE)
    if problem == "invalid_text":
        raise ApiError(
            400,
            "invalid_text",
            "The request body holds text that is not valid Unicode (a lone surrogate such as \\ud800).",
        )
    return value
