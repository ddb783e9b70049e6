"""What a send changes on the contact item, planned without I/O: claims, Meta's verdicts, ownership.

``plan_change`` turns a send-path event (a claim, a released claim, Meta's verdicts, an agent's
activity) into a ``ClaimChange``: the attributes to SET and the values read that each was
computed from (its guards). ``store.send_claims`` writes it as one conditional ``UpdateItem``;
the in-memory fake of ``ports.sending.SendClaims`` applies the same plan, so both agree on what a
send writes (see ``store.send_claims`` for why each attribute is guarded).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from windowkeeper.instants import to_ms
from windowkeeper.ownership import effective_owner
from windowkeeper.policy.model import AccountProfile, ConsentScope, Path, TemplateCategory
from windowkeeper.store.contact_item import (
    OUTBOUND_KEPT,
    OWNER_ATTRIBUTES,
    ContactRecord,
    StoredOutbound,
    consent_attribute,
)

MAX_WRITE_ATTEMPTS = 5


def contact_ref(pk: str) -> str:
    """A short, stable name for a contact key that reveals no id (for errors and logs)."""
    return hashlib.sha256(pk.encode()).hexdigest()[:12]


class ContactMissingError(LookupError):
    """The contact item disappeared between reading and writing it (named by ``contact_ref``)."""

    def __init__(self, pk: str) -> None:
        self.contact_ref = contact_ref(pk)
        super().__init__(f"contact item {self.contact_ref} does not exist")


class ContactWriteConflictError(RuntimeError):
    """Every attempt lost the race (sustained concurrent writes to one contact)."""


class ClaimConflictError(RuntimeError):
    """Another send (or agent change) wrote the contact since it was read: decide again.

    ``current`` is the item as it is now (from the failed write), so no extra read is needed.
    """

    def __init__(self, current: ContactRecord) -> None:
        super().__init__(f"contact item {contact_ref(current.pk)} changed since it was read")
        self.current = current


@dataclass(frozen=True)
class MetaVerdicts:
    """What Meta's answer says about the contact, in the table's terms. Empty = nothing to record."""

    window_closed_early_at: datetime | None = None
    unreachable_reason: str | None = None  # set → the contact is unreachable since the send
    marketing_opted_out: bool = False
    marketing_backoff_until: datetime | None = None

    @property
    def empty(self) -> bool:
        return (
            self.window_closed_early_at is None
            and self.unreachable_reason is None
            and not self.marketing_opted_out
            and self.marketing_backoff_until is None
        )


@dataclass(frozen=True)
class SentMessage:
    at: datetime
    path: Path
    tag: str | None = None
    template_category: TemplateCategory | None = None
    by_human: bool = False
    comment_id: str | None = None  # a private reply: the comment it answers (not kept on outbound)

    def stored(self) -> StoredOutbound:
        return StoredOutbound(
            at_ms=to_ms(self.at),
            path=self.path,
            tag=self.tag,
            template_category=self.template_category,
            by_human=self.by_human,
        )


@dataclass(frozen=True)
class AgentActivity:
    """A human agent's send: takes the conversation over unless a person already holds it."""

    agent_id: str
    at: datetime
    account: AccountProfile  # its human_idle_return_seconds decides whether a person still holds it


@dataclass(frozen=True)
class ContactWrite:
    record: ContactRecord  # the item as it was just before our successful write
    took_over: bool  # the agent became the owner with this write
    attempts: int
    written: bool = True  # False: nothing was left to write (e.g. the release found no entry)


@dataclass
class ClaimChange:
    """SET clauses and the read values they were computed from (``guards``: attribute → value)."""

    sets: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    guards: dict[str, Any] = field(default_factory=dict)
    took_over: bool = False

    def set(self, attribute: str, value: Any) -> None:
        placeholder = f"#s{len(self.names)}"
        self.names[placeholder] = attribute  # placeholders for all: "owner" is a reserved word
        self.values[f":s{len(self.values)}"] = value
        self.sets.append(f"{placeholder} = :s{len(self.values) - 1}")

    def guard(self, record: ContactRecord, *attributes: str) -> None:
        for attribute in attributes:
            # A field the item did not carry reads as its default in the model: guard it as absent.
            stored = getattr(record, attribute) if attribute in record.model_fields_set else None
            if attribute == "opted_out" and stored is not None:
                stored = [scope.value for scope in stored]  # as stored: a list of scope names
            self.guards[attribute] = stored


