"""Meta webhook payloads -> ``Observation``s: one per thing an event tells us about a contact.

The normaliser names what the customer did (``CustomerActionKind``: message, quick reply,
postback, reaction, referral into a thread, plugin opt-in, story reply or mention, WhatsApp call
or the customer accepting our call); whether that kind opens or renews the window on that channel
is the engine's dated rule data (``policy.engine.opens_window``), not decided here. Echoes of
sends (ours, other apps', Meta's inbox), deliveries, reads, statuses, marketing opt-ins, comments
(one private reply, README decision) and un-reactions are no customer window action at all.

Contacts are keyed per business account: Messenger/Instagram ``(page or IG account id, PSID or
IGSID)``; WhatsApp ``(metadata.phone_number_id, wa_id or the business-scoped user_id)``. An entry
whose account we do not know is refused here (never filed under another tenant).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.keywords import KeywordIntent, keyword_intent
from windowkeeper.ingest.models import (
    HUMAN_INBOX_APP_IDS,
    Change,
    Envelope,
    InstagramComment,
    MessagingEntry,
    MessagingEvent,
    PageFeedChange,
    Referral,
    WaCall,
    WaContact,
    WaMessage,
    WaReferral,
    WaStatus,
    WaUserPreference,
    WaValue,
    WhatsAppEntry,
)
from windowkeeper.ingest.observations import (
    ConsentChange,
    ContactKey,
    EntryRejection,
    LogLine,
    Normalized,
    Observation,
    RoutingChange,
)
from windowkeeper.ingest.phone import country_calling_code
from windowkeeper.instants import from_ms, to_ms
from windowkeeper.policy.engine import opens_window
from windowkeeper.policy.model import Channel, ConsentScope, ContactState, CustomerActionKind, EntryPoint
from windowkeeper.policy.rules import marketing_backoff_until

AccountResolver = Callable[[str, str], list[AccountConfig]]

OBJECT_CHANNEL = {
    "page": Channel.MESSENGER,
    "instagram": Channel.INSTAGRAM,
    "whatsapp_business_account": Channel.WHATSAPP,
}
WHATSAPP_FIELDS = frozenset({"messages", "calls", "user_preferences"})
KEYWORD_OPT_OUT_SCOPES = frozenset({ConsentScope.ALL})  # "STOP" means no messages at all
KEYWORD_OPT_IN_SCOPES = frozenset({ConsentScope.ALL, ConsentScope.OUTSIDE_WINDOW})
CALL_ACCEPTED_STATUSES = frozenset({"accepted", "answered", "completed"})
# Marketing-message opt-in webhooks (messaging_optins, M15/M11): the status Meta sends when the
# person stops them. The reference spells it "STOP NOTIFICATIONS"; spacing/underscores are folded.
MARKETING_STOP_STATUSES = frozenset({"STOP NOTIFICATIONS"})

# Fact sheet §1.2 (M1, M2): a referral into a thread opens the window on its own, except a
# Click-to-Messenger / Click-to-Direct ad click, which opens it only once the person sends a
# message ("clicks a CTM ad *and then sends a message*"); an m.me / ig.me link (SHORTLINK, a
# Messenger code, the chat plugin...) into an existing thread opens it. Sources not listed open it.
REFERRAL_OPENS_WINDOW: dict[str, bool] = {
    "ADS": False,  # M1, M2: the ad's first message opens it (and may start the 7-day ad window)
    "SHORTLINK": True,  # M1, M2: m.me / ig.me link with ref into an existing thread
    "MESSENGER_CODE": True,
    "CUSTOMER_CHAT_PLUGIN": True,
    "DISCOVER_TAB": True,
}


def event_hash(*parts: Any) -> str:
    """A stable id for events Meta gives no id of their own (the same event hashes the same)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def model_event_id(kind: str, account_id: str, event: BaseModel) -> str:
    """``<kind>:<hash>`` for a Meta event without an id: the hash of the event as received."""
    return f"{kind}:{event_hash(account_id, event.model_dump(mode='json'))}"


