"""What the webhook's ingest service needs from outside (built by ``wiring/webhook.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.delta import ContactDelta
from windowkeeper.policy.model import Channel
from windowkeeper.ports.accounts import AccountDirectory, AccountHealthLog, TemplateStates
from windowkeeper.ports.bus import EventPublisher
from windowkeeper.store.contact_write_plan import DueFor, WriteResult
from windowkeeper.store.message_records import LoggedMessage


class ContactStateWriter(Protocol):
    """Writes one contact's delta as one guarded update (``store.contact_writer.ContactWriter``)."""

    def write(self, delta: ContactDelta) -> WriteResult: ...


# A writer whose ``due_*`` notice follows ``due_for`` (the POST's accounts and instant decide it).
ContactWriterFactory = Callable[[DueFor], ContactStateWriter]


class ItemBatch(Protocol):
    """Idempotent puts of independent items (``store.batch_writer.BatchPutTable``)."""

    def put_all(self, items: Sequence[Mapping[str, Any]]) -> None: ...


class Quarantine(Protocol):
    """Where authentic bodies we could not fully use are kept whole (``quarantine.QuarantineBucket``)."""

    def put(self, body: bytes, *, reason: str, received_at: datetime, detail: str = "") -> str:
        """Keep ``body`` with its reason; returns where (the same body lands on the same key)."""
        ...


class ConversationReader(Protocol):
    """A contact's conversation log, newest ``limit`` oldest first (``store.conversation_log``):
    what a web-chat widget shows its visitor."""

    def list(
        self, channel: Channel, account_id: str, contact_id: str, *, now: datetime, limit: int
    ) -> list[LoggedMessage]: ...


@dataclass(frozen=True)
class WebhookPorts:
    accounts: AccountDirectory
    contact_writer: ContactWriterFactory
    items: ItemBatch
    quarantine: Quarantine
    publish: EventPublisher
    health: AccountHealthLog  # Meta's policy enforcement blocks and unblocks an account
    templates: TemplateStates  # Meta pauses, disables, reinstates and re-categorises templates
    # The app's webhook secret: ``app_secret`` (signatures) and ``verify_token`` (the handshake).
    webhook_secret: Callable[[], Mapping[str, Any]]
    # An account's own credentials on the other channels (bot token, channel secret...): the JSON
    # object in the secret its ``access_token_secret_id`` names.
    channel_credentials: Callable[[AccountConfig], Mapping[str, Any]]
    conversation: ConversationReader  # the web-chat widget reads its visitor's conversation
    # What the adapters above raise when their backend fails: answered 500 so Meta retries.
    backend_errors: tuple[type[Exception], ...]
    max_body_bytes: int
