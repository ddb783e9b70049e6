"""The contacts API's write side: handover (with Meta's thread control) and consent given
outside the chat, each one guarded write, audited and published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from windowkeeper import errors
from windowkeeper.asof import consent_entry
from windowkeeper.auth import Principal
from windowkeeper.events import BusEvent, DetailType, PublishError
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.ingest.phone import country_calling_code
from windowkeeper.instants import to_ms
from windowkeeper.ownership import effective_owner
from windowkeeper.policy.model import (
    Channel,
)
from windowkeeper.sending.access import UNKNOWN_CONTACT_MESSAGE, audit_actor
from windowkeeper.sending.api_models import ConsentRequest, HandoverRequest
from windowkeeper.sending.contact_json import consent_json, iso, owner_json, stable_event_id
from windowkeeper.sending.contacts_base import (
    META_INBOX_APP_IDS,
    ROUTING_CHANNELS,
    WHATSAPP_NUMBER,
    ContactRef,
    ContactsBase,
)
from windowkeeper.store.audit_records import (
    AuditEntry,
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


@dataclass
class ContactCommands(ContactsBase):
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
                "at": iso(now),
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
                "at": iso(now),
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
