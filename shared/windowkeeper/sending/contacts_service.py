"""The contacts API's domain service: window state, handover, consent, audit trail, conversations.

Free of HTTP: ``functions/send/contacts_routes.py`` parses the request, reads the clock once and
calls one method here; each method answers a JSON-ready dict or raises ``errors.DomainError``.

Tenancy is the send path's (``windowkeeper.sending.access``): an unknown account is 404
``unknown_account``; an account of another tenant is 403 ``forbidden_tenant`` and, where a contact
is named, the attempt is written to that contact's audit trail; an unknown contact is 404
``unknown_contact``.

The rules stay in the engine: the window, every path's status and the closing instants come from
``evaluate_paths`` / ``window_closings``; the owner from ``conversations.effective_owner``; the
console's state label from ``conversations.conversation_state``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, Self

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import Metrics
from pydantic import BaseModel, ConfigDict, Field, model_validator

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.asof import consent_entry, contact_as_of
from windowkeeper.auth import Principal
from windowkeeper.events import BusEvent, DetailType, PublishError
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.ingest.phone import country_calling_code
from windowkeeper.instants import from_ms, to_ms
from windowkeeper.ownership import ConversationState, Ownership, conversation_state, effective_owner
from windowkeeper.policy import engine
from windowkeeper.policy.model import (
    AccountProfile,
    Channel,
    ConsentScope,
    ContactState,
    Option,
    Sender,
    SenderKind,
    WindowClosings,
)
from windowkeeper.ports.accounts import AccountDirectory
from windowkeeper.ports.bus import EventPublisher
from windowkeeper.ports.sending import SendStores
from windowkeeper.sending.access import UNKNOWN_CONTACT_MESSAGE, ContactAccess, audit_actor
from windowkeeper.store.audit_records import (
    AUDIT_LIST_MAX,
    AuditEntry,
    InvalidCursorError,
    expires_at,
    text_hash,
)
from windowkeeper.store.contact_change_records import (
    ContactChange,
    ContactConflictError,
    ContactNotFoundError,
    ContactUpdate,
    Plan,
    activity_change,
    bot_owner_change,
    consent_change,
    human_owner_change,
)
from windowkeeper.store.contact_item import ContactRecord

logger = Logger(child=True)

# Meta's own inbox apps (conversation routing, M5): passing a thread to them hands it to a person
# working in Meta Business Suite.
META_INBOX_APP_IDS = {Channel.MESSENGER: "263902037430900", Channel.INSTAGRAM: "1217981644879628"}
ROUTING_CHANNELS = frozenset(META_INBOX_APP_IDS)

WHATSAPP_NUMBER = re.compile(r"[1-9][0-9]{6,14}")  # a wa_id: E.164 digits without "+"
CONVERSATIONS_LIMIT_MAX = 100
MESSAGES_LIMIT_MAX = 200


# --- request bodies ----------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HandoverRequest(_Body):
    """``POST .../handover``: who should own the conversation from now on."""

    # What ``_inbox_only_for_human`` checks, said in the JSON Schema too.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "anyOf": [
                {"properties": {"to": {"const": "human"}}},
                {"properties": {"to": {"const": "bot"}, "inbox": {"const": "console"}}},
            ]
        },
    )

    to: Literal["human", "bot"]
    inbox: Literal["console", "meta"] = Field(
        default="console",
        description="human only: 'console' = an agent of ours; 'meta' = Meta's Page/Instagram Inbox.",
    )

    @model_validator(mode="after")
    def _inbox_only_for_human(self) -> Self:
        if self.to == "bot" and self.inbox != "console":
            raise ValueError("'inbox' applies only when handing over to a human")
        return self


class ConsentRequest(_Body):
    """``POST .../consent``: a consent change the customer gave outside the chat (e.g. by phone)."""

    scope: ConsentScope
    action: Literal["opt_out", "opt_in"]
    note: str | None = Field(default=None, max_length=1000, description="Kept only as a SHA-256 hash.")


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


EvaluatePaths = Callable[[ContactState, AccountProfile, Sender, datetime], Sequence[Option]]
WindowClosingsFn = Callable[[ContactState, AccountProfile], WindowClosings]


@dataclass(frozen=True)
class ContactRef:
    """A contact as the URL names it: ``/v1/contacts/{channel}/{account_id}/{contact_id}``."""

    channel: Channel
    account_id: str
    contact_id: str


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat().replace("+00:00", "Z") if instant is not None else None


def stable_event_id(*parts: object) -> str:
    """An event id derived from what caused the event: a retried request re-publishes the same id."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


