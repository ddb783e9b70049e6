"""Messenger and Instagram: messaging events, handover, comments and feed changes."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.models import (
    HUMAN_INBOX_APP_IDS,
    Change,
    InstagramComment,
    MessagingEntry,
    MessagingEvent,
    PageFeedChange,
    Referral,
)
from windowkeeper.ingest.normalize.common import (
    MARKETING_STOP_STATUSES,
    REFERRAL_OPENS_WINDOW,
    EventBuilder,
    first_problem,
    model_event_id,
    seconds_or_ms,
)
from windowkeeper.ingest.observations import (
    ConsentChange,
    LogLine,
    PageNotice,
    RoutingChange,
)
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind, EntryPoint


class MessagingEvents(EventBuilder):
    def messaging_entry(self, webhook_object: str, channel: Channel, raw: dict[str, Any]) -> None:
        entry_id = str(raw.get("id", ""))
        try:
            entry = MessagingEntry.model_validate(raw)
        except ValidationError as error:
            self._reject("schema_invalid", webhook_object, entry_id, first_problem(error))
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
        enforcement = event.policy_enforcement
        self.out.page_notices.append(
            PageNotice(
                account=account,
                action=enforcement.action if enforcement else None,
                reason=enforcement.reason if enforcement else None,
                at_ms=event.timestamp,
            )
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
            self._reject("schema_invalid", "instagram", entry.id, first_problem(error))
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
            # Instagram comments carry the username only: the inbox shows it until a name is known.
            display_name=f"@{comment.from_.username}" if comment.from_.username else None,
        )

    def page_feed_change(self, account: AccountConfig, entry: MessagingEntry, change: Change) -> None:
        """A comment on a Page post (``feed``): like an Instagram comment, one private reply (M2)."""
        try:
            feed = PageFeedChange.model_validate(change.value)
        except ValidationError as error:
            self._reject("schema_invalid", "page", entry.id, first_problem(error))
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


def _attachment_kind(attachments: list[Any]) -> str:
    first = attachments[0]
    if first.type == "sticker" or (first.payload or {}).get("sticker_id"):
        return "sticker"
    return str(first.type)


def _referral_detail(referral: Referral) -> dict[str, Any]:
    return {"source": referral.source, "type": referral.type, "ref": referral.ref, "ad_id": referral.ad_id}
