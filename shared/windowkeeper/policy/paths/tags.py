"""Message tags: HUMAN_AGENT, CUSTOMER_FEEDBACK and the other (mostly retired) Messenger tags."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask, action_opens_window
from windowkeeper.policy.model import ContentKind, Path, ReasonCode
from windowkeeper.policy.paths.checks import gate, screen
from windowkeeper.policy.paths.verdict import PathResult, allow, refuse, rule_end
from windowkeeper.policy.rules import (
    DAY,
    MESSAGE_TAG,
    PATH_FAMILY,
    TAGGED_PATHS,
    DayRules,
    Family,
    Rule,
    TagParams,
    rules_of,
)


def tag_rule(ask: Ask, path: Path) -> tuple[Rule[TagParams] | None, PathResult | None]:
    """The tag rule that applies, or why none does (unknown, not yet available, or retired tag)."""
    family: Family[TagParams] = PATH_FAMILY[path]
    wanted = ask.request.tag.upper() if ask.request.tag else None
    current = ask.rules.of(family)
    if wanted is not None:
        current = tuple(r for r in current if r.params.tag == wanted)
    if current:
        # The first the account holds the permission for, else the first (refused for it later).
        permissions = ask.account.permissions
        for rule in current:
            permission = rule.params.permission
            if permission is None or permission in permissions:
                return rule, None
        return current[0], None
    # None in force: why not (unknown here, not yet available, or retired).
    known = [r for r in rules_of(family, ask.contact.channel) if wanted is None or r.params.tag == wanted]
    what = wanted or "message tags"
    if not known:
        return None, refuse(
            path, None, ReasonCode.TAG_NOT_ALLOWED, f"{what} cannot be used on {ask.channel_label}"
        )
    started = [r for r in known if r.started_by(ask.at)]
    if not started:
        first = min(known, key=lambda r: r.effective_from or ask.at.date())
        since = first.effective_from.isoformat() if first.effective_from else "later"
        return None, refuse(
            path, first, ReasonCode.TAG_NOT_ALLOWED, f"{what} is not available before {since}"
        )
    last = max(started, key=lambda r: r.effective_until or ask.at.date())
    retired_on = last.effective_until.isoformat() if last.effective_until else "an earlier date"
    return None, refuse(
        path,
        last,
        ReasonCode.TAG_RETIRED,
        f"{what} was retired on {retired_on}; use {last.params.replacement} instead",
        needs=last.params.replacement,
    )


def tagged(ask: Ask, path: Path) -> PathResult:
    """A tagged message; ``path`` is one of ``TAGGED_PATHS`` (it names the tag's rule family)."""
    rule, why_not = tag_rule(ask, path)
    if rule is None:
        assert why_not is not None
        return why_not
    params = rule.params
    tag = params.tag
    if blocked := gate(ask, path, rule):
        return blocked
    if params.human_only and not ask.sender.is_human and ask.request.tag is not None:
        # Asked for by name, by automation: refused whatever the window (the request misstates
        # who sends); a path merely listed as an option goes on to say when it opens.
        return refuse(
            path,
            rule,
            ReasonCode.HUMAN_ONLY,
            f"{tag} is for a person's own message, and this sender is automation",
            needs="a person must send it",
        )
    feedback = ask.content is not None and ask.content.kind is ContentKind.FEEDBACK_TEMPLATE
    if feedback and ContentKind.FEEDBACK_TEMPLATE not in (params.content_kinds or ()):
        where = "" if Path.CUSTOMER_FEEDBACK in ask.table.paths else f"; {ask.channel_label} has none"
        return refuse(
            path,
            rule,
            ReasonCode.CONTENT_INVALID,
            f"the customer feedback template goes only with CUSTOMER_FEEDBACK, not {tag}{where}",
        )
    if not ask.contacted:
        return refuse(
            path, rule, ReasonCode.NEVER_CONTACTED, f"{tag} needs a conversation the customer started"
        )
    closes_at: datetime | None = None
    if params.after_last_action is not None:
        last = ask.facts.last_action_at
        assert last is not None
        if not action_opens_window(ask.window.rule, ask.contact.last_customer_action_kind):
            return refuse(path, rule, ReasonCode.WINDOW_CLOSED, f"{tag} needs a message from the customer")
        closes_at = last + params.after_last_action
        if ask.at >= closes_at:
            return refuse(
                path,
                rule,
                ReasonCode.WINDOW_CLOSED,
                explain.Clause(f"{tag} closed ", "since", closes_at, ask.at),
                needs="a message from the customer",
            )
    if params.permission and not ask.account.has(params.permission):
        return refuse(
            path,
            rule,
            ReasonCode.PERMISSION_MISSING,
            f"{tag} needs the {params.permission} permission, which this account does not hold",
            needs=f"the {params.permission} permission",
            closes_at=closes_at,
        )

    def open_clause(tail: str) -> explain.Note:
        if closes_at:
            return explain.Clause(f"{tag} is open ", "until", closes_at, ask.at, tail)
        return f"{tag} can be used{tail}"

    if params.human_only and not ask.sender.is_human:
        return refuse(
            path,
            rule,
            ReasonCode.HUMAN_ONLY,
            open_clause(" if a person sends it"),
            needs="a person must send it",
            closes_at=closes_at,
        )
    if ask.content is not None and params.content_kinds and ask.content.kind not in params.content_kinds:
        return refuse(
            path, rule, ReasonCode.CONTENT_INVALID, f"{tag} may carry only the customer feedback template"
        )
    purpose = ask.request.purpose
    if path is Path.MESSAGE_TAG and ask.request.tag is not None and purpose is None:
        return refuse(
            path,
            rule,
            ReasonCode.TAG_NOT_ALLOWED,
            f"{tag} needs a stated purpose ({', '.join(sorted(params.purposes))})",
        )
    if purpose is not None and purpose not in params.purposes:
        return refuse(
            path,
            rule,
            ReasonCode.TAG_NOT_ALLOWED,
            f"{tag} is for {', '.join(sorted(params.purposes))}, not {purpose.value}",
        )
    if capped := tagged_cap(ask, path, rule):
        return capped
    screened = screen(ask, path, rule) if params.non_promotional else False
    if isinstance(screened, PathResult):
        return screened
    who = " if a person sends it" if params.human_only else ""
    needs = "a person must send it" if params.human_only else ""
    if path is Path.MESSAGE_TAG and ask.request.tag is None:
        needs = _tags_by_purpose(ask.rules)
    if params.content_kinds:
        needs = "the customer feedback template"
    return allow(
        path,
        rule,
        open_clause(who),
        {"messaging_type": "MESSAGE_TAG", "tag": tag},
        closes_at=closes_at or rule_end(rule),
        needs=needs,
        confirmed=screened,
    )


def tagged_cap(ask: Ask, path: Path, rule: Rule[TagParams]) -> PathResult | None:
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
    return refuse(
        path,
        rule,
        ReasonCode.FREQUENCY_LIMITED,
        f"the account's cap of {cap} tagged message(s) per 24 h is used up",
        opens_at=releases[len(counted) - cap],
        boundaries=releases,
        needs="the customer to write again, or the cap to free up",
    )


@lru_cache(maxsize=256)
def _tags_by_purpose(rules: DayRules) -> str:
    """What an untagged request needs for a message tag: the tags in force and their purposes."""
    return "a tag matching the purpose: " + ", ".join(
        f"{r.params.tag} ({'/'.join(sorted(r.params.purposes))})" for r in rules.of(MESSAGE_TAG)
    )