def seconds_or_ms(value: int) -> int:
    """Messenger/IG use epoch ms, WhatsApp and some IG ``changes`` epoch seconds."""
    return value * 1000 if value < 100_000_000_000 else value


class _Builder:
    """Accumulates observations for one POST; one instance per ``normalize`` call."""

    def __init__(self, resolve: AccountResolver) -> None:
        self.resolve = resolve
        self.out = Normalized()

    # ------------------------------------------------------------ shared helpers

    def _observe(
        self,
        account: AccountConfig,
        contact_id: str,
        *,
        kind: str,
        at_ms: int,
        event_id: str,
        detail_type: str | None,
        detail: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Observation:
        key = ContactKey(account.channel, account.account_id, contact_id)
        self.out.accounts[(account.channel, account.account_id)] = account
        if account.channel is Channel.WHATSAPP and fields.get("country_code") is None:
            # A wa_id is the phone number, so every fact about the contact tells its country: the
            # stored identity must not depend on which kind of event happens to be written first
            # (a consent-only write landing before a status-only POST that needs no write).
            fields["country_code"] = country_calling_code(contact_id)
        if fields.get("opens_window"):
            # Which kinds open a window is the engine's rule data (per channel, dated).
            fields["opens_window"] = _opens(account.channel, fields["action"], at_ms)
        base = {
            "channel": account.channel.value,
            "account_id": account.account_id,
            "tenant_id": account.tenant_id,
            "contact_id": contact_id,
            "kind": kind,
            "at": from_ms(at_ms),
        }
        observation = Observation(
            key=key,
            tenant_id=account.tenant_id,
            event_id=event_id,
            kind=kind,
            at_ms=at_ms,
            detail_type=detail_type,
            detail={**base, **(detail or {})},
            **fields,
        )
        self.out.observations.append(observation)
        return observation

    def _consent(
        self, account: AccountConfig, contact_id: str, at_ms: int, event_id: str, change: ConsentChange
    ) -> None:
        self._observe(
            account,
            contact_id,
            kind="consent",
            at_ms=at_ms,
            event_id=f"{event_id}:consent",
            detail_type=DetailType.CONSENT_CHANGED,
            detail={
                "source": change.source,
                "opted_out": sorted(s.value for s in change.opt_out),
                "opted_in": sorted(s.value for s in change.opt_in),
            },
            consent=change,
        )

    def _keyword(
        self, account: AccountConfig, contact_id: str, at_ms: int, event_id: str, text: str | None
    ) -> None:
        intent = keyword_intent(text, account)
        if intent is KeywordIntent.OPT_OUT:
            change = ConsentChange(source="keyword", opt_out=KEYWORD_OPT_OUT_SCOPES)
        elif intent is KeywordIntent.OPT_IN:
            change = ConsentChange(source="keyword", opt_in=KEYWORD_OPT_IN_SCOPES, consent_on_record=True)
        else:
            return
        self._consent(account, contact_id, at_ms, event_id, change)

    def _reject(self, reason: str, webhook_object: str, entry_id: str, detail: str = "") -> None:
        self.out.rejections.append(EntryRejection(reason, webhook_object, entry_id, detail))

    # ------------------------------------------------------------ Messenger / Instagram

    def messaging_entry(self, webhook_object: str, channel: Channel, raw: dict[str, Any]) -> None:
        entry_id = str(raw.get("id", ""))
        try:
            entry = MessagingEntry.model_validate(raw)
        except ValidationError as error:
            self._reject("schema_invalid", webhook_object, entry_id, _first_problem(error))
            return
        account = next((a for a in self.resolve(webhook_object, entry.id) if a.channel is channel), None)
        if account is None:
            self._reject("unknown_account", webhook_object, entry.id)
            return
        for event in entry.messaging:
            self.messaging_event(account, event, standby=False)
        for event in entry.standby:
            self.messaging_event(account, event, standby=True)
        for change in entry.changes:
            self.messaging_change(account, entry, change)

    def messaging_event(self, account: AccountConfig, event: MessagingEvent, *, standby: bool) -> None:
        self.out.events += 1
        kind = event.known_kind()
        if kind is None:
            self.out.unknown_kinds.append(
                f"{account.channel.value}:messaging:{'+'.join(event.unknown_keys())}"
            )
            return
        handler = getattr(self, f"_on_{kind}")
        handler(account, event, standby)

    def _customer(self, event: MessagingEvent) -> str | None:
        sender = event.sender
        return (sender.id or sender.user_ref) if sender else None

    def _common(self, event: MessagingEvent, standby: bool) -> dict[str, Any]:
        return {"at_ms": event.timestamp, "standby": standby}

    def _on_message(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        message = event.message
        assert message is not None
        if message.is_echo:
            self._on_echo(account, event)
            return
        contact_id = self._customer(event)
        if contact_id is None or message.is_deleted:
            self.out.ignored += 1  # an unsent message changes nothing we keep
            return
        if message.quick_reply is not None:
            action = CustomerActionKind.QUICK_REPLY
        elif message.reply_to is not None and message.reply_to.story:
            action = CustomerActionKind.STORY_REPLY
        elif any(a.type == "story_mention" for a in message.attachments):
            action = CustomerActionKind.STORY_MENTION
        else:
            action = CustomerActionKind.MESSAGE
        message_kind = _attachment_kind(message.attachments) if message.attachments else "text"
        entry_point, ad_started = self._entry_point(account.channel, message.referral, first_message=True)
        detail: dict[str, Any] = {
            "message_id": message.mid,
            "message_kind": message_kind,
            "text": message.text,
            "action": action.value,
            "standby": standby,
        }
        if message.quick_reply is not None:
            detail["payload"] = message.quick_reply.payload
        if message.reply_to is not None and message.reply_to.mid:
            detail["reply_to"] = message.reply_to.mid
        if message.attachments:
            # Story media must not be stored or cached (I3): types only, no URLs.
            detail["attachments"] = [a.type for a in message.attachments]
        if message.referral is not None:
            detail["referral"] = _referral_detail(message.referral)
        self._observe(
            account,
            contact_id,
            kind=action.value,
            event_id=message.mid,
            detail_type=DetailType.CUSTOMER_ACTION,
            detail=detail,
            action=action,
            opens_window=True,
            entry_point=entry_point,
            ad_started=ad_started,
            log=LogLine(message.mid, "in", message_kind, message.text, "customer"),
            **self._common(event, standby),
        )
        self._keyword(account, contact_id, event.timestamp, message.mid, message.text)

    def _on_echo(self, account: AccountConfig, event: MessagingEvent) -> None:
        message = event.message
        assert message is not None
        contact_id = event.recipient.id if event.recipient else None
        app_id = message.app_id
        if contact_id is None:
            self.out.ignored += 1
            return
        message_kind = _attachment_kind(message.attachments) if message.attachments else "text"
        if app_id in HUMAN_INBOX_APP_IDS:
            # A person typed in Meta's inbox: the conversation is a human's now (the bot steps back).
            self._observe(
                account,
                contact_id,
                kind="inbox_echo",
                at_ms=event.timestamp,
                event_id=message.mid,
                detail_type=None,
                routing=RoutingChange(owner="human", owner_app_id=app_id, human_activity=True),
                log=LogLine(message.mid, "out", message_kind, message.text, "page_inbox"),
            )
        elif app_id and account.app_id and app_id != account.app_id:
            self._observe(
                account,
                contact_id,
                kind="echo",
                at_ms=event.timestamp,
                event_id=message.mid,
                detail_type=None,
                log=LogLine(message.mid, "out", message_kind, message.text, f"app:{app_id}"),
            )
        else:
            self.out.ignored += 1  # our own send: the send path logged it already

    def _on_postback(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        postback = event.postback
        contact_id = self._customer(event)
        assert postback is not None
        if contact_id is None:
            self.out.ignored += 1
            return
        event_id = postback.mid or model_event_id("postback", account.account_id, event)
        entry_point, ad_started = self._entry_point(account.channel, postback.referral, first_message=True)
        detail: dict[str, Any] = {"title": postback.title, "payload": postback.payload, "standby": standby}
        if postback.referral is not None:
            detail["referral"] = _referral_detail(postback.referral)
        self._observe(
            account,
            contact_id,
            kind="postback",
            event_id=event_id,
            detail_type=DetailType.CUSTOMER_ACTION,
            detail=detail,
            action=CustomerActionKind.POSTBACK,
            opens_window=True,
            entry_point=entry_point,
            ad_started=ad_started,
            log=LogLine(event_id, "in", "postback", postback.title, "customer"),
            **self._common(event, standby),
        )

    def _on_reaction(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        reaction = event.reaction
        contact_id = self._customer(event)
        assert reaction is not None
        if contact_id is None:
            self.out.ignored += 1
            return
        reacted = (reaction.action or "react") == "react"
        self._observe(
            account,
            contact_id,
            kind="reaction" if reacted else "unreaction",
            event_id=model_event_id("reaction", account.account_id, event),
            detail_type=DetailType.CUSTOMER_ACTION,
            detail={
                "message_id": reaction.mid,
                "reaction": reaction.reaction,
                "emoji": reaction.emoji,
                "action": reaction.action,
                "standby": standby,
            },
            action=CustomerActionKind.REACTION,
            opens_window=reacted,
            **self._common(event, standby),
        )

    def _on_optin(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        optin = event.optin
        assert optin is not None
        contact_id = self._customer(event) or optin.user_ref
        if contact_id is None:
            self.out.ignored += 1
            return
        event_id = model_event_id("optin", account.account_id, event)
        if optin.type == "notification_messages":
            # Marketing-message opt-in / stop / resume: consent only, never a window (M15).
            status = " ".join((optin.notification_messages_status or "").upper().replace("_", " ").split())
            if status in MARKETING_STOP_STATUSES:
                change = ConsentChange(source="marketing_stop", opt_out=frozenset({ConsentScope.MARKETING}))
            else:
                change = ConsentChange(
                    source="marketing_optin",
                    opt_in=frozenset({ConsentScope.MARKETING}),
                    marketing_opt_in=True,
                    token=optin.notification_messages_token or optin.subscription_token,
                )
            self._consent(account, contact_id, event.timestamp, event_id, change)
            return
        self._observe(
            account,
            contact_id,
            kind="plugin_opt_in",
            event_id=event_id,
            detail_type=DetailType.CUSTOMER_ACTION,
            detail={"ref": optin.ref, "user_ref": optin.user_ref, "standby": standby},
            action=CustomerActionKind.PLUGIN_OPT_IN,
            opens_window=True,
            **self._common(event, standby),
        )

    def _on_referral(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        referral = event.referral
        contact_id = self._customer(event)
        assert referral is not None
        if contact_id is None:
            self.out.ignored += 1
            return
        entry_point, _ = self._entry_point(account.channel, referral, first_message=False)
        opens = REFERRAL_OPENS_WINDOW.get((referral.source or "").upper(), True)
        self._observe(
            account,
            contact_id,
            kind="referral",
            event_id=model_event_id("referral", account.account_id, event),
            detail_type=DetailType.CUSTOMER_ACTION,
            detail={"referral": _referral_detail(referral), "standby": standby, "opens_window": opens},
            action=CustomerActionKind.REFERRAL,
            opens_window=opens,
            entry_point=entry_point,
            **self._common(event, standby),
        )

    def _status(
        self, account: AccountConfig, event: MessagingEvent, status: str, extra: dict[str, Any]
    ) -> None:
        contact_id = self._customer(event)
        if contact_id is None:
            self.out.ignored += 1
            return
        self._observe(
            account,
            contact_id,
            kind=status,
            at_ms=event.timestamp,
            event_id=model_event_id(status, account.account_id, event),
            detail_type=DetailType.MESSAGE_STATUS,
            detail={"status": status, **extra},
        )

    def _on_delivery(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        assert event.delivery is not None
        self._status(
            account,
            event,
            "delivered",
            {"message_ids": event.delivery.mids, "watermark": event.delivery.watermark},
        )

    def _on_read(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        assert event.read is not None
        self._status(account, event, "read", {"watermark": event.read.watermark})

    def _handover(
        self, account: AccountConfig, event: MessagingEvent, action: str, routing: RoutingChange | None
    ) -> None:
        contact_id = self._customer(event)
        control = getattr(event, action)
        if contact_id is None:
            self.out.ignored += 1
            return
        self._observe(
            account,
            contact_id,
            kind=action,
            at_ms=event.timestamp,
            event_id=model_event_id(action, account.account_id, event),
            detail_type=DetailType.HANDOVER,
            detail={
                "action": action,
                "previous_owner_app_id": control.previous_owner_app_id,
                "new_owner_app_id": control.new_owner_app_id,
                "requested_owner_app_id": control.requested_owner_app_id,
                "owner": routing.owner if routing else None,
            },
            routing=routing,
        )

    def _owner_of(self, account: AccountConfig, app_id: str | None) -> RoutingChange:
        if app_id in HUMAN_INBOX_APP_IDS:
            return RoutingChange(owner="human", owner_app_id=app_id)
        if app_id is not None and app_id == account.app_id:
            return RoutingChange(owner="bot", owner_app_id=app_id)
        return RoutingChange(owner=None, owner_app_id=app_id)

    def _on_pass_thread_control(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        assert event.pass_thread_control is not None
        routing = self._owner_of(account, event.pass_thread_control.new_owner_app_id)
        self._handover(account, event, "pass_thread_control", routing)

    def _on_take_thread_control(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        assert event.take_thread_control is not None
        routing = self._owner_of(account, event.take_thread_control.new_owner_app_id)
        self._handover(account, event, "take_thread_control", routing)

    def _on_request_thread_control(
        self, account: AccountConfig, event: MessagingEvent, standby: bool
    ) -> None:
        self._handover(account, event, "request_thread_control", None)  # a request changes nothing yet

    def _on_release_thread_control(
        self, account: AccountConfig, event: MessagingEvent, standby: bool
    ) -> None:
        # Released: the thread is idle and goes back to the default app (the bot).
        self._handover(
            account, event, "release_thread_control", RoutingChange(owner="bot", owner_app_id=None)
        )

    def _on_messaging_feedback(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        contact_id = self._customer(event)
        if contact_id is None:
            self.out.ignored += 1
            return
        self._observe(
            account,
            contact_id,
            kind="feedback",
            at_ms=event.timestamp,
            event_id=model_event_id("feedback", account.account_id, event),
            detail_type=DetailType.CUSTOMER_ACTION,
            detail={"feedback": event.messaging_feedback, "standby": standby},
        )

    def _on_policy_enforcement(self, account: AccountConfig, event: MessagingEvent, standby: bool) -> None:
        # Page-level (Meta warned or blocked the Page): no contact to update; the service logs it.
        self.out.ignored += 1
        self.out.page_notices.append(
            (account.account_id, event.policy_enforcement.action if event.policy_enforcement else None)
        )

    def messaging_change(self, account: AccountConfig, entry: MessagingEntry, change: Change) -> None:
        self.out.events += 1
        if account.channel is Channel.MESSENGER and change.field == "feed":
            self.page_feed_change(account, entry, change)
            return
        if account.channel is not Channel.INSTAGRAM or change.field != "comments":
            self.out.unknown_kinds.append(f"{account.channel.value}:changes:{change.field}")
            return
        try:
            comment = InstagramComment.model_validate(change.value)
        except ValidationError as error:
            self._reject("schema_invalid", "instagram", entry.id, _first_problem(error))
            return
        if comment.from_.id == entry.id:
            self.out.ignored += 1  # our own comment (a reply in the thread under the post)
            return
        at_ms = seconds_or_ms(comment.timestamp or entry.time or 0)
        media_id = (comment.media or {}).get("id")
        self._observe(
            account,
            comment.from_.id,
            kind="comment",
            at_ms=at_ms,
            event_id=f"comment:{comment.id}",
            detail_type=DetailType.CUSTOMER_ACTION,
            detail={"comment_id": comment.id, "text": comment.text, "media_id": media_id},
            action=CustomerActionKind.COMMENT,
            comment_id=comment.id,
            entry_point=EntryPoint.COMMENT,
            log=LogLine(f"comment-{comment.id}", "in", "comment", comment.text, "customer"),
        )

    def page_feed_change(self, account: AccountConfig, entry: MessagingEntry, change: Change) -> None:
        """A comment on a Page post (``feed``): like an Instagram comment, one private reply (M2)."""
        try:
            feed = PageFeedChange.model_validate(change.value)
        except ValidationError as error:
            self._reject("schema_invalid", "page", entry.id, _first_problem(error))
            return
        if feed.item != "comment" or feed.verb != "add" or feed.comment_id is None or feed.from_ is None:
            self.out.ignored += 1  # posts, reactions, edits, removals: nothing to reply to
            return
        if feed.from_.id == entry.id:
            self.out.ignored += 1  # the Page's own comment (e.g. a public reply under the post)
            return
        at_ms = seconds_or_ms(feed.created_time or entry.time or 0)
        self._observe(
            account,
            feed.from_.id,
            kind="comment",
            at_ms=at_ms,
            event_id=f"comment:{feed.comment_id}",
            detail_type=DetailType.CUSTOMER_ACTION,
            detail={
                "comment_id": feed.comment_id,
                "text": feed.message,
                "post_id": feed.post_id,
                "parent_id": feed.parent_id,
            },
            action=CustomerActionKind.COMMENT,
            comment_id=feed.comment_id,
            entry_point=EntryPoint.COMMENT,
            display_name=feed.from_.name,
            log=LogLine(f"comment-{feed.comment_id}", "in", "comment", feed.message, "customer"),
        )

    def _entry_point(
        self, channel: Channel, referral: Referral | None, *, first_message: bool
    ) -> tuple[EntryPoint | None, bool]:
        if referral is None:
            return None, False
        if (referral.source or "").upper() == "ADS":
            ad = (
                EntryPoint.CLICK_TO_DIRECT_AD
                if channel is Channel.INSTAGRAM
                else EntryPoint.CLICK_TO_MESSENGER_AD
            )
            return ad, first_message  # the optional 7-day window counts from the first message
        return EntryPoint.LINK, False

    # ------------------------------------------------------------ WhatsApp

    def whatsapp_entry(self, raw: dict[str, Any]) -> None:
        webhook_object = "whatsapp_business_account"
        entry_id = str(raw.get("id", ""))
        try:
            entry = WhatsAppEntry.model_validate(raw)
        except ValidationError as error:
            self._reject("schema_invalid", webhook_object, entry_id, _first_problem(error))
            return
        accounts: list[AccountConfig] | None = None
        for change in entry.changes:
            if change.field not in WHATSAPP_FIELDS:
                self.out.events += 1
                self.out.unknown_kinds.append(f"whatsapp:{change.field}")
                continue
            try:
                value = WaValue.model_validate(change.value)
            except ValidationError as error:
                self._reject("schema_invalid", webhook_object, entry.id, _first_problem(error))
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


def normalize(envelope: Envelope, resolve: AccountResolver) -> Normalized:
    """Every entry and event of one POST; refused entries and unknown kinds are reported, not raised."""
    builder = _Builder(resolve)
    channel = OBJECT_CHANNEL[envelope.object]
    for raw in envelope.entry:
        if channel is Channel.WHATSAPP:
            builder.whatsapp_entry(raw)
        else:
            builder.messaging_entry(envelope.object, channel, raw)
    return builder.out


def _opens(channel: Channel, action: CustomerActionKind, at_ms: int) -> bool:
    probe = ContactState(channel=channel, account_id="-", contact_id="-", last_customer_action_kind=action)
    at = from_ms(at_ms)
    assert at is not None
    return opens_window(probe, at)


def _attachment_kind(attachments: list[Any]) -> str:
    first = attachments[0]
    if first.type == "sticker" or (first.payload or {}).get("sticker_id"):
        return "sticker"
    return str(first.type)


def _referral_detail(referral: Referral) -> dict[str, Any]:
    return {"source": referral.source, "type": referral.type, "ref": referral.ref, "ad_id": referral.ad_id}


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


def _first_problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
