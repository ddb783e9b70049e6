"""The outbound gate: may this message go now, by which path, and if not, why and what would work.

Pure: no I/O, no clock. ``decide(inp, at)`` evaluates the candidate paths for the request in order
(free-form first, so a person's in-window reply goes untagged), returns the first allowed one or
a refusal carrying every reason, plus every other path as an ``Option``.

Each path has a small evaluator that runs ordered checks and stops at the first failure. Checks
compare ``at`` with instants (window closings, back-off ends, rule dates...); every such instant
is recorded as a *boundary*, and ``valid_until`` is the first boundary after ``at``, so the answer
is the same for any instant before it (unless the stored state changes).

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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from windowkeeper.policy import explain
from windowkeeper.policy.model import (
    AccountProfile,
    AccountUsage,
    AutomationKind,
    Comment,
    ConsentScope,
    ContactState,
    Content,
    ContentKind,
    Decision,
    DecisionInput,
    MarketingOptIn,
    Option,
    OutboundRecord,
    OutboundRequest,
    Path,
    Purpose,
    ReasonCode,
    Sender,
    TemplateStatus,
    WindowClosings,
)
from windowkeeper.policy.promotional import find_promotional_phrase
from windowkeeper.policy.rules import (
    AD_WINDOW,
    BOT_INITIATED,
    CHANNELS,
    CUSTOMER_FEEDBACK,
    DIRECT,
    HUMAN_AGENT,
    MARKETING_MESSAGE,
    MARKETING_PATHS,
    MESSAGE_TAG,
    OUTSIDE_WINDOW_COURTESY,
    PATH_FAMILY,
    PLUS_ONE,
    PRIVATE_REPLY,
    PURPOSE_TEMPLATE_CATEGORIES,
    REGION_BLOCK,
    TAGGED_PATHS,
    TEMPLATE,
    WINDOW,
    ChannelTable,
    Rule,
    TagParams,
    TemplateParams,
    WindowParams,
    day_start,
    first_in_force,
    in_force,
    rule_change_instants,
    rules_of,
)

__all__ = ["WindowClosings", "decide", "evaluate_paths", "opens_window", "window_closings"]

DAY = timedelta(days=1)


# --- what is known at `at` ------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """The contact's state as of ``at``: anything stamped after ``at`` has not happened yet."""

    last_action_at: datetime | None
    comment: Comment | None
    ad_started_at: datetime | None
    outbound: tuple[OutboundRecord, ...]
    opt_ins: tuple[MarketingOptIn, ...]
    unreachable: bool
    closed_early_at: datetime | None
    backoff_until: datetime | None
    boundaries: frozenset[datetime]


def _facts(contact: ContactState, at: datetime) -> Facts:
    future: set[datetime] = set()

    def known(instant: datetime | None) -> datetime | None:
        if instant is None:
            return None
        if instant > at:
            future.add(instant)
            return None
        return instant

    comment = contact.pending_comment
    if comment is not None and known(comment.at) is None:
        comment = None
    outbound = tuple(o for o in contact.outbound if known(o.at) is not None)
    opt_ins = tuple(o for o in contact.marketing_opt_ins if known(o.opted_in_at) is not None)
    backoff = contact.marketing_backoff_until
    if backoff is not None and backoff > at:
        future.add(backoff)
    else:
        backoff = None
    return Facts(
        last_action_at=known(contact.last_customer_action_at),
        comment=comment,
        ad_started_at=known(contact.ad_conversation_started_at),
        outbound=outbound,
        opt_ins=opt_ins,
        unreachable=known(contact.unreachable_since) is not None,
        closed_early_at=known(contact.window_closed_early_at),
        backoff_until=backoff,
        boundaries=frozenset(future),
    )


@dataclass(frozen=True)
class Window:
    """The free-form window in force at ``at`` (``opened_at`` None: nothing opened it)."""

    rule: Rule[WindowParams] | None
    opened_at: datetime | None = None
    closes_at: datetime | None = None
    message_cap: int | None = None

    def is_open(self, at: datetime) -> bool:
        return (
            self.opened_at is not None
            and self.closes_at is not None
            and self.opened_at <= at < self.closes_at
        )


def _window(
    contact: ContactState,
    account: AccountProfile,
    *,
    last_action_at: datetime | None,
    ad_started_at: datetime | None,
    closed_early_at: datetime | None,
    rules_at: datetime,
) -> Window:
    rule = first_in_force(WINDOW, contact.channel, rules_at)
    if rule is None or last_action_at is None:
        return Window(rule)
    span = rule.params.span_for(contact.last_customer_action_kind)
    if span is None:  # a comment or marketing opt-in does not open a window
        return Window(rule)
    closes_at = last_action_at + span.length
    ad_rule = first_in_force(AD_WINDOW, contact.channel, rules_at)
    if (
        ad_rule is not None
        and bool(getattr(account, ad_rule.params.profile_switch, False))
        and ad_started_at is not None
        and contact.entry_point in ad_rule.params.entry_points
    ):
        closes_at = max(closes_at, ad_started_at + ad_rule.params.length)
    if closed_early_at is not None and closed_early_at >= last_action_at:
        closes_at = min(closes_at, closed_early_at)
    return Window(rule, last_action_at, closes_at, span.message_cap)


