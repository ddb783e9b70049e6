"""Sends that never finished: found by the minute sweep, marked ``stuck``, told to a person.

A follow-up is claimed ``scheduled -> firing`` and a re-engagement result is created ``sending``
before anything goes to Meta, and neither is ever retried: if the invocation dies mid-send, Meta
may or may not have delivered, and a customer must not get the message twice. The claim carries a
"check back at" key on the due-index (``windowkeeper.store.stuck_table``) that a normal finish removes,
so the sweep meets exactly the sends still unfinished ``STUCK_AFTER`` later, without a scan.

For each, the sweep publishes ``followup.stuck`` / ``reengagement.stuck`` (stable event id) with a
sentence for a person, then moves the item to ``stuck`` on the condition that it is still in
``firing``/``sending`` with the same key. Publish-then-mark is the notices' order: a crash in
between publishes the same event id again (consumers de-duplicate), never loses the report; once
marked, the item has left the index and a rerun publishes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from windowkeeper.events import BusEvent, DetailType
from windowkeeper.instants import from_ms, to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.ports.scheduling import StuckMarker
from windowkeeper.store.followup_records import FollowupRecord
from windowkeeper.store.job_records import JobRecord, ResultRecord
from windowkeeper.store.stuck_records import CHECK_FOLLOWUP, CHECK_KINDS, CHECK_RESULT

JobLookup = Callable[[str], JobRecord | None]

_CHANNEL_NAMES = {
    Channel.WHATSAPP: "WhatsApp",
    Channel.WECHAT: "WeChat",
    Channel.SMS: "SMS",
    Channel.LINE: "LINE",
    Channel.EMAIL: "e-mail",
    Channel.WEBCHAT: "web chat",
}


def is_stuck_check(item: dict[str, Any]) -> bool:
    return item.get("due_kind") in CHECK_KINDS


@dataclass(frozen=True)
class StuckSend:
    """One unfinished send the sweep met: what to publish and the transition to make after."""

    pk: str
    sk: str
    expected_status: str  # "firing" (follow-up) or "sending" (re-engagement result)
    due_at_ms: int
    explanation: str
    event: BusEvent


@dataclass
class StuckReporter:
    store: StuckMarker
    jobs: JobLookup
    _job_cache: dict[str, JobRecord | None] = field(default_factory=dict)

    def plan(self, item: dict[str, Any]) -> StuckSend | None:
        """The report for a due-index item carrying a stuck-check key; None if it already finished."""
        kind, due_at_ms = item.get("due_kind"), int(item["due_at_ms"])
        if kind == CHECK_FOLLOWUP:
            followup = FollowupRecord.model_validate(item)
            if followup.status != "firing":
                return None  # finished after all (its exit removes the key; defensive)
            return self._followup(item, followup, due_at_ms)
        if kind == CHECK_RESULT:
            result = ResultRecord.model_validate(item)
            if result.status != "sending":
                return None
            return self._result(item, result, due_at_ms)
        return None

    def mark(self, stuck: StuckSend, now: datetime) -> bool:
        return self.store.mark_stuck(
            stuck.pk,
            stuck.sk,
            expected_status=stuck.expected_status,
            expected_due_at_ms=stuck.due_at_ms,
            explanation=stuck.explanation,
            now_ms=to_ms(now),
        )

    def _job(self, job_id: str) -> JobRecord | None:
        if job_id not in self._job_cache:
            self._job_cache[job_id] = self.jobs(job_id)
        return self._job_cache[job_id]

    @staticmethod
    def _followup(item: dict[str, Any], followup: FollowupRecord, due_at_ms: int) -> StuckSend:
        started = from_ms(followup.fired_at_ms)
        explanation = _sentence(
            "A follow-up",
            channel=followup.channel,
            account_id=followup.account_id,
            contact_id=followup.contact_id,
            started=started,
            no_retry="Windowkeeper will not retry it",
        )
        event = BusEvent(
            detail_type=DetailType.FOLLOWUP_STUCK,
            event_id=f"followup#{followup.followup_id}#stuck",
            detail={
                "followup_id": followup.followup_id,
                "tenant_id": followup.tenant_id,
                "channel": followup.channel.value,
                "account_id": followup.account_id,
                "contact_id": followup.contact_id,
                "status": "stuck",
                "started_at": started.isoformat() if started else None,
                "message": explanation,
            },
        )
        return StuckSend(str(item["pk"]), str(item["sk"]), "firing", due_at_ms, explanation, event)

    def _result(self, item: dict[str, Any], result: ResultRecord, due_at_ms: int) -> StuckSend:
        job_id = str(item["pk"]).removeprefix("J#")
        channel, account_id, contact_id = result.contact()
        job = self._job(job_id)
        started = from_ms(result.claimed_at_ms)
        explanation = _sentence(
            f"A re-engagement message (job {job_id})",
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            started=started,
            no_retry="the job will not retry it",
        )
        event = BusEvent(
            detail_type=DetailType.REENGAGEMENT_STUCK,
            event_id=f"reengagement#{job_id}#{result.contact_pk}#stuck",
            detail={
                "job_id": job_id,
                "tenant_id": job.tenant_id if job else None,
                "channel": channel.value,
                "account_id": account_id,
                "contact_id": contact_id,
                "status": "stuck",
                "started_at": started.isoformat() if started else None,
                "message": explanation,
            },
        )
        return StuckSend(str(item["pk"]), str(item["sk"]), "sending", due_at_ms, explanation, event)


def _sentence(
    what: str,
    *,
    channel: Channel,
    account_id: str,
    contact_id: str,
    started: datetime | None,
    no_retry: str,
) -> str:
    name = _CHANNEL_NAMES.get(channel, channel.value.capitalize())
    when = f" at {started.strftime('%Y-%m-%d %H:%M UTC')}" if started else ""
    return (
        f"{what} to {contact_id} on {name} (account {account_id}) started sending{when} and never "
        "finished: it may or may not have been delivered. Check the conversation before sending it "
        f"again; {no_retry}."
    )
