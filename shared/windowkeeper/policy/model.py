"""The policy engine's vocabulary: what goes into a decision and what comes out.

Everything here is immutable data. The engine (``engine.decide``) is a pure function of a
``DecisionInput`` and the instant ``at``; the webhook, send and scheduler functions build the
input from stored state and act on the ``Decision``.

All instants are timezone-aware UTC ``datetime`` values; the validators refuse naive ones, so a
local-time bug fails loudly instead of shifting every window by the server's offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:  # already UTC (every instant the engine computes): kept as it is
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("instants must be timezone-aware (UTC)")
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_require_utc)]
"""A timezone-aware instant, normalised to UTC."""


class Frozen(BaseModel):
    """Base for every engine model: immutable, hashable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Channel(StrEnum):
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    VIBER = "viber"
    WECHAT = "wechat"
    TELEGRAM = "telegram"
    LINE = "line"
    SMS = "sms"
    EMAIL = "email"
    WEBCHAT = "webchat"


META_CHANNELS = frozenset({Channel.MESSENGER, Channel.INSTAGRAM, Channel.WHATSAPP})


class CustomerActionKind(StrEnum):
    """What the customer did. Which kinds open or renew a window is rule data, per channel."""

    MESSAGE = "message"  # text, media, sticker
    QUICK_REPLY = "quick_reply"
    POSTBACK = "postback"  # Get Started, buttons, persistent menu
    REACTION = "reaction"
    REFERRAL = "referral"  # m.me / ig.me link or ad click into an existing thread
    STORY_REPLY = "story_reply"
    STORY_MENTION = "story_mention"
    CALL = "call"  # WhatsApp: a user call, answered or not, or accepting the business's call
    COMMENT = "comment"  # comment on a post/ad: a one-shot private reply, not a full window
    PLUGIN_OPT_IN = "plugin_opt_in"  # checkbox plugin / Login Connect user_ref
    MARKETING_OPT_IN = "marketing_opt_in"  # never opens a window
    FOLLOW = "follow"  # LINE follow, Viber subscribe, Telegram /start, WeChat follow


class EntryPoint(StrEnum):
    """How the conversation (re)started; some entry points change the window length or price."""

    ORGANIC = "organic"
    CLICK_TO_MESSENGER_AD = "click_to_messenger_ad"
    CLICK_TO_DIRECT_AD = "click_to_direct_ad"
    CLICK_TO_WHATSAPP_AD = "click_to_whatsapp_ad"
    PAGE_CTA = "page_cta"
    LINK = "link"  # m.me / ig.me / wa.me with a ref
    COMMENT = "comment"


class SenderKind(StrEnum):
    HUMAN = "human"
    AUTOMATION = "automation"


class AutomationKind(StrEnum):
    BOT = "bot"
    SCHEDULE = "schedule"
    JOB = "job"  # re-engagement jobs and other machine clients


class Sender(Frozen):
    """Who sends. Always derived from the authenticated principal, never from a request body."""

    kind: SenderKind
    principal_id: str = Field(min_length=1)
    automation: AutomationKind | None = None

    @property
    def is_human(self) -> bool:
        return self.kind is SenderKind.HUMAN


class ContentKind(StrEnum):
    TEXT = "text"
    MEDIA = "media"
    TEMPLATE = "template"  # WhatsApp template or Messenger utility template
    FEEDBACK_TEMPLATE = "feedback_template"  # Messenger Customer Feedback Template


class TemplateCategory(StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class TemplateStatus(StrEnum):
    """Meta's template status values (WhatsApp ``message_template_status_update``, W12)."""

    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    FLAGGED = "FLAGGED"
    IN_APPEAL = "IN_APPEAL"
    REINSTATED = "REINSTATED"
    ARCHIVED = "ARCHIVED"
    UNARCHIVED = "UNARCHIVED"
    DELETED = "DELETED"
    PENDING_DELETION = "PENDING_DELETION"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    LOCKED = "LOCKED"


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


class Template(Frozen):
    """A template as the account's registry knows it (category and status are Meta's)."""

    name: str = Field(min_length=1)
    language: str = Field(min_length=2)
    category: TemplateCategory
    status: TemplateStatus
    parameters: tuple[str, ...] = ()  # the values filled in, in order (the registry: their names)
    body: str = ""  # the approved body text, with {{1}} or {{name}} placeholders

    def placeholders(self) -> tuple[str, ...]:
        """The distinct placeholders the body declares, in order of first appearance."""
        return _placeholders(self.body)

    def declared_parameters(self) -> int:
        """How many parameters the body expects ({{1}}..{{n}}: n; named: one per distinct name)."""
        return _declared_parameters(self.body)

    def rendered(self) -> str:
        """The text the customer reads: the body with ``parameters`` filled in.

        Numbered placeholders take the parameter of their number, named ones the parameter at their
        place in order of first appearance (Messenger's named parameters). Missing values stay as
        placeholders; without a body, the parameters themselves are all there is to read.
        """
        return _rendered(self.body, self.parameters)


# Parsed once per body (and rendered once per body and values): a job sends one template to
# thousands of contacts, and the gate screens and counts it for each of them.
@lru_cache(maxsize=1024)
def _placeholders(body: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(body)))