@dataclass(frozen=True)
class Ask:
    """Everything an evaluator may look at. ``content``/``request`` None: "is this path open at all?"."""

    contact: ContactState
    account: AccountProfile
    sender: Sender
    at: datetime
    usage: AccountUsage
    facts: Facts
    window: Window
    table: ChannelTable
    content: Content | None = None
    request: OutboundRequest = field(default_factory=OutboundRequest)

    @property
    def channel_label(self) -> str:
        return self.table.label

    @property
    def contacted(self) -> bool:
        return self.facts.last_action_at is not None

    def is_marketing(self, path: Path) -> bool:
        return path in MARKETING_PATHS or self.request.purpose is Purpose.MARKETING


def _ask(inp: DecisionInput, at: datetime) -> Ask:
    facts = _facts(inp.contact, at)
    window = _window(
        inp.contact,
        inp.account,
        last_action_at=facts.last_action_at,
        ad_started_at=facts.ad_started_at,
        closed_early_at=facts.closed_early_at,
        rules_at=at,
    )
    return Ask(
        contact=inp.contact,
        account=inp.account,
        sender=inp.sender,
        at=at,
        usage=inp.usage,
        facts=facts,
        window=window,
        table=CHANNELS[inp.contact.channel],
        content=inp.content,
        request=inp.request,
    )


# --- one path's verdict -------------------------------------------------------------------


@dataclass(frozen=True)
class PathResult:
    path: Path
    allowed: bool
    rule: Rule[Any] | None
    note: str  # a clause of the explanation sentence
    reasons: tuple[ReasonCode, ...] = ()
    send_fields: Mapping[str, Any] = field(default_factory=dict)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    needs: str = ""
    boundaries: frozenset[datetime] = frozenset()
    matched_phrase: str | None = None
    confirmed_not_promotional: bool = False

    def option(self) -> Option:
        return Option(
            path=self.path,
            allowed_now=self.allowed,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            needs=self.needs,
            reasons=self.reasons,
            rule_id=self.rule.rule_id if self.rule else None,
        )


def _refuse(
    path: Path,
    rule: Rule[Any] | None,
    reason: ReasonCode,
    note: str,
    *,
    needs: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    extra: Iterable[ReasonCode] = (),
    boundaries: Iterable[datetime] = (),
    matched_phrase: str | None = None,
) -> PathResult:
    bounds = set(boundaries)
    bounds.update(i for i in (opens_at, closes_at) if i is not None)
    return PathResult(
        path=path,
        allowed=False,
        rule=rule,
        note=note,
        reasons=(reason, *extra),
        opens_at=opens_at,
        closes_at=closes_at,
        needs=needs,
        boundaries=frozenset(bounds),
        matched_phrase=matched_phrase,
    )


def _allow(
    path: Path,
    rule: Rule[Any] | None,
    note: str,
    send_fields: Mapping[str, Any],
    *,
    closes_at: datetime | None = None,
    needs: str = "",
    boundaries: Iterable[datetime] = (),
    confirmed: bool = False,
) -> PathResult:
    bounds = set(boundaries)
    if closes_at is not None:
        bounds.add(closes_at)
    return PathResult(
        path=path,
        allowed=True,
        rule=rule,
        note=note,
        send_fields=dict(send_fields),
        closes_at=closes_at,
        needs=needs,
        boundaries=frozenset(bounds),
        confirmed_not_promotional=confirmed,
    )


# --- shared checks ------------------------------------------------------------------------


def _gate(ask: Ask, path: Path, rule: Rule[Any] | None) -> PathResult | None:
    """Hard blocks on every path: unreachable, and each opt-out scope."""
    if ask.facts.unreachable:
        why = f" ({ask.contact.unreachable_reason})" if ask.contact.unreachable_reason else ""
        return _refuse(path, rule, ReasonCode.UNREACHABLE, f"the contact is unreachable{why}")
    scopes = ask.contact.opted_out
    if ConsentScope.ALL in scopes:
        return _refuse(path, rule, ReasonCode.OPTED_OUT, "the contact opted out of all messages")
    if ConsentScope.MARKETING in scopes and ask.is_marketing(path):
        return _refuse(path, rule, ReasonCode.OPTED_OUT, "the contact opted out of marketing")
    if ConsentScope.OUTSIDE_WINDOW in scopes and path is not Path.FREE_FORM:
        last = ask.facts.last_action_at
        if path is Path.DIRECT and last is not None and ask.at < last + OUTSIDE_WINDOW_COURTESY:
            return None  # no platform window: replies within 24 h of the contact's message stay fine
        courtesy_end = [last + OUTSIDE_WINDOW_COURTESY] if last is not None else []
        return _refuse(
            path,
            rule,
            ReasonCode.OPTED_OUT,
            "the contact asked for no messages outside the conversation window",
            boundaries=courtesy_end,
        )
    return None


