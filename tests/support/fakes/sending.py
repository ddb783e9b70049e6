"""The send gate's stores in memory (``ports.sending``), on one dict of contact items.

The claims and contact-change fakes apply the same plans as the DynamoDB adapters
(``store.claim_records.plan_change``, ``store.contact_change_records.ContactChange``) under the
same optimistic-locking rule: the write holds only if ``version`` and every guarded attribute
still hold what was read, and it bumps ``version``. ``before_write`` lets a test slip another
writer in between a read and a write, the race the real table settles with its condition.
``tests/integration/contracts/test_send_stores.py`` runs the same cases here and on moto.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper.ports.sending import SendStores
from windowkeeper.store.audit_records import (
    AuditEntry,
    AuditQuery,
    InvalidCursorError,
    audit_sk,
    encode_audit_cursor,
)
from windowkeeper.store.claim_records import (
    MAX_WRITE_ATTEMPTS,
    AgentActivity,
    ClaimChange,
    ClaimConflictError,
    ContactMissingError,
    ContactWrite,
    ContactWriteConflictError,
    MetaVerdicts,
    SentMessage,
    plan_change,
)
from windowkeeper.store.contact_change_records import (
    ContactChange,
    ContactConflictError,
    ContactNotFoundError,
    ContactUpdate,
    Plan,
)
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.health_records import AccountHealth
from windowkeeper.store.history_records import HistoryEntry
from windowkeeper.store.inbox_records import ShardRead, SortKey
from windowkeeper.store.keys import account_shard_key, contact_pk
from windowkeeper.store.message_records import LoggedMessage, message_item
from windowkeeper.store.template_records import TemplateChange, TemplateState

from .contacts import InMemoryContacts
from .scheduling import InMemoryFollowups

_SET = re.compile(r"(#\w+) = (:\w+)")


def stored_item(record: ContactRecord) -> dict[str, Any]:
    """The item a record is stored as (what the webhook's and the seed's puts write)."""
    return record.model_dump(mode="json", exclude_none=True)


@dataclass
class ContactItems:
    """The contact items by key, as stored (plain values), shared by the fakes below."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: int = 0
    # Called with the key before each conditional write: a test's concurrent writer goes here.
    before_write: Callable[[str], None] | None = None

    def put(self, record: ContactRecord) -> None:
        self.items[record.pk] = stored_item(record)

    def record(self, pk: str) -> ContactRecord:
        item = self.items.get(pk)
        if item is None:
            raise ContactMissingError(pk)
        return ContactRecord.from_item(item)

    def write(
        self, pk: str, read_version: int, guards: dict[str, Any], update: Callable[[dict[str, Any]], None]
    ) -> bool:
        """Apply ``update`` if ``version`` and the guarded attributes still hold what was read."""
        if self.before_write is not None:
            self.before_write(pk)
        item = self.items.get(pk)
        if item is None:
            raise ContactMissingError(pk)
        if int(item.get("version", 0)) != read_version:
            return False
        if any(item.get(attribute) != seen for attribute, seen in guards.items()):
            return False
        update(item)
        item["version"] = read_version + 1
        self.writes += 1
        return True


class InMemoryContactReader(InMemoryContacts):
    """``ContactReader`` over ``ContactItems`` (reads see every write)."""

    def __init__(self, items: ContactItems) -> None:
        super().__init__()
        self._items = items

    def get(self, channel: Channel, account_id: str, contact_id: str) -> ContactRecord | None:
        for item in self._items.items.values():
            if (item["channel"], item["account_id"], item["contact_id"]) == (
                channel.value,
                account_id,
                contact_id,
            ):
                return ContactRecord.from_item(item)
        return None

    def _read_items(self) -> None:
        self.records = {
            (r.channel, r.account_id, r.contact_id): r
            for r in (ContactRecord.from_item(i) for i in self._items.items.values())
        }

    def recent(self, channel: Channel, account_id: str, *, tenant_id: str, limit: int) -> list[ContactRecord]:
        self._read_items()
        return super().recent(channel, account_id, tenant_id=tenant_id, limit=limit)

    def inbox(
        self,
        channel: Channel,
        account_id: str,
        *,
        tenant_id: str,
        after: SortKey | None,
        accept: Callable[[ContactRecord], bool],
        want: int,
        budget: int,
    ) -> list[ShardRead]:
        self._read_items()
        return super().inbox(
            channel, account_id, tenant_id=tenant_id, after=after, accept=accept, want=want, budget=budget
        )

    def acted_since(
        self, channel: Channel, account_id: str, *, tenant_id: str, since_ms: int, cap: int
    ) -> tuple[list[ContactRecord], bool]:
        self._read_items()
        return super().acted_since(channel, account_id, tenant_id=tenant_id, since_ms=since_ms, cap=cap)


