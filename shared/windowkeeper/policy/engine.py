"""The outbound gate: may this message go now, by which path, and if not, why and what would work.

Pure: no I/O, no clock. ``decide(inp, at)`` evaluates the candidate paths for the request in order
(free-form first, so a person's in-window reply goes untagged), returns the first allowed one or
a refusal carrying every reason, plus every other path as an ``Option``.

Each path has a small evaluator (``policy.paths``) that runs ordered checks and stops at the first
failure, over the contact's state as of ``at`` (``policy.facts``). Checks compare ``at`` with
instants (window closings, back-off ends, rule dates...); every such instant is recorded as a
*boundary*, and ``valid_until`` is the first boundary after ``at``, so the answer is the same for
any instant before it (unless the stored state changes). This module picks the paths to try,
lists the other options and combines the verdicts.

``Decision.send_fields`` -- the Graph API fields the chosen path needs (delivery adds the content):

* free-form on Messenger/Instagram: ``{"messaging_type": "RESPONSE"}`` (``"UPDATE"`` for scheduled and
  job senders, which are not replies);
* free-form on WhatsApp: ``{"type": "text" | "image" | "video" | "audio" | "document"}``;
* HUMAN_AGENT / another tag / feedback: ``{"messaging_type": "MESSAGE_TAG", "tag": "<TAG>"}``;
* Messenger utility template: ``{"messaging_type": "UTILITY"}``;
* WhatsApp templates: ``{"type": "template", "category": "UTILITY" | "AUTHENTICATION" | "MARKETING"}``;
* Messenger marketing: ``{"api": "marketing_messages", "subscription_token": "..."}``; for decisions
  as of before 2026-02-10 (EU/UK/JP/KR/AU recipients, or before 2025-07-01)
  ``{"api": "recurring_notifications", "subscription_token": "..."}`` -- the token goes in the
  Send API's ``recipient.notification_messages_token``;
* private reply: ``{"recipient": {"comment_id": "..."}}``;
* the pre-2020 "24+1" message: ``{"messaging_type": "UPDATE"}``;
* other channels (Viber, WeChat, Telegram, LINE, SMS, e-mail, web chat): ``{}``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask, action_opens_window, ask_at, free_form_window
from windowkeeper.policy.model import (
    AccountProfile,
    Channel,
    ContactState,
    Content,
    ContentKind,
    CustomerActionKind,
    Decision,
    DecisionInput,
    Option,
    OutboundRequest,
    Path,
    Purpose,
    ReasonCode,
    Sender,
    WindowClosings,
)
from windowkeeper.policy.paths import EVALUATORS, PathResult
from windowkeeper.policy.rules import (
    CUSTOMER_FEEDBACK,
    HUMAN_AGENT,
    PRIVATE_REPLY,
    WINDOW,
    Rule,
    TagParams,
    first_in_force,
    rule_change_instants,
    rules_on,
)

__all__ = [
    "Answer",
    "WindowClosings",
    "check",
    "decide",
    "evaluate_paths",
    "moves_last_action",
    "opens_window",
    "window_closings",
]


# --- which paths a request asks for --------------------------------------------------------


_TEMPLATE_PATH = {
    "UTILITY": Path.UTILITY_TEMPLATE,
    "AUTHENTICATION": Path.AUTHENTICATION_TEMPLATE,
    "MARKETING": Path.MARKETING_TEMPLATE,
}

_TAG_PATH = {"HUMAN_AGENT": Path.HUMAN_AGENT, "CUSTOMER_FEEDBACK": Path.CUSTOMER_FEEDBACK}


def _candidates(ask: Ask) -> tuple[tuple[Path, ...], bool]:
    """The paths to try in order, and whether the last one was asked for explicitly."""
    content, request, table = ask.content, ask.request, ask.table
    window_first = (Path.FREE_FORM,) if Path.FREE_FORM in table.paths else ()
    if request.comment_id is not None:
        return (Path.PRIVATE_REPLY,), True
    if content is not None and content.kind is ContentKind.TEMPLATE:
        category = content.template.category if content.template else "UTILITY"
        return (_TEMPLATE_PATH[category],), True
    if request.tag is not None:
        tag_path = _TAG_PATH.get(request.tag.upper(), Path.MESSAGE_TAG)
        if tag_path is Path.HUMAN_AGENT and not ask.sender.is_human:
            # The request misstates who sends: refused human_only, never sent untagged instead.
            return (tag_path,), True
        return (*window_first, tag_path), True
    if (
        content is not None
        and content.kind is ContentKind.FEEDBACK_TEMPLATE
        and Path.CUSTOMER_FEEDBACK in table.paths
    ):
        return (*window_first, Path.CUSTOMER_FEEDBACK), True
    if request.purpose is Purpose.MARKETING and Path.MARKETING_MESSAGE in table.paths:
        return (*window_first, Path.MARKETING_MESSAGE), True
    automatic = ask.rules.auto_paths
    return automatic or table.auto_paths[:1], False


def _option_paths(ask: Ask) -> tuple[Path, ...]:
    """Paths worth listing: those with a rule in force now (tags also once retired)."""
    listed = ask.rules.listed_paths
    if Path.PRIVATE_REPLY in listed and ask.facts.comment is None:
        return tuple(p for p in listed if p is not Path.PRIVATE_REPLY)
    return listed


_NO_REQUEST = OutboundRequest()


assert Ask._fields[-2:] == ("content", "request")


def _agnostic(ask: Ask) -> Ask:
    """The same contact at the same instant, asking nothing in particular (for the options).

    Built positionally: content and request are the last two fields, and ``_replace`` costs twice
    as much on a path every ``decide()`` takes.
    """
    return Ask(*ask[:-2], None, _NO_REQUEST)


def _evaluate_options(ask: Ask, skip: Path | None) -> list[PathResult]:
    general = _agnostic(ask)
    return [EVALUATORS[path](general) for path in _option_paths(ask) if path is not skip]


def _first_boundary_after(at: datetime, ask: Ask, results: tuple[PathResult, ...]) -> datetime | None:
    """The first instant after ``at`` at which the facts, a verdict or a rule changes."""
    changes = rule_change_instants(ask.contact.channel)  # sorted
    next_change = bisect_right(changes, at)
    later = [b for b in ask.facts.boundaries.union(*(r.boundaries for r in results)) if b > at]
    if next_change < len(changes):
        later.append(changes[next_change])
    return min(later, default=None)


def _require_aware(at: datetime) -> datetime:
    if at.tzinfo is UTC:
        return at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("`at` must be timezone-aware (UTC)")
    return at.astimezone(UTC)


# --- public API ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """The short answer: may it go now, and by which path (None when it may not)."""

    allowed: bool
    path: Path | None


_REFUSED = Answer(allowed=False, path=None)


def check(inp: DecisionInput, at: datetime) -> Answer:
    """Yes/no and the path, as ``decide`` would answer, without options, reasons or explanation.

    For callers that ask often and show little: an agent UI colouring its composer as the agent
    types, a job screening thousands of contacts. ``decide`` is built on the same steps, and a
    property test holds the two to the same answer.
    """
    ask = ask_at(inp, _require_aware(at))
    for path in _candidates(ask)[0]:
        if EVALUATORS[path](ask).allowed:
            return Answer(allowed=True, path=path)
    return _REFUSED


def decide(inp: DecisionInput, at: datetime) -> Decision:
    """Whether ``inp`` may be sent at ``at``, by which path, and what else would work.

    The same steps as ``check`` (which stops at the first allowed path), then every candidate's
    verdict, the other paths as options, the boundaries and the explanation.
    """
    at = _require_aware(at)
    ask = ask_at(inp, at)
    paths, explicit = _candidates(ask)
    results = [EVALUATORS[path](ask) for path in paths]
    chosen = next((r for r in results if r.allowed), None)
    options = _evaluate_options(ask, chosen.path if chosen else None)

    valid_until = _first_boundary_after(at, ask, (*results, *options))

    if chosen is not None:
        note = str(chosen.note)
        if chosen.path is Path.FREE_FORM and inp.request.tag:
            note += f" (sent untagged: {inp.request.tag} is not needed inside the window)"
        return Decision(
            allowed=True,
            path=chosen.path,
            send_fields=dict(chosen.send_fields),
            rule=chosen.rule.ref() if chosen.rule else None,
            explanation=explain.sentence([note]),
            decided_at=at,
            valid_until=valid_until,
            options=tuple(o.option() for o in options),
            confirmed_not_promotional=chosen.confirmed_not_promotional,
        )

    primary = results[-1] if explicit else results[0]
    ordered = [primary, *(r for r in results if r is not primary)]
    reasons: list[ReasonCode] = []
    for result in ordered:
        reasons.extend(r for r in result.reasons if r not in reasons)
    clauses = [str(r.note) for r in ordered]
    mentioned = {r.path for r in ordered}
    clauses += [str(o.note) for o in options if o.allowed and o.path not in mentioned]
    return Decision(
        allowed=False,
        path=None,
        rule=primary.rule.ref() if primary.rule else None,
        reasons=tuple(reasons),
        explanation=explain.sentence(clauses),
        decided_at=at,
        valid_until=valid_until,
        options=tuple(o.option() for o in options),
        matched_phrase=next((r.matched_phrase for r in ordered if r.matched_phrase), None),
    )


def evaluate_paths(
    contact: ContactState, account: AccountProfile, sender: Sender, at: datetime
) -> tuple[Option, ...]:
    """Every path the contact's channel has (with a rule in force at ``at``) and its status."""
    at = _require_aware(at)
    inp = DecisionInput(
        contact=contact, account=account, sender=sender, content=Content(kind=ContentKind.TEXT, text="")
    )
    return tuple(r.option() for r in _evaluate_options(ask_at(inp, at), None))


