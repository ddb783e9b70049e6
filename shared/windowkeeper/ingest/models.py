"""Pydantic models of Meta's webhook payloads (Messenger, Instagram, WhatsApp Cloud API).

Every model allows extra fields: Meta adds fields without notice and a new field must never turn
an authentic payload into a quarantined one. Only what identifies an event is required (who,
when, which id); everything else is optional, and an event kind we do not know is kept as the
raw event (``MessagingEvent.known_kind`` returns ``None``) and counted, not rejected.

Field names and shapes: fact sheet §4.4 (M6, M7, M8, M9, I6, W14, W15) and the reference pages
of each webhook field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from windowkeeper.instants import EpochMs, EpochSeconds

PAGE_INBOX_APP_ID = "263902037430900"  # Meta's Page Inbox: a person typed in Meta's inbox (M5)
INSTAGRAM_INBOX_APP_ID = "1217981644879628"  # Instagram Inbox (M5)
HUMAN_INBOX_APP_IDS = frozenset({PAGE_INBOX_APP_ID, INSTAGRAM_INBOX_APP_ID})


def _id_text(value: Any) -> Any:
    """Meta sends app ids and some ids as numbers in one field and strings in another."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IdText = Annotated[str, BeforeValidator(_id_text)]


class MetaModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# ---------------------------------------------------------------- Messenger and Instagram


class Party(MetaModel):
    id: IdText | None = None
    user_ref: str | None = None  # checkbox plugin / Login Connect opt-ins name the person this way


class Referral(MetaModel):
    ref: str | None = None
    source: str | None = None  # SHORTLINK, ADS, MESSENGER_CODE, CUSTOMER_CHAT_PLUGIN, ...
    type: str | None = None  # OPEN_THREAD
    ad_id: IdText | None = None
    ads_context_data: dict[str, Any] | None = None
    referer_uri: str | None = None


class QuickReply(MetaModel):
    payload: str | None = None


class ReplyTo(MetaModel):
    mid: str | None = None
    is_self_reply: bool | None = None
    story: dict[str, Any] | None = None  # Instagram story reply: {url, id}


class Attachment(MetaModel):
    type: str
    payload: dict[str, Any] | None = None


class Message(MetaModel):
    mid: str
    text: str | None = None
    is_echo: bool = False
    app_id: IdText | None = None
    metadata: str | None = None
    quick_reply: QuickReply | None = None
    reply_to: ReplyTo | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    referral: Referral | None = None
    is_deleted: bool = False
    is_unsupported: bool = False


class Postback(MetaModel):
    mid: str | None = None
    title: str | None = None
    payload: str | None = None
    referral: Referral | None = None


class Reaction(MetaModel):
    mid: str | None = None
    action: str | None = None  # react | unreact
    reaction: str | None = None
    emoji: str | None = None


class Delivery(MetaModel):
    mids: list[str] = Field(default_factory=list)
    watermark: int | None = None


class Read(MetaModel):
    watermark: int | None = None


class Optin(MetaModel):
    type: str | None = None  # "notification_messages" for marketing messages; absent for plugins
    ref: str | None = None
    payload: str | None = None
    user_ref: str | None = None
    notification_messages_token: str | None = None
    subscription_token: str | None = None  # Marketing Messages API naming
    # "STOP NOTIFICATIONS" | "RESUME NOTIFICATIONS" (with a space, as Meta's reference shows);
    # absent on a first opt-in or a re-opt-in. Underscored spellings are read the same.
    notification_messages_status: str | None = None
    user_token_status: str | None = None  # NOT_REFRESHED | REFRESHED
    title: str | None = None


class ThreadControl(MetaModel):
    previous_owner_app_id: IdText | None = None
    new_owner_app_id: IdText | None = None
    requested_owner_app_id: IdText | None = None
    metadata: str | None = None


class PolicyEnforcement(MetaModel):
    action: str | None = None
    reason: str | None = None


# The keys of a messaging event that name its kind, in the order they are looked for.
MESSAGING_KINDS = (
    "message",
    "postback",
    "reaction",
    "optin",
    "referral",
    "delivery",
    "read",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "release_thread_control",
    "messaging_feedback",
    "policy_enforcement",
)


class MessagingEvent(MetaModel):
    """One item of ``entry[].messaging[]`` or ``entry[].standby[]``."""

    sender: Party | None = None
    recipient: Party | None = None
    timestamp: EpochMs
    message: Message | None = None
    postback: Postback | None = None
    reaction: Reaction | None = None
    optin: Optin | None = None
    referral: Referral | None = None
    delivery: Delivery | None = None
    read: Read | None = None
    pass_thread_control: ThreadControl | None = None
    take_thread_control: ThreadControl | None = None
    request_thread_control: ThreadControl | None = None
    release_thread_control: ThreadControl | None = None
    messaging_feedback: dict[str, Any] | None = None
    policy_enforcement: PolicyEnforcement | None = None

    def known_kind(self) -> str | None:
        for kind in MESSAGING_KINDS:
            if getattr(self, kind) is not None:
                return kind
        return None

    def unknown_keys(self) -> list[str]:
        return sorted(k for k in (self.model_extra or {}) if k not in {"sender", "recipient", "timestamp"})


