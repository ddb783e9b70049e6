"""A re-engagement job and its per-contact results as the services see them (no I/O here)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.policy.model import Channel
from windowkeeper.store.keys import JOB_SK, contact_pk, job_pk, parse_contact_pk

JobStatus = Literal["scheduled", "running", "done"]


ResultStatus = Literal["sending", "sent", "refused", "failed", "stuck"]


class JobRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_id: str
    tenant_id: str
    channel: Channel
    account_id: str
    purpose: str
    content_by_path: dict[str, dict[str, Any]]
    confirm_not_promotional: bool = False
    silent_for_hours: int | None = None
    contact_ids: list[str] | None = None
    created_at_ms: int
    created_by: str
    run_at_ms: int
    status: JobStatus = "scheduled"
    cutoff_ms: int | None = None  # silent_for selection: last action at or before this, frozen at run 1
    runs: int = 0
    sent_count: int = 0
    refused_count: int = 0
    failed_count: int = 0
    started_at_ms: int | None = None
    finished_at_ms: int | None = None

    def item(self) -> dict[str, Any]:
        return {
            "pk": job_pk(self.job_id),
            "sk": JOB_SK,
            "kind": "job",
            **self.model_dump(mode="json", exclude_none=True),
        }

    def contact_key(self, contact_id: str) -> str:
        """The key one of the job's contacts goes by: its results and claims are filed under it."""
        return contact_pk(self.channel, self.account_id, contact_id)


class Attempt(BaseModel):
    """One offered content checked for one contact."""

    model_config = ConfigDict(extra="ignore")

    offered: str  # the content_by_path key
    allowed: bool
    path: str | None = None
    reasons: list[str] = Field(default_factory=list)


class ResultRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    contact_pk: str
    contact_id: str
    status: ResultStatus = "sending"
    offered: str | None = None  # the content_by_path key that was sent
    path: str | None = None
    reasons: list[str] = Field(default_factory=list)
    explanation: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    platform_message_id: str | None = None
    claimed_at_ms: int
    finished_at_ms: int | None = None
    event_published: bool = False

    def contact(self) -> tuple[Channel, str, str]:
        """The contact this result is about: channel, account id, contact id."""
        return parse_contact_pk(self.contact_pk)
