"""Handover: while a person owns the conversation, automation stays quiet on every path.

A person takes a conversation over (the console's "take over", or their first send); the bot,
follow-ups and jobs must not speak until it comes back: handed back (the contact then carries no
``human_owner``), or by itself after the account's ``human_idle_return_seconds`` without the
person's activity. Each path's own verdict is kept underneath, so the answer still says when the
path opens and closes: an allowed path becomes a refusal that opens at the idle return (if the
path is still open then), a refused one also names the owner.

"As of" like everything else: a takeover or activity stamped after ``at`` has not happened yet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import ReasonCode
from windowkeeper.policy.paths.verdict import PathResult, refuse

HAND_BACK = "the conversation handed back to the bot, or the agent idle long enough for it to return"


def human_hold(ask: Ask) -> tuple[datetime | None, frozenset[datetime]]:
    """When a person's hold on the conversation returns to automation (None: no hold at ``at``).

    Also the instants after ``at`` at which that answer changes. People are never held back.
    """
    owner = ask.contact.human_owner
    if owner is None or ask.sender.is_human:
        return None, frozenset()
    at = ask.at
    stamps = [i for i in (owner.since, owner.last_activity_at) if i is not None]
    future = frozenset(i for i in stamps if i > at)
    known = [i for i in stamps if i <= at]
    if not known:  # taken over after ``at``, or a hold with no instant (lapsed)
        return None, future
    returns_at = max(known) + timedelta(seconds=ask.account.human_idle_return_seconds)
    if at >= returns_at:
        return None, future
    return returns_at, future | {returns_at}


def respecting_handover(evaluate: Callable[[Ask], PathResult]) -> Callable[[Ask], PathResult]:
    """``evaluate``, refusing automation while a person owns the conversation."""

    def evaluate_held(ask: Ask) -> PathResult:
        result = evaluate(ask)
        if ask.contact.human_owner is None:  # the common case: nobody holds the conversation
            return result
        returns_at, boundaries = human_hold(ask)
        if returns_at is None:
            return result._replace(boundaries=result.boundaries | boundaries) if boundaries else result
        owner = ask.contact.human_owner
        who = f"a person ({owner.agent_id})" if owner is not None and owner.agent_id else "a person"
        note = explain.Clause(
            f"{who} owns this conversation, so automation stays quiet ",
            "until",
            returns_at,
            ask.at,
            ", when it returns to the bot unless the agent is active again, or until an agent hands it back",
        )
        if result.allowed:
            still_open = result.closes_at is None or returns_at < result.closes_at
            return refuse(
                result.path,
                result.rule,
                ReasonCode.HUMAN_OWNS_CONVERSATION,
                note,
                needs=HAND_BACK,
                opens_at=returns_at if still_open else None,
                closes_at=result.closes_at,
                boundaries=result.boundaries | boundaries,
            )
        opens_at = max(result.opens_at, returns_at) if result.opens_at is not None else None
        return result._replace(
            note=f"{result.note}; {note}",
            reasons=(*result.reasons, ReasonCode.HUMAN_OWNS_CONVERSATION),
            opens_at=opens_at,
            boundaries=result.boundaries | boundaries | ({opens_at} if opens_at else set()),
        )

    return evaluate_held