def _screen(ask: Ask, path: Path, rule: Rule[Any]) -> PathResult | bool:
    """Promotional screen: a refusal, or whether the sender's confirmation was relied on."""
    if ask.content is None:
        return False
    texts = [ask.content.text or ""]
    if ask.content.template is not None:
        texts.append(ask.content.template.body)
    phrase = next((p for p in map(find_promotional_phrase, texts) if p), None)
    if phrase is None:
        return False
    if ask.request.confirm_not_promotional:
        return True
    return _refuse(
        path,
        rule,
        ReasonCode.PROMOTIONAL_CONTENT,
        f'"{phrase}" reads as promotional, which {path.value} messages may not be',
        needs="non-promotional content, or the sender's confirmation that it is not promotional",
        matched_phrase=phrase,
    )


def _tagged_cap(ask: Ask, path: Path, rule: Rule[Any]) -> PathResult | None:
    """The account's optional cap on tagged sends per trailing 24 h while the customer is silent."""
    cap = ask.account.tagged_messages_per_24h_cap
    if cap is None:
        return None
    last = ask.facts.last_action_at
    counted = sorted(
        o.at
        for o in ask.facts.outbound
        if o.path in TAGGED_PATHS and (last is None or o.at > last) and o.at > ask.at - DAY
    )
    releases = [sent + DAY for sent in counted]
    if len(counted) < cap:
        return None
    return _refuse(
        path,
        rule,
        ReasonCode.FREQUENCY_LIMITED,
        f"the account's cap of {cap} tagged message(s) per 24 h is used up",
        opens_at=releases[len(counted) - cap],
        boundaries=releases,
        needs="the customer to write again, or the cap to free up",
    )


def _free_form_fields(ask: Ask) -> dict[str, Any]:
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


# --- path evaluators ----------------------------------------------------------------------


def _free_form(ask: Ask) -> PathResult:
    path, window = Path.FREE_FORM, ask.window
    rule = window.rule
    if rule is None:
        return _refuse(path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"{ask.channel_label} has no window")
    if blocked := _gate(ask, path, rule):
        return blocked
    feedback = ask.content is not None and ask.content.kind is ContentKind.FEEDBACK_TEMPLATE
    if feedback and Path.CUSTOMER_FEEDBACK not in ask.table.paths:
        return _refuse(
            path, rule, ReasonCode.CONTENT_INVALID, f"{ask.channel_label} has no feedback template"
        )
    extra = (ReasonCode.TEMPLATE_REQUIRED,) if rule.params.template_outside_window else ()
    needs_template = " (outside it only an approved template may go)" if extra else ""
    if not ask.contacted and ask.facts.comment is None and not ask.facts.opt_ins:
        return _refuse(
            path, rule, ReasonCode.NEVER_CONTACTED, "the customer has never written, so no window is open"
        )
    if window.opened_at is None or window.closes_at is None:
        return _refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            "no free-form window is open: the customer's last action does not open one" + needs_template,
            extra=extra,
            needs="a message from the customer",
        )
    if not window.is_open(ask.at):
        return _refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            f"free-form replies closed {explain.since(window.closes_at, ask.at)}{needs_template}",
            extra=extra,
            needs="a message from the customer",
        )
    if window.message_cap is not None:
        sent = sum(1 for o in ask.facts.outbound if o.at >= window.opened_at)
        if sent >= window.message_cap:
            return _refuse(
                path,
                rule,
                ReasonCode.MESSAGE_CAP_REACHED,
                f"all {window.message_cap} messages this window allows were sent",
                needs="a new message from the customer",
                boundaries=[window.closes_at],
            )
    return _allow(
        path,
        rule,
        f"free-form messages are open {explain.until(window.closes_at, ask.at)}",
        _free_form_fields(ask),
        closes_at=window.closes_at,
    )


