"""What the per-object readers share: constants, event ids, the observation builder base."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.keywords import KeywordIntent, keyword_intent
from windowkeeper.ingest.observations import (
    ConsentChange,
    ContactKey,
    EntryRejection,
    Normalized,
    Observation,
)
from windowkeeper.ingest.phone import country_calling_code
from windowkeeper.instants import from_ms
from windowkeeper.policy.engine import moves_last_action
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind

AccountResolver = Callable[[str, str], list[AccountConfig]]

OBJECT_CHANNEL = {
    "page": Channel.MESSENGER,
    "instagram": Channel.INSTAGRAM,
    "whatsapp_business_account": Channel.WHATSAPP,
}
WHATSAPP_FIELDS = frozenset({"messages", "calls", "user_preferences"})
# Meta's word on a WABA's templates (W10-W12): kept as template state (store/template_records.py).
TEMPLATE_FIELDS = frozenset(
    {"message_template_status_update", "template_category_update", "message_template_quality_update"}
)
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


class EventBuilder:
    """Accumulates observations for one POST; one instance per ``normalize`` call.

    The per-object readers (``messaging.MessagingEvents``, ``whatsapp.WhatsAppEvents``) add the
    event handlers; this base holds what they share: filing an observation, consent, keywords,
    refusals."""

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
            fields["opens_window"] = opens(account.channel, fields["action"], at_ms)
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


def opens(channel: Channel, action: CustomerActionKind, at_ms: int) -> bool:
    """Whether the action moves the contact's last customer action (and so its window): the
    engine's rule data decides, per channel and date."""
    at = from_ms(at_ms)
    assert at is not None
    return moves_last_action(channel, action, at)


def first_problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
