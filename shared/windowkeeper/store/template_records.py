"""A WhatsApp template's state as Meta last reported it: status, category and quality.

``accounts load`` registers templates with the status and category the operator knows; Meta then
changes them on its own: it pauses a template whose quality fell (3 h, then 6 h, then disables
it), rejects, disables, reinstates, and re-categorises (``message_template_status_update``,
``template_category_update``, ``message_template_quality_update``; fact sheet W10-W12). Those
webhooks land here, per phone number of the WABA, and every decision reads the state over the
registry, so a paused template is refused the moment Meta says so (the send path reads it
strongly consistent; it is not behind the account cache).

Each of the three facts keeps its own instant: a late status webhook never undoes a newer one,
whatever the quality or category webhooks did meanwhile. What an event means for sending is the
policy's (``policy.rules.template_status_of_event``, W12).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from windowkeeper.policy.model import Template, TemplateCategory, TemplateStatus

TemplateFact = Literal["status", "category", "quality"]


class TemplateChange(BaseModel):
    """One webhook's fact about one template of one number."""

    model_config = ConfigDict(frozen=True)

    name: str
    language: str
    fact: TemplateFact
    at_ms: int
    status: TemplateStatus | None = None
    event: str | None = None  # Meta's event value, kept as it came (FLAGGED, REINSTATED...)
    category: TemplateCategory | None = None
    quality: str | None = None  # GREEN | YELLOW | RED | UNKNOWN
    reason: str | None = None


class TemplateState(BaseModel):
    """What Meta said last about a template, each fact with its instant."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    language: str
    status: TemplateStatus | None = None
    status_event: str | None = None
    status_reason: str | None = None
    status_ms: int | None = None
    category: TemplateCategory | None = None
    category_ms: int | None = None
    quality: str | None = None
    quality_ms: int | None = None

    def over(self, template: Template) -> Template:
        """The registered template with Meta's newer facts applied."""
        update: dict[str, object] = {}
        if self.status is not None:
            update["status"] = self.status
        if self.category is not None:
            update["category"] = self.category
        return template.model_copy(update=update) if update else template

    def view(self) -> dict[str, object]:
        return {
            "status_event": self.status_event,
            "status_reason": self.status_reason,
            "quality": self.quality,
        }
