"""Re-engagement jobs: reach many quiet contacts, each by the path the rules allow for them.

``POST /v1/reengagements`` stores a job and schedules its first run (Input
``{"kind": "reengagement.run", "job_id": ...}``); ``run`` is what that invocation does:

* select contacts: the given ``contact_ids``, or those silent for ``silent_for_hours`` via the
  account-index (the cutoff is frozen at the first run, so a resumed run selects the same ones);
* per contact, claim a result item (``sending``, ``attribute_not_exists``) *before* anything is
  sent; a contact with a result already is skipped, which makes a rerun resume the job;
* ask the send core's ``check`` for each offered content in order of preference
  (free-form, utility template, marketing message, marketing template) and send the first one
  allowed; if none is, the result lists every refusal reason;
* record the outcome and publish ``reengagement.result``.

The sender is ``Principal.system(tenant, JOB, ...)``: automation, so HUMAN_AGENT is never a path,
and a job may not offer ``human_agent`` content at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, model_validator

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.events import BusEvent, DetailType
from windowkeeper.ids import AccountId, ContactId
from windowkeeper.instants import InputInstant, from_ms, to_ms
from windowkeeper.policy.model import AutomationKind, Channel, Purpose
from windowkeeper.ports.bus import EventPublisher
from windowkeeper.ports.scheduling import JobRepository, ScheduleCreator, SendPort
from windowkeeper.schedule_rules import MIN_LEAD, ScheduleError, validate_one_time
from windowkeeper.sending.api_models import ContentIn, SendRequest
from windowkeeper.store.job_records import Attempt, JobRecord, ResultRecord, ResultStatus

logger = Logger(child=True)

RUN_KIND = "reengagement.run"
JOB_SUBJECT = "reengagement"
# Cheapest and least intrusive first: a free-form reply while a window is open, then a utility
# template, then the opt-in marketing paths.
PATH_PREFERENCE = ("free_form", "utility_template", "marketing_message", "marketing_template")
MAX_CONTACT_IDS = 10_000
MAX_SILENT_FOR_HOURS = 24 * 365
SAFETY_MARGIN_SECONDS = 15.0
PUBLISH_BATCH = 10

AccountLookup = Callable[[Channel, str], AccountConfig | None]


class ReengagementIn(BaseModel):
    """``POST /v1/reengagements``."""

    # What ``_one_selection`` checks, said in the JSON Schema too: exactly one way to pick contacts.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "anyOf": [
                {
                    "properties": {"silent_for_hours": {"type": "integer"}, "contact_ids": {"type": "null"}},
                    "required": ["silent_for_hours"],
                },
                {
                    "properties": {"contact_ids": {"type": "array"}, "silent_for_hours": {"type": "null"}},
                    "required": ["contact_ids"],
                },
            ]
        },
    )

    channel: Channel
    account_id: AccountId
    purpose: Purpose
    content_by_path: dict[str, ContentIn] = Field(min_length=1)
    silent_for_hours: int | None = Field(default=None, ge=1, le=MAX_SILENT_FOR_HOURS)
    contact_ids: list[ContactId] | None = Field(default=None, min_length=1, max_length=MAX_CONTACT_IDS)
    confirm_not_promotional: bool = False
    run_at: InputInstant | None = None  # default: as soon as Scheduler can (about a minute)
    client_reference: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        if (self.silent_for_hours is None) == (self.contact_ids is None):
            raise ValueError("give exactly one of 'silent_for_hours' and 'contact_ids'")
        return self


def job_id_for(principal: Principal, body: ReengagementIn) -> str:
    """Deterministic: a retried POST is the same job, never a second round of messages."""
    canonical = json.dumps(
        {"tenant": principal.tenant_id, **body.model_dump(mode="json")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def job_principal(tenant_id: str, job_id: str) -> Principal:
    return Principal.system(tenant_id, AutomationKind.JOB, f"{JOB_SUBJECT}:{job_id}")


def job_view(job: JobRecord) -> dict[str, Any]:
    body = job.model_dump(mode="json")
    for name in ("created_at_ms", "run_at_ms", "started_at_ms", "finished_at_ms", "cutoff_ms"):
        instant = from_ms(body.pop(name))
        body[name.removesuffix("_ms")] = instant.isoformat() if instant else None
    return body


def result_view(result: ResultRecord) -> dict[str, Any]:
    body = result.model_dump(mode="json", exclude={"event_published", "contact_pk"})
    for name in ("claimed_at_ms", "finished_at_ms"):
        instant = from_ms(body.pop(name))
        body[name.removesuffix("_ms")] = instant.isoformat() if instant else None
    return body


@dataclass
class RunReport:
    job_id: str
    selected: int = 0
    skipped_existing: int = 0
    sent: int = 0
    refused: int = 0
    failed: int = 0
    republished: int = 0
    finished: bool = False
    continuation: str | None = None  # schedule name of the next run, when this one ran out of time

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def count(self, status: ResultStatus) -> None:
        if status == "sent":
            self.sent += 1
        elif status == "refused":
            self.refused += 1
        elif status == "failed":
            self.failed += 1


@dataclass
class JobService:
    store: JobRepository
    schedules: ScheduleCreator
    sender: SendPort
    accounts: AccountLookup
    publish: EventPublisher
    time_left: Callable[[], float] | None = None
    _pending_events: list[tuple[BusEvent, str]] = field(default_factory=list)

    # ------------------------------------------------------------------ API
    def _account_for(self, principal: Principal, channel: Channel, account_id: str) -> AccountConfig:
        account = self.accounts(channel, account_id)
        if account is None or account.tenant_id != principal.tenant_id:
            raise errors.NotFound("account_not_found", f"There is no {channel.value} account '{account_id}'.")
        return account

    def create(self, principal: Principal, body: ReengagementIn, now: datetime) -> tuple[JobRecord, bool]:
        self._account_for(principal, body.channel, body.account_id)
        offered = set(body.content_by_path)
        if "human_agent" in offered:
            raise errors.InvalidInput(
                "human_agent_not_allowed",
                "A re-engagement job is automation; HUMAN_AGENT messages must be written and sent "
                "by a person.",
            )
        unknown = offered - set(PATH_PREFERENCE)
        if unknown:
            raise errors.InvalidInput(
                "unknown_path",
                f"The keys of 'content_by_path' are {', '.join(PATH_PREFERENCE)}; "
                f"not {', '.join(sorted(unknown))}.",
            )
        run_at = body.run_at or now + MIN_LEAD + timedelta(seconds=1)
        try:
            validate_one_time(run_at, now)
        except ScheduleError as error:
            raise errors.InvalidInput(error.reason, error.message.replace("send_at", "run_at")) from error
        job_id = job_id_for(principal, body)
        job = JobRecord(
            job_id=job_id,
            tenant_id=principal.tenant_id,
            channel=body.channel,
            account_id=body.account_id,
            purpose=body.purpose.value,
            content_by_path={
                k: v.model_dump(mode="json", exclude_none=True) for k, v in body.content_by_path.items()
            },
            confirm_not_promotional=body.confirm_not_promotional,
            silent_for_hours=body.silent_for_hours,
            contact_ids=body.contact_ids,
            created_at_ms=to_ms(now),
            created_by=principal.subject,
            run_at_ms=to_ms(run_at),
        )
        created = self.store.create(job)
        if not created:
            existing = self.store.get(job_id)
            assert existing is not None
            return existing, False
        self.schedules.create_one_time(
            run_schedule_name(job_id, 0),
            run_at,
            {"kind": RUN_KIND, "job_id": job_id},
            description=f"Windowkeeper re-engagement job {job_id} (tenant {principal.tenant_id})",
        )
        return job, True

    def get(self, principal: Principal, job_id: str) -> JobRecord:
        job = self.store.get(job_id)
        if job is None or job.tenant_id != principal.tenant_id:
            raise errors.NotFound("job_not_found", f"There is no re-engagement job '{job_id}'.")
        return job

    def results_page(
        self, principal: Principal, job_id: str, *, limit: int, after: str | None
    ) -> tuple[JobRecord, list[ResultRecord], str | None]:
        """``GET /v1/reengagements/{job_id}``: the job (tenant-checked) and one page of its results
        in contact-key order; the last value is the ``after`` cursor of the next page, or None."""
        job = self.get(principal, job_id)
        results, next_after = self.store.results_page(job_id, limit=limit, after=after)
        return job, results, next_after

    # ------------------------------------------------------------------ run
    def run(self, job_id: str, now: datetime) -> RunReport:
        """Run (or resume) a job as of ``now``; contacts with a result already are skipped."""
        report = RunReport(job_id)
        job = self.store.get(job_id)
        if job is None:
            logger.warning("re-engagement job not found", extra={"job_id": job_id})
            return report
        cutoff = now - timedelta(hours=job.silent_for_hours) if job.silent_for_hours is not None else None
        job = self.store.start_run(job_id, to_ms(cutoff) if cutoff else None, to_ms(now))

        existing = {r.contact_pk: r for r in self.store.results(job_id)}
        for result in existing.values():
            # "sending"/"stuck": outcome unknown, reported by the sweep as reengagement.stuck.
            if result.status not in ("sending", "stuck") and not result.event_published:
                self._queue_event(job, result)
                report.republished += 1
        principal = job_principal(job.tenant_id, job_id)

        for pk, contact_id in self._selection(job):
            report.selected += 1
            if pk in existing:
                report.skipped_existing += 1
                continue
            if self.time_left is not None and self.time_left() < SAFETY_MARGIN_SECONDS:
                self._flush(job_id)
                report.continuation = run_schedule_name(job_id, job.runs)
                self.schedules.create_one_time(
                    report.continuation,
                    now + MIN_LEAD + timedelta(seconds=1),
                    {"kind": RUN_KIND, "job_id": job_id},
                    description=f"Windowkeeper re-engagement job {job_id}, continued",
                )
                return report
            if not self.store.claim(job_id, pk, contact_id, to_ms(now)):
                report.skipped_existing += 1  # another run took it between our read and now
                continue
            result = self._reach(job, principal, pk, contact_id, now)
            self.store.save_result(job_id, result)
            report.count(result.status)
            self._queue_event(job, result)
            if len(self._pending_events) >= PUBLISH_BATCH:
                self._flush(job_id)
        self._flush(job_id)
        self.store.finish(job_id, to_ms(now))
        report.finished = True
        return report

    def _selection(self, job: JobRecord) -> Iterable[tuple[str, str]]:
        if job.contact_ids is not None:
            seen: set[str] = set()
            for contact_id in job.contact_ids:
                if contact_id not in seen:
                    seen.add(contact_id)
                    yield job.contact_key(contact_id), contact_id
            return
        assert job.cutoff_ms is not None
        yield from self.store.silent_contacts(job.channel, job.account_id, job.cutoff_ms)

    def _request(self, job: JobRecord, contact_id: str, content: dict[str, Any]) -> SendRequest:
        return SendRequest(
            channel=job.channel,
            account_id=job.account_id,
            contact_id=contact_id,
            content=ContentIn.model_validate(content),
            purpose=Purpose(job.purpose),
            confirm_not_promotional=job.confirm_not_promotional,
        )

    def _reach(
        self, job: JobRecord, principal: Principal, pk: str, contact_id: str, now: datetime
    ) -> ResultRecord:
        attempts: list[Attempt] = []
        chosen: tuple[str, SendRequest] | None = None
        for offered in PATH_PREFERENCE:
            content = job.content_by_path.get(offered)
            if content is None:
                continue
            request = self._request(job, contact_id, content)
            try:
                decision = self.sender.check(principal, request, at=now, now=now)
            except errors.DomainError as error:
                attempts.append(Attempt(offered=offered, allowed=False, reasons=[error.reason]))
                if error.reason in ("unknown_contact", "unknown_account", "forbidden_tenant"):
                    break  # no other content changes who the contact is
                continue
            attempts.append(
                Attempt(
                    offered=offered,
                    allowed=decision.allowed,
                    path=decision.path.value if decision.path else None,
                    reasons=[r.value for r in decision.reasons],
                )
            )
            if decision.allowed:
                chosen = (offered, request)
                break
        base = {"contact_pk": pk, "contact_id": contact_id, "attempts": attempts, "claimed_at_ms": to_ms(now)}
        if chosen is None:
            reasons = list(dict.fromkeys(r for a in attempts for r in a.reasons))
            return ResultRecord(
                **base,
                status="refused",
                reasons=reasons,
                explanation="No offered content may be sent to this contact now.",
                finished_at_ms=to_ms(now),
            )
        offered, request = chosen
        try:
            outcome = self.sender.send(principal, request, now)
        except errors.DomainError as error:
            return ResultRecord(
                **base,
                status="failed",
                offered=offered,
                reasons=[error.reason],
                explanation=error.message,
                finished_at_ms=to_ms(now),
            )
        except Exception:
            # Whether Meta delivered is unknown: recorded as failed and never retried by a resume.
            logger.exception("re-engagement send raised", extra={"job_id": job.job_id})
            return ResultRecord(
                **base,
                status="failed",
                offered=offered,
                reasons=["send_error"],
                explanation="The send raised an error; whether Meta delivered the message is unknown.",
                finished_at_ms=to_ms(now),
            )
        final = outcome.decision
        status: ResultStatus = (
            "sent" if outcome.status == "sent" else "refused" if outcome.status == "refused" else "failed"
        )
        return ResultRecord(
            **base,
            status=status,
            offered=offered,
            path=final.path.value if final and final.path else None,
            reasons=[r.value for r in final.reasons] if final and status != "sent" else [],
            explanation=final.explanation if final else None,
            platform_message_id=outcome.platform_message_id,
            finished_at_ms=to_ms(now),
        )

    def _queue_event(self, job: JobRecord, result: ResultRecord) -> None:
        event = BusEvent(
            detail_type=DetailType.REENGAGEMENT_RESULT,
            event_id=f"reengagement#{job.job_id}#{result.contact_pk}",
            detail={
                "job_id": job.job_id,
                "tenant_id": job.tenant_id,
                "channel": job.channel.value,
                "account_id": job.account_id,
                "contact_id": result.contact_id,
                "status": result.status,
                "offered": result.offered,
                "path": result.path,
                "reasons": result.reasons,
                "platform_message_id": result.platform_message_id,
            },
        )
        self._pending_events.append((event, result.contact_pk))

    def _flush(self, job_id: str) -> None:
        if not self._pending_events:
            return
        pending, self._pending_events = self._pending_events, []
        self.publish([event for event, _ in pending])
        for _, pk in pending:
            self.store.mark_published(job_id, pk)


def run_schedule_name(job_id: str, run_number: int) -> str:
    return f"job-{job_id}" if run_number == 0 else f"job-{job_id}-r{run_number}"
