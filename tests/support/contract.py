"""The environment variable contract between the SAM template and the functions (common brief)."""

from __future__ import annotations

# What the deployed resources provide (``Resources.environment()`` fills these in for moto).
RESOURCE_ENVIRONMENT = frozenset(
    {
        "TABLE_NAME",
        "IDEMPOTENCY_TABLE_NAME",
        "EVENT_BUS_NAME",
        "QUARANTINE_BUCKET",
        "WEBHOOK_SECRET_ID",
        "GRAPH_API_BASE_URL",
        "GRAPH_API_VERSION",
        "SCHEDULE_GROUP_NAME",
        "SCHEDULER_TARGET_ARN",
        "SCHEDULER_ROLE_ARN",
        "SCHEDULER_DLQ_ARN",
        "MAX_WEBHOOK_BODY_BYTES",
    }
)
# Set on every function in the template, on top of the resources.
FUNCTION_ENVIRONMENT = RESOURCE_ENVIRONMENT | {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}
