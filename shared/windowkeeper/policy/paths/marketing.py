"""Messenger opt-in marketing messages (and, before them, recurring notifications)."""

from __future__ import annotations

from dataclasses import replace

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import Path, ReasonCode
from windowkeeper.policy.paths.checks import gate
from windowkeeper.policy.paths.verdict import PathResult, allow, refuse, rule_end
from windowkeeper.policy.rules import MARKETING_MESSAGE, in_force


def marketing_message(ask: Ask) -> PathResult:
    """A marketing message to an opt-in token; the first rule in force that allows it wins."""
    path = Path.MARKETING_MESSAGE
    rules = in_force(MARKETING_MESSAGE, ask.contact.channel, ask.at)
    if not rules:
        return refuse(
            path,
            None,
            ReasonCode.CHANNEL_UNSUPPORTED,
            f"no opt-in marketing messages on {ask.channel_label} then",
        )
    if blocked := gate(ask, path, rules[0]):
        return blocked
    tokens = [o for o in ask.facts.opt_ins if o.token and o.purpose == "marketing"]
    if not tokens:
        return refuse(
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
                refuse(
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
                refuse(
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
        return allow(
            path,
            rule,
            "an opt-in marketing message can go now",
            {"api": params.api, params.token_field: token},
            closes_at=rule_end(rule),
            needs="the contact's marketing opt-in",
            boundaries=older,
        )
    return replace(refusals[0], boundaries=frozenset().union(*(r.boundaries for r in refusals)))