def _tag_rule(ask: Ask, path: Path) -> tuple[Rule[TagParams] | None, PathResult | None]:
    """The tag rule that applies, or why none does (unknown, not yet available, or retired tag)."""
    family = {Path.HUMAN_AGENT: HUMAN_AGENT, Path.CUSTOMER_FEEDBACK: CUSTOMER_FEEDBACK}.get(path, MESSAGE_TAG)
    wanted = ask.request.tag.upper() if ask.request.tag else None
    known = [r for r in rules_of(family, ask.contact.channel) if wanted is None or r.params.tag == wanted]
    what = wanted or "message tags"
    if not known:
        return None, _refuse(
            path, None, ReasonCode.TAG_NOT_ALLOWED, f"{what} cannot be used on {ask.channel_label}"
        )
    current = [r for r in known if r.in_force(ask.at)]
    if current:
        held = [r for r in current if r.params.permission is None or ask.account.has(r.params.permission)]
        return (held or current)[0], None
    started = [r for r in known if r.started_by(ask.at)]
    if not started:
        first = min(known, key=lambda r: r.effective_from or ask.at.date())
        since = first.effective_from.isoformat() if first.effective_from else "later"
        return None, _refuse(
            path, first, ReasonCode.TAG_NOT_ALLOWED, f"{what} is not available before {since}"
        )
    last = max(started, key=lambda r: r.effective_until or ask.at.date())
    retired_on = last.effective_until.isoformat() if last.effective_until else "an earlier date"
    return None, _refuse(
        path,
        last,
        ReasonCode.TAG_RETIRED,
        f"{what} was retired on {retired_on}; use {last.params.replacement} instead",
        needs=last.params.replacement,
    )


def _tagged(ask: Ask, path: Path) -> PathResult:
    rule, why_not = _tag_rule(ask, path)
    if rule is None:
        assert why_not is not None
        return why_not
    params = rule.params
    tag = params.tag
    if blocked := _gate(ask, path, rule):
        return blocked
    if not ask.contacted:
        return _refuse(
            path, rule, ReasonCode.NEVER_CONTACTED, f"{tag} needs a conversation the customer started"
        )
    closes_at: datetime | None = None
    if params.after_last_action is not None:
        window_rule = ask.window.rule
        last = ask.facts.last_action_at
        assert last is not None
        if (
            window_rule is None
            or ask.contact.last_customer_action_kind not in window_rule.params.opening_kinds
        ):
            return _refuse(path, rule, ReasonCode.WINDOW_CLOSED, f"{tag} needs a message from the customer")
        closes_at = last + params.after_last_action
        if ask.at >= closes_at:
            return _refuse(
                path,
                rule,
                ReasonCode.WINDOW_CLOSED,
                f"{tag} closed {explain.since(closes_at, ask.at)}",
                needs="a message from the customer",
            )
    if params.permission and not ask.account.has(params.permission):
        return _refuse(
            path,
            rule,
            ReasonCode.PERMISSION_MISSING,
            f"{tag} needs the {params.permission} permission, which this account does not hold",
            needs=f"the {params.permission} permission",
            closes_at=closes_at,
        )
    open_clause = f"{tag} is open {explain.until(closes_at, ask.at)}" if closes_at else f"{tag} can be used"
    if params.human_only and not ask.sender.is_human:
        return _refuse(
            path,
            rule,
            ReasonCode.HUMAN_ONLY,
            f"{open_clause} if a person sends it",
            needs="a person must send it",
            closes_at=closes_at,
        )
    if ask.content is not None and params.content_kinds and ask.content.kind not in params.content_kinds:
        return _refuse(
            path, rule, ReasonCode.CONTENT_INVALID, f"{tag} may carry only the customer feedback template"
        )
    purpose = ask.request.purpose
    if path is Path.MESSAGE_TAG and ask.request.tag is not None and purpose is None:
        return _refuse(
            path,
            rule,
            ReasonCode.TAG_NOT_ALLOWED,
            f"{tag} needs a stated purpose ({', '.join(sorted(params.purposes))})",
        )
    if purpose is not None and purpose not in params.purposes:
        return _refuse(
            path,
            rule,
            ReasonCode.TAG_NOT_ALLOWED,
            f"{tag} is for {', '.join(sorted(params.purposes))}, not {purpose.value}",
        )
    if capped := _tagged_cap(ask, path, rule):
        return capped
    confirmed = False
    if params.non_promotional:
        screened = _screen(ask, path, rule)
        if isinstance(screened, PathResult):
            return screened
        confirmed = screened
    who = " if a person sends it" if params.human_only else ""
    needs = "a person must send it" if params.human_only else ""
    if path is Path.MESSAGE_TAG and ask.request.tag is None:
        needs = "a tag matching the purpose: " + ", ".join(
            f"{r.params.tag} ({'/'.join(sorted(r.params.purposes))})"
            for r in in_force(MESSAGE_TAG, ask.contact.channel, ask.at)
        )
    if params.content_kinds:
        needs = "the customer feedback template"
    return _allow(
        path,
        rule,
        open_clause + who,
        {"messaging_type": "MESSAGE_TAG", "tag": tag},
        closes_at=closes_at or _rule_end(rule),
        needs=needs,
        confirmed=confirmed,
    )


