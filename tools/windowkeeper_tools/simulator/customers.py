"""Playing the customer: signed, Meta-shaped webhooks for what a customer (or Meta) does."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.model import Channel
from windowkeeper.policy.rules import template_status_of_event
from windowkeeper_tools.simulator import payloads as p
from windowkeeper_tools.simulator.base import (
    AccountRef,
    SimComment,
    SimulatorBase,
    WebhookDelivery,
)


class CustomerPlay(SimulatorBase):
    # --- playing the customer ---------------------------------------------------------------------

    def account(self, channel: Channel | str, account: AccountConfig | AccountRef | str) -> AccountRef:
        channel = Channel(channel)
        if isinstance(account, AccountConfig | AccountRef):
            ref = account if isinstance(account, AccountRef) else AccountRef.of(account)
            with self._lock:
                self._accounts.setdefault(ref.account_id, ref)
        else:
            with self._lock:
                ref = self._accounts.get(account) or AccountRef(channel, account, account)
                self._accounts.setdefault(ref.account_id, ref)
        if ref.channel is not channel:
            raise ValueError(
                f"account {ref.account_id} is a {ref.channel.value} account, not {channel.value}"
            )
        return ref

    def customer_writes(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        text: str,
        at: datetime | None = None,
    ) -> WebhookDelivery:
        """The customer sends ``text`` at ``at`` (default: the simulator's now)."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            payload = p.whatsapp_text(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                text,
                at,
                display_phone_number=ref.display_phone_number,
            )
        else:
            payload = p.messenger_message(ref.account_id, contact_id, text, at, obj=_object(ref.channel))
        self._customer_acted(ref, contact_id, at)
        return self.deliver(payload)

    def customer_clicks_ad(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        text: str,
        at: datetime | None = None,
        *,
        ad_id: str = "120210000000042",
    ) -> WebhookDelivery:
        """The first message after a Click-to-Messenger / -Direct / -WhatsApp ad."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            payload = p.whatsapp_ad_message(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                text,
                at,
                ad_id=ad_id,
                display_phone_number=ref.display_phone_number,
            )
        else:
            payload = p.messenger_ad_message(
                ref.account_id, contact_id, text, at, ad_id=ad_id, obj=_object(ref.channel)
            )
        self._customer_acted(ref, contact_id, at)
        return self.deliver(payload)

    def customer_postback(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        title: str = "Get Started",
        payload: str = "GET_STARTED",
        *,
        at: datetime | None = None,
    ) -> WebhookDelivery:
        """A button tap: Messenger/Instagram postback, WhatsApp interactive button reply."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            body = p.whatsapp_button_reply(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                title,
                at,
                reply_id=payload,
                display_phone_number=ref.display_phone_number,
            )
        else:
            body = p.messenger_postback(
                ref.account_id, contact_id, title, payload, at, obj=_object(ref.channel)
            )
        self._customer_acted(ref, contact_id, at)
        return self.deliver(body)

    def customer_reacts(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        target_message_id: str,
        at: datetime | None = None,
        *,
        emoji: str = "\u2764\ufe0f",
    ) -> WebhookDelivery:
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.WHATSAPP:
            body = p.whatsapp_reaction(
                ref.webhook_id,
                ref.account_id,
                contact_id,
                target_message_id,
                at,
                emoji=emoji,
                display_phone_number=ref.display_phone_number,
            )
        else:
            body = p.messenger_reaction(
                ref.account_id, contact_id, target_message_id, at, emoji=emoji, obj=_object(ref.channel)
            )
        self._customer_acted(ref, contact_id, at)
        return self.deliver(body)

    def customer_calls(
        self, account: AccountConfig | AccountRef | str, wa_id: str, at: datetime | None = None
    ) -> WebhookDelivery:
        """A WhatsApp user call: opens the customer service window, answered or not (W16)."""
        ref = self.account(Channel.WHATSAPP, account)
        at = self._instant(at)
        payload = p.whatsapp_call(
            ref.webhook_id, ref.account_id, wa_id, at, display_phone_number=ref.display_phone_number
        )
        self._customer_acted(ref, wa_id, at)
        return self.deliver(payload)

    def customer_comments(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        comment_id: str,
        text: str,
        *,
        at: datetime | None = None,
    ) -> WebhookDelivery:
        """A comment on a post: allows one private reply within 7 days, not a full window."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if ref.channel is Channel.INSTAGRAM:
            payload = p.instagram_comment(ref.account_id, contact_id, comment_id, text, at)
        elif ref.channel is Channel.MESSENGER:
            payload = p.messenger_comment(ref.account_id, contact_id, comment_id, text, at)
        else:
            raise ValueError("comments exist on Messenger and Instagram only")
        with self._lock:
            self._state.comments[comment_id] = SimComment(ref.channel, ref.account_id, contact_id, at)
        return self.deliver(payload)

    def customer_marketing_preference(
        self, account: AccountConfig | AccountRef | str, wa_id: str, value: str, at: datetime | None = None
    ) -> WebhookDelivery:
        """WhatsApp Stop / Resume of marketing messages (``user_preferences``, W9)."""
        ref = self.account(Channel.WHATSAPP, account)
        at = self._instant(at)
        payload = p.whatsapp_user_preferences(
            ref.webhook_id, ref.account_id, wa_id, value, at, display_phone_number=ref.display_phone_number
        )
        with self._lock:
            if value == "stop":
                self._state.marketing_stopped.add((ref.account_id, wa_id))
            else:
                self._state.marketing_stopped.discard((ref.account_id, wa_id))
        return self.deliver(payload)

    def message_status(
        self,
        account: AccountConfig | AccountRef | str,
        wa_id: str,
        message_wamid: str,
        status: str,
        at: datetime | None = None,
        *,
        error_code: int | None = None,
        error_title: str = "",
    ) -> WebhookDelivery:
        """A WhatsApp status webhook (delivered / read / failed with an error code)."""
        ref = self.account(Channel.WHATSAPP, account)
        payload = p.whatsapp_status(
            ref.webhook_id,
            ref.account_id,
            wa_id,
            message_wamid,
            self._instant(at),
            status=status,
            display_phone_number=ref.display_phone_number,
            error_code=error_code,
            error_title=error_title,
        )
        return self.deliver(payload)

    def customer_opts_in(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        at: datetime | None = None,
        *,
        token: str | None = None,
    ) -> WebhookDelivery:
        """A marketing opt-in: Messenger/Instagram ``messaging_optins`` with a token, WhatsApp Resume."""
        ref = self.account(channel, account)
        if ref.channel is Channel.WHATSAPP:
            return self.customer_marketing_preference(ref, contact_id, "resume", at)
        at = self._instant(at)
        payload = p.messenger_marketing_opt_in(ref.account_id, contact_id, token or _marketing_token(), at)
        if ref.channel is Channel.INSTAGRAM:
            payload["object"] = p.INSTAGRAM_OBJECT
        return self.deliver(payload)

    def messenger_status(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        contact_id: str,
        status: str,
        at: datetime | None = None,
        *,
        message_ids: list[str] | None = None,
    ) -> WebhookDelivery:
        """Messenger/Instagram ``message_deliveries`` (delivered, with mids) or ``message_reads``."""
        ref = self.account(channel, account)
        at = self._instant(at)
        if status == "delivered":
            payload = p.messenger_delivery(ref.account_id, contact_id, message_ids or [], at)
        elif status == "read":
            payload = p.messenger_read(ref.account_id, contact_id, at)
        else:
            raise ValueError("Messenger and Instagram report 'delivered' and 'read'; 'failed' is WhatsApp's")
        payload["object"] = _object(ref.channel)
        return self.deliver(payload)

    def template_status_update(
        self,
        account: AccountConfig | AccountRef | str,
        template_name: str,
        event: str,
        at: datetime | None = None,
        *,
        language: str | None = None,
        reason: str = "NONE",
    ) -> WebhookDelivery:
        """Meta's ``message_template_status_update`` for one of the number's templates (W12)."""
        ref = self.account(Channel.WHATSAPP, account)
        known = next(
            (t for t in (ref.config.templates if ref.config else []) if t.name == template_name), None
        )
        code = language or (known.language if known else "en_US")
        status = template_status_of_event(event.upper())
        if status is not None:
            with self._lock:  # Meta's own send API follows its verdict from now on
                self._state.template_status[(ref.account_id, template_name, code)] = status
        payload = p.whatsapp_template_status_update(
            ref.webhook_id, template_name, code, event.upper(), self._instant(at), reason=reason
        )
        return self.deliver(payload)

    def template_category_update(
        self,
        account: AccountConfig | AccountRef | str,
        template_name: str,
        new_category: str,
        at: datetime | None = None,
        *,
        language: str | None = None,
    ) -> WebhookDelivery:
        """Meta moves one of the number's templates to another category (``template_category_update``)."""
        ref = self.account(Channel.WHATSAPP, account)
        known = next(
            (t for t in (ref.config.templates if ref.config else []) if t.name == template_name), None
        )
        payload = p.whatsapp_template_category_update(
            ref.webhook_id,
            template_name,
            language or (known.language if known else "en_US"),
            known.category.value if known else "UTILITY",
            new_category.upper(),
            at=self._instant(at),
        )
        return self.deliver(payload)

    def template_quality_update(
        self,
        account: AccountConfig | AccountRef | str,
        template_name: str,
        new_quality: str,
        at: datetime | None = None,
        *,
        language: str | None = None,
        previous_quality: str = "GREEN",
    ) -> WebhookDelivery:
        """A template's quality rating changes (``message_template_quality_update``)."""
        ref = self.account(Channel.WHATSAPP, account)
        known = next(
            (t for t in (ref.config.templates if ref.config else []) if t.name == template_name), None
        )
        payload = p.whatsapp_template_quality_update(
            ref.webhook_id,
            template_name,
            language or (known.language if known else "en_US"),
            previous_quality.upper(),
            new_quality.upper(),
            at=self._instant(at),
        )
        return self.deliver(payload)

    def policy_enforcement(
        self,
        channel: Channel | str,
        account: AccountConfig | AccountRef | str,
        action: str,
        at: datetime | None = None,
        *,
        reason: str = "",
    ) -> WebhookDelivery:
        """Meta warns, blocks or unblocks a Page's (or Instagram account's) messaging."""
        ref = self.account(channel, account)
        if ref.channel is Channel.WHATSAPP:
            raise ValueError("messaging_policy_enforcement is a Messenger/Instagram webhook")
        payload = p.messenger_policy_enforcement(
            ref.account_id, self._instant(at), action=action, reason=reason, obj=_object(ref.channel)
        )
        return self.deliver(payload)

    def deliver(self, payload: dict[str, Any]) -> WebhookDelivery:
        """Serialise like Meta, sign with the app secret and POST to the webhook URL (if any)."""
        body = p.serialize(payload)
        delivery = WebhookDelivery(payload=payload, body=body, signature=p.signature(body, self.app_secret))
        if self.webhook_url:
            response = self._http.post(
                self.webhook_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": delivery.signature,
                    "X-Hub-Signature": p.signature_sha1(body, self.app_secret),
                    "User-Agent": "facebookexternalua",
                },
            )
            delivery.status_code = response.status_code
            delivery.response_text = response.text
        with self._lock:
            self._state.webhooks.append(delivery)
        return delivery


def _marketing_token() -> str:
    return "mmt_" + secrets.token_hex(16)


def _object(channel: Channel) -> str:
    return p.INSTAGRAM_OBJECT if channel is Channel.INSTAGRAM else p.PAGE_OBJECT
