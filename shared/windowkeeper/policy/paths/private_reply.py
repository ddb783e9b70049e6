"""The one private reply to a comment on a Page or Instagram post."""

from __future__ import annotations

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import Path, ReasonCode
from windowkeeper.policy.paths.checks import gate
from windowkeeper.policy.paths.verdict import PathResult, allow, refuse
from windowkeeper.policy.rules import PRIVATE_REPLY


def private_reply(ask: Ask) -> PathResult:
    """One message answering the pending comment, within the rule's time limit."""
    path = Path.PRIVATE_REPLY
    rule = ask.rules.first(PRIVATE_REPLY)
    if rule is None:
        return refuse(
            path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"no private replies on {ask.channel_label}"
        )
    if blocked := gate(ask, path, rule):
        return blocked
    comment = ask.facts.comment
    wanted = ask.request.comment_id
    if comment is None or (wanted is not None and comment.comment_id != wanted):
        return refuse(path, rule, ReasonCode.WINDOW_CLOSED, "there is no open comment to reply to privately")
    replied = comment.replied or any(
        o.path is Path.PRIVATE_REPLY and o.at >= comment.at for o in ask.facts.outbound
    )
    if replied:
        return refuse(path, rule, ReasonCode.WINDOW_CLOSED, "the one private reply to this comment was sent")
    closes_at = comment.at + rule.params.within
    if ask.at >= closes_at:
        return refuse(
            path,
            rule,
            ReasonCode.WINDOW_CLOSED,
            explain.Clause("the private reply closed ", "since", closes_at, ask.at),
        )
    return allow(
        path,
        rule,
        explain.Clause("one private reply to the comment is open ", "until", closes_at, ask.at),
        {"recipient": {"comment_id": comment.comment_id}},
        closes_at=closes_at,
        needs="a single message answering the comment",
    )