def opens_window(contact: ContactState, at: datetime) -> bool:
    """Whether the contact's last action kind opens a free-form window on its channel at ``at``.

    The webhook uses this to decide whether an inbound event moves the window forward.
    """
    rule = first_in_force(WINDOW, contact.channel, _require_aware(at))
    return action_opens_window(rule, contact.last_customer_action_kind)


def moves_last_action(channel: Channel, kind: CustomerActionKind, at: datetime) -> bool:
    """Whether a customer action of ``kind`` becomes the contact's last customer action.

    Where the channel has a window rule, only the kinds that open it do. Where it has none
    (Telegram, LINE, SMS, e-mail, web chat: the ``direct`` path) every action does: ``direct``
    reads it as "the contact started a conversation" and for the 24-hour courtesy of an
    "outside the window" opt-out.
    """
    rule = first_in_force(WINDOW, channel, _require_aware(at))
    return rule is None or action_opens_window(rule, kind)


def window_closings(contact: ContactState, account: AccountProfile) -> WindowClosings:
    """When each window closes, from the stored state alone, under the rules in force when it opened.

    HUMAN_AGENT and feedback closings are ``None`` when the account lacks the permission.
    """
    last = contact.last_customer_action_at
    private_reply_closes_at = None
    comment = contact.pending_comment
    if comment is not None and not comment.replied:
        reply_rule = first_in_force(PRIVATE_REPLY, contact.channel, comment.at)
        if reply_rule is not None:
            private_reply_closes_at = comment.at + reply_rule.params.within
    if last is None:
        return WindowClosings(private_reply_closes_at=private_reply_closes_at)
    rules = rules_on(contact.channel, last)
    window = free_form_window(
        contact,
        account,
        last_action_at=last,
        ad_started_at=contact.ad_conversation_started_at,
        closed_early_at=contact.window_closed_early_at,
        rules=rules,
    )

    def tag_closes(rule: Rule[TagParams] | None) -> datetime | None:
        if rule is None or rule.params.after_last_action is None:
            return None
        if not action_opens_window(window.rule, contact.last_customer_action_kind):
            return None
        if rule.params.permission and not account.has(rule.params.permission):
            return None
        return last + rule.params.after_last_action

    return WindowClosings(
        free_form_closes_at=window.closes_at,
        human_agent_closes_at=tag_closes(rules.first(HUMAN_AGENT)),
        feedback_closes_at=tag_closes(rules.first(CUSTOMER_FEEDBACK)),
        private_reply_closes_at=private_reply_closes_at,
    )
