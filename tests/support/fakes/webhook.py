"""The webhook's ports in memory (``ports.webhook``): contact items, batch puts, quarantine, bus.

``InMemoryContactWriter`` plans with the real ``ContactPlanner`` against the item as stored and
applies the plan only where its guards hold, as the table's condition does, then re-queues the
notice from the full item (the real writer's ``_correct_due``). It makes one "write" per delta:
the real writer's blind first attempt and its retry end in the same item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.sending import InMemoryHealth, InMemoryTemplates
from windowkeeper.accounts import AccountConfig
from windowkeeper.events import BusEvent
from windowkeeper.ingest.delta import ContactDelta
from windowkeeper.policy.model import Channel
from windowkeeper.ports.webhook import WebhookPorts
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.contact_write_plan import (
    DUE_ATTRIBUTES,
    ContactPlanner,
    DueFor,
    Item,
    Part,
    WriteResult,
)
from windowkeeper.store.keys import STATE_SK, contact_pk
from windowkeeper.store.message_records import LoggedMessage


class BackendDown(Exception):
    """What a fake raises when a test takes its backend away."""


def _guards_hold(part: Part, item: Item | None) -> bool:
    stored = item or {}
    for attribute, bound in part.newer.items():
        value = stored.get(attribute)
        if value is None:
            continue
        if isinstance(bound, str):  # the preview's key orders as a string
            if not str(value) < bound:
                return False
        elif not int(value) < bound:
            return False
    for attribute, at_ms in part.older.items():
        if stored.get(attribute) is not None and not int(stored[attribute]) > at_ms:
            return False
    return all(stored.get(attribute) == expected for attribute, expected in part.equals.items())


def _apply(part: Part, item: Item) -> None:
    item.update(part.set)
    for attribute, value in part.set_if_absent.items():
        item.setdefault(attribute, value)
    for attribute, values in part.append.items():
        item[attribute] = [*item.get(attribute, []), *values]
    for attribute, members in part.add.items():
        item[attribute] = set(item.get(attribute, set())) | set(members)
    for attribute in part.remove:
        item.pop(attribute, None)


@dataclass
class InMemoryContactWriter(ContactPlanner):
    items: dict[str, Item]
    due_for: DueFor
    down: bool = False

    def write(self, delta: ContactDelta) -> WriteResult:
        if self.down:
            raise BackendDown("the contact table is unavailable")
        if not delta.needs_write:
            return WriteResult(item=None, writes=0, window_applied=False)
        key = delta.key
        pk = contact_pk(key.channel, key.account_id, key.contact_id)
        old = self.items.get(pk)
        due = self.due_for(self.projected(delta)) if delta.window else None
        part, window_applied = self.plan(delta, old, due)
        if part.empty or not _guards_hold(part, old):
            return WriteResult(item=dict(old) if old else None, writes=1, window_applied=False)
        item = self.items.setdefault(pk, {"pk": pk, "sk": STATE_SK})
        _apply(part, item)
        if item.get("last_customer_action_ms") is not None:
            full = self.due_for(ContactRecord.from_item(item))
            for attribute in DUE_ATTRIBUTES:
                item.pop(attribute, None)
            item.update(full or {})
        entry_applied = any(a in part.set for a in ("entry_point_ms", "ad_conversation_started_ms"))
        return WriteResult(
            item=dict(item), writes=1, window_applied=window_applied, entry_applied=entry_applied
        )


@dataclass(frozen=True)
class InMemoryConversation:
    """The conversation log as the table keeps it: the ``MSG#`` items put in batches."""

    items: dict[tuple[str, str], dict[str, Any]]

    def list(
        self, channel: Channel, account_id: str, contact_id: str, *, now: datetime, limit: int
    ) -> list[LoggedMessage]:
        pk = contact_pk(channel, account_id, contact_id)
        logged = sorted(
            (sk, item)
            for (item_pk, sk), item in self.items.items()
            if item_pk == pk and sk.startswith("MSG#")
        )
        return [LoggedMessage.model_validate(item) for _, item in logged[-limit:]]


@dataclass
class InMemoryWebhookBackends:
    """Everything the webhook writes, kept where a test can read it."""

    accounts: InMemoryAccounts
    app_secret: str
    verify_token: str = "wk-verify-token"
    contacts: dict[str, Item] = field(default_factory=dict)
    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    quarantined: list[tuple[bytes, str, str]] = field(default_factory=list)
    published: list[BusEvent] = field(default_factory=list)
    health: InMemoryHealth = field(default_factory=InMemoryHealth)
    templates: InMemoryTemplates = field(default_factory=InMemoryTemplates)
    bus_down: bool = False
    max_body_bytes: int = 1_048_576
    # The other channels' credentials by account id (what the account's secret holds when deployed).
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, *accounts: AccountConfig, app_secret: str) -> InMemoryWebhookBackends:
        return cls(accounts=InMemoryAccounts.of(*accounts), app_secret=app_secret)

    def put_all(self, items: Sequence[Mapping[str, Any]]) -> None:
        for item in items:
            self.items[(str(item["pk"]), str(item["sk"]))] = dict(item)

    def put(self, body: bytes, *, reason: str, received_at: datetime, detail: str = "") -> str:
        self.quarantined.append((body, reason, detail))
        return f"quarantine/{received_at:%Y/%m/%d}/{len(self.quarantined)}.json"

    def publish(self, events: Sequence[BusEvent]) -> int:
        if self.bus_down:
            raise BackendDown("the bus is unavailable")
        self.published.extend(events)
        return len(events)

    def secret(self) -> Mapping[str, Any]:
        return {"app_secret": self.app_secret, "verify_token": self.verify_token}

    def channel_credentials(self, account: AccountConfig) -> Mapping[str, Any]:
        return self.credentials[account.account_id]

    def ports(self) -> WebhookPorts:
        return WebhookPorts(
            accounts=self.accounts,
            contact_writer=lambda due_for: InMemoryContactWriter(self.contacts, due_for),
            items=self,
            quarantine=self,
            publish=self.publish,
            health=self.health,
            templates=self.templates,
            webhook_secret=self.secret,
            channel_credentials=self.channel_credentials,
            conversation=InMemoryConversation(self.items),
            backend_errors=(BackendDown,),
            max_body_bytes=self.max_body_bytes,
        )

    def contact(self, channel: str, account_id: str, contact_id: str) -> ContactRecord | None:
        item = self.contacts.get(contact_pk(channel, account_id, contact_id))
        return ContactRecord.from_item(item) if item else None

    def item_kinds(self) -> list[str]:
        """The sort-key prefix of every item put in batches (``MSG``, ``H``, ``DEC``)."""
        return sorted(sk.split("#", 1)[0] for _, sk in self.items)
