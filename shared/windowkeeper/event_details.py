"""The ``detail`` of every bus event, as pydantic models: the source of ``docs/events/*.schema.json``.

Documentation models: the emitters (ingest, sending, scheduling) still build plain dicts, and a
test validates what they really put on the bus against the schemas generated from these models
(``tests/integration/events``, and every ``BusCapture.drain`` of the integration tier).

Every model allows extra properties: consumers must ignore fields they do not know, so adding a
field is not a breaking change. Fields present on some variants of an event only (a WhatsApp
status carries ``error_codes``, a Messenger delivery ``watermark``) are optional here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.events import DetailType

ChannelName = Literal[
    "messenger", "instagram", "whatsapp", "viber", "wechat", "telegram", "line", "sms", "email", "webchat"
]
Instant = str  # ISO 8601 with an offset, e.g. 2026-03-02T10:00:00+00:00
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "urn:windowkeeper:events:"


class _Detail(BaseModel):
    model_config = ConfigDict(extra="allow")

    event_id: str = Field(description="Stable de-duplication key: delivery is at least once.")
    tenant_id: str = Field(description="The tenant the account belongs to.")
    channel: ChannelName
    account_id: str = Field(description="Page id, Instagram account id or WhatsApp phone_number_id.")
    contact_id: str = Field(description="PSID, IGSID or WhatsApp id of the customer.")


class Principal(BaseModel):
    model_config = ConfigDict(extra="allow")

    subject: str
    kind: str = Field(description="human, bot, schedule or job.")


class CustomerActionDetail(_Detail):
    """A customer wrote or acted: a message, postback, reaction, referral, comment, call..."""

    kind: str = Field(description="message, postback, reaction, referral, comment, call, quick_reply...")
    at: Instant = Field(description="When the customer acted (Meta's timestamp).")
    route: Literal["bot", "human"] = Field(
        description="Who should answer: a person holds the conversation, or the bot."
    )
    action: str | None = Field(None, description="The customer-action kind the engine counts.")
    message_id: str | None = None
    message_kind: str | None = Field(None, description="text, image, sticker, audio, interactive...")
    text: str | None = None
    payload: str | None = Field(None, description="Quick-reply, button or postback payload.")
    reply_to: str | None = Field(None, description="The message id replied to.")
    attachments: list[str] | None = Field(None, description="Attachment types only, never URLs.")
    referral: dict[str, Any] | None = Field(
        None,
        description=(
            "Ad or link referral: source, type, ref, ad_id (WhatsApp: source_type, source_id, ctwa_clid)."
        ),
    )
    standby: bool | None = Field(
        None, description="Delivered on the standby channel (another app holds the thread)."
    )
    comment_id: str | None = None
    call_id: str | None = None


class ConsentChangedDetail(_Detail):
    """A contact's consent changed: a STOP/START keyword, an opt-in, Meta's user_preferences, an agent."""

    at: Instant
    source: str = Field(
        description="keyword, marketing_opt_in, user_preferences, error_131050, agent, <channel>_follow, "
        "telegram_blocked, viber_unsubscribed, line_unfollow, wechat_unsubscribe, api, api_consent..."
    )
    opted_out: list[str] = Field(description="Scopes opted out of (all, marketing, outside_window).")
    opted_in: list[str] | None = Field(None, description="Scopes opted in to (webhook-driven changes).")
    scope: str | None = Field(None, description="The scope an agent recorded (agent changes).")
    action: str | None = Field(None, description="opt_out or opt_in (agent changes).")
    by: Principal | None = None
    changed: bool | None = None


class ContactUnreachableDetail(_Detail):
    """Meta says the contact cannot be reached (WhatsApp 131026: not on WhatsApp, old app...)."""

    at: Instant
    message_id: str
    error_code: int


class MessageStatusDetail(_Detail):
    """Delivered, read or failed, as Meta reported it for a message we sent."""

    at: Instant
    status: str = Field(description="sent, delivered, read or failed.")
    message_id: str | None = None
    message_ids: list[str] | None = Field(None, description="Messenger delivery: the message ids it covers.")
    watermark: int | None = None
    error_codes: list[int] | None = Field(
        None, description="WhatsApp: Meta's error codes on a failed status."
    )
    pricing: dict[str, Any] | None = None


class MessageDecidedDetail(_Detail):
    """A send through ``POST /v1/messages``: delivered to Meta, or refused by the policy gate."""

    decision_id: str
    principal: Principal
    path: str | None = Field(
        description="The path taken (or last considered): window, human_agent, template..."
    )
    reasons: list[str] = Field(description="Refusal reasons (closed vocabulary); empty when sent.")
    rule_id: str | None
    platform_message_id: str | None
    graph_error: dict[str, Any] | None


class MessageSentDetail(MessageDecidedDetail):
    """A message the gate allowed and Meta accepted."""


class MessageRefusedDetail(MessageDecidedDetail):
    """A message the gate refused: Meta was never called."""


class OwnerRef(BaseModel):
    model_config = ConfigDict(extra="allow")

    owner: str | None
    agent_id: str | None = None


class HandoverDetail(_Detail):
    """The conversation changed hands: bot to human, human to bot, or Meta's thread control moved.

    Three sources: an agent's handover request (``from``/``to``/``by``), an agent's send taking the
    conversation over (``cause: agent_send``), and Meta's handover webhooks (``action``, app ids).
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    owner: str | None = Field(None, description="The owner now, when the source says it.")
    at: Instant | None = None
    from_: OwnerRef | None = Field(None, alias="from")
    to: OwnerRef | None = None
    by: Principal | None = None
    inbox: str | None = None
    changed: bool | None = None
    cause: str | None = None
    agent_id: str | None = None
    previous_owner: str | None = None
    action: str | None = Field(
        None, description="Meta's webhook: pass_thread_control, take_thread_control..."
    )
    previous_owner_app_id: str | None = None
    new_owner_app_id: str | None = None
    requested_owner_app_id: str | None = None
    routing_owner_app_id: str | None = None


