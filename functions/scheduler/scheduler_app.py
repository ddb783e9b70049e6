"""scheduler Lambda: the follow-up and re-engagement HTTP API, and the target of Scheduler invocations.

One function, two kinds of event, told apart by shape:

* HTTP API v2 events (``requestContext``/``routeKey``) go to the ``APIGatewayHttpResolver`` routes;
* EventBridge Scheduler invokes the function with the schedule's Input, a small JSON object with a
  ``kind``: ``followup.fire``, ``sweep`` or ``reengagement.run``.

Thin by design: read the principal and body, read the clock (only here), call
``windowkeeper.scheduling`` and shape the answer.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from windowkeeper.auth import Principal
from windowkeeper.clock import Clock, system_clock
from windowkeeper.http import (
    ApiError,
    install_api_error_handlers,
    json_body,
    json_response,
    request_principal,
)
from windowkeeper.ids import ACCOUNT_ID_MAX, CONTACT_ID_MAX, checked_generated_id, checked_id
from windowkeeper.observability import logger, metrics
from windowkeeper.policy.model import Channel
from windowkeeper.scheduling import followup_service, job_service
from windowkeeper.scheduling.followup_service import PREVIEW_NOTE, FollowupIn
from windowkeeper.scheduling.job_service import ReengagementIn
from windowkeeper.wiring import scheduler as wiring

app = APIGatewayHttpResolver()
install_api_error_handlers(app, logger, metrics, internal_message="Something went wrong on our side.")

RESULTS_PAGE_MAX = 1000
AFTER_CURSOR_MAX = 512  # a contact key: C#<channel>#<account, <= 128>#<contact, <= 256>


# The edge's clock: read once per request, and passed down as ``now`` (tests pin it).
utc_now: Clock = system_clock


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


# --- scheduled invocations -------------------------------------------------------------------------
class ScheduledInput(BaseModel):
    """The ``Input`` of every schedule this function is the target of."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern=r"^(followup\.fire|sweep|reengagement\.run)$")
    followup_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    job_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


def is_scheduled_invocation(event: dict[str, Any]) -> bool:
    return "kind" in event and "requestContext" not in event and "routeKey" not in event