@lru_cache(maxsize=1024)
def _declared_parameters(body: str) -> int:
    names = _placeholders(body)
    numbers = [int(n) for n in names if n.isdigit()]
    return max(numbers, default=0) + len([n for n in names if not n.isdigit()])


@lru_cache(maxsize=1024)
def _rendered(body: str, parameters: tuple[str, ...]) -> str:
    if not body:
        return " ".join(parameters)
    positions = {name: index for index, name in enumerate(_placeholders(body))}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        index = int(name) - 1 if name.isdigit() else positions[name]
        return parameters[index] if 0 <= index < len(parameters) else match.group(0)

    return _PLACEHOLDER.sub(fill, body)


class Content(Frozen):
    kind: ContentKind
    text: str | None = None
    media_url: str | None = None
    media_type: Literal["image", "video", "audio", "file"] | None = None
    template: Template | None = None


class Purpose(StrEnum):
    """What the sender says the message is for; matched against tags and template categories."""

    SUPPORT = "support"  # answering the customer's own inquiry
    ORDER_UPDATE = "order_update"  # receipt, shipping, order change
    ACCOUNT_UPDATE = "account_update"  # application status, fraud alert
    EVENT_UPDATE = "event_update"  # reminder for an event or booking the customer made
    REMINDER = "reminder"  # appointment or follow-up reminder
    FEEDBACK = "feedback"  # CSAT / NPS survey
    AUTHENTICATION = "authentication"  # one-time passcodes
    NEWS = "news"  # NPI news pages only
    MARKETING = "marketing"  # offers, promotions, re-targeting


class ConsentScope(StrEnum):
    ALL = "all"  # nothing at all
    MARKETING = "marketing"  # no marketing, service still fine
    OUTSIDE_WINDOW = "outside_window"  # "no post-24-hour messages"


class MarketingOptIn(Frozen):
    """An opt-in to marketing (Messenger subscription token, WhatsApp opt-in on record...)."""

    purpose: str = "marketing"
    token: str | None = None  # Messenger Marketing Messages subscription_token
    opted_in_at: Instant


class Path(StrEnum):
    """How a message may travel. ``send_fields`` in the decision give the exact API fields."""

    FREE_FORM = "free_form"  # inside the window: RESPONSE / UPDATE, WhatsApp service message
    HUMAN_AGENT = "human_agent"  # Messenger/Instagram MESSAGE_TAG + HUMAN_AGENT
    MESSAGE_TAG = "message_tag"  # another Messenger tag (retired ones only before their dates)
    CUSTOMER_FEEDBACK = "customer_feedback"  # Messenger feedback template with its tag
    UTILITY_TEMPLATE = "utility_template"  # WhatsApp utility template / Messenger UTILITY
    AUTHENTICATION_TEMPLATE = "authentication_template"  # WhatsApp authentication template
    MARKETING_TEMPLATE = "marketing_template"  # WhatsApp marketing template
    MARKETING_MESSAGE = "marketing_message"  # Messenger Marketing Messages API (opt-in token)
    PRIVATE_REPLY = "private_reply"  # one reply to a comment within 7 days
    PLUS_ONE = "plus_one"  # Messenger's pre-2020 "24+1" follow-up
    BOT_INITIATED = "bot_initiated"  # Viber chatbot-initiated message to a subscriber
    DIRECT = "direct"  # channels with no window (Telegram, LINE push, SMS, e-mail, web chat)