def _rule_end(rule: Rule[Any]) -> datetime | None:
    return day_start(rule.effective_until) if rule.effective_until else None


def _plus_one(ask: Ask) -> PathResult:
    path = Path.PLUS_ONE
    rule = first_in_force(PLUS_ONE, ask.contact.channel, ask.at)
    if rule is None:
        return _refuse(path, None, ReasonCode.WINDOW_CLOSED, "the 24+1 follow-up ended on 2020-03-04")
    if blocked := _gate(ask, path, rule):
        return blocked
    window = ask.window
    if window.closes_at is None:
        return _refuse(path, rule, ReasonCode.WINDOW_CLOSED, "the 24+1 follow-up needs a window that closed")
    if window.is_open(ask.at):
        return _refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            "the 24+1 follow-up is for after the window",
            opens_at=window.closes_at,
            needs="the window to close first",
        )
    after = sum(1 for o in ask.facts.outbound if o.at >= window.closes_at)
    if after >= rule.params.extra_messages:
        return _refuse(
            path, rule, ReasonCode.WINDOW_CLOSED, "the one follow-up after the window was already sent"
        )
    return _allow(
        path,
        rule,
        "one follow-up message after the window is still allowed (24+1 rule)",
        {"messaging_type": "UPDATE"},
        closes_at=_rule_end(rule),
    )


def _template(ask: Ask, path: Path) -> PathResult:
    channel = ask.contact.channel
    rules = [r for r in in_force(TEMPLATE, channel, ask.at) if r.params.path is path]
    template = ask.content.template if ask.content is not None else None
    if not rules:
        if any(r.params.path is path for r in rules_of(TEMPLATE, channel)):
            return _refuse(path, None, ReasonCode.TEMPLATE_REQUIRED, f"{path.value} is not available yet")
        if rules_of(TEMPLATE, channel):
            return _refuse(
                path,
                None,
                ReasonCode.TEMPLATE_CATEGORY_MISMATCH,
                f"{ask.channel_label} takes only "
                + "/".join(sorted({r.params.category.value for r in rules_of(TEMPLATE, channel)}))
                + " templates",
            )
        return _refuse(path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"{ask.channel_label} has no templates")
    rule = rules[0]
    params: TemplateParams = rule.params
    kind = params.category.value.lower()
    if blocked := _gate(ask, path, rule):
        return blocked
    if params.profile_switch and not bool(getattr(ask.account, params.profile_switch, False)):
        return _refuse(
            path,
            rule,
            ReasonCode.PERMISSION_MISSING,
            f"{kind} templates are turned off for this account ({params.profile_switch})",
            needs=f"the account setting {params.profile_switch}",
        )
    if params.permission and not ask.account.has(params.permission):
        return _refuse(
            path,
            rule,
            ReasonCode.PERMISSION_MISSING,
            f"{kind} templates need the {params.permission} permission",
            needs=f"the {params.permission} permission",
        )
    if params.requires_opt_in and not any(o.purpose == "marketing" for o in ask.facts.opt_ins):
        return _refuse(
            path, rule, ReasonCode.OPT_IN_REQUIRED, "marketing templates need the contact's opt-in on record"
        )
    reachable = ask.contacted or (
        ask.table.reachable_by_consent and (ask.contact.consent_on_record or bool(ask.facts.opt_ins))
    )
    if not reachable:
        return _refuse(
            path, rule, ReasonCode.NEVER_CONTACTED, "the contact never wrote and no consent is on record"
        )
    for block in in_force(REGION_BLOCK, channel, ask.at):
        if path in block.params.paths and ask.contact.recipient_country_code in block.params.country_codes:
            return _refuse(
                path,
                block,
                ReasonCode.REGION_BLOCKED,
                f"Meta delivers no {kind} templates to +{ask.contact.recipient_country_code} numbers",
            )
    if params.honours_backoff and ask.facts.backoff_until is not None:
        return _refuse(
            path,
            rule,
            ReasonCode.BACKOFF,
            f"Meta asked to pause marketing to this contact {explain.until(ask.facts.backoff_until, ask.at)}",
            opens_at=ask.facts.backoff_until,
        )
    if ask.content is not None and ask.content.kind is ContentKind.TEMPLATE and template is None:
        return _refuse(path, rule, ReasonCode.CONTENT_INVALID, "the message names no template")
    if template is not None:
        if template.status is not TemplateStatus.APPROVED:
            return _refuse(
                path,
                rule,
                ReasonCode.TEMPLATE_NOT_APPROVED,
                f"template {template.name} is {template.status.value}, not APPROVED",
                needs="an approved template",
            )
        if template.category is not params.category:
            return _refuse(
                path,
                rule,
                ReasonCode.TEMPLATE_CATEGORY_MISMATCH,
                f"template {template.name} is {template.category.value}; this path takes "
                f"{params.category.value}",
            )
    purpose = ask.request.purpose
    if purpose is not None and params.category not in PURPOSE_TEMPLATE_CATEGORIES[purpose]:
        return _refuse(
            path,
            rule,
            ReasonCode.TEMPLATE_CATEGORY_MISMATCH,
            f"a {kind} template does not fit the purpose {purpose.value}",
        )
    confirmed = False
    if params.non_promotional:
        screened = _screen(ask, path, rule)
        if isinstance(screened, PathResult):
            return screened
        confirmed = screened
    return _allow(
        path,
        rule,
        f"an approved {kind} template can go any time",
        params.send_fields,
        needs=f"an approved {kind} template",
        confirmed=confirmed,
    )