def _apply_claim_change(change: ClaimChange) -> Callable[[dict[str, Any]], None]:
    def update(item: dict[str, Any]) -> None:
        for name, value in _SET.findall(", ".join(change.sets)):
            item[change.names[name]] = change.values[value]

    return update


@dataclass
class InMemoryClaims:
    """``SendClaims``: the claim, the release and Meta's verdicts, as one guarded write each."""

    contacts: ContactItems

    def claim(self, record: ContactRecord, sent: SentMessage) -> ContactRecord:
        change = plan_change(
            record, sent=sent, release=None, verdicts=MetaVerdicts(), activity=None, at=sent.at
        )
        if not self.contacts.write(record.pk, record.version, change.guards, _apply_claim_change(change)):
            raise ClaimConflictError(self.contacts.record(record.pk))
        return self.contacts.record(record.pk)

    def record(
        self,
        record: ContactRecord,
        *,
        at: datetime,
        release: SentMessage | None = None,
        verdicts: MetaVerdicts | None = None,
        activity: AgentActivity | None = None,
    ) -> ContactWrite:
        current = record
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            change = plan_change(
                current,
                sent=None,
                release=release,
                verdicts=verdicts or MetaVerdicts(),
                activity=activity,
                at=at,
            )
            if not change.sets:
                return ContactWrite(record=current, took_over=False, attempts=attempt, written=False)
            if self.contacts.write(current.pk, current.version, change.guards, _apply_claim_change(change)):
                return ContactWrite(record=current, took_over=change.took_over, attempts=attempt)
            current = self.contacts.record(current.pk)
        raise ContactWriteConflictError(f"{MAX_WRITE_ATTEMPTS} attempts lost the race")


@dataclass
class InMemoryContactChanges:
    """``ContactChanges``: agents' guarded changes, re-planned on a race."""

    contacts: ContactItems

    def create_if_absent(
        self,
        channel: Channel,
        account_id: str,
        contact_id: str,
        *,
        tenant_id: str,
        recipient_country_code: str | None = None,
    ) -> bool:
        record = ContactRecord(
            pk=contact_pk(channel, account_id, contact_id),
            tenant_id=tenant_id,
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            account_shard=account_shard_key(channel, account_id, contact_id),
            recipient_country_code=recipient_country_code,
        )
        if InMemoryContactReader(self.contacts).get(channel, account_id, contact_id) is not None:
            return False
        self.contacts.put(record)
        return True

    def update(self, record: ContactRecord, plan: Plan) -> ContactUpdate:
        if record.pk not in self.contacts.items:
            raise ContactNotFoundError(record.pk)
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            current = self.contacts.record(record.pk)
            change = plan(current)
            if change is None:
                return ContactUpdate(before=current, after=current, changed=False, attempts=attempt)
            raw = self.contacts.items[record.pk]
            guards = {attribute: raw.get(attribute) for attribute in change.guard}
            if self.contacts.write(record.pk, current.version, guards, _apply_contact_change(change)):
                after = self.contacts.record(record.pk)
                return ContactUpdate(before=current, after=after, changed=True, attempts=attempt)
        raise ContactConflictError(f"{MAX_WRITE_ATTEMPTS} attempts lost the race")


def _apply_contact_change(change: ContactChange) -> Callable[[dict[str, Any]], None]:
    def update(item: dict[str, Any]) -> None:
        item.update(change.set)
        for attribute in change.remove:
            item.pop(attribute, None)

    return update


