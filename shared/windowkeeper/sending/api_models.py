"""The request bodies of ``POST /v1/messages`` and ``POST /v1/messages/check``.

Every model forbids unknown fields: the sender is the authenticated principal, so a body that
tries to name one (``sender``, ``human``, ``agent_id``...) is refused with 400 rather than being
silently ignored. The OpenAPI document's request schemas are generated from these models.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.ids import AccountId, ContactId
from windowkeeper.instants import InputInstant
from windowkeeper.policy.model import (
    Channel,
    ConsentScope,
    Content,
    ContentKind,
    OutboundRequest,
    Path,
    Purpose,
)

TEXT_MAX_CHARS = 4096  # WhatsApp's body limit, the largest of the three Meta channels


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateIn(_Body):
    """A template as the sender names it; category, status and body come from the account."""

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15, examples=["en_US"])
    parameters: list[str] = Field(default_factory=list, max_length=100)


def _when(field: str, value: str, **required: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema: when ``field`` is ``value``, the ``required`` fields are present with these types."""
    return {"properties": {field: {"const": value}, **required}, "required": [field, *required]}


class ContentIn(_Body):
    # What ``_fields_match_type`` checks, said in the JSON Schema too (OpenAPI, fuzzers, clients).
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "anyOf": [
                _when("type", "text", text={"type": "string"}),
                _when("type", "media", media_url={"type": "string"}, media_type={"type": "string"}),
                _when("type", "template", template={"type": "object"}),
                _when("type", "feedback_template"),
            ]
        },
    )

    type: Literal["text", "media", "template", "feedback_template"]
    text: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX_CHARS)
    media_url: str | None = Field(default=None, pattern=r"^https://", max_length=2048)
    media_type: Literal["image", "video", "audio", "file"] | None = None
    template: TemplateIn | None = None

    @model_validator(mode="after")
    def _fields_match_type(self) -> Self:
        if self.type == "text" and self.text is None:
            raise ValueError("a text message needs 'text'")
        if self.type == "media" and (self.media_url is None or self.media_type is None):
            raise ValueError("a media message needs 'media_url' and 'media_type'")
        if self.type == "template" and self.template is None:
            raise ValueError("a template message needs 'template' (name, language, parameters)")
        return self

    def to_content(self, account: AccountConfig) -> Content:
        """The engine's ``Content``; a named template is resolved through the account's registry.

        Raises ``errors.DomainError`` 400 ``unknown_template`` when the account has no such template (the
        engine needs Meta's category and status, which only the registry knows).
        """
        template = None
        if self.template is not None:
            registered = account.template(self.template.name, self.template.language)
            if registered is None:
                raise errors.InvalidInput(
                    "unknown_template",
                    f"The account has no template '{self.template.name}' in language "
                    f"'{self.template.language}'. Register it (windowkeeper accounts load) first.",
                )
            template = registered.model_copy(update={"parameters": tuple(self.template.parameters)})
        return Content(
            kind=ContentKind(self.type),
            text=self.text,
            media_url=self.media_url,
            media_type=self.media_type,
            template=template,
        )


class SendRequest(_Body):
    """``POST /v1/messages``: what to send to whom, and what for. Never who sends it."""

    channel: Channel
    account_id: AccountId
    contact_id: ContactId
    content: ContentIn
    tag: str | None = Field(default=None, min_length=1, max_length=64, examples=["HUMAN_AGENT"])
    purpose: Purpose | None = None
    confirm_not_promotional: bool = False
    comment_id: str | None = Field(default=None, min_length=1, max_length=256)

    def outbound_request(self) -> OutboundRequest:
        return OutboundRequest(
            tag=self.tag,
            purpose=self.purpose,
            confirm_not_promotional=self.confirm_not_promotional,
            comment_id=self.comment_id,
        )


class CheckRequest(SendRequest):
    """``POST /v1/messages/check``: the same question, optionally "as of" another instant."""

    at: InputInstant | None = Field(
        default=None,
        description="ISO 8601 instant with an offset; the decision as of then (default: now).",
    )


# --- the contacts API's request bodies --------------------------------------------------------------
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


class AuditFilters(_Body):
    """``GET /v1/audit``'s filters (query parameters); every one given must match."""

    agent: str | None = Field(
        default=None, min_length=1, max_length=256, description="The acting principal's subject."
    )
    path: Path | None = None
    reason: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="One of the record's reasons."
    )
    kind: Literal["decision", "consent"] | None = None
    outcome: Literal["sent", "refused", "failed", "unknown", "recorded", "unchanged"] | None = None
    channel: Channel | None = None
    account_id: AccountId | None = None
