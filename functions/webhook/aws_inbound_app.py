"""aws_inbound Lambda: SMS and e-mail in, from the SNS topics AWS's own services publish to.

AWS End User Messaging SMS publishes each two-way message to the SMS topic, and SES receiving's
receipt rule publishes each mail to the e-mail topic; SNS invokes this function (IAM authenticates
the invocation; ``windowkeeper.ingest.aws_inbound`` checks each record's ``TopicArn``). Thin by
design: it reads the clock (the only place it is read), hands each record to the ingest service
and turns outcomes into metrics.

A record that could not be stored (the table, bucket or bus failed) raises, so Lambda retries the
asynchronous invocation and, after its retries, keeps the event in the function's dead-letter
queue; every other outcome (stored, quarantined, refused) returns normally: retrying it would
change nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from windowkeeper.clock import Clock, system_clock
from windowkeeper.observability import logger, metrics, traced
from windowkeeper.wiring import aws_inbound as inbound_wiring

# The edge's clock: read once per invocation and passed down as ``now`` (tests pin it).
utc_now: Clock = system_clock


class StorageUnavailable(RuntimeError):
    """The notification's events could not be stored: raised so Lambda invokes again."""


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = inbound_wiring.AwsInboundSettings.from_env()
    now = utc_now()
    remaining = getattr(context, "get_remaining_time_in_millis", None)

    def time_left() -> float:
        return float("inf") if remaining is None else float(remaining()) / 1000

    results = []
    for record in event.get("Records") or [event]:
        outcome = inbound_wiring.handle_record(record, settings, now=now, time_left=time_left)
        for name, value in outcome.metrics.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if outcome.status >= 500:
            raise StorageUnavailable("the notification could not be stored; Lambda will retry it")
        body = outcome.body if isinstance(outcome.body, dict) else {}
        results.append({"status_code": outcome.status, **body})
    return {"records": results}


_traced_handle = traced(_handle)  # decided once per container, at import


@logger.inject_lambda_context(log_event=False)  # the event holds phone numbers, addresses, text
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _traced_handle(event, context)