class WindowNoticeDetail(_Detail):
    """A window is about to close, or has closed (published by the minute sweep)."""

    kind: str = Field(description="The detail-type again.")
    closes_at: Instant = Field(description="The closing instant the notice is about.")
    due_at: Instant
    window_from: Instant | None = Field(description="The customer action that opened the window.")
    message: str = Field(description="A sentence for an agent.")


class FollowupDetail(_Detail):
    """A scheduled follow-up fired and was decided again: sent, refused or failed."""

    followup_id: str
    status: Literal["sent", "refused", "failed"]
    status_reason: str | None
    reasons: list[str]
    path: str | None
    used_fallback: bool
    platform_message_id: str | None
    send_at: Instant | None
    explanation: str | None


class ReengagementResultDetail(_Detail):
    """One contact's outcome in a re-engagement job."""

    job_id: str
    status: str = Field(description="sent, refused, failed or skipped.")
    offered: str | None = Field(description="What the job offered: the path or template tried.")
    path: str | None
    reasons: list[str]
    platform_message_id: str | None


class StuckDetail(_Detail):
    """A send started and never finished: maybe delivered, not retried; a person should check."""

    status: Literal["stuck"]
    started_at: Instant | None
    message: str


class FollowupStuckDetail(StuckDetail):
    followup_id: str


class ReengagementStuckDetail(StuckDetail):
    tenant_id: str | None = Field(description="None when the job record is gone.")  # type: ignore[assignment]
    job_id: str


class AccountHealthDetail(BaseModel):
    """An account's health changed: Meta rejected its token, restricted or blocked it, or it
    works again. No contact: it is about every conversation of the account."""

    model_config = ConfigDict(extra="allow")

    event_id: str = Field(description="Stable de-duplication key: delivery is at least once.")
    tenant_id: str
    channel: ChannelName
    account_id: str
    status: Literal["ok", "token_invalid", "restricted", "blocked"]
    previous_status: Literal["ok", "token_invalid", "restricted", "blocked"]
    blocks_sends: bool = Field(description="Sends are refused (account_unavailable) until it clears.")
    reason: str | None = Field(None, description="graph_190, graph_368, policy_block, send_succeeded...")
    detail: str | None = Field(None, description="Meta's message or reason text.")
    what_to_do: str
    at: Instant


DETAIL_MODELS: dict[str, type[BaseModel]] = {
    DetailType.CUSTOMER_ACTION: CustomerActionDetail,
    DetailType.CONSENT_CHANGED: ConsentChangedDetail,
    DetailType.CONTACT_UNREACHABLE: ContactUnreachableDetail,
    DetailType.MESSAGE_STATUS: MessageStatusDetail,
    DetailType.MESSAGE_SENT: MessageSentDetail,
    DetailType.MESSAGE_REFUSED: MessageRefusedDetail,
    DetailType.HANDOVER: HandoverDetail,
    DetailType.WINDOW_CLOSING_SOON: WindowNoticeDetail,
    DetailType.WINDOW_CLOSED: WindowNoticeDetail,
    DetailType.HUMAN_AGENT_WINDOW_CLOSING_SOON: WindowNoticeDetail,
    DetailType.HUMAN_AGENT_WINDOW_CLOSED: WindowNoticeDetail,
    DetailType.FOLLOWUP_SENT: FollowupDetail,
    DetailType.FOLLOWUP_REFUSED: FollowupDetail,
    DetailType.FOLLOWUP_FAILED: FollowupDetail,
    DetailType.REENGAGEMENT_RESULT: ReengagementResultDetail,
    DetailType.FOLLOWUP_STUCK: FollowupStuckDetail,
    DetailType.REENGAGEMENT_STUCK: ReengagementStuckDetail,
    DetailType.ACCOUNT_HEALTH_CHANGED: AccountHealthDetail,
}


def all_detail_types() -> list[str]:
    """Every detail-type ``DetailType`` declares, in declaration order."""
    return [v for k, v in vars(DetailType).items() if k.isupper() and isinstance(v, str)]


def detail_schema(detail_type: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one detail-type's ``detail``."""
    model = DETAIL_MODELS[detail_type]
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    title = schema.pop("title", model.__name__)
    out: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_ID_BASE}{detail_type}",
        "title": f"{detail_type} detail",
        "x-model": title,
    }
    if detail_type in _STATUS_CONSTANTS:
        schema["properties"]["status"] = {
            **schema["properties"]["status"],
            "const": _STATUS_CONSTANTS[detail_type],
        }
    out.update(schema)
    return out


# The follow-up detail-types share one model; each schema pins its own status.
_STATUS_CONSTANTS = {
    DetailType.FOLLOWUP_SENT: "sent",
    DetailType.FOLLOWUP_REFUSED: "refused",
    DetailType.FOLLOWUP_FAILED: "failed",
}
