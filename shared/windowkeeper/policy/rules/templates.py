"""Message templates (Messenger utility, WhatsApp utility/authentication/marketing) and
WhatsApp's marketing limits (regions Meta does not deliver to, back-off after 131049)."""

from __future__ import annotations

from datetime import date
from typing import Any

from windowkeeper.policy.model import Channel, Path, TemplateCategory, TemplateStatus
from windowkeeper.policy.rules.params import (
    MARKETING_BACKOFF,
    REGION_BLOCK,
    TEMPLATE,
    BackoffParams,
    RegionBlockParams,
    TemplateParams,
)
from windowkeeper.policy.rules.record import HOUR, MESSENGER, Rule

_WA_TEMPLATE_SOURCES = ("W1", "W2", "W10", "W12")

TEMPLATE_RULES: tuple[Rule[Any], ...] = (
    Rule(
        rule_id="messenger.utility_template",
        family=TEMPLATE,
        channels=MESSENGER,
        sources=("M10", "M3"),
        confidence="M",
        summary="Messenger utility templates (messaging_type UTILITY) outside the window; needs "
        "page_utility_messaging, an approved template and non-promotional content.",
        params=TemplateParams(
            category=TemplateCategory.UTILITY,
            path=Path.UTILITY_TEMPLATE,
            send_fields={"messaging_type": "UTILITY"},
            permission="page_utility_messaging",
            profile_switch="allow_messenger_utility_templates",
            non_promotional=True,
        ),
        # The earliest date the fact sheet shows them in use (image support); not the launch date.
        effective_from=date(2025, 9, 29),
    ),
    Rule(
        rule_id="whatsapp.template.utility",
        family=TEMPLATE,
        channels=frozenset({Channel.WHATSAPP}),
        sources=_WA_TEMPLATE_SOURCES,
        confidence="H",
        summary="An approved utility template may go at any time; non-promotional content only.",
        params=TemplateParams(
            category=TemplateCategory.UTILITY,
            path=Path.UTILITY_TEMPLATE,
            send_fields={"type": "template", "category": "UTILITY"},
            non_promotional=True,
        ),
    ),
    Rule(
        rule_id="whatsapp.template.authentication",
        family=TEMPLATE,
        channels=frozenset({Channel.WHATSAPP}),
        sources=_WA_TEMPLATE_SOURCES,
        confidence="H",
        summary="An approved authentication template (one-time passcode) may go at any time.",
        params=TemplateParams(
            category=TemplateCategory.AUTHENTICATION,
            path=Path.AUTHENTICATION_TEMPLATE,
            send_fields={"type": "template", "category": "AUTHENTICATION"},
        ),
    ),
    Rule(
        rule_id="whatsapp.template.marketing",
        family=TEMPLATE,
        channels=frozenset({Channel.WHATSAPP}),
        sources=(*_WA_TEMPLATE_SOURCES, "W5", "W8", "W9"),
        confidence="H",
        summary="An approved marketing template, only with a marketing opt-in, honouring stop and back-off.",
        params=TemplateParams(
            category=TemplateCategory.MARKETING,
            path=Path.MARKETING_TEMPLATE,
            send_fields={"type": "template", "category": "MARKETING"},
            profile_switch="whatsapp_marketing_via_cloud_api",
            requires_opt_in=True,
            honours_backoff=True,
        ),
    ),
    Rule(
        rule_id="whatsapp.marketing.us_block",
        family=REGION_BLOCK,
        channels=frozenset({Channel.WHATSAPP}),
        sources=("W5", "W17"),
        confidence="H",
        summary="Meta delivers no marketing templates to +1 (US) numbers from 2025-04-01.",
        params=RegionBlockParams(country_codes=frozenset({"1"}), paths=frozenset({Path.MARKETING_TEMPLATE})),
        effective_from=date(2025, 4, 1),
    ),
    Rule(
        rule_id="whatsapp.marketing.backoff_131049",
        family=MARKETING_BACKOFF,
        channels=frozenset({Channel.WHATSAPP}),
        sources=("W5",),
        confidence="H",
        summary="After error 131049 (per-user marketing limit) wait at least 24 h before the next "
        "marketing template to that contact.",
        params=BackoffParams(error_codes=frozenset({131049}), wait=24 * HOUR),
    ),
)


# What a ``message_template_status_update`` event leaves for sending (W12, W11). Meta keeps
# delivering a FLAGGED template (quality fell: a warning before a pause) and a REINSTATED one is
# approved again; LOCKED and LIMIT_EXCEEDED are about editing and creating templates, not sending.
TEMPLATE_EVENT_SOURCES = ("W12", "W11")
TEMPLATE_EVENTS_STILL_APPROVED = frozenset({"FLAGGED", "REINSTATED"})


def template_status_of_event(event: str) -> TemplateStatus | None:
    """The template status Meta's status event leaves (None: the event is no status)."""
    if event in TEMPLATE_EVENTS_STILL_APPROVED:
        return TemplateStatus.APPROVED
    try:
        return TemplateStatus(event)
    except ValueError:
        return None
