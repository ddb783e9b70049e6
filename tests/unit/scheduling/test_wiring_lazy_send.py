"""The scheduler's read-only routes build no send core (no Graph client, no httpx) on a cold start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import scheduler_app
from tests.support.events import LambdaContext, automation_claims, http_api_event
from windowkeeper import errors
from windowkeeper.auth import Principal
from windowkeeper.http import status_of
from windowkeeper.policy.model import AutomationKind, Channel
from windowkeeper.scheduling.job_service import JobService
from windowkeeper.sending import service as sending_service
from windowkeeper.store.job_records import JobRecord, ResultRecord
from windowkeeper.wiring import scheduler as wiring

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
JOB_ID = "0f" * 16
SCHEDULER_ENV = {
    "TABLE_NAME": "windowkeeper-unit",
    "SCHEDULE_GROUP_NAME": "windowkeeper-followups",
    "SCHEDULER_TARGET_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:windowkeeper-scheduler",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/windowkeeper-scheduler",
    "SCHEDULER_DLQ_ARN": "arn:aws:sqs:eu-west-1:123456789012:windowkeeper-scheduler-dlq",
    "EVENT_BUS_NAME": "windowkeeper-events",
}


@pytest.fixture
def send_core_constructions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Env for the production wiring, and a record of every real send core it builds."""
    for name, value in SCHEDULER_ENV.items():
        monkeypatch.setenv(name, value)
    built: list[str] = []

    class RecordingSendService:
        def __init__(self, **kwargs: Any) -> None:
            built.append("SendService")

        def check(self, *args: Any, **kwargs: Any) -> str:
            return "checked"

        def send(self, *args: Any) -> str:
            return "sent"

    def client_from_env() -> object:
        built.append("GraphClient")
        return object()

    monkeypatch.setattr(sending_service, "SendService", RecordingSendService)
    monkeypatch.setattr("windowkeeper.graph.settings.client_from_env", client_from_env)
    wiring.reset()
    yield built
    wiring.reset()


def test_followup_and_job_services_are_built_without_the_send_core(
    send_core_constructions: list[str],
) -> None:
    wiring.followup_service()
    wiring.job_service()
    assert send_core_constructions == []


def test_the_send_core_is_built_once_on_first_use(send_core_constructions: list[str]) -> None:
    followups = wiring.followup_service()
    jobs = wiring.job_service()
    principal: Any = object()
    request: Any = object()
    checked: Any = followups.sender.check(principal, request, at=NOW, now=NOW)
    sent: Any = jobs.sender.send(principal, request, NOW)
    assert (checked, sent) == ("checked", "sent")
    assert send_core_constructions == ["GraphClient", "SendService"]


def _job() -> JobRecord:
    return JobRecord.model_validate(
        {
            "job_id": JOB_ID,
            "tenant_id": "acme",
            "channel": Channel.WHATSAPP.value,
            "account_id": "3333",
            "created_by": "bot-client",
            "created_at_ms": 1795255200000,
            "status": "done",
            "purpose": "marketing",
            "run_at_ms": 1795255200000,
            "content_by_path": {"marketing_template": {"kind": "text", "text": "x"}},
            "contact_ids": ["4915100000001"],
        }
    )


def test_reengagement_view_pages_results_through_the_service(
    send_core_constructions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler asks the job service for a page; it never reaches into the service's store."""
    calls: list[tuple[str, int, str | None]] = []

    class PagingOnly:
        def results_page(
            self, principal: Any, job_id: str, *, limit: int, after: str | None
        ) -> tuple[JobRecord, list[ResultRecord], str | None]:
            calls.append((job_id, limit, after))
            return _job(), [], "cursor-2"

    monkeypatch.setattr(wiring, "job_service", lambda time_left=None: PagingOnly())
    event = http_api_event(
        "GET",
        f"/v1/reengagements/{JOB_ID}",
        received_at=NOW,
        claims=automation_claims("bot-client", "acme"),
        query={"limit": "5", "after": "cursor-1"},
    )
    response = scheduler_app.handler(event, LambdaContext("windowkeeper-scheduler", remaining_millis=60_000))
    body = json.loads(response["body"])
    assert response["statusCode"] == 200, body
    assert calls == [(JOB_ID, 5, "cursor-1")]
    assert body["next"] == "cursor-2" and body["results"] == []
    assert body["job"]["job_id"] == JOB_ID


class OneJobStore:
    def __init__(self) -> None:
        self.pages: list[tuple[str, int | None, str | None]] = []

    def get(self, job_id: str) -> JobRecord | None:
        return _job() if job_id == JOB_ID else None

    def results_page(
        self, job_id: str, *, limit: int | None, after: str | None
    ) -> tuple[list[ResultRecord], str | None]:
        self.pages.append((job_id, limit, after))
        return [], None


def _service(store: OneJobStore) -> JobService:
    unused: Any = None
    return JobService(store=store, schedules=unused, sender=unused, accounts=unused, publish=unused)  # type: ignore[arg-type]


def test_results_page_hides_another_tenants_job_before_reading_results() -> None:
    store = OneJobStore()
    with pytest.raises(errors.DomainError) as raised:
        _service(store).results_page(
            Principal.system("globex", AutomationKind.JOB, "job-x"), JOB_ID, limit=10, after=None
        )
    assert status_of(raised.value) == 404
    assert store.pages == []


def test_results_page_returns_the_job_and_one_page() -> None:
    store = OneJobStore()
    job, results, after = _service(store).results_page(
        Principal.system("acme", AutomationKind.JOB, "job-x"), JOB_ID, limit=10, after="c1"
    )
    assert job.job_id == JOB_ID and results == [] and after is None
    assert store.pages == [(JOB_ID, 10, "c1")]
