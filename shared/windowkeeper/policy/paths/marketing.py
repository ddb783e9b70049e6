"""Messenger opt-in marketing messages (and, before them, recurring notifications)."""

from __future__ import annotations

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import Path, ReasonCode
from windowkeeper.policy.paths.checks import gate
from windowkeeper.policy.paths.verdict import PathResult, allow, refuse, rule_end
from windowkeeper.policy.rules import MARKETING_MESSAGE


def marketing_message(ask: Ask) -> PathResult:
    """A marketing message to an opt-in token; the first rule in force that allows it wins."""
    path = Path.MARKETING_MESSAGE
    rules = ask.rules.of(MARKETING_MESSAGE)
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
    ad_account = ask.account.marketing_ad_account_id
    campaign = ask.account.marketing_campaign_id
    refusals: list[PathResult] = []
    for rule in rules:
        params = rule.params
        region, where = _recipient_region(ask)
        if params.excluded_regions and (not region or region in params.excluded_regions):
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
        # Checked after the contact's own blocks, so it is reported only when it is the one
        # thing standing between this contact and a send (an operator can fix it; the rest not).
        if params.needs_ad_account and not (ad_account and campaign):
            refusals.append(
                refuse(
                    path,
                    rule,
                    ReasonCode.PERMISSION_MISSING,
                    "opt-in marketing needs a Marketing Messages ad account and campaign, "
                    "which this account does not name",
                    needs="a Marketing Messages ad account and campaign in the account settings",
                )
            )
            continue
        older = [o.at + params.frequency for o in ask.facts.outbound if o.path is path]
        send_fields = {"api": params.api, params.token_field: token}
        if params.needs_ad_account:
            send_fields |= {"ad_account_id": ad_account, "campaign_id": campaign}
        return allow(
            path,
            rule,
            "an opt-in marketing message can go now",
            send_fields,
            closes_at=rule_end(rule),
            needs="the contact's marketing opt-in",
            boundaries=older,
        )
    return refusals[0]._replace(boundaries=frozenset().union(*(r.boundaries for r in refusals)))


def _recipient_region(ask: Ask) -> tuple[str, str]:
    """The recipient's region (upper case, "" if unknown) and how the explanation names it.

    Meta does not tell us a Messenger contact's country, so the account's declared audience
    region stands in when the contact's own is unknown.
    """
    own = (ask.contact.recipient_region or "").upper()
    if own:
        return own, f"in {own}"
    audience = (ask.account.marketing_audience_region or "").upper()
    if audience:
        return audience, f"in {audience} (the account's marketing audience region)"
    return "", "in an unknown region"
