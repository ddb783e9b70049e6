"""Follow-ups: one message to one contact at a later instant, re-decided when it fires.

Creating one stores it (``windowkeeper.store.followup_table``) and creates a one-time EventBridge
Scheduler schedule whose Input is ``{"kind": "followup.fire", "followup_id": ...}``. The answer
already carries the engine's decision as of ``send_at`` with today's state, which can change
before then (a customer message reopens the window).

When the schedule fires, ``fire`` acts as the schedule principal (automation, never a person, so
never HUMAN_AGENT): it takes the follow-up ``scheduled -> firing`` with a conditional update
before sending, so a retried invocation sends nothing twice; cancels it if the customer wrote
since it was scheduled (when asked to); else sends through the send core, tries the fallback
content if the first one is refused, records the outcome and publishes ``followup.sent``,
``followup.refused`` or ``followup.failed``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.events import BusEvent, DetailType
from windowkeeper.ids import AccountId, ContactId
from windowkeeper.instants import InputInstant, from_ms, to_ms
from windowkeeper.policy.model import AutomationKind, Channel, Decision, Purpose
from windowkeeper.ports.bus import EventPublisher
from windowkeeper.ports.scheduling import FollowupRepository, ScheduleCreator, SendOutcomeLike, SendPort
from windowkeeper.schedule_rules import ScheduleError, validate_one_time
from windowkeeper.sending.api_models import ContentIn, SendRequest
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.followup_records import (
    FINAL_STATUSES,
    FollowupExists,
    FollowupRecord,
    FollowupStatus,
    StatusConflict,
)

logger = Logger(child=True)

FIRE_KIND = "followup.fire"
SCHEDULE_SUBJECT = "scheduler"
HUMAN_AGENT_TAG = "HUMAN_AGENT"
PREVIEW_NOTE = (
    "This is the decision as of send_at with the contact's state today. It is taken again when the "
    "follow-up fires: a customer message before then can open the window, an opt-out can close a path."
)

AccountLookup = Callable[[Channel, str], AccountConfig | None]
ContactLookup = Callable[[Channel, str, str], ContactRecord | None]


class FollowupIn(BaseModel):
    """``POST /v1/followups``. The sender at fire time is the scheduler, never a body field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    account_id: AccountId
    contact_id: ContactId
    send_at: InputInstant
    content: ContentIn
    purpose: Purpose | None = None
    tag: str | None = Field(default=None, min_length=1, max_length=64)
    confirm_not_promotional: bool = False
    fallback_content: ContentIn | None = None
    cancel_if_customer_replied: bool = True
    # Two otherwise identical follow-ups are one (a retried POST); a reference tells them apart.
    client_reference: str | None = Field(default=None, min_length=1, max_length=128)


@dataclass(frozen=True)
class FollowupCreated:
    record: FollowupRecord
    created: bool  # False: the same follow-up existed already (a retried request)
    expression: str
    group_name: str
    decision: Decision
    fallback_decision: Decision | None


@dataclass(frozen=True)
class FireResult:
    followup_id: str
    action: Literal["sent", "refused", "failed", "cancelled", "noop", "not_found", "republished"]
    detail: str = ""