class ReasonCode(StrEnum):
    """Closed vocabulary of refusal reasons. Documented in ARCHITECTURE.md; never extended ad hoc."""

    WINDOW_CLOSED = "window_closed"
    HUMAN_ONLY = "human_only"
    TAG_RETIRED = "tag_retired"
    TAG_NOT_ALLOWED = "tag_not_allowed"  # tag unknown for this channel or not matching the purpose
    TEMPLATE_REQUIRED = "template_required"
    TEMPLATE_NOT_APPROVED = "template_not_approved"
    TEMPLATE_CATEGORY_MISMATCH = "template_category_mismatch"
    PROMOTIONAL_CONTENT = "promotional_content"
    OPTED_OUT = "opted_out"
    OPT_IN_REQUIRED = "opt_in_required"
    FREQUENCY_LIMITED = "frequency_limited"
    QUOTA_EXHAUSTED = "quota_exhausted"
    MESSAGE_CAP_REACHED = "message_cap_reached"
    NEVER_CONTACTED = "never_contacted"
    PERMISSION_MISSING = "permission_missing"
    CHANNEL_UNSUPPORTED = "channel_unsupported"
    UNREACHABLE = "unreachable"
    REGION_BLOCKED = "region_blocked"
    BACKOFF = "backoff"  # Meta asked us to wait (WhatsApp 131049)
    CONTENT_INVALID = "content_invalid"  # e.g. feedback tag without the feedback template
    HUMAN_OWNS_CONVERSATION = "human_owns_conversation"  # a person holds it: automation waits
    ACCOUNT_UNAVAILABLE = "account_unavailable"  # Meta rejected the account's token or blocked the app


class OutboundRecord(Frozen):
    """A message we sent to this contact; the engine counts those since the customer's last action."""

    at: Instant
    path: Path
    tag: str | None = None
    template_category: TemplateCategory | None = None
    by_human: bool = False


class Comment(Frozen):
    """A customer comment on a post or ad that may get one private reply."""

    comment_id: str
    at: Instant
    replied: bool = False


class HumanOwner(Frozen):
    """A person holds the conversation (handover): automation stays quiet until it comes back.

    It comes back when an agent hands it back (then there is no ``HumanOwner``), or by itself
    after the account's ``human_idle_return_seconds`` without the person's activity
    (``last_activity_at``, else ``since``). A hold with neither instant has lapsed.
    """

    agent_id: str | None = None
    since: Instant | None = None
    last_activity_at: Instant | None = None

    def returns_at(self, idle_return_seconds: int) -> datetime | None:
        """When idleness hands the conversation back (None: no instant, the hold has lapsed)."""
        last = self.last_activity_at or self.since
        return None if last is None else last + timedelta(seconds=idle_return_seconds)


class ContactState(Frozen):
    """What we know about one contact of one business account, as the engine needs it."""

    channel: Channel
    account_id: str
    contact_id: str
    last_customer_action_at: Instant | None = None
    last_customer_action_kind: CustomerActionKind | None = None
    entry_point: EntryPoint | None = None
    # First customer message after clicking a Click-to-Messenger/Direct ad: the optional 7-day window.
    ad_conversation_started_at: Instant | None = None
    pending_comment: Comment | None = None
    subscribed: bool = False  # Viber subscriber, Telegram /start, LINE follow, WeChat follower
    consent_on_record: bool = False  # SMS / e-mail: consent the business holds
    opted_out: frozenset[ConsentScope] = frozenset()
    marketing_opt_ins: tuple[MarketingOptIn, ...] = ()
    recipient_country_code: str | None = None  # E.164 country calling code, e.g. "1", "44"
    recipient_region: str | None = None  # ISO 3166 alpha-2 when known (Messenger marketing regions)
    marketing_backoff_until: Instant | None = None  # WhatsApp 131049: wait at least 24 h
    unreachable_since: Instant | None = None
    unreachable_reason: str | None = None
    window_closed_early_at: Instant | None = None  # Meta said the window closed (131047, 2018278)
    outbound: tuple[OutboundRecord, ...] = ()  # recent sends, newest last
    human_owner: HumanOwner | None = None  # a person took the conversation over (None: the bot's)


