"""The HTTP error shape every endpoint answers with, and its powertools wiring.

``{"status": "error", "reason": "<machine code>", "message": "<a sentence a person understands>"}``
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from pydantic import ValidationError


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"status": "error", "reason": self.reason, "message": self.message, **self.extra}


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
    return json_response(
        400,
        {
            "status": "error",
            "reason": "invalid_request",
            "message": f"The request is not valid: {first['field']}: {first['problem']}.",
            "problems": problems,
        },
    )


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Answer ApiError and pydantic ValidationError in the shared shape, on any route."""

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response[Any]:
        return error_response(error)

    @app.exception_handler(ValidationError)
    def _validation_error(error: ValidationError) -> Response[Any]:
        return validation_error_response(error)

    @app.not_found
    def _not_found(_: Exception) -> Response[Any]:
        return error_response(ApiError(404, "route_not_found", "There is no such endpoint."))
