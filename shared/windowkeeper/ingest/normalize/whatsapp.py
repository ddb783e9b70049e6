"""WhatsApp Cloud API: messages, statuses, calls and marketing preferences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.models import (
    Change,
    WaCall,
    WaContact,
    WaMessage,
    WaReferral,
    WaStatus,
    WaTemplateUpdate,
    WaUserPreference,
    WaValue,
    WhatsAppEntry,
)
from windowkeeper.ingest.normalize.common import (
    CALL_ACCEPTED_STATUSES,
    TEMPLATE_FIELDS,
    WHATSAPP_FIELDS,
    EventBuilder,
    first_problem,
    model_event_id,
    seconds_or_ms,
)
from windowkeeper.ingest.observations import (
    ConsentChange,
    LogLine,
    TemplateNotice,
)
from windowkeeper.ingest.phone import country_calling_code
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind, EntryPoint, TemplateCategory
from windowkeeper.policy.rules import marketing_backoff_until, template_status_of_event
from windowkeeper.store.template_records import TemplateChange


class WhatsAppEvents(EventBuilder):
    def whatsapp_entry(self, raw: dict[str, Any]) -> None:
        webhook_object = "whatsapp_business_account"
        entry_id = str(raw.get("id", ""))
        try:
            entry = WhatsAppEntry.model_validate(raw)
        except ValidationError as error:
            self._reject("schema_invalid", webhook_object, entry_id, first_problem(error))
            return
        accounts: list[AccountConfig] | None = None
        for change in entry.changes:
            if change.field in TEMPLATE_FIELDS:
                self._wa_template(webhook_object, entry, change)
                continue
            if change.field not in WHATSAPP_FIELDS:
                self.out.events += 1
                self.out.unknown_kinds.append(f"whatsapp:{change.field}")
                continue
            try:
                value = WaValue.model_validate(change.value)
            except ValidationError as error:
                self._reject("schema_invalid", webhook_object, entry.id, first_problem(error))
                continue
            if accounts is None:
                accounts = self.resolve(webhook_object, entry.id)
            phone_number_id = value.metadata.phone_number_id
            account = next(
                (a for a in accounts if a.channel is Channel.WHATSAPP and a.account_id == phone_number_id),
                None,
            )
            if account is None:
                self._reject("unknown_account", webhook_object, f"{entry.id}/{phone_number_id}")
                continue
            self.out.events += (
                len(value.messages) + len(value.statuses) + len(value.calls) + len(value.user_preferences)
            )
            for message in value.messages:
                self._wa_message(account, value.contacts, message)
            for status in value.statuses:
                self._wa_status(account, status)
            for call in value.calls:
                self._wa_call(account, value.contacts, call)
            for preference in value.user_preferences:
                self._wa_preference(account, preference)
            if value.model_extra and "errors" in value.model_extra:
                self.out.unknown_kinds.append("whatsapp:messages:errors")

    def _wa_template(self, webhook_object: str, entry: WhatsAppEntry, change: Change) -> None:
        """A template's status, category or quality changed: it holds for every number of the WABA."""
        self.out.events += 1
        try:
            update = WaTemplateUpdate.model_validate(change.value)
        except ValidationError as error:
            self._reject("schema_invalid", webhook_object, entry.id, first_problem(error))
            return
        accounts = tuple(a for a in self.resolve(webhook_object, entry.id) if a.channel is Channel.WHATSAPP)
        if not accounts:
            self._reject("unknown_account", webhook_object, entry.id)
            return
        at_ms = seconds_or_ms(entry.time) if entry.time is not None else None
        if at_ms is None:
            self._reject("schema_invalid", webhook_object, entry.id, "time: the entry carries no time")
            return
        names = {"name": update.message_template_name, "language": update.message_template_language}
        fact: TemplateChange | None = None
        if change.field == "message_template_status_update" and update.event:
            event = update.event.upper()
            fact = TemplateChange(
                **names,
                fact="status",
                at_ms=at_ms,
                status=template_status_of_event(event),
                event=event,
                reason=update.reason,
            )
        elif change.field == "template_category_update" and update.previous_category and update.new_category:
            try:
                category = TemplateCategory(update.new_category.upper())
            except ValueError:
                category = None
            if category is not None:
                fact = TemplateChange(**names, fact="category", at_ms=at_ms, category=category)
        elif change.field == "message_template_quality_update" and update.new_quality_score:
            fact = TemplateChange(
                **names, fact="quality", at_ms=at_ms, quality=update.new_quality_score.upper()
            )
        if fact is None:
            # An announced re-categorisation (the completed one follows), or a value we do not read.
            self.out.ignored += 1
            return
        self.out.template_notices.append(TemplateNotice(accounts=accounts, change=fact))

    def _wa_identity(self, contacts: Iterable[WaContact], contact_id: str) -> dict[str, Any]:
        match = next((c for c in contacts if contact_id in (c.wa_id, c.user_id)), None)
        return {
            "country_code": country_calling_code(contact_id),
            "whatsapp_user_id": match.user_id if match else None,
            "display_name": match.profile.name if match and match.profile else None,
        }

    def _wa_message(self, account: AccountConfig, contacts: list[WaContact], message: WaMessage) -> None:
        contact_id = message.from_ or message.from_user_id
        if contact_id is None and len(contacts) == 1:
            contact_id = contacts[0].wa_id or contacts[0].user_id
        if contact_id is None:
            self.out.ignored += 1
            return
        at_ms = message.timestamp * 1000
        text, payload = _wa_text(message)
        if message.type == "system":
            self.out.ignored += 1  # Meta's note (e.g. number changed), not the customer writing
            return
        if message.type in {"interactive", "button"} and payload is not None:
            action = CustomerActionKind.QUICK_REPLY
        elif message.type == "reaction":
            action = CustomerActionKind.REACTION
        else:
            action = CustomerActionKind.MESSAGE
        entry_point = _wa_entry_point(message.referral)
        detail: dict[str, Any] = {
            "message_id": message.id,
            "message_kind": message.type,
            "text": text,
            "action": action.value,
        }
        if payload is not None:
            detail["payload"] = payload
        if message.context and message.context.get("id"):
            detail["reply_to"] = message.context["id"]
        if message.referral is not None:
            detail["referral"] = {
                "source_type": message.referral.source_type,
                "source_id": message.referral.source_id,
                "ctwa_clid": message.referral.ctwa_clid,
            }
        self._observe(
            account,
            contact_id,
            kind=action.value,
            at_ms=at_ms,
            event_id=message.id,
            detail_type=DetailType.CUSTOMER_ACTION,
            detail=detail,
            action=action,
            opens_window=True,
            entry_point=entry_point,
            log=LogLine(message.id, "in", message.type, text, "customer"),
            **self._wa_identity(contacts, contact_id),
        )
        if message.type == "text":
            self._keyword(account, contact_id, at_ms, message.id, text)

    def _wa_status(self, account: AccountConfig, status: WaStatus) -> None:
        contact_id = status.recipient_id or status.recipient_user_id
        if contact_id is None:
            self.out.ignored += 1
            return
        at_ms = status.timestamp * 1000
        codes = [error.code for error in status.errors]
        event_id = f"{status.id}:{status.status}"
        detail: dict[str, Any] = {"message_id": status.id, "status": status.status, "error_codes": codes}
        if status.pricing is not None:
            detail["pricing"] = {"type": status.pricing.type, "category": status.pricing.category}
        backoff_until = marketing_backoff_until(
            account.channel, codes, datetime.fromtimestamp(status.timestamp, tz=UTC)
        )
        backoff = to_ms(backoff_until) if backoff_until is not None else None
        self._observe(
            account,
            contact_id,
            kind="status",
            at_ms=at_ms,
            event_id=event_id,
            detail_type=DetailType.MESSAGE_STATUS,
            detail=detail,
            backoff_until_ms=backoff,
            closed_early=131047 in codes,
            country_code=country_calling_code(status.recipient_id),
        )
        if 131026 in codes:
            self._observe(
                account,
                contact_id,
                kind="unreachable",
                at_ms=at_ms,
                event_id=f"{event_id}:unreachable",
                detail_type=DetailType.CONTACT_UNREACHABLE,
                detail={"message_id": status.id, "error_code": 131026},
                unreachable_reason="131026",
            )
        if 131050 in codes:
            change = ConsentChange(source="error_131050", opt_out=frozenset({ConsentScope.MARKETING}))
            self._consent(account, contact_id, at_ms, event_id, change)

    def _wa_call(self, account: AccountConfig, contacts: list[WaContact], call: WaCall) -> None:
        user_initiated = (call.direction or "USER_INITIATED").upper() == "USER_INITIATED"
        contact_id = call.from_ if user_initiated else call.to
        if contact_id is None:
            self.out.ignored += 1
            return
        accepted = (call.status or "").lower() in CALL_ACCEPTED_STATUSES or bool(call.duration)
        if not user_initiated and not accepted:
            self.out.ignored += 1  # a business call the customer did not take opens nothing (W16)
            return
        at_ms = call.timestamp * 1000
        event_id = f"call:{call.id}:{call.event or 'event'}"
        log = (
            None if call.event == "terminate" else LogLine(f"call-{call.id}", "in", "call", None, "customer")
        )
        self._observe(
            account,
            contact_id,
            kind="call",
            at_ms=at_ms,
            event_id=event_id,
            detail_type=DetailType.CUSTOMER_ACTION,
            detail={
                "call_id": call.id,
                "event": call.event,
                "direction": call.direction,
                "status": call.status,
            },
            action=CustomerActionKind.CALL,
            opens_window=True,
            log=log,
            **self._wa_identity(contacts, contact_id),
        )

    def _wa_preference(self, account: AccountConfig, preference: WaUserPreference) -> None:
        contact_id = preference.wa_id or preference.user_id
        value = preference.value.lower()
        if contact_id is None or (preference.category or "marketing_messages") != "marketing_messages":
            self.out.ignored += 1
            return
        at_ms = preference.timestamp * 1000
        event_id = model_event_id("user_preferences", account.account_id, preference)
        if value == "stop":
            change = ConsentChange(source="user_preferences", opt_out=frozenset({ConsentScope.MARKETING}))
        elif value == "resume":
            change = ConsentChange(
                source="user_preferences", opt_in=frozenset({ConsentScope.MARKETING}), marketing_opt_in=True
            )
        else:
            self.out.ignored += 1
            return
        self._consent(account, contact_id, at_ms, event_id, change)


def _wa_entry_point(referral: WaReferral | None) -> EntryPoint | None:
    if referral is None:
        return None
    if referral.ctwa_clid or (referral.source_type or "").lower() == "ad":
        return EntryPoint.CLICK_TO_WHATSAPP_AD
    return EntryPoint.LINK


def _wa_text(message: WaMessage) -> tuple[str | None, str | None]:
    """(text shown to an agent, machine payload) for the message types that carry them."""
    if message.text:
        return message.text.get("body"), None
    if message.interactive:
        reply = message.interactive.get("button_reply") or message.interactive.get("list_reply")
        if isinstance(reply, dict):
            return reply.get("title"), reply.get("id")
        return None, None
    if message.button:
        return message.button.get("text"), message.button.get("payload")
    if message.reaction:
        return message.reaction.get("emoji"), None
    return None, None