def _without(outbound: list[StoredOutbound], entry: StoredOutbound) -> list[StoredOutbound] | None:
    """``outbound`` minus the newest entry equal to ``entry`` (None: there is none).

    Equal entries are interchangeable (same instant, path, tag...), so removing any one of them
    releases exactly one claim.
    """
    for index in range(len(outbound) - 1, -1, -1):
        if outbound[index] == entry:
            return [*outbound[:index], *outbound[index + 1 :]]
    return None


def plan_change(
    record: ContactRecord,
    *,
    sent: SentMessage | None,
    release: SentMessage | None,
    verdicts: MetaVerdicts,
    activity: AgentActivity | None,
    at: datetime,
) -> ClaimChange:
    change = ClaimChange()
    outbound = list(record.outbound)
    outbound_changed = False
    if release is not None and (remaining := _without(outbound, release.stored())) is not None:
        outbound, outbound_changed = remaining, True
    if sent is not None:
        outbound, outbound_changed = [*outbound, sent.stored()][-OUTBOUND_KEPT:], True
    if outbound_changed:  # send-path only: the version condition protects it
        change.set("outbound", [o.model_dump(mode="json", exclude_none=True) for o in outbound])
    _plan_comment_reply(change, record, sent=sent, release=release)
    _plan_verdicts(change, record, verdicts, at)
    if activity is not None:
        activity_ms = to_ms(activity.at)
        change.guard(record, *OWNER_ATTRIBUTES)
        change.set("owner_last_activity_ms", activity_ms)
        # A person who still holds the conversation keeps it; the bot's (or an idle one) is taken.
        if effective_owner(record, activity.account, activity.at).owner != "human":
            change.took_over = True
            change.set("owner", "human")
            change.set("owner_agent_id", activity.agent_id)
            change.set("owner_since_ms", activity_ms)
    return change


def _plan_comment_reply(
    change: ClaimChange, record: ContactRecord, *, sent: SentMessage | None, release: SentMessage | None
) -> None:
    """A private reply marks its comment replied (a released one unmarks it).

    The flag outlives the ``outbound`` entry, which is trimmed after ``OUTBOUND_KEPT`` later sends.
    Guarded on the comment id read: the webhook replaces the pending comment (and resets the
    flag) when the customer comments again, and that newer comment must stay open.
    """
    if sent is not None and sent.comment_id is not None:
        change.guard(record, "pending_comment_id")  # a new comment meanwhile: decide again
        if record.pending_comment_id == sent.comment_id:
            change.set("pending_comment_replied", True)
    if (
        release is not None
        and release.comment_id is not None
        and record.pending_comment_id == release.comment_id
        and record.pending_comment_replied
    ):
        change.guard(record, "pending_comment_id")
        change.set("pending_comment_replied", False)


def _plan_verdicts(change: ClaimChange, record: ContactRecord, verdicts: MetaVerdicts, at: datetime) -> None:
    if verdicts.window_closed_early_at is not None:
        closed_ms = to_ms(verdicts.window_closed_early_at)
        if record.window_closed_early_ms is None or record.window_closed_early_ms < closed_ms:
            change.guard(record, "window_closed_early_ms")  # only forward, as the webhook moves it
            change.set("window_closed_early_ms", closed_ms)
    if verdicts.unreachable_reason is not None:
        since = record.unreachable_since_ms
        last_action = record.last_customer_action_ms
        # "Unreachable since" is when the current episode started: kept while it lasts, moved to
        # now when there is none or the customer wrote after it (the engine's "reachable again").
        change.guard(record, "unreachable_since_ms", "last_customer_action_ms")
        if since is None or (last_action is not None and last_action > since):
            change.set("unreachable_since_ms", to_ms(at))
        change.set("unreachable_reason", verdicts.unreachable_reason)
    if verdicts.marketing_opted_out:
        # A consent fact with its own instant (as the webhook's 131050): only moves forward.
        attribute = consent_attribute(ConsentScope.MARKETING, True)
        stored = getattr(record, attribute)
        if stored is None or stored < to_ms(at):
            change.guard(record, attribute)
            change.set(attribute, to_ms(at))
    if verdicts.marketing_backoff_until is not None:
        backoff_ms = to_ms(verdicts.marketing_backoff_until)
        if record.marketing_backoff_until_ms is None or record.marketing_backoff_until_ms < backoff_ms:
            change.guard(record, "marketing_backoff_until_ms")
            change.set("marketing_backoff_until_ms", backoff_ms)
