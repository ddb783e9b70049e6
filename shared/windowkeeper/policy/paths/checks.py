"""Checks several paths share: the hard blocks every path runs first, and the promotional screen."""

from __future__ import annotations

from typing import Any

from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import ConsentScope, Path, ReasonCode
from windowkeeper.policy.paths.verdict import PathResult, refuse
from windowkeeper.policy.promotional import find_promotional_phrase
from windowkeeper.policy.rules import OUTSIDE_WINDOW_COURTESY, Rule


def gate(ask: Ask, path: Path, rule: Rule[Any] | None) -> PathResult | None:
    """Hard blocks on every path: unreachable, and each opt-out scope."""
    if ask.facts.unreachable:
        why = f" ({ask.contact.unreachable_reason})" if ask.contact.unreachable_reason else ""
        return refuse(path, rule, ReasonCode.UNREACHABLE, f"the contact is unreachable{why}")
    scopes = ask.contact.opted_out
    if not scopes:  # most contacts
        return None
    if ConsentScope.ALL in scopes:
        return refuse(path, rule, ReasonCode.OPTED_OUT, "the contact opted out of all messages")
    if ConsentScope.MARKETING in scopes and ask.is_marketing(path):
        return refuse(path, rule, ReasonCode.OPTED_OUT, "the contact opted out of marketing")
    if ConsentScope.OUTSIDE_WINDOW in scopes and path is not Path.FREE_FORM:
        last = ask.facts.last_action_at
        if path is Path.DIRECT and last is not None and ask.at < last + OUTSIDE_WINDOW_COURTESY:
            return None  # no platform window: replies within 24 h of the contact's message stay fine
        courtesy_end = [last + OUTSIDE_WINDOW_COURTESY] if last is not None else []
        return refuse(
            path,
            rule,
            ReasonCode.OPTED_OUT,
            "the contact asked for no messages outside the conversation window",
            boundaries=courtesy_end,
        )
    return None


def screen(ask: Ask, path: Path, rule: Rule[Any]) -> PathResult | bool:
    """Promotional screen: a refusal, or whether the sender's confirmation was relied on."""
    if ask.content is None:
        return False
    texts = [ask.content.text or ""]
    if ask.content.template is not None:
        # What the customer reads: the body with the sender's parameters filled in, so a
        # promotion typed into a parameter of a utility template is screened too.
        texts.append(ask.content.template.rendered())
    phrase = next((p for p in map(find_promotional_phrase, texts) if p), None)
    if phrase is None:
        return False
    if ask.request.confirm_not_promotional:
        return True
    return refuse(
        path,
        rule,
        ReasonCode.PROMOTIONAL_CONTENT,
        f'"{phrase}" reads as promotional, which {path.value} messages may not be',
        needs="non-promotional content, or the sender's confirmation that it is not promotional",
        matched_phrase=phrase,
    )
