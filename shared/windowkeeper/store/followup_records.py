"""A follow-up as the scheduler's services see it, and what its store reports (no I/O here)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.policy.model import Channel
from windowkeeper.store.keys import contact_pk, followup_sk

FollowupStatus = Literal["scheduled", "firing", "sent", "refused", "failed", "cancelled", "stuck"]


FINAL_STATUSES: frozenset[str] = frozenset({"sent", "refused", "failed", "cancelled"})


class FollowupRecord(BaseModel):
    """The stored follow-up. ``content``/``fallback_content`` are the send API's content objects."""

    model_config = ConfigDict(extra="ignore")

    followup_id: str
    tenant_id: str
    channel: Channel
    account_id: str
    contact_id: str
    send_at_ms: int
    created_at_ms: int
    created_by: str  # the principal's subject (audit), never used as the sender at fire time
    schedule_name: str
    content: dict[str, Any]
    fallback_content: dict[str, Any] | None = None
    purpose: str | None = None
    tag: str | None = None
    confirm_not_promotional: bool = False
    cancel_if_customer_replied: bool = True
    # The customer's last action when the follow-up was scheduled: a newer one means they replied.
    customer_action_ms_at_scheduling: int | None = None

    status: FollowupStatus = "scheduled"
    status_reason: str | None = None  # machine code: customer_replied, cancelled_by_user, window_closed...
    reasons: list[str] = Field(default_factory=list)  # the engine's reason codes when refused
    explanation: str | None = None
    path: str | None = None
    used_fallback: bool = False
    platform_message_id: str | None = None
    fired_at_ms: int | None = None
    finished_at_ms: int | None = None
    cancelled_by: str | None = None
    event_published: bool = False  # set once followup.sent/refused/failed is on the bus

    @property
    def pk(self) -> str:
        return contact_pk(self.channel, self.account_id, self.contact_id)

    @property
    def sk(self) -> str:
        return followup_sk(self.send_at_ms, self.followup_id)

    def item(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", exclude_none=True)
        return {"pk": self.pk, "sk": self.sk, "kind": "followup", **body}


class FollowupExists(Exception):
    """A follow-up with this id is already stored (a retried create)."""


class StatusConflict(Exception):
    """The follow-up was not in the status the transition expected (someone else moved it)."""

    def __init__(self, current: FollowupRecord | None) -> None:
        super().__init__("follow-up status changed concurrently")
        self.current = current
