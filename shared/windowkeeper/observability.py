"""Logs, metrics and traces: the one place the functions get them from.

Every function's handler and every module below it log through powertools, configured by the
template's environment (``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``,
``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_TRACE_DISABLED``):

* ``logger`` / ``metrics``: the handler's root logger and metrics (one per container; a
  handler decorates itself with ``logger.inject_lambda_context`` and ``metrics.log_metrics``);
* ``child_logger()``: what a module below the handler logs with (it inherits the handler's keys,
  such as the request id);
* ``traced(handler)``: the handler wrapped in a powertools ``Tracer`` only when tracing is on.

Logs carry counts, kinds, ids of our own and reasons; never message text, names, phone numbers,
PSIDs, tokens or secrets.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def child_logger() -> Logger:
    """A module's logger: a child of the handler's, so it carries the same context keys."""
    return Logger(child=True)


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """On only when the template says so: it sets ``POWERTOOLS_TRACE_DISABLED`` to ``"false"``
    when ``EnableTracing`` is true. Unset (tests, local runs) counts as off."""
    env = os.environ if environ is None else environ
    return env.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() in {"false", "0"}


def traced(function: Handler, environ: Mapping[str, str] | None = None) -> Handler:
    """``function`` wrapped by a powertools Tracer when tracing is on, else ``function`` itself."""
    if not tracing_enabled(environ):
        return function
    if importlib.util.find_spec("aws_xray_sdk") is None:
        # Lambda's Active tracing still records the invocation; subsegments need the SDK in the layer.
        logger.warning("tracing is enabled but aws-xray-sdk is not installed: no subsegments")
        return function
    from aws_lambda_powertools import Tracer  # noqa: PLC0415  (loads aws-xray-sdk: only when tracing)

    wrapped: Handler = Tracer().capture_lambda_handler(function)
    return wrapped