def _marketing_message(ask: Ask) -> PathResult:
    path = Path.MARKETING_MESSAGE
    rules = in_force(MARKETING_MESSAGE, ask.contact.channel, ask.at)
    if not rules:
        return _refuse(
            path,
            None,
            ReasonCode.CHANNEL_UNSUPPORTED,
            f"no opt-in marketing messages on {ask.channel_label} then",
        )
    if blocked := _gate(ask, path, rules[0]):
        return blocked
    tokens = [o for o in ask.facts.opt_ins if o.token and o.purpose == "marketing"]
    if not tokens:
        return _refuse(
            path,
            rules[0],
            ReasonCode.OPT_IN_REQUIRED,
            "marketing messages need the contact's opt-in (a subscription token)",
            needs="a marketing opt-in",
        )
    token = max(tokens, key=lambda o: o.opted_in_at).token
    refusals: list[PathResult] = []
    for rule in rules:
        params = rule.params
        region = (ask.contact.recipient_region or "").upper()
        if params.excluded_regions and (not region or region in params.excluded_regions):
            where = f"in {region}" if region else "in an unknown region"
            refusals.append(
                _refuse(
                    path,
                    rule,
                    ReasonCode.REGION_BLOCKED,
                    f"the recipient is {where}; {params.api} excludes EU/UK/JP/KR/AU",
                )
            )
            continue
        recent = [o.at for o in ask.facts.outbound if o.path is path and o.at > ask.at - params.frequency]
        if recent:
            frees_at = max(recent) + params.frequency
            refusals.append(
                _refuse(
                    path,
                    rule,
                    ReasonCode.FREQUENCY_LIMITED,
                    f"one marketing message per {explain.span(params.frequency)} was already sent",
                    opens_at=frees_at,
                    boundaries=[r + params.frequency for r in recent],
                )
            )
            continue
        older = [o.at + params.frequency for o in ask.facts.outbound if o.path is path]
        return _allow(
            path,
            rule,
            "an opt-in marketing message can go now",
            {"api": params.api, params.token_field: token},
            closes_at=_rule_end(rule),
            needs="the contact's marketing opt-in",
            boundaries=older,
        )
    return replace(refusals[0], boundaries=frozenset().union(*(r.boundaries for r in refusals)))


def _private_reply(ask: Ask) -> PathResult:
    path = Path.PRIVATE_REPLY
    rule = first_in_force(PRIVATE_REPLY, ask.contact.channel, ask.at)
    if rule is None:
        return _refuse(
            path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"no private replies on {ask.channel_label}"
        )
    if blocked := _gate(ask, path, rule):
        return blocked
    comment = ask.facts.comment
    wanted = ask.request.comment_id
    if comment is None or (wanted is not None and comment.comment_id != wanted):
        return _refuse(path, rule, ReasonCode.WINDOW_CLOSED, "there is no open comment to reply to privately")
    replied = comment.replied or any(
        o.path is Path.PRIVATE_REPLY and o.at >= comment.at for o in ask.facts.outbound
    )
    if replied:
        return _refuse(path, rule, ReasonCode.WINDOW_CLOSED, "the one private reply to this comment was sent")
    closes_at = comment.at + rule.params.within
    if ask.at >= closes_at:
        return _refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            f"the private reply closed {explain.since(closes_at, ask.at)}",
        )
    return _allow(
        path,
        rule,
        f"one private reply to the comment is open {explain.until(closes_at, ask.at)}",
        {"recipient": {"comment_id": comment.comment_id}},
        closes_at=closes_at,
        needs="a single message answering the comment",
    )


