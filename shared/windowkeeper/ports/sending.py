"""What the send gate and the contacts API need from storage (``store/`` when deployed).

Each Protocol is one concern of the contact's partition: the send path's claims on the contact
item, the audit trail, the journal behind "as of" questions, the conversation log, and the
per-tenant record of cross-tenant attempts. ``SendStores`` bundles them, so a service takes one
argument and a test swaps all of them at once (``tests/support/fakes/sending.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from windowkeeper.policy.model import Channel
from windowkeeper.ports.accounts import AccountHealthLog, TemplateStates
from windowkeeper.ports.contacts import ContactReader
from windowkeeper.store.audit_records import AuditEntry, AuditQuery
from windowkeeper.store.claim_records import AgentActivity, ContactWrite, MetaVerdicts, SentMessage
from windowkeeper.store.contact_change_records import ContactUpdate, Plan
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.followup_records import FollowupRecord
from windowkeeper.store.history_records import HistoryEntry
from windowkeeper.store.message_records import LoggedMessage


class SendClaims(Protocol):
    """The send path's conditional writes to the contact item (``store.send_claims``)."""

    def claim(self, record: ContactRecord, sent: SentMessage) -> ContactRecord:
        """Put ``sent`` on the contact's outbound list if nobody wrote since ``record`` was read.

        Returns the item after the claim. Raises ``ClaimConflictError`` (carrying the item as it
        is now) when another writer got there first, ``ContactMissingError`` if the item is gone.
        """
        ...

    def record(
        self,
        record: ContactRecord,
        *,
        at: datetime,
        release: SentMessage | None = None,
        verdicts: MetaVerdicts | None = None,
        activity: AgentActivity | None = None,
    ) -> ContactWrite:
        """Release a claim, record Meta's verdicts and/or an agent's activity, retrying on races."""
        ...


class AuditLog(Protocol):
    """The contact's append-only audit trail (``store.audit_table``)."""

    def append(self, pk: str, at: datetime, entry: AuditEntry) -> None:
        """File ``entry`` under ``at`` (its ``at_ms``); never overwrites a record."""
        ...

    def query_tenant(self, query: AuditQuery, *, now: datetime) -> tuple[list[AuditEntry], str | None]:
        """A tenant's records matching ``query``, newest first, without those past retention at
        ``now``; the cursor of the next page, or None on the last."""
        ...

    def list(
        self, pk: str, limit: int, cursor: str | None, *, now: datetime
    ) -> tuple[list[AuditEntry], str | None]:
        """Newest first, without records past retention at ``now``; raises ``InvalidCursorError``."""
        ...


class ContactHistory(Protocol):
    """The contact's journal of dated facts (``store.history_table``)."""

    def put(self, pk: str, entry: HistoryEntry, *, retention_days: int) -> None:
        """Add ``entry`` (idempotent: the same entry again changes nothing)."""
        ...

    def read(self, pk: str, *, until_ms: int) -> list[HistoryEntry]:
        """Every entry stamped at or before ``until_ms``, oldest first."""
        ...


class ConversationLog(Protocol):
    """The messages the console shows (``store.conversation_log``)."""

    def log_outbound(
        self,
        *,
        channel: Channel,
        account_id: str,
        contact_id: str,
        message_id: str,
        at: datetime,
        kind: str,
        text: str | None,
        sender: str,
        retention_days: int,
        path: str | None,
        status: str,
    ) -> None: ...

    def list(
        self, channel: Channel, account_id: str, contact_id: str, *, now: datetime, limit: int
    ) -> list[LoggedMessage]:
        """The newest ``limit`` messages, oldest first, without those past retention at ``now``."""
        ...


class TenantViolations(Protocol):
    """Cross-tenant attempts, counted under the caller's tenant (``store.violation_table``)."""

    def record(
        self,
        *,
        caller_tenant_id: str,
        caller_subject: str,
        caller_kind: str,
        channel: str,
        account_id: str,
        account_tenant_id: str,
        contact_id: str | None,
        now: datetime,
    ) -> str:
        """Count one attempt; returns the record's id for the log line."""
        ...


class ContactChanges(Protocol):
    """Agents' changes on the contact item: handover and consent (``store.contact_changes``)."""

    def create_if_absent(
        self,
        channel: Channel,
        account_id: str,
        contact_id: str,
        *,
        tenant_id: str,
        recipient_country_code: str | None = None,
    ) -> bool:
        """An item holding only the contact's identity, unless one exists; True when created."""
        ...

    def update(self, record: ContactRecord, plan: Plan) -> ContactUpdate:
        """Apply ``plan(current item)`` as one guarded write, re-planning on a race; raises
        ``ContactNotFoundError`` / ``ContactConflictError``."""
        ...


class FollowupLister(Protocol):
    """The follow-ups scheduled under a contact (``store.followup_table.FollowupTable``)."""

    def list_for_contact(self, channel: Channel, account_id: str, contact_id: str) -> list[FollowupRecord]:
        """Every follow-up of the contact, in due order (any status)."""
        ...


class QuotaCounters(Protocol):
    """Account quotas counted with the sends (``store.quota_table.QuotaTable``): Viber's monthly
    bot-initiated messages. ``month`` is the UTC ``YYYY-MM`` the count belongs to."""

    def used(self, channel: Channel, account_id: str, name: str, month: str) -> int:
        """How many the month has used (read strongly consistent)."""
        ...

    def take(
        self, channel: Channel, account_id: str, name: str, month: str, *, limit: int, now: datetime
    ) -> bool:
        """Count one more if fewer than ``limit`` are used; False when the quota is used up."""
        ...

    def give_back(self, channel: Channel, account_id: str, name: str, month: str) -> None:
        """Undo one ``take`` (the platform certainly did not accept the message)."""
        ...


@dataclass(frozen=True)
class SendStores:
    """Everything of the table the send gate and the contacts API touch: the contact's partition
    and the account's health."""

    contacts: ContactReader
    claims: SendClaims
    audit: AuditLog
    history: ContactHistory
    conversation_log: ConversationLog
    violations: TenantViolations
    changes: ContactChanges
    followups: FollowupLister
    health: AccountHealthLog
    templates: TemplateStates
    quotas: QuotaCounters
