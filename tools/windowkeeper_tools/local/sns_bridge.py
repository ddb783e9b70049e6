"""The local stack's SNS: what stands in for "SNS invokes the inbound Lambda" without Docker.

Deployed, AWS End User Messaging SMS and SES receiving publish to SNS topics and SNS invokes the
inbound function (``functions/webhook/aws_inbound_app.py``). moto keeps topics but cannot invoke a
Lambda, so locally the simulator (playing SNS) posts each notification here as SNS's HTTP
delivery does (``POST /_local/sns``, ``x-amz-sns-message-type: Notification``), and this turns it
into the Lambda SNS event SNS would build and invokes the handler in process, one at a time, as
a warm Lambda container would. Local-only: never in the template, never deployed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from windowkeeper_tools.local.apigw import HttpRequest, HttpResponse
from windowkeeper_tools.simulator.platforms.aws_sns import SNS_BRIDGE_PATH, lambda_record

logger = logging.getLogger("windowkeeper.local")

JSON_HEADERS = (("Content-Type", "application/json"),)
INBOUND_MODULE = "aws_inbound_app"

__all__ = ["INBOUND_MODULE", "SNS_BRIDGE_PATH", "SnsBridge"]


def _answer(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, list(JSON_HEADERS), json.dumps(body, default=str).encode())


class SnsBridge:
    """``POST /_local/sns``: one SNS notification, delivered to the inbound function."""

    def __init__(self, invoke: Callable[[dict[str, Any]], Any]) -> None:
        self._invoke = invoke

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return _answer(405, {"status": "error", "reason": "method_not_allowed", "message": "POST only."})
        kind = next((v for n, v in request.headers if n.lower() == "x-amz-sns-message-type"), "")
        try:
            notification = json.loads(request.body)
            record = lambda_record(notification)
        except (ValueError, KeyError, TypeError):
            return _answer(
                400,
                {"status": "error", "reason": "not_a_notification", "message": "Not an SNS notification."},
            )
        if kind != "Notification" or notification.get("Type") != "Notification":
            return _answer(
                400,
                {
                    "status": "error",
                    "reason": "not_a_notification",
                    "message": "Only notifications are delivered.",
                },
            )
        try:
            result = self._invoke({"Records": [record]})
        except Exception as error:  # the function raised: SNS/Lambda would retry; say so
            logger.exception("the inbound function failed")
            return _answer(500, {"status": "error", "reason": "invocation_failed", "message": str(error)})
        return _answer(200, result if isinstance(result, dict) else {"result": result})