@dataclass
class ContactsService:
    stores: SendStores
    accounts: AccountDirectory
    thread_control: Callable[[], ThreadControl]  # built on first use: most requests never need it
    publish: EventPublisher
    evaluate_paths: EvaluatePaths = engine.evaluate_paths
    window_closings: WindowClosingsFn = engine.window_closings
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    metrics: Metrics | None = None  # counts TenantViolations, as the send path does

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

    # --- GET /v1/contacts/{channel}/{account_id}/{contact_id} -------------------------------------
    def contact_view(
        self, principal: Principal, ref: ContactRef, *, at: datetime, now: datetime
    ) -> dict[str, Any]:
        """The contact's window state as of ``at``; ``now`` (the server's instant) stamps what is
        recorded, such as a refused cross-tenant attempt."""
        account, stored = self.load(principal, ref, now)
        record = contact_as_of(
            self.stores.history, stored, at=at, now=now, retention_days=account.audit_retention_days
        )
        profile = account.profile()
        state = record.to_state()
        closings = self.window_closings(state, profile)
        options = tuple(self.evaluate_paths(state, profile, principal.sender(), at))
        label = self._label(state, profile, closings, at, options if principal.is_human_agent else None)
        return {
            "status": "ok",
            "as_of": _iso(at),
            "contact": {
                "channel": record.channel.value,
                "account_id": record.account_id,
                "contact_id": record.contact_id,
                "display_name": record.display_name,
            },
            "state": label.value,
            "last_customer_action": {
                "at": _iso(from_ms(record.last_customer_action_ms)),
                "kind": record.last_customer_action_kind.value if record.last_customer_action_kind else None,
                "entry_point": record.entry_point.value if record.entry_point else None,
            },
            "windows": self._windows(closings),
            "paths": [option.model_dump(mode="json") for option in options],
            "owner": owner_json(effective_owner(record, profile, at)),
            "consent": consent_json(record),
            "unreachable": (
                {"since": _iso(from_ms(record.unreachable_since_ms)), "reason": record.unreachable_reason}
                if record.unreachable_since_ms is not None
                else None
            ),
            "marketing_backoff_until": _iso(from_ms(record.marketing_backoff_until_ms)),
            "window_closed_early_at": _iso(from_ms(record.window_closed_early_ms)),
            "pending_followups": self._pending_followups(record),
        }

    def _label(
        self,
        state: ContactState,
        profile: AccountProfile,
        closings: WindowClosings,
        at: datetime,
        human_options: Sequence[Option] | None = None,
    ) -> ConversationState:
        """The console's state label at ``at``; ``human_options`` when a person's were evaluated already.

        The label describes the conversation, not the caller: it is what a person could send,
        whoever asks (an automation sees its own paths under "paths").
        """
        if human_options is None:
            human_options = tuple(self.evaluate_paths(state, profile, _CONSOLE_AGENT, at))
        return conversation_state(
            state,
            human_options,
            free_form_closes_at=closings.free_form_closes_at,
            lead_time=timedelta(seconds=profile.expiry_lead_time_seconds),
            now=at,
        )

    @staticmethod
    def _windows(closings: WindowClosings) -> dict[str, Any]:
        return {name: _iso(getattr(closings, name)) for name in WindowClosings.model_fields}

    def _pending_followups(self, record: ContactRecord) -> list[dict[str, Any]]:
        """The contact's scheduled follow-ups, soonest first."""
        scheduled = [
            f
            for f in self.stores.followups.list_for_contact(
                record.channel, record.account_id, record.contact_id
            )
            if f.status == "scheduled"
        ]
        scheduled.sort(key=lambda f: (f.send_at_ms, f.followup_id))
        return [
            {
                "followup_id": f.followup_id,
                "send_at": _iso(from_ms(f.send_at_ms)),
                "purpose": f.purpose,
                "tag": f.tag,
                "has_fallback": f.fallback_content is not None,
                "cancel_if_customer_replied": f.cancel_if_customer_replied,
            }
            for f in scheduled
        ]

    # --- POST .../handover -----------------------------------------------------------------------
    def handover(
        self,
        principal: Principal,
        ref: ContactRef,
        request: HandoverRequest,
        now: datetime,
    ) -> dict[str, Any]:
        """Give the conversation to a person or back to the bot (see ARCHITECTURE.md, Handover).

        With conversation routing, Meta's thread control is moved first: if Meta refuses, nothing
        is recorded (our owner must not claim a thread another app holds).
        """
        if request.to == "human" and not principal.is_human_agent:
            raise errors.Forbidden(
                "human_only",
                "Only a human agent can take a conversation; automations can only hand back.",
            )
        account, record = self.load(principal, ref, now)
        profile = account.profile()
        before = effective_owner(record, profile, now)
        routed = profile.uses_conversation_routing and account.channel in ROUTING_CHANNELS
        if request.inbox == "meta" and not routed:
            raise errors.InvalidInput(
                "inbox_unavailable",
                "Meta's inbox can take a conversation only on Messenger or Instagram accounts that use "
                "conversation routing.",
            )
        now_ms = to_ms(now)
        thread: DeliveryResult | None = None
        routing_app: str | None = record.routing_owner_app_id
        if request.to == "human":
            agent = principal.subject
            already_held = before.owner == "human" and before.agent_id == agent
            if routed:
                if request.inbox == "meta":
                    routing_app = META_INBOX_APP_IDS[account.channel]
                    thread = self.thread_control().pass_thread_control(
                        account, ref.contact_id, routing_app, "handover to Meta inbox"
                    )
                elif not (already_held and record.routing_owner_app_id == account.app_id):
                    routing_app = account.app_id
                    thread = self.thread_control().take_thread_control(
                        account, ref.contact_id, "agent takeover"
                    )
            self._require_thread_ok(thread)
            new_routing = routing_app if routed else None

            def plan(current: ContactRecord) -> ContactChange | None:
                holder = effective_owner(current, profile, now)
                same_routing = new_routing is None or current.routing_owner_app_id == new_routing
                if holder.owner == "human" and holder.agent_id == agent and same_routing:
                    return activity_change(now_ms)  # the same agent again: only the idle clock moves
                return human_owner_change(agent, now_ms, routing_owner_app_id=new_routing)

        else:
            held_elsewhere = record.routing_owner_app_id not in (None, account.app_id)
            if routed and held_elsewhere:
                # Release is only valid for the thread's owner (M5): when Meta's inbox (or another
                # app) holds the thread, our app takes it back instead.
                thread = self.thread_control().take_thread_control(account, ref.contact_id, "back to bot")
                routing_app = account.app_id
            elif routed and record.owner == "human":
                thread = self.thread_control().release_thread_control(account, ref.contact_id)
                routing_app = None
            self._require_thread_ok(thread)
            moved_thread = thread is not None

            def plan(current: ContactRecord) -> ContactChange | None:
                if current.owner != "human" and not moved_thread:
                    return None  # already the bot's: nothing to write
                return bot_owner_change(
                    now_ms, routing_owner_app_id=routing_app, routing_changed=moved_thread
                )

        update = self._update(
            record,
            plan,
            errors.Conflict(
                "handover_conflict", "The conversation changed hands while this request ran; try again."
            ),
        )
        after = effective_owner(update.after, profile, now)
        owner_changed = (before.owner, before.agent_id) != (after.owner, after.agent_id)
        event = BusEvent(
            detail_type=DetailType.HANDOVER,
            event_id=stable_event_id(
                record.pk,
                "handover",
                after.owner,
                after.agent_id,
                update.after.owner_since_ms,
                after.routing_owner_app_id,
            ),
            detail={
                "tenant_id": account.tenant_id,
                "channel": account.channel.value,
                "account_id": account.account_id,
                "contact_id": ref.contact_id,
                "from": {"owner": before.owner, "agent_id": before.agent_id},
                "to": {"owner": after.owner, "agent_id": after.agent_id},
                "inbox": request.inbox if request.to == "human" else None,
                "routing_owner_app_id": after.routing_owner_app_id,
                "by": {"subject": principal.subject, "kind": principal.sender().kind.value},
                "at": _iso(now),
                "changed": owner_changed,
            },
            time=now,
        )
        # Published also when nothing changed: a client retrying after a failed publish gets the
        # same event id again, and consumers de-duplicate on it.
        self._publish(event)
        return {
            "status": "ok",
            "changed": owner_changed,
            "owner": owner_json(after),
            "previous_owner": owner_json(before),
            "thread_control": thread.summary() if thread is not None else None,
            "event_id": event.event_id,
        }

    @staticmethod
    def _require_thread_ok(result: DeliveryResult | None) -> None:
        if result is None or result.ok:
            return
        graph_error = result.error.to_dict() if result.error is not None else None
        if result.transient:
            raise errors.Unavailable(
                "graph_unavailable",
                "Meta did not answer the thread-control call; try again.",
                graph_error=graph_error,
            )
        if result.effects.thread_controlled_elsewhere:
            raise errors.Conflict(
                "thread_controlled_elsewhere",
                "Another app controls this conversation in Meta's conversation routing; nothing was changed.",
                graph_error=graph_error,
            )
        raise errors.UpstreamFailed(
            "graph_error",
            "Meta refused the thread-control call; nothing was changed.",
            graph_error=graph_error,
            known=result.known_error,
        )

    # --- POST .../consent ------------------------------------------------------------------------
    def record_consent(
        self,
        principal: Principal,
        ref: ContactRef,
        request: ConsentRequest,
        now: datetime,
    ) -> dict[str, Any]:
        """Record an opt-out/opt-in given outside the chat; audited and published.

        Anyone of the tenant may record an opt-out; an opt-in (which widens what may be sent) must
        come from a person.
        """
        if request.action == "opt_in" and not principal.is_human_agent:
            raise errors.Forbidden("human_only", "Only a human agent can record an opt-in.")
        account = self._access.account_for(
            principal, ref.channel, ref.account_id, contact_id=ref.contact_id, now=now
        )
        if account.channel is Channel.WHATSAPP and WHATSAPP_NUMBER.fullmatch(ref.contact_id):
            # A number that has never written can still have given (or withdrawn) consent elsewhere.
            self.stores.changes.create_if_absent(
                account.channel,
                account.account_id,
                ref.contact_id,
                tenant_id=account.tenant_id,
                recipient_country_code=country_calling_code(ref.contact_id),
            )
        record = self._access.contact(account, ref.contact_id)
        opt_out = request.action == "opt_out"

        def plan(current: ContactRecord) -> ContactChange | None:
            return consent_change(
                current, scope=request.scope, opt_out=opt_out, at_ms=to_ms(now), recorded_by=principal.subject
            )

        update = self._update(
            record,
            plan,
            errors.Conflict("consent_conflict", "The contact changed while this request ran; try again."),
        )
        after = update.after
        audit_id = self.new_id()
        sender = principal.sender()
        scopes_now = sorted(s.value for s in after.scopes_opted_out())
        entry = AuditEntry(
            audit_id=audit_id,
            kind="consent",
            at_ms=to_ms(now),
            **audit_actor(principal, account, ref.contact_id),
            outcome="recorded" if update.changed else "unchanged",
            reasons=[f"{request.action}:{request.scope.value}"],
            explanation=(
                f"{request.action.replace('_', '-')} of '{request.scope.value}' recorded by "
                f"{'an agent' if sender.is_human else 'an automation'}; opted out now: "
                f"{', '.join(scopes_now) or 'nothing'}."
            ),
            note_sha256=text_hash(request.note),
            source="agent" if sender.is_human else "api",
            expires_at=expires_at(now, account.audit_retention_days),
        )
        self.stores.audit.append(record.pk, now, entry)
        journal = consent_entry(
            audit_id,
            now,
            source="agent" if sender.is_human else "api",
            opt_out=[request.scope] if opt_out else [],
            opt_in=[] if opt_out else [request.scope],
        )
        self.stores.history.put(record.pk, journal, retention_days=account.audit_retention_days)
        event = BusEvent(
            detail_type=DetailType.CONSENT_CHANGED,
            event_id=stable_event_id(record.pk, "consent", request.scope.value, request.action, to_ms(now)),
            detail={
                "tenant_id": account.tenant_id,
                "channel": account.channel.value,
                "account_id": account.account_id,
                "contact_id": ref.contact_id,
                "scope": request.scope.value,
                "action": request.action,
                "opted_out": scopes_now,
                "source": "agent",
                "by": {"subject": principal.subject, "kind": sender.kind.value},
                "audit_id": audit_id,
                "changed": update.changed,
                "at": _iso(now),
            },
            time=now,
        )
        self._publish(event)
        return {
            "status": "ok",
            "changed": update.changed,
            "consent": consent_json(after),
            "audit_id": audit_id,
            "event_id": event.event_id,
        }

    # --- GET .../decisions -----------------------------------------------------------------------
    def decisions(
        self,
        principal: Principal,
        ref: ContactRef,
        *,
        limit: int,
        cursor: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        if not 1 <= limit <= AUDIT_LIST_MAX:
            raise errors.InvalidInput(
                "invalid_request", f"The request is not valid: limit: between 1 and {AUDIT_LIST_MAX}."
            )
        _, record = self.load(principal, ref, now)
        try:
            entries, next_cursor = self.stores.audit.list(record.pk, limit, cursor, now=now)
        except InvalidCursorError as error:
            raise errors.InvalidInput(
                "invalid_cursor", "The cursor is not one this listing handed out."
            ) from error
        return {
            "status": "ok",
            "decisions": [{**e.model_dump(mode="json"), "at": _iso(from_ms(e.at_ms))} for e in entries],
            "next_cursor": next_cursor,
        }

    # --- GET .../messages ------------------------------------------------------------------------
    def messages(
        self,
        principal: Principal,
        ref: ContactRef,
        *,
        limit: int,
        now: datetime,
    ) -> dict[str, Any]:
        if not 1 <= limit <= MESSAGES_LIMIT_MAX:
            raise errors.InvalidInput(
                "invalid_request",
                f"The request is not valid: limit: between 1 and {MESSAGES_LIMIT_MAX}.",
            )
        account, _ = self.load(principal, ref, now)
        logged = self.stores.conversation_log.list(
            account.channel, account.account_id, ref.contact_id, now=now, limit=limit
        )
        return {
            "status": "ok",
            "messages": [{**m.model_dump(mode="json"), "at": _iso(from_ms(m.at_ms))} for m in logged],
        }

    # --- GET /v1/conversations -------------------------------------------------------------------
    def conversations(
        self,
        principal: Principal,
        *,
        channel: Channel | None,
        account_id: str | None,
        limit: int,
        now: datetime,
    ) -> dict[str, Any]:
        """The tenant's conversations, most recent customer action first, each labelled at ``now``.

        Reads GSI ``account-index``: one Query per shard of each account (newest first, at most
        ``limit`` each), merged by ``last_customer_action_ms``.
        """
        if not 1 <= limit <= CONVERSATIONS_LIMIT_MAX:
            raise errors.InvalidInput(
                "invalid_request",
                f"The request is not valid: limit: between 1 and {CONVERSATIONS_LIMIT_MAX}.",
            )
        if account_id is not None:
            if channel is None:
                raise errors.InvalidInput(
                    "invalid_request", "The request is not valid: account_id needs channel."
                )
            accounts = [self.account_for(principal, channel, account_id, contact_id=None, now=now)]
        else:
            accounts = [
                a
                for a in self.accounts.list_for_tenant(principal.tenant_id)
                if channel is None or a.channel is channel
            ]
        records: list[tuple[AccountConfig, ContactRecord]] = []
        for account in accounts:
            records.extend((account, r) for r in self._recent_contacts(account, limit))
        records.sort(key=lambda pair: (pair[1].last_customer_action_ms or 0, pair[1].pk), reverse=True)
        return {
            "status": "ok",
            "as_of": _iso(now),
            "conversations": [self._row(account, record, now) for account, record in records[:limit]],
        }

    def _recent_contacts(self, account: AccountConfig, limit: int) -> list[ContactRecord]:
        return self.stores.contacts.recent(
            account.channel, account.account_id, tenant_id=account.tenant_id, limit=limit
        )

    def _row(self, account: AccountConfig, record: ContactRecord, now: datetime) -> dict[str, Any]:
        profile = account.profile()
        state = record.to_state()
        closings = self.window_closings(state, profile)
        label = self._label(state, profile, closings, now)
        return {
            "channel": record.channel.value,
            "account_id": record.account_id,
            "contact_id": record.contact_id,
            "display_name": record.display_name,
            "last_customer_action": {
                "at": _iso(from_ms(record.last_customer_action_ms)),
                "kind": record.last_customer_action_kind.value if record.last_customer_action_kind else None,
            },
            "state": label.value,
            "windows": self._windows(closings),
            "owner": owner_json(effective_owner(record, profile, now)),
        }

    # --- GET /v1/accounts ------------------------------------------------------------------------
    def accounts_of(self, principal: Principal) -> dict[str, Any]:
        """The tenant's accounts for the console (template picker and preview); no secret ids or tokens."""
        return {
            "status": "ok",
            "accounts": [
                {
                    "channel": a.channel.value,
                    "account_id": a.account_id,
                    "display_name": a.display_name,
                    "permissions": sorted(a.permissions),
                    "uses_conversation_routing": a.uses_conversation_routing,
                    "expiry_lead_time_seconds": a.expiry_lead_time_seconds,
                    "human_idle_return_seconds": a.human_idle_return_seconds,
                    "templates": [
                        {
                            "name": t.name,
                            "language": t.language,
                            "category": t.category.value,
                            "status": t.status.value,
                            "parameters": list(t.parameters),
                            # The approved text with {{n}} placeholders: the console previews it filled in.
                            "body": t.body,
                        }
                        for t in a.templates
                    ],
                }
                for a in self.accounts.list_for_tenant(principal.tenant_id)
            ],
        }

    # --- helpers ---------------------------------------------------------------------------------
    def _update(self, record: ContactRecord, plan: Plan, on_conflict: errors.DomainError) -> ContactUpdate:
        """``update_contact`` with its failures answered: 404 if the contact went, else ``on_conflict``."""
        try:
            return self.stores.changes.update(record, plan)
        except ContactNotFoundError as error:
            raise errors.NotFound("unknown_contact", UNKNOWN_CONTACT_MESSAGE) from error
        except ContactConflictError as error:
            raise on_conflict from error

    def _publish(self, event: BusEvent) -> None:
        """Publish after the write; a failure answers 503 so the client retries (same event id)."""
        try:
            self.publish([event])
        except PublishError as error:
            logger.exception("publishing failed", extra={"event_id": event.event_id})
            raise errors.Unavailable(
                "event_publish_failed",
                "The change was recorded but its event could not be published; retry the same request.",
            ) from error


# The sender the state label is computed for: "a person in the console".
_CONSOLE_AGENT = Sender(kind=SenderKind.HUMAN, principal_id="console")


def owner_json(ownership: Ownership) -> dict[str, Any]:
    return {
        "owner": ownership.owner,
        "agent_id": ownership.agent_id,
        "since": _iso(ownership.since),
        "last_activity_at": _iso(ownership.last_activity_at),
        "returns_to_bot_at": _iso(ownership.returns_to_bot_at),
        "returned_on_idle": ownership.returned_on_idle,
        "routing_owner_app_id": ownership.routing_owner_app_id,
    }


def consent_json(record: ContactRecord) -> dict[str, Any]:
    """Consent per scope, and the marketing opt-ins on record (never Meta's subscription token)."""
    opted_out = record.scopes_opted_out()
    return {
        "opted_out": {scope.value: scope in opted_out for scope in ConsentScope},
        "changed_at": _iso(from_ms(record.consent_changed_at_ms())),
        "consent_on_record": record.consent_on_record,
        "marketing_opt_ins": [
            {
                "purpose": o.purpose,
                "opted_in_at": _iso(from_ms(o.opted_in_ms)),
                "has_token": o.token is not None,
            }
            for o in record.all_marketing_opt_ins()
        ],
    }