def _next_month(at: datetime) -> datetime:
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def _bot_initiated(ask: Ask) -> PathResult:
    path = Path.BOT_INITIATED
    rule = first_in_force(BOT_INITIATED, ask.contact.channel, ask.at)
    if rule is None:
        return _refuse(
            path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"no bot-initiated messages on {ask.channel_label}"
        )
    if blocked := _gate(ask, path, rule):
        return blocked
    if not ask.contact.subscribed:
        return _refuse(path, rule, ReasonCode.NEVER_CONTACTED, "the user is not subscribed to the bot")
    params = rule.params
    created = ask.account.viber_bot_created_on
    new_model = (
        params.free_quota_for_bots_created_before is not None
        and created is not None
        and created >= params.free_quota_for_bots_created_before
    )
    paid = ask.account.viber_paid_messages or new_model
    if params.free_quota_per_month is None or paid:
        billing = "charged per message" if paid else "no quota"
        return _allow(path, rule, f"a bot-initiated message to the subscriber can go ({billing})", {})
    reset = _next_month(ask.at)
    left = params.free_quota_per_month - ask.usage.bot_initiated_this_month
    if left <= 0:
        return _refuse(
            path,
            rule,
            ReasonCode.QUOTA_EXHAUSTED,
            f"this month's {params.free_quota_per_month:,} free bot-initiated messages are used up",
            opens_at=reset,
            needs="paid bot-initiated messages (viber_paid_messages) or next month's quota",
        )
    return _allow(
        path,
        rule,
        f"a bot-initiated message to the subscriber can go ({left:,} free left this month)",
        {},
        boundaries=[reset],
    )


def _direct(ask: Ask) -> PathResult:
    path = Path.DIRECT
    rule = first_in_force(DIRECT, ask.contact.channel, ask.at)
    if rule is None:
        return _refuse(path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"{ask.channel_label} needs a window")
    if blocked := _gate(ask, path, rule):
        return blocked
    audience = rule.params.audience
    if audience == "subscribed" and not ask.contact.subscribed:
        return _refuse(
            path,
            rule,
            ReasonCode.NEVER_CONTACTED,
            f"the user never started or followed the {ask.channel_label} bot",
        )
    if audience == "consent_on_record" and not ask.contact.consent_on_record:
        return _refuse(
            path,
            rule,
            ReasonCode.OPT_IN_REQUIRED,
            f"{ask.channel_label} needs the recipient's consent on record",
        )
    if audience == "conversation" and not ask.contacted:
        return _refuse(path, rule, ReasonCode.NEVER_CONTACTED, "the visitor never started a conversation")
    bounds = []
    if ConsentScope.OUTSIDE_WINDOW in ask.contact.opted_out and ask.facts.last_action_at is not None:
        bounds.append(ask.facts.last_action_at + OUTSIDE_WINDOW_COURTESY)
    return _allow(path, rule, f"{ask.channel_label} has no window: the message can go", {}, boundaries=bounds)


EVALUATORS: Mapping[Path, Callable[[Ask], PathResult]] = {
    Path.FREE_FORM: _free_form,
    Path.HUMAN_AGENT: lambda ask: _tagged(ask, Path.HUMAN_AGENT),
    Path.MESSAGE_TAG: lambda ask: _tagged(ask, Path.MESSAGE_TAG),
    Path.CUSTOMER_FEEDBACK: lambda ask: _tagged(ask, Path.CUSTOMER_FEEDBACK),
    Path.UTILITY_TEMPLATE: lambda ask: _template(ask, Path.UTILITY_TEMPLATE),
    Path.AUTHENTICATION_TEMPLATE: lambda ask: _template(ask, Path.AUTHENTICATION_TEMPLATE),
    Path.MARKETING_TEMPLATE: lambda ask: _template(ask, Path.MARKETING_TEMPLATE),
    Path.MARKETING_MESSAGE: _marketing_message,
    Path.PRIVATE_REPLY: _private_reply,
    Path.PLUS_ONE: _plus_one,
    Path.BOT_INITIATED: _bot_initiated,
    Path.DIRECT: _direct,
}

_TEMPLATE_PATH = {
    "UTILITY": Path.UTILITY_TEMPLATE,
    "AUTHENTICATION": Path.AUTHENTICATION_TEMPLATE,
    "MARKETING": Path.MARKETING_TEMPLATE,
}


# --- which paths a request asks for --------------------------------------------------------