def followup_id_for(principal: Principal, body: FollowupIn) -> str:
    """Deterministic id (and so schedule name): the same request twice is the same follow-up."""
    canonical = json.dumps(
        {"tenant": principal.tenant_id, **body.model_dump(mode="json")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def schedule_name(followup_id: str) -> str:
    return f"fup-{followup_id}"


def schedule_principal(tenant_id: str) -> Principal:
    return Principal.system(tenant_id, AutomationKind.SCHEDULE, SCHEDULE_SUBJECT)


def _request(record: FollowupRecord, content: dict[str, Any]) -> SendRequest:
    return SendRequest(
        channel=record.channel,
        account_id=record.account_id,
        contact_id=record.contact_id,
        content=ContentIn.model_validate(content),
        tag=record.tag,
        purpose=Purpose(record.purpose) if record.purpose else None,
        confirm_not_promotional=record.confirm_not_promotional,
    )


def view(record: FollowupRecord) -> dict[str, Any]:
    """The API's JSON shape of a follow-up (instants as ISO 8601)."""
    body = record.model_dump(mode="json", exclude={"event_published"})
    for name in ("send_at_ms", "created_at_ms", "fired_at_ms", "finished_at_ms"):
        value = body.pop(name)
        instant = from_ms(value)
        body[name.removesuffix("_ms")] = instant.isoformat() if instant else None
    body.pop("customer_action_ms_at_scheduling")
    return body


@dataclass
class FollowupService:
    store: FollowupRepository
    schedules: ScheduleCreator
    sender: SendPort
    accounts: AccountLookup
    contacts: ContactLookup
    publish: EventPublisher

    # ------------------------------------------------------------------ API
    def _account_for(self, principal: Principal, channel: Channel, account_id: str) -> AccountConfig:
        account = self.accounts(channel, account_id)
        # Another tenant's account answers exactly like a missing one: ids do not leak across tenants.
        if account is None or account.tenant_id != principal.tenant_id:
            raise errors.NotFound("account_not_found", f"There is no {channel.value} account '{account_id}'.")
        return account

    def _owned(self, principal: Principal, followup_id: str) -> FollowupRecord:
        record = self.store.get(followup_id)
        if record is None or record.tenant_id != principal.tenant_id:
            raise errors.NotFound("followup_not_found", f"There is no follow-up '{followup_id}'.")
        return record

    def create(self, principal: Principal, body: FollowupIn, now: datetime) -> FollowupCreated:
        self._account_for(principal, body.channel, body.account_id)
        if body.tag and body.tag.upper() == HUMAN_AGENT_TAG:
            raise errors.InvalidInput(
                "human_agent_not_allowed",
                "A follow-up is sent by the scheduler, not by a person; the HUMAN_AGENT tag is only "
                "for messages a person sends. Send it yourself, or use a template as fallback_content.",
            )
        try:
            expression = validate_one_time(body.send_at, now)
        except ScheduleError as error:
            raise errors.InvalidInput(error.reason, error.message) from error

        followup_id = followup_id_for(principal, body)
        contact = self.contacts(body.channel, body.account_id, body.contact_id)
        record = FollowupRecord(
            followup_id=followup_id,
            tenant_id=principal.tenant_id,
            channel=body.channel,
            account_id=body.account_id,
            contact_id=body.contact_id,
            send_at_ms=to_ms(body.send_at),
            created_at_ms=to_ms(now),
            created_by=principal.subject,
            schedule_name=schedule_name(followup_id),
            content=body.content.model_dump(mode="json", exclude_none=True),
            fallback_content=(
                body.fallback_content.model_dump(mode="json", exclude_none=True)
                if body.fallback_content
                else None
            ),
            purpose=body.purpose.value if body.purpose else None,
            tag=body.tag,
            confirm_not_promotional=body.confirm_not_promotional,
            cancel_if_customer_replied=body.cancel_if_customer_replied,
            customer_action_ms_at_scheduling=contact.last_customer_action_ms if contact else None,
        )
        # Decide before storing: an unknown template is a 400 now, not a failure at send time.
        principal_at_fire = schedule_principal(principal.tenant_id)
        decision = self.sender.check(
            principal_at_fire, _request(record, record.content), at=body.send_at, now=now
        )
        fallback_decision = None
        if record.fallback_content is not None:
            fallback_decision = self.sender.check(
                principal_at_fire, _request(record, record.fallback_content), at=body.send_at, now=now
            )

        created = True
        try:
            self.store.create(record)
        except FollowupExists:
            created = False
            existing = self.store.get(followup_id)
            if existing is None:  # pointer without item: cannot happen with the transaction
                raise
            record = existing
        if record.status == "scheduled":
            # Also on a retried request: the first attempt may have died before this call.
            self.schedules.create_one_time(
                record.schedule_name,
                body.send_at,
                {"kind": FIRE_KIND, "followup_id": followup_id},
                description=f"Windowkeeper follow-up {followup_id} (tenant {principal.tenant_id})",
            )
        return FollowupCreated(
            record=record,
            created=created,
            expression=expression,
            group_name=self.schedules.group_name,
            decision=decision,
            fallback_decision=fallback_decision,
        )

    def list_for_contact(
        self, principal: Principal, channel: Channel, account_id: str, contact_id: str
    ) -> list[FollowupRecord]:
        self._account_for(principal, channel, account_id)
        return self.store.list_for_contact(channel, account_id, contact_id)

    def get(self, principal: Principal, followup_id: str) -> FollowupRecord:
        return self._owned(principal, followup_id)

    def cancel(self, principal: Principal, followup_id: str, now: datetime) -> FollowupRecord:
        """Cancel a scheduled follow-up; cancelling a cancelled one is a no-op (idempotent)."""
        record = self._owned(principal, followup_id)
        if record.status == "scheduled":
            try:
                # Status first: once cancelled, a schedule that fires anyway finds nothing to send.
                record = self.store.transition(
                    record,
                    from_status="scheduled",
                    to_status="cancelled",
                    changes={
                        "status_reason": "cancelled_by_user",
                        "cancelled_by": principal.subject,
                        "finished_at_ms": to_ms(now),
                    },
                )
            except StatusConflict as conflict:
                record = conflict.current or record
        if record.status != "cancelled":
            raise errors.Conflict(
                "followup_already_fired",
                f"The follow-up has already fired (status {record.status}); there is nothing to cancel.",
            )
        self.schedules.delete(record.schedule_name)
        return record

    # ------------------------------------------------------------------ fire
    def fire(self, followup_id: str, now: datetime) -> FireResult:
        record = self.store.get(followup_id)
        if record is None:
            logger.warning("follow-up to fire not found", extra={"followup_id": followup_id})
            return FireResult(followup_id, "not_found")
        if record.status in FINAL_STATUSES - {"cancelled"} and not record.event_published:
            # An earlier invocation recorded the outcome but died before publishing it.
            self._publish(record)
            return FireResult(followup_id, "republished", record.status)
        if record.status != "scheduled":
            # "firing" included: an invocation that died mid-send may or may not have sent, and a
            # customer must never get the message twice, so it is left for a person to look at
            # (the minute sweep marks it "stuck" and says so on the bus, see scheduling.stuck).
            return FireResult(followup_id, "noop", f"status is {record.status}")
        try:
            record = self.store.start_firing(record, to_ms(now))
        except StatusConflict as conflict:
            current = conflict.current.status if conflict.current else "unknown"
            return FireResult(followup_id, "noop", f"status is {current}")

        contact = self.contacts(record.channel, record.account_id, record.contact_id)
        replied_ms = contact.last_customer_action_ms if contact else None
        if (
            record.cancel_if_customer_replied
            and replied_ms is not None
            and (
                record.customer_action_ms_at_scheduling is None
                or replied_ms > record.customer_action_ms_at_scheduling
            )
        ):
            replied_at = from_ms(replied_ms)
            assert replied_at is not None
            self.store.transition(
                record,
                from_status="firing",
                to_status="cancelled",
                changes={
                    "status_reason": "customer_replied",
                    "explanation": (
                        f"The customer wrote at {replied_at.isoformat()}, after the follow-up was scheduled; "
                        "it was cancelled as asked (cancel_if_customer_replied)."
                    ),
                    "finished_at_ms": to_ms(now),
                },
            )
            return FireResult(followup_id, "cancelled", "customer_replied")

        principal = schedule_principal(record.tenant_id)
        used_fallback = False
        first_reasons: list[str] = []
        try:
            outcome = self.sender.send(principal, _request(record, record.content), now)
            if outcome.status == "refused" and record.fallback_content is not None:
                first_reasons = _reasons(outcome)
                outcome = self.sender.send(principal, _request(record, record.fallback_content), now)
                used_fallback = True
        except errors.DomainError as error:
            # The send core refused the request itself (template removed from the registry, account
            # gone...): nothing was sent, and retrying would not change the answer.
            record = self._finish(
                record,
                "failed",
                now,
                status_reason=error.reason,
                reasons=[],
                path=None,
                explanation=error.message,
                used_fallback=used_fallback,
                platform_message_id=None,
            )
            self._publish(record)
            return FireResult(followup_id, "failed", error.reason)
        except Exception:
            # Delivery state unknown (e.g. a timeout after Meta accepted): never retried automatically.
            logger.exception("follow-up send raised", extra={"followup_id": followup_id})
            record = self._finish(
                record,
                "failed",
                now,
                status_reason="send_error",
                reasons=[],
                path=None,
                explanation="The send raised an error; whether Meta delivered the message is unknown.",
                used_fallback=used_fallback,
                platform_message_id=None,
            )
            self._publish(record)
            return FireResult(followup_id, "failed", "send_error")

        status: Literal["sent", "refused", "failed"] = (
            "sent" if outcome.status == "sent" else "refused" if outcome.status == "refused" else "failed"
        )
        decision = outcome.decision
        reasons = _reasons(outcome)
        explanation = decision.explanation if decision else None
        if used_fallback:
            explanation = (
                f"The first content was refused ({', '.join(first_reasons) or 'no reason given'}); "
                f"the fallback content: {explanation or status}."
            )
        record = self._finish(
            record,
            status,
            now,
            status_reason=_status_reason(status, reasons, outcome),
            reasons=reasons,
            path=decision.path.value if decision and decision.path else None,
            explanation=explanation,
            used_fallback=used_fallback,
            platform_message_id=outcome.platform_message_id,
        )
        self._publish(record)
        return FireResult(followup_id, status, record.path or "")

    def _finish(
        self,
        record: FollowupRecord,
        status: FollowupStatus,
        now: datetime,
        *,
        status_reason: str | None,
        reasons: list[str],
        path: str | None,
        explanation: str | None,
        used_fallback: bool,
        platform_message_id: str | None,
    ) -> FollowupRecord:
        changes: dict[str, Any] = {
            "reasons": reasons,
            "used_fallback": used_fallback,
            "finished_at_ms": to_ms(now),
            "event_published": False,
        }
        optional = {
            "status_reason": status_reason,
            "path": path,
            "explanation": explanation,
            "platform_message_id": platform_message_id,
        }
        changes.update({k: v for k, v in optional.items() if v is not None})
        return self.store.transition(record, from_status="firing", to_status=status, changes=changes)

    def _publish(self, record: FollowupRecord) -> None:
        detail_type = _DETAIL_TYPES[record.status]
        send_at = from_ms(record.send_at_ms)
        self.publish(
            [
                BusEvent(
                    detail_type=detail_type,
                    event_id=f"followup#{record.followup_id}#{record.status}",
                    detail={
                        "followup_id": record.followup_id,
                        "tenant_id": record.tenant_id,
                        "channel": record.channel.value,
                        "account_id": record.account_id,
                        "contact_id": record.contact_id,
                        "status": record.status,
                        "status_reason": record.status_reason,
                        "reasons": record.reasons,
                        "path": record.path,
                        "used_fallback": record.used_fallback,
                        "platform_message_id": record.platform_message_id,
                        "send_at": send_at.isoformat() if send_at else None,
                        "explanation": record.explanation,
                    },
                )
            ]
        )
        self.store.mark_published(record)


_DETAIL_TYPES = {
    "sent": DetailType.FOLLOWUP_SENT,
    "refused": DetailType.FOLLOWUP_REFUSED,
    "failed": DetailType.FOLLOWUP_FAILED,
}


def _reasons(outcome: SendOutcomeLike) -> list[str]:
    decision = outcome.decision
    return [r.value for r in decision.reasons] if decision else []


def _status_reason(status: str, reasons: list[str], outcome: SendOutcomeLike) -> str | None:
    if status == "sent":
        return None
    if status == "refused":
        return reasons[0] if reasons else "refused"
    return getattr(outcome, "failure_reason", None) or "graph_error"
