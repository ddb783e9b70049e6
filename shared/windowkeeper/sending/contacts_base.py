"""What both halves of the contacts API share: its ports, the tenant gate, the contact a URL names."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aws_lambda_powertools.metrics import Metrics

from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.policy import engine
from windowkeeper.policy.model import (
    AccountProfile,
    Channel,
    ContactState,
    Option,
    Sender,
    WindowClosings,
)
from windowkeeper.ports.accounts import AccountDirectory
from windowkeeper.ports.bus import EventPublisher
from windowkeeper.ports.sending import SendStores
from windowkeeper.sending.access import ContactAccess
from windowkeeper.store.contact_item import ContactRecord

# Meta's own inbox apps (conversation routing, M5): passing a thread to them hands it to a person
# working in Meta Business Suite.
META_INBOX_APP_IDS = {Channel.MESSENGER: "263902037430900", Channel.INSTAGRAM: "1217981644879628"}
ROUTING_CHANNELS = frozenset(META_INBOX_APP_IDS)

WHATSAPP_NUMBER = re.compile(r"[1-9][0-9]{6,14}")  # a wa_id: E.164 digits without "+"
CONVERSATIONS_LIMIT_MAX = 100
MESSAGES_LIMIT_MAX = 200


# --- what the service needs from elsewhere -----------------------------------------------------------
class ThreadControl(Protocol):
    """The conversation-routing calls of ``windowkeeper.graph.GraphClient``."""

    def take_thread_control(
        self, account: AccountConfig, contact_id: str, metadata: str = ""
    ) -> DeliveryResult: ...
    def pass_thread_control(
        self, account: AccountConfig, contact_id: str, target_app_id: str, metadata: str = ""
    ) -> DeliveryResult: ...
    def release_thread_control(self, account: AccountConfig, contact_id: str) -> DeliveryResult: ...


class ProfileLookup(Protocol):
    """Meta's User Profile API (``windowkeeper.graph.GraphClient.user_profile_name``)."""

    def user_profile_name(self, account: AccountConfig, contact_id: str) -> str | None: ...


EvaluatePaths = Callable[[ContactState, AccountProfile, Sender, datetime], Sequence[Option]]
WindowClosingsFn = Callable[[ContactState, AccountProfile], WindowClosings]


@dataclass(frozen=True)
class ContactRef:
    """A contact as the URL names it: ``/v1/contacts/{channel}/{account_id}/{contact_id}``."""

    channel: Channel
    account_id: str
    contact_id: str


@dataclass
class ContactsBase:
    """The ports and the tenant gate; ``ContactsService`` is the views and the changes on top."""

    stores: SendStores
    accounts: AccountDirectory
    thread_control: Callable[[], ThreadControl]  # built on first use: most requests never need it
    publish: EventPublisher
    evaluate_paths: EvaluatePaths = engine.evaluate_paths
    window_closings: WindowClosingsFn = engine.window_closings
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    metrics: Metrics | None = None  # counts TenantViolations, as the send path does
    # Meta's User Profile API for names the webhooks did not carry (None: names stay as stored).
    profiles: Callable[[], ProfileLookup] | None = None

    # --- loading ---------------------------------------------------------------------------------
    @property
    def _access(self) -> ContactAccess:
        return ContactAccess(self.accounts, self.stores.contacts, self.stores.violations, self.metrics)

    def account_for(
        self,
        principal: Principal,
        channel: Channel,
        account_id: str,
        *,
        contact_id: str | None,
        now: datetime,
    ) -> AccountConfig:
        return self._access.account_for(principal, channel, account_id, contact_id=contact_id, now=now)

    def load(
        self, principal: Principal, ref: ContactRef, now: datetime
    ) -> tuple[AccountConfig, ContactRecord]:
        return self._access.load(principal, ref.channel, ref.account_id, ref.contact_id, now)

    def _with_templates(self, account: AccountConfig) -> AccountConfig:
        """The account with Meta's newest facts about its templates: for the answers that show
        paths or templates (a contact's paths, the conversation labels, the template picker),
        not for every request (a handover or the message log never read them)."""
        if not account.templates:
            return account
        return account.with_template_states(self.stores.templates.list(account.channel, account.account_id))