@dataclass
class InMemoryAudit:
    """``AuditLog``: append-only per contact, newest first, a cursor that is an offset."""

    entries: dict[str, dict[str, AuditEntry]] = field(default_factory=dict)

    def append(self, pk: str, at: datetime, entry: AuditEntry) -> None:
        trail = self.entries.setdefault(pk, {})
        sk = audit_sk(at, entry.audit_id)
        if sk in trail:
            raise ValueError(f"audit record {sk} exists")  # the table's attribute_not_exists
        trail[sk] = entry

    def query_tenant(self, query: AuditQuery, *, now: datetime) -> tuple[list[AuditEntry], str | None]:
        now_s = int(now.timestamp())
        found = sorted(
            (
                (sk, entry)
                for trail in self.entries.values()
                for sk, entry in trail.items()
                if (entry.account_tenant_id or entry.tenant_id) == query.tenant_id
                and query.lowest_sk <= sk < query.highest_sk
                and (entry.expires_at is None or entry.expires_at > now_s)
                and query.matches(entry)
            ),
            key=lambda pair: pair[0],
            reverse=True,
        )
        page = found[: query.limit]
        more = len(found) > query.limit
        return [e for _, e in page], encode_audit_cursor(query.tenant_id, page[-1][0]) if more else None

    def list(
        self, pk: str, limit: int, cursor: str | None, *, now: datetime
    ) -> tuple[list[AuditEntry], str | None]:
        now_s = int(now.timestamp())
        newest_first = [
            e
            for _, e in sorted(self.entries.get(pk, {}).items(), reverse=True)
            if e.expires_at is None or e.expires_at > now_s
        ]
        start = 0
        if cursor is not None:
            if not cursor.startswith(f"{pk}|") or not cursor.rsplit("|", 1)[1].isdigit():
                raise InvalidCursorError("the cursor is not one this API handed out")
            start = int(cursor.rsplit("|", 1)[1])
        page = newest_first[start : start + limit]
        more = start + limit < len(newest_first)
        return page, (f"{pk}|{start + limit}" if more else None)

    def of(self, pk: str) -> tuple[AuditEntry, ...]:
        """The contact's records, oldest first."""
        return tuple(e for _, e in sorted(self.entries.get(pk, {}).items()))


@dataclass
class InMemoryHistory:
    """``ContactHistory``: entries by (instant, id), so a repeated put changes nothing."""

    entries: dict[str, dict[tuple[int, str], HistoryEntry]] = field(default_factory=dict)

    def put(self, pk: str, entry: HistoryEntry, *, retention_days: int) -> None:
        self.entries.setdefault(pk, {})[(entry.at_ms, entry.entry_id)] = entry

    def read(self, pk: str, *, until_ms: int) -> list[HistoryEntry]:
        return [e for key, e in sorted(self.entries.get(pk, {}).items()) if key[0] <= until_ms]