class AccountProfile(Frozen):
    """One business account (Page, Instagram account, WhatsApp number, bot...) and its settings.

    A profile can narrow Meta's rules (caps, refusing medium-confidence paths), never widen them.
    """

    channel: Channel
    account_id: str
    tenant_id: str
    display_name: str = ""
    permissions: frozenset[str] = frozenset()  # "human_agent", "page_utility_messaging", ...
    # Medium-confidence rules the account opts into or out of (see policy/rules/, `profile_switch`).
    ctm_seven_day_window: bool = False
    allow_messenger_utility_templates: bool = True
    tagged_messages_per_24h_cap: int | None = None  # e.g. 1 a day while the customer is silent
    business_region: str | None = None
    # Messenger Marketing Messages API (M11): from 2026-02-10 opt-in marketing goes only through
    # POST /act_{ad account}/messages under one of the account's campaigns. Without both, the
    # marketing_message path is refused with permission_missing.
    marketing_ad_account_id: str | None = Field(default=None, pattern=r"^(act_)?[0-9]+$")
    marketing_campaign_id: str | None = Field(default=None, pattern=r"^[0-9]+$")
    # ISO 3166 alpha-2 region the account's opted-in Messenger audience is in. Meta does not tell
    # us a contact's country, so this stands in for a contact whose own recipient_region is
    # unknown; None keeps refusing those contacts (region_blocked). Set it only when the whole
    # audience is known to be there (e.g. a Page that targets one country).
    marketing_audience_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    viber_bot_created_on: date | None = None
    viber_paid_messages: bool = False  # the account pays for chatbot-initiated messages
    whatsapp_marketing_via_cloud_api: bool = True
    opt_out_keywords: tuple[str, ...] = ()
    opt_in_keywords: tuple[str, ...] = ()
    expiry_lead_time_seconds: int = 3600
    human_idle_return_seconds: int = 4 * 3600
    audit_retention_days: int = 400
    message_retention_days: int = 90
    uses_conversation_routing: bool = False

    def has(self, permission: str) -> bool:
        return permission in self.permissions


class AccountUsage(Frozen):
    """Account-level counters that some rules need (Viber's monthly free quota)."""

    bot_initiated_this_month: int = 0


class OutboundRequest(Frozen):
    """What the sender asks for, beyond the content."""

    tag: str | None = None
    purpose: Purpose | None = None
    confirm_not_promotional: bool = False
    comment_id: str | None = None  # reply privately to this comment


class DecisionInput(Frozen):
    contact: ContactState
    account: AccountProfile
    sender: Sender
    content: Content
    request: OutboundRequest = OutboundRequest()
    usage: AccountUsage = AccountUsage()
    # Deciding a send on the contact as just read (the send path): every send already claimed on
    # it has happened, even one stamped a few ms after ``at`` by a request whose clock read later.
    # An "as of" question (False) ignores sends stamped after ``at``.
    every_claim_known: bool = False


class RuleRef(Frozen):
    """The rule that produced a decision, with the fact-sheet source ids behind it."""

    rule_id: str
    sources: tuple[str, ...]
    confidence: Literal["H", "M", "L"]
    summary: str


class Option(Frozen):
    """Another path and when it is (or is not) open, so a UI can show what would work."""

    path: Path
    allowed_now: bool
    opens_at: Instant | None = None  # None: already open (or never opens)
    closes_at: Instant | None = None  # None: no closing instant
    needs: str = ""  # "a person must send it", "an approved utility template", ...
    reasons: tuple[ReasonCode, ...] = ()
    rule_id: str | None = None


class Decision(Frozen):
    allowed: bool
    path: Path | None
    send_fields: dict[str, Any] = Field(default_factory=dict)
    rule: RuleRef | None
    reasons: tuple[ReasonCode, ...] = ()
    explanation: str
    decided_at: Instant
    valid_until: Instant | None  # the answer holds until then unless the state changes
    options: tuple[Option, ...] = ()
    matched_phrase: str | None = None  # the promotional phrase that refused the message
    confirmed_not_promotional: bool = False  # the sender's confirmation was relied on

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dict (the shape the HTTP API returns)."""
        return self.model_dump(mode="json")


class WindowClosings(Frozen):
    """When each window of a contact closes, from stored state alone (no "now").

    ``None`` where the channel has no such path, the account cannot use it, or nothing is open.
    The webhook stores these to schedule expiry notices; the scheduler's sweep recomputes them.
    """

    free_form_closes_at: Instant | None = None
    human_agent_closes_at: Instant | None = None
    feedback_closes_at: Instant | None = None
    private_reply_closes_at: Instant | None = None
