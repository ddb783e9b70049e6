"""Who owns a conversation now, and what state it is in at a glance. Pure functions of stored state.

Two questions every reader of a contact asks, answered in one place so the agent console, the
contacts API and any later reader agree:

* ``effective_owner(record, account, now)``: the stored ``owner`` says a human took the
  conversation; it goes back to the bot by itself after the account's
  ``human_idle_return_seconds`` without agent activity (``owner_last_activity_ms``, else
  ``owner_since_ms``). Nothing writes that return: it is computed whenever the owner is read, so
  no timer, schedule or sweep has to run for it and an "as of" view gets it right for any instant.
  A human hold is a lease that needs an instant: one with neither instant recorded has lapsed
  (writers that set ``owner = "human"`` stamp ``owner_since_ms``). The policy engine reads the
  same hold (``ContactState.human_owner``) and refuses automation while it lasts
  (``human_owns_conversation``).
* ``conversation_state(...)``: one label for the console's list (``open``, ``closing_soon``,
  ``human_agent_only``, ``template_only``, ``expired``, ``opted_out``, ``unreachable``), derived
  from the policy engine's per-path options at ``now``: the engine stays the only place that knows
  the rules; this only ranks its answers.

No clock, no I/O: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from windowkeeper.instants import from_ms
from windowkeeper.policy.model import AccountProfile, ConsentScope, ContactState, Option, Path
from windowkeeper.store.contact_item import ContactRecord

OwnerKind = Literal["bot", "human"]


class Ownership(BaseModel):
    """The conversation's owner as of an instant (after any idle return)."""

    model_config = ConfigDict(frozen=True)

    owner: OwnerKind
    agent_id: str | None = None  # the agent who holds it (human owner only)
    since: datetime | None = None  # when the current owner got it (idle return: the return instant)
    last_activity_at: datetime | None = None  # the human owner's last activity
    returns_to_bot_at: datetime | None = None  # human owner: when idleness hands it back
    returned_on_idle: bool = False  # stored as human, but idle long enough to be the bot's again
    routing_owner_app_id: str | None = None  # Meta conversation routing: the app holding the thread


def effective_owner(record: ContactRecord, account: AccountProfile, now: datetime) -> Ownership:
    """The owner at ``now``: the stored owner, unless a human's hold has lapsed through idleness."""
    since = from_ms(record.owner_since_ms)
    routing = record.routing_owner_app_id
    held = record.human_owner()  # the policy engine reads the same hold (policy/paths/handover)
    if held is None:
        return Ownership(owner="bot", since=since, routing_owner_app_id=routing)
    returns_at = held.returns_at(account.human_idle_return_seconds)
    last_activity = held.last_activity_at or since
    if returns_at is None or last_activity is None:
        return Ownership(owner="bot", returned_on_idle=True, routing_owner_app_id=routing)
    if now >= returns_at:
        return Ownership(owner="bot", since=returns_at, returned_on_idle=True, routing_owner_app_id=routing)
    return Ownership(
        owner="human",
        agent_id=record.owner_agent_id,
        since=since,
        last_activity_at=last_activity,
        returns_to_bot_at=returns_at,
        routing_owner_app_id=routing,
    )


class ConversationState(StrEnum):
    """The console's one-word summary of a conversation at an instant."""

    OPEN = "open"  # free-form (or, on channels without a window, direct) messages may go
    CLOSING_SOON = "closing_soon"  # open, and the free-form window closes within the lead time
    HUMAN_AGENT_ONLY = "human_agent_only"  # only a person may write, with the HUMAN_AGENT tag
    TEMPLATE_ONLY = "template_only"  # only templates / other out-of-window paths remain
    EXPIRED = "expired"  # nothing may go until the customer writes again
    OPTED_OUT = "opted_out"  # the customer asked for no messages (at all, or none now)
    UNREACHABLE = "unreachable"  # Meta says the customer cannot be reached


# Paths that mean "the conversation is open": ordinary replies.
_OPEN_PATHS = frozenset({Path.FREE_FORM, Path.DIRECT})


def conversation_state(
    contact: ContactState,
    options: Sequence[Option],
    *,
    free_form_closes_at: datetime | None,
    lead_time: timedelta,
    now: datetime,
) -> ConversationState:
    """Rank the engine's path options (evaluated at ``now`` for a human sender) into one label.

    Order, first match wins: opted out of everything; unreachable; a free-form/direct path open
    (``closing_soon`` when it closes within ``lead_time``); HUMAN_AGENT open; any other path open
    (templates, tags, private replies...); nothing open because the customer opted out of
    out-of-window messages; otherwise expired. ``free_form_closes_at`` (from
    ``window_closings``) is used when the free-form option carries no closing instant.
    """
    if ConsentScope.ALL in contact.opted_out:
        return ConversationState.OPTED_OUT
    if contact.unreachable_since is not None and contact.unreachable_since <= now:
        return ConversationState.UNREACHABLE
    open_now = [o for o in options if o.allowed_now]
    reply = next((o for o in open_now if o.path in _OPEN_PATHS), None)
    if reply is not None:
        closes_at = reply.closes_at or (free_form_closes_at if reply.path is Path.FREE_FORM else None)
        if closes_at is not None and closes_at - now <= lead_time:
            return ConversationState.CLOSING_SOON
        return ConversationState.OPEN
    if any(o.path is Path.HUMAN_AGENT for o in open_now):
        return ConversationState.HUMAN_AGENT_ONLY
    if open_now:
        return ConversationState.TEMPLATE_ONLY
    if ConsentScope.OUTSIDE_WINDOW in contact.opted_out:
        return ConversationState.OPTED_OUT
    return ConversationState.EXPIRED
