"""Builders for engine inputs: a realistic Page, WhatsApp number and contacts, overridable per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from windowkeeper.policy.model import (
    AccountProfile,
    AccountUsage,
    AutomationKind,
    Channel,
    ContactState,
    Content,
    ContentKind,
    CustomerActionKind,
    DecisionInput,
    OutboundRequest,
    Sender,
    SenderKind,
    Template,
    TemplateCategory,
    TemplateStatus,
)

# The customer's last message in most scenarios: Thursday 19 Nov 2026, 10:02 UTC.
LAST_MESSAGE = datetime(2026, 11, 19, 10, 2, tzinfo=UTC)
MS = timedelta(milliseconds=1)

AGENT = Sender(kind=SenderKind.HUMAN, principal_id="agent-maria")
BOT = Sender(kind=SenderKind.AUTOMATION, principal_id="bot-helpdesk", automation=AutomationKind.BOT)
SCHEDULE = Sender(kind=SenderKind.AUTOMATION, principal_id="sched-1", automation=AutomationKind.SCHEDULE)

ORDER_SHIPPED = "Your order #4411 has shipped and should arrive on Monday."
PROMO_TEXT = "Thanks for waiting! Use code WINTER for 20% off your next order."


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def account(channel: Channel = Channel.MESSENGER, **overrides: Any) -> AccountProfile:
    fields: dict[str, Any] = {
        "channel": channel,
        "account_id": f"{channel.value}-acct-1",
        "tenant_id": "acme",
        "display_name": "Acme Outdoor",
        "permissions": frozenset({"human_agent", "page_utility_messaging"}),
    }
    fields.update(overrides)
    return AccountProfile(**fields)


def contact(
    channel: Channel = Channel.MESSENGER,
    last: datetime | None = LAST_MESSAGE,
    kind: CustomerActionKind | None = CustomerActionKind.MESSAGE,
    **overrides: Any,
) -> ContactState:
    fields: dict[str, Any] = {
        "channel": channel,
        "account_id": f"{channel.value}-acct-1",
        "contact_id": "psid-2001",
        "last_customer_action_at": last,
        "last_customer_action_kind": kind if last is not None else None,
    }
    fields.update(overrides)
    return ContactState(**fields)


def text(body: str = ORDER_SHIPPED) -> Content:
    return Content(kind=ContentKind.TEXT, text=body)


def template(
    category: TemplateCategory = TemplateCategory.UTILITY,
    status: TemplateStatus = TemplateStatus.APPROVED,
    body: str = "Hi {{1}}, your order {{2}} has shipped.",
    name: str = "order_shipped",
    parameters: tuple[str, ...] | None = None,
) -> Content:
    """A template as sent: by default with a value for each parameter its body declares."""
    draft = Template(name=name, language="en_US", category=category, status=status, body=body)
    if parameters is None:
        parameters = ("Ana", "#4411", "Monday", "14:00")[: draft.declared_parameters()]
    return Content(kind=ContentKind.TEMPLATE, template=draft.model_copy(update={"parameters": parameters}))


def feedback_template() -> Content:
    return Content(kind=ContentKind.FEEDBACK_TEMPLATE)


def ask(
    contact_state: ContactState | None = None,
    sender: Sender = AGENT,
    content: Content | None = None,
    account_profile: AccountProfile | None = None,
    usage: AccountUsage | None = None,
    **request: Any,
) -> DecisionInput:
    state = contact_state or contact()
    return DecisionInput(
        contact=state,
        account=account_profile or account(state.channel),
        sender=sender,
        content=content or text(),
        request=OutboundRequest(**request),
        usage=usage or AccountUsage(),
    )
