"""The scheduler's ports in memory: follow-ups, Scheduler, and a send core that answers as told."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from windowkeeper.auth import Principal
from windowkeeper.policy.model import Channel, Decision
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.store.followup_records import FollowupExists, FollowupRecord, FollowupStatus, StatusConflict


@dataclass
class InMemoryFollowups:
    """``FollowupRepository``: status moves only from the status the caller expects."""

    records: dict[str, FollowupRecord] = field(default_factory=dict)

    def create(self, record: FollowupRecord) -> None:
        if record.followup_id in self.records:
            raise FollowupExists(record.followup_id)
        self.records[record.followup_id] = record

    def get(self, followup_id: str) -> FollowupRecord | None:
        return self.records.get(followup_id)

    def list_for_contact(self, channel: Channel, account_id: str, contact_id: str) -> list[FollowupRecord]:
        mine = [
            r
            for r in self.records.values()
            if (r.channel, r.account_id, r.contact_id) == (channel, account_id, contact_id)
        ]
        return sorted(mine, key=lambda r: (r.send_at_ms, r.followup_id))

    def start_firing(self, record: FollowupRecord, now_ms: int) -> FollowupRecord:
        return self.transition(
            record, from_status="scheduled", to_status="firing", changes={"fired_at_ms": now_ms}
        )

    def transition(
        self,
        record: FollowupRecord,
        *,
        from_status: FollowupStatus,
        to_status: FollowupStatus,
        changes: dict[str, Any] | None = None,
    ) -> FollowupRecord:
        current = self.records.get(record.followup_id)
        if current is None or current.status != from_status:
            raise StatusConflict(current)
        moved = current.model_copy(update={"status": to_status, **(changes or {})})
        self.records[record.followup_id] = FollowupRecord.model_validate(moved.model_dump())
        return self.records[record.followup_id]

    def mark_published(self, record: FollowupRecord) -> None:
        current = self.records[record.followup_id]
        self.records[record.followup_id] = current.model_copy(update={"event_published": True})


@dataclass
class RecordingSchedules:
    """``ScheduleCreator``: remembers the schedules; a second create of a name answers False."""

    group_name: str = "windowkeeper-followups"
    schedules: dict[str, tuple[datetime, dict[str, Any]]] = field(default_factory=dict)

    def create_one_time(self, name: str, at: datetime, payload: dict[str, Any], description: str) -> bool:
        if name in self.schedules:
            return False
        self.schedules[name] = (at, payload)
        return True

    def delete(self, name: str) -> bool:
        return self.schedules.pop(name, None) is not None


@dataclass(frozen=True)
class Outcome:
    """``SendOutcomeLike``."""

    status: str
    decision: Decision | None
    platform_message_id: str | None = None


@dataclass
class ScriptedSender:
    """``SendPort``: answers each call with the next outcome given (checks answer ``check_answer``)."""

    check_answer: Decision
    outcomes: list[Outcome] = field(default_factory=list)
    sent: list[tuple[Principal, SendRequest, datetime]] = field(default_factory=list)

    def check(self, principal: Principal, request: SendRequest, *, at: datetime, now: datetime) -> Decision:
        return self.check_answer

    def send(self, principal: Principal, request: SendRequest, now: datetime) -> Outcome:
        self.sent.append((principal, request, now))
        return self.outcomes.pop(0)