def _candidates(ask: Ask) -> tuple[tuple[Path, ...], bool]:
    """The paths to try in order, and whether the last one was asked for explicitly."""
    content, request, table = ask.content, ask.request, ask.table
    window_first = (Path.FREE_FORM,) if Path.FREE_FORM in table.paths else ()
    if request.comment_id is not None:
        return (Path.PRIVATE_REPLY,), True
    if content is not None and content.kind is ContentKind.TEMPLATE:
        category = content.template.category.value if content.template else "UTILITY"
        return (_TEMPLATE_PATH[category],), True
    if request.tag is not None:
        tag_path = {"HUMAN_AGENT": Path.HUMAN_AGENT, "CUSTOMER_FEEDBACK": Path.CUSTOMER_FEEDBACK}.get(
            request.tag.upper(), Path.MESSAGE_TAG
        )
        return (*window_first, tag_path), True
    if (
        content is not None
        and content.kind is ContentKind.FEEDBACK_TEMPLATE
        and Path.CUSTOMER_FEEDBACK in table.paths
    ):
        return (*window_first, Path.CUSTOMER_FEEDBACK), True
    if request.purpose is Purpose.MARKETING and Path.MARKETING_MESSAGE in table.paths:
        return (*window_first, Path.MARKETING_MESSAGE), True
    automatic = tuple(
        p
        for p in table.auto_paths
        if p in (Path.FREE_FORM, Path.DIRECT) or in_force(PATH_FAMILY[p], ask.contact.channel, ask.at)
    )
    return automatic or table.auto_paths[:1], False


def _option_paths(ask: Ask) -> tuple[Path, ...]:
    """Paths worth listing: those with a rule in force now (tags also once retired)."""
    channel = ask.contact.channel
    listed = []
    for path in ask.table.paths:
        family = PATH_FAMILY[path]
        rules = rules_of(family, channel)
        if family is TEMPLATE:
            rules = tuple(r for r in rules if r.params.path is path)
        keep_retired = path is Path.MESSAGE_TAG and any(r.started_by(ask.at) for r in rules)
        if path is Path.PRIVATE_REPLY and ask.facts.comment is None:
            continue
        if keep_retired or any(r.in_force(ask.at) for r in rules):
            listed.append(path)
    return tuple(listed)


def _agnostic(ask: Ask) -> Ask:
    return replace(ask, content=None, request=OutboundRequest())


def _evaluate_options(ask: Ask, skip: Path | None) -> list[PathResult]:
    general = _agnostic(ask)
    return [EVALUATORS[path](general) for path in _option_paths(ask) if path is not skip]


def _require_aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("`at` must be timezone-aware (UTC)")
    return at.astimezone(UTC)


# --- public API ---------------------------------------------------------------------------


def decide(inp: DecisionInput, at: datetime) -> Decision:
    """Whether ``inp`` may be sent at ``at``, by which path, and what else would work."""
    at = _require_aware(at)
    ask = _ask(inp, at)
    paths, explicit = _candidates(ask)
    results = [EVALUATORS[path](ask) for path in paths]
    chosen = next((r for r in results if r.allowed), None)
    options = _evaluate_options(ask, chosen.path if chosen else None)

    boundaries = set(ask.facts.boundaries) | set(rule_change_instants(ask.contact.channel))
    for result in (*results, *options):
        boundaries |= result.boundaries
    valid_until = min((b for b in boundaries if b > at), default=None)

    if chosen is not None:
        note = chosen.note
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
    clauses = [r.note for r in ordered]
    mentioned = {r.path for r in ordered}
    clauses += [o.note for o in options if o.allowed and o.path not in mentioned]
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
    return tuple(r.option() for r in _evaluate_options(_ask(inp, at), None))


def opens_window(contact: ContactState, at: datetime) -> bool:
    """Whether the contact's last action kind opens a free-form window on its channel at ``at``.

    The webhook uses this to decide whether an inbound event moves the window forward.
    """
    rule = first_in_force(WINDOW, contact.channel, _require_aware(at))
    return rule is not None and contact.last_customer_action_kind in rule.params.opening_kinds


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
    window = _window(
        contact,
        account,
        last_action_at=last,
        ad_started_at=contact.ad_conversation_started_at,
        closed_early_at=contact.window_closed_early_at,
        rules_at=last,
    )

    def tag_closes(rule: Rule[TagParams] | None) -> datetime | None:
        if rule is None or window.rule is None or rule.params.after_last_action is None:
            return None
        if contact.last_customer_action_kind not in window.rule.params.opening_kinds:
            return None
        if rule.params.permission and not account.has(rule.params.permission):
            return None
        return last + rule.params.after_last_action

    return WindowClosings(
        free_form_closes_at=window.closes_at,
        human_agent_closes_at=tag_closes(first_in_force(HUMAN_AGENT, contact.channel, last)),
        feedback_closes_at=tag_closes(first_in_force(CUSTOMER_FEEDBACK, contact.channel, last)),
        private_reply_closes_at=private_reply_closes_at,
    )