class Change(MetaModel):
    """One item of ``entry[].changes[]`` (Instagram comments, every WhatsApp update)."""

    field: str
    value: dict[str, Any] = Field(default_factory=dict)


class MessagingEntry(MetaModel):
    """An entry of object ``page`` or ``instagram``."""

    id: IdText
    time: EpochMs | None = None
    messaging: list[MessagingEvent] = Field(default_factory=list)
    standby: list[MessagingEvent] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)


class CommentAuthor(MetaModel):
    id: IdText
    username: str | None = None


class InstagramComment(MetaModel):
    """``changes[].value`` for ``field: comments`` on an Instagram account."""

    id: IdText
    text: str | None = None
    from_: CommentAuthor = Field(alias="from")
    media: dict[str, Any] | None = None
    parent_id: IdText | None = None
    timestamp: EpochMs | None = None


class FeedAuthor(MetaModel):
    id: IdText
    name: str | None = None


class PageFeedChange(MetaModel):
    """``changes[].value`` for ``field: feed`` on a Page (a post, comment, reaction... on it).

    A comment: ``item: "comment"``, ``verb: "add" | "edited" | "remove" | "hide"...``,
    ``comment_id``, ``post_id``, ``parent_id`` (the post, or the comment replied to), ``from``,
    ``message``, ``created_time`` (epoch seconds). Only ``item``/``verb`` are required: other items
    (``reaction``, ``status``, ``share``...) share the field and are ignored.
    """

    item: str
    verb: str
    comment_id: IdText | None = None
    post_id: IdText | None = None
    parent_id: IdText | None = None
    from_: FeedAuthor | None = Field(default=None, alias="from")
    message: str | None = None
    created_time: int | None = None


# ---------------------------------------------------------------- WhatsApp Cloud API


class WaMetadata(MetaModel):
    display_phone_number: str | None = None
    phone_number_id: IdText


class WaProfile(MetaModel):
    name: str | None = None


class WaContact(MetaModel):
    wa_id: str | None = None
    user_id: str | None = None  # business-scoped user id (BSUID), W15
    username: str | None = None
    profile: WaProfile | None = None


class WaReferral(MetaModel):
    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None  # "ad" | "post"
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    ctwa_clid: str | None = None  # present for Click-to-WhatsApp ads


class WaMessage(MetaModel):
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    id: str
    timestamp: EpochSeconds  # epoch seconds, sent as a string
    type: str
    text: dict[str, Any] | None = None
    interactive: dict[str, Any] | None = None
    button: dict[str, Any] | None = None
    reaction: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    referral: WaReferral | None = None


class WaError(MetaModel):
    code: int
    title: str | None = None
    message: str | None = None


class WaPricing(MetaModel):
    billable: bool | None = None
    pricing_model: str | None = None
    type: str | None = None  # regular | free_customer_service | free_entry_point
    category: str | None = None


class WaStatus(MetaModel):
    id: str
    status: str  # sent | delivered | read | played | failed
    timestamp: EpochSeconds
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    pricing: WaPricing | None = None
    conversation: dict[str, Any] | None = None
    errors: list[WaError] = Field(default_factory=list)


class WaCall(MetaModel):
    id: str
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    event: str | None = None  # connect | terminate
    direction: str | None = None  # USER_INITIATED | BUSINESS_INITIATED
    status: str | None = None
    timestamp: EpochSeconds
    duration: int | None = None


class WaUserPreference(MetaModel):
    wa_id: str | None = None
    user_id: str | None = None
    category: str | None = None  # marketing_messages
    value: str  # stop | resume
    detail: str | None = None
    timestamp: EpochSeconds


class WaValue(MetaModel):
    """``changes[].value`` of ``field: messages`` / ``calls`` / ``user_preferences``."""

    messaging_product: Literal["whatsapp"] | None = None
    metadata: WaMetadata
    contacts: list[WaContact] = Field(default_factory=list)
    messages: list[WaMessage] = Field(default_factory=list)
    statuses: list[WaStatus] = Field(default_factory=list)
    calls: list[WaCall] = Field(default_factory=list)
    user_preferences: list[WaUserPreference] = Field(default_factory=list)


class WaTemplateUpdate(MetaModel):
    """``changes[].value`` of the template fields (W12): status, category or quality of a template."""

    message_template_id: IdText | None = None
    message_template_name: str = Field(min_length=1)
    message_template_language: str = Field(min_length=2)
    event: str | None = None  # message_template_status_update
    reason: str | None = None
    previous_category: str | None = None  # template_category_update, once the change is made
    new_category: str | None = None
    correct_category: str | None = None  # ... announced ahead (new_category is then the current one)
    previous_quality_score: str | None = None  # message_template_quality_update
    new_quality_score: str | None = None


class WhatsAppEntry(MetaModel):
    id: IdText  # the WhatsApp Business Account (WABA) id
    time: int | None = None
    changes: list[Change] = Field(default_factory=list)


# ---------------------------------------------------------------- envelope

WebhookObject = Literal["page", "instagram", "whatsapp_business_account"]


class Envelope(MetaModel):
    """The outer shape. Entries are validated one by one so that one bad entry spoils nothing else."""

    object: str
    entry: list[dict[str, Any]] = Field(min_length=1)