def handle_scheduled(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Route one Scheduler invocation. Errors propagate: Scheduler retries, then dead-letters."""
    try:
        scheduled = ScheduledInput.model_validate(event)
    except ValidationError:
        _count("ScheduledInputsInvalid")  # every retry of it ends in the DLQ: worth an alarm
        raise
    now = utc_now()

    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000 if context is not None else float("inf")

    if scheduled.kind == "followup.fire":
        if scheduled.followup_id is None:
            _count("ScheduledInputsInvalid")
            raise ValueError("followup.fire needs followup_id")
        result = wiring.followup_service().fire(scheduled.followup_id, now)
        _count(f"FollowupFire.{result.action}")
        logger.info("follow-up fired", extra={"followup_id": result.followup_id, "action": result.action})
        return {"kind": scheduled.kind, "followup_id": result.followup_id, "action": result.action}
    if scheduled.kind == "sweep":
        report = wiring.sweeper(time_left=time_left).run(now)
        metrics.add_metric(name="NoticesPublished", unit=MetricUnit.Count, value=report.published)
        metrics.add_metric(name="SweepItemsRead", unit=MetricUnit.Count, value=report.items_read)
        metrics.add_metric(name="SweepMinutes", unit=MetricUnit.Count, value=report.minutes_swept)
        # Sends that died mid-way (maybe delivered): alarmed on (StuckSendsAlarm in the template).
        metrics.add_metric(name="StuckSends", unit=MetricUnit.Count, value=report.stuck)
        logger.info("sweep done", extra={"report": report.as_dict()})
        return {"kind": scheduled.kind, **report.as_dict()}
    if scheduled.job_id is None:
        _count("ScheduledInputsInvalid")
        raise ValueError("reengagement.run needs job_id")
    run_report = wiring.job_service(time_left=time_left).run(scheduled.job_id, now)
    for status in ("sent", "refused", "failed"):
        metrics.add_metric(
            name=f"Reengagement.{status}", unit=MetricUnit.Count, value=getattr(run_report, status)
        )
    logger.info("re-engagement run done", extra={"report": run_report.as_dict()})
    return {"kind": scheduled.kind, **run_report.as_dict()}


# --- HTTP routes -----------------------------------------------------------------------------------
def _principal() -> Principal:
    return request_principal(app.current_event)


def _query(name: str) -> str:
    value = (app.current_event.query_string_parameters or {}).get(name)
    if not value:
        raise ApiError(400, "missing_parameter", f"The query parameter '{name}' is required.")
    return value


@app.post("/v1/followups")
def post_followup() -> Response[Any]:
    principal = _principal()
    body = FollowupIn.model_validate(json_body(app.current_event))
    created = wiring.followup_service().create(principal, body, utc_now())
    _count("FollowupsScheduled" if created.created else "FollowupsAlreadyScheduled")
    fallback = created.fallback_decision
    return json_response(
        201 if created.created else 200,
        {
            "followup": followup_service.view(created.record),
            "created": created.created,
            "schedule": {
                "name": created.record.schedule_name,
                "group": created.group_name,
                "expression": created.expression,
            },
            "preview": {
                "allowed": created.decision.allowed or bool(fallback and fallback.allowed),
                "decision": created.decision.summary(),
                "fallback_decision": fallback.summary() if fallback else None,
                "note": PREVIEW_NOTE,
            },
        },
    )


@app.get("/v1/followups")
def list_followups() -> Response[Any]:
    principal = _principal()
    try:
        channel = Channel(_query("channel"))
    except ValueError as error:
        raise ApiError(400, "invalid_channel", "The 'channel' query parameter names no channel.") from error
    records = wiring.followup_service().list_for_contact(
        principal,
        channel,
        checked_id("account_id", _query("account_id"), max_length=ACCOUNT_ID_MAX),
        checked_id("contact_id", _query("contact_id"), max_length=CONTACT_ID_MAX),
    )
    _count("FollowupViews")
    return json_response(200, {"followups": [followup_service.view(r) for r in records]})


@app.get("/v1/followups/<followup_id>")
def get_followup(followup_id: str) -> Response[Any]:
    record = wiring.followup_service().get(_principal(), checked_generated_id("followup_id", followup_id))
    _count("FollowupViews")
    return json_response(200, {"followup": followup_service.view(record)})


@app.delete("/v1/followups/<followup_id>")
def delete_followup(followup_id: str) -> Response[Any]:
    record = wiring.followup_service().cancel(
        _principal(), checked_generated_id("followup_id", followup_id), utc_now()
    )
    _count("FollowupsCancelled")
    return json_response(200, {"followup": followup_service.view(record)})


@app.post("/v1/reengagements")
def post_reengagement() -> Response[Any]:
    principal = _principal()
    body = ReengagementIn.model_validate(json_body(app.current_event))
    job, created = wiring.job_service().create(principal, body, utc_now())
    _count("ReengagementJobsStarted" if created else "ReengagementJobsAlreadyStarted")
    return json_response(
        202 if created else 200,
        {
            "job": job_service.job_view(job),
            "created": created,
            "schedule": {"name": job_service.run_schedule_name(job.job_id, 0)},
        },
    )


def _after_cursor(raw: str | None) -> str | None:
    """The ``after`` cursor a previous page returned (a contact key), refused when it cannot be one."""
    if raw is None or raw == "":
        return None
    if len(raw) > AFTER_CURSOR_MAX or not raw.isascii() or not raw.isprintable():
        raise ApiError(400, "invalid_cursor", "'after' must be the 'next' value a previous page returned.")
    return raw


@app.get("/v1/reengagements/<job_id>")
def get_reengagement(job_id: str) -> Response[Any]:
    principal = _principal()
    checked_generated_id("job_id", job_id)
    params = app.current_event.query_string_parameters or {}
    try:
        limit = min(int(params.get("limit", RESULTS_PAGE_MAX)), RESULTS_PAGE_MAX)
    except ValueError as error:
        raise ApiError(400, "invalid_limit", "'limit' must be a whole number.") from error
    if limit < 1:
        raise ApiError(400, "invalid_limit", "'limit' must be at least 1.")
    job, results, after = wiring.job_service().results_page(
        principal, job_id, limit=limit, after=_after_cursor(params.get("after"))
    )
    _count("ReengagementJobViews")
    return json_response(
        200,
        {
            "job": job_service.job_view(job),
            "results": [job_service.result_view(r) for r in results],
            "next": after,
        },
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_scheduled_invocation(event):
        return handle_scheduled(event, context)
    return app.resolve(event, context)