@dataclass
class InMemoryConversationLog:
    """``ConversationLog``: the items the table would hold, by key."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

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
    ) -> None:
        item = message_item(
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            message_id=message_id,
            direction="out",
            at=at,
            kind=kind,
            text=text,
            sender=sender,
            retention_days=retention_days,
            path=path,
            status=status,
        )
        self.items[(item["pk"], item["sk"])] = item

    def list(
        self, channel: Channel, account_id: str, contact_id: str, *, now: datetime, limit: int
    ) -> list[LoggedMessage]:
        pk = message_item(
            channel=channel,
            account_id=account_id,
            contact_id=contact_id,
            message_id="-",
            direction="out",
            at=now,
            kind="text",
            text=None,
            sender="-",
            retention_days=0,
        )["pk"]
        now_s = int(now.timestamp())
        mine = [i for (p, _), i in sorted(self.items.items()) if p == pk and int(i["expires_at"]) > now_s]
        return [LoggedMessage.model_validate(i) for i in mine[-limit:]]


@dataclass
class InMemoryViolations:
    """``TenantViolations``: one counter per caller, account and day."""

    counts: dict[tuple[str, str, str, str, str], int] = field(default_factory=dict)

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
        key = (caller_tenant_id, now.date().isoformat(), channel, account_id, caller_subject)
        self.counts[key] = self.counts.get(key, 0) + 1
        return "/".join(key)


@dataclass
class InMemoryHealth:
    """``AccountHealthLog``: only a newer fact replaces the kept one."""

    kept: dict[tuple[Channel, str], AccountHealth] = field(default_factory=dict)

    def get(self, channel: Channel, account_id: str) -> AccountHealth | None:
        return self.kept.get((channel, account_id))

    def record(self, health: AccountHealth) -> bool:
        current = self.kept.get((health.channel, health.account_id))
        if current is not None and current.changed_ms >= health.changed_ms:
            return False
        self.kept[(health.channel, health.account_id)] = health
        return True


@dataclass
class InMemoryTemplates:
    """``TemplateStates``: each fact (status, category, quality) replaced only by a newer one."""

    kept: dict[tuple[Channel, str, str, str], TemplateState] = field(default_factory=dict)

    def get(self, channel: Channel, account_id: str, name: str, language: str) -> TemplateState | None:
        return self.kept.get((channel, account_id, name, language))

    def list(self, channel: Channel, account_id: str) -> dict[tuple[str, str], TemplateState]:
        return {(n, lang): s for (c, a, n, lang), s in self.kept.items() if (c, a) == (channel, account_id)}

    def apply(self, channel: Channel, account_id: str, change: TemplateChange) -> bool:
        key = (channel, account_id, change.name, change.language)
        current = self.kept.get(key) or TemplateState(name=change.name, language=change.language)
        seen = getattr(current, f"{change.fact}_ms")
        if seen is not None and seen >= change.at_ms:
            return False
        update: dict[str, Any] = {f"{change.fact}_ms": change.at_ms}
        if change.fact == "status":
            update |= {"status": change.status, "status_event": change.event, "status_reason": change.reason}
        elif change.fact == "category":
            update["category"] = change.category
        else:
            update["quality"] = change.quality
        self.kept[key] = current.model_copy(update={k: v for k, v in update.items() if v is not None})
        return True


@dataclass
class InMemoryQuotas:
    """``ports.sending.QuotaCounters`` in memory (a lock makes ``take`` atomic, as the conditional ADD is)."""

    used_by: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def used(self, channel: Channel, account_id: str, name: str, month: str) -> int:
        return self.used_by.get((channel.value, account_id, name, month), 0)

    def take(
        self, channel: Channel, account_id: str, name: str, month: str, *, limit: int, now: datetime
    ) -> bool:
        key = (channel.value, account_id, name, month)
        with self.lock:
            if self.used_by.get(key, 0) >= limit:
                return False
            self.used_by[key] = self.used_by.get(key, 0) + 1
            return True

    def give_back(self, channel: Channel, account_id: str, name: str, month: str) -> None:
        key = (channel.value, account_id, name, month)
        with self.lock:
            if self.used_by.get(key, 0) > 0:
                self.used_by[key] -= 1


@dataclass
class InMemorySendStores:
    """Every ``ports.sending`` store in memory, on one set of contact items."""

    contacts: ContactItems = field(default_factory=ContactItems)
    audit: InMemoryAudit = field(default_factory=InMemoryAudit)
    history: InMemoryHistory = field(default_factory=InMemoryHistory)
    conversation_log: InMemoryConversationLog = field(default_factory=InMemoryConversationLog)
    violations: InMemoryViolations = field(default_factory=InMemoryViolations)
    followups: InMemoryFollowups = field(default_factory=InMemoryFollowups)
    health: InMemoryHealth = field(default_factory=InMemoryHealth)
    templates: InMemoryTemplates = field(default_factory=InMemoryTemplates)
    quotas: InMemoryQuotas = field(default_factory=InMemoryQuotas)

    def ports(self) -> SendStores:
        return SendStores(
            contacts=InMemoryContactReader(self.contacts),
            claims=InMemoryClaims(self.contacts),
            audit=self.audit,
            history=self.history,
            conversation_log=self.conversation_log,
            violations=self.violations,
            changes=InMemoryContactChanges(self.contacts),
            followups=self.followups,
            health=self.health,
            templates=self.templates,
            quotas=self.quotas,
        )
