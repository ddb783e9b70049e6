"""The free-form window's paths: a reply inside the window, and the pre-2020 "24+1" follow-up after it."""

from __future__ import annotations

from typing import Any

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import AutomationKind, ContentKind, Path, ReasonCode
from windowkeeper.policy.paths.checks import gate
from windowkeeper.policy.paths.verdict import PathResult, allow, refuse, rule_end
from windowkeeper.policy.rules import PLUS_ONE


def free_form_fields(ask: Ask) -> dict[str, Any]:
    """The Graph API fields an untagged message needs on this channel (see ``engine``)."""
    style = ask.table.free_form_style
    if style == "messenger":
        scheduled = ask.sender.automation in (AutomationKind.SCHEDULE, AutomationKind.JOB)
        return {"messaging_type": "UPDATE" if scheduled else "RESPONSE"}
    if style == "whatsapp":
        content = ask.content
        if content is None or content.kind is not ContentKind.MEDIA:
            return {"type": "text"}
        return {"type": "document" if content.media_type in (None, "file") else content.media_type}
    return {}


def free_form(ask: Ask) -> PathResult:
    """Any message, untagged, while the window the customer's last action opened is open."""
    path, window = Path.FREE_FORM, ask.window
    rule = window.rule
    if rule is None:
        return refuse(path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"{ask.channel_label} has no window")
    if blocked := gate(ask, path, rule):
        return blocked
    feedback = ask.content is not None and ask.content.kind is ContentKind.FEEDBACK_TEMPLATE
    if feedback and Path.CUSTOMER_FEEDBACK not in ask.table.paths:
        return refuse(path, rule, ReasonCode.CONTENT_INVALID, f"{ask.channel_label} has no feedback template")
    extra = (ReasonCode.TEMPLATE_REQUIRED,) if rule.params.template_outside_window else ()
    needs_template = " (outside it only an approved template may go)" if extra else ""
    if not ask.contacted and ask.facts.comment is None and not ask.facts.opt_ins:
        return refuse(
            path, rule, ReasonCode.NEVER_CONTACTED, "the customer has never written, so no window is open"
        )
    if window.opened_at is None or window.closes_at is None:
        return refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            "no free-form window is open: the customer's last action does not open one" + needs_template,
            extra=extra,
            needs="a message from the customer",
        )
    if not window.is_open(ask.at):
        return refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            explain.Clause("free-form replies closed ", "since", window.closes_at, ask.at, needs_template),
            extra=extra,
            needs="a message from the customer",
        )
    if window.message_cap is not None:
        sent = sum(1 for o in ask.facts.outbound if o.at >= window.opened_at)
        if sent >= window.message_cap:
            return refuse(
                path,
                rule,
                ReasonCode.MESSAGE_CAP_REACHED,
                f"all {window.message_cap} messages this window allows were sent",
                needs="a new message from the customer",
                boundaries=[window.closes_at],
            )
    return allow(
        path,
        rule,
        explain.Clause("free-form messages are open ", "until", window.closes_at, ask.at),
        free_form_fields(ask),
        closes_at=window.closes_at,
    )


def plus_one(ask: Ask) -> PathResult:
    """Before 2020-03-04: one more message after the window closed."""
    path = Path.PLUS_ONE
    rule = ask.rules.first(PLUS_ONE)
    if rule is None:
        return refuse(path, None, ReasonCode.WINDOW_CLOSED, "the 24+1 follow-up ended on 2020-03-04")
    if blocked := gate(ask, path, rule):
        return blocked
    window = ask.window
    if window.closes_at is None:
        return refuse(path, rule, ReasonCode.WINDOW_CLOSED, "the 24+1 follow-up needs a window that closed")
    if window.is_open(ask.at):
        return refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            "the 24+1 follow-up is for after the window",
            opens_at=window.closes_at,
            needs="the window to close first",
        )
    after = sum(1 for o in ask.facts.outbound if o.at >= window.closes_at)
    if after >= rule.params.extra_messages:
        return refuse(
            path, rule, ReasonCode.WINDOW_CLOSED, "the one follow-up after the window was already sent"
        )
    return allow(
        path,
        rule,
        "one follow-up message after the window is still allowed (24+1 rule)",
        {"messaging_type": "UPDATE"},
        closes_at=rule_end(rule),
    )
