"""Window-expiry notices: which ones a contact gets, when, and what they say. Pure; no I/O, no clock.

For one customer action the notices form a chain, in time order:

``window.closing_soon -> window.closed -> human_agent_window.closing_soon -> human_agent_window.closed``

The two HUMAN_AGENT notices exist only on Messenger and Instagram (the only channels with that
tag) and only when the engine reports a human-agent closing instant. "Closing soon" is the
closing instant minus the account's ``expiry_lead_time_seconds``. The contact item carries just
the next notice (``due_*`` attributes); the sweep publishes it and writes the one after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from windowkeeper.events import DetailType
from windowkeeper.policy.model import Channel
from windowkeeper.ports.scheduling import WindowClosingsLike
from windowkeeper.store.due_records import due_item_attributes

HUMAN_AGENT_CHANNELS = frozenset({Channel.MESSENGER, Channel.INSTAGRAM})


class NoticeKind(StrEnum):
    WINDOW_CLOSING_SOON = DetailType.WINDOW_CLOSING_SOON
    WINDOW_CLOSED = DetailType.WINDOW_CLOSED
    HUMAN_AGENT_CLOSING_SOON = DetailType.HUMAN_AGENT_WINDOW_CLOSING_SOON
    HUMAN_AGENT_CLOSED = DetailType.HUMAN_AGENT_WINDOW_CLOSED

    @property
    def is_closing_soon(self) -> bool:
        return self in (NoticeKind.WINDOW_CLOSING_SOON, NoticeKind.HUMAN_AGENT_CLOSING_SOON)


CHAIN_ORDER = (
    NoticeKind.WINDOW_CLOSING_SOON,
    NoticeKind.WINDOW_CLOSED,
    NoticeKind.HUMAN_AGENT_CLOSING_SOON,
    NoticeKind.HUMAN_AGENT_CLOSED,
)


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    due_at: datetime
    closes_at: datetime  # the closing instant the notice is about


def notice_chain(channel: Channel, closings: WindowClosingsLike, lead: timedelta) -> list[Notice]:
    """Every notice for one window, in chain order (an empty list when nothing closes)."""
    chain: list[Notice] = []
    free_form = closings.free_form_closes_at
    if free_form is not None:
        chain.append(Notice(NoticeKind.WINDOW_CLOSING_SOON, free_form - lead, free_form))
        chain.append(Notice(NoticeKind.WINDOW_CLOSED, free_form, free_form))
    human_agent = closings.human_agent_closes_at
    if (
        channel in HUMAN_AGENT_CHANNELS
        and human_agent is not None
        and (free_form is None or human_agent > free_form)
    ):
        chain.append(Notice(NoticeKind.HUMAN_AGENT_CLOSING_SOON, human_agent - lead, human_agent))
        chain.append(Notice(NoticeKind.HUMAN_AGENT_CLOSED, human_agent, human_agent))
    return chain


def _current(notice: Notice, now: datetime) -> bool:
    # "Closes within the hour" after the close is wrong; a late sweep skips to the "closed" notice.
    return not (notice.kind.is_closing_soon and notice.closes_at <= now)


def first_notice(chain: list[Notice], now: datetime) -> Notice | None:
    """The first notice still worth publishing (for a freshly opened or renewed window)."""
    return next((n for n in chain if _current(n, now)), None)


def next_notice(chain: list[Notice], after: NoticeKind, now: datetime) -> Notice | None:
    """The notice that follows ``after`` in the chain, skipping "closing soon" ones already past."""
    rank = CHAIN_ORDER.index(after)
    return next((n for n in chain if CHAIN_ORDER.index(n.kind) > rank and _current(n, now)), None)


def due_attributes(pk: str, notice: Notice, window_ms: int, now: datetime) -> dict[str, Any]:
    """The ``due_*`` attributes that put ``notice`` on the sweep's ``due-index``.

    The bucket is the due minute, or the current minute if the notice is already due: a bucket
    for a minute the sweep has already passed would never be read again.
    """
    return due_item_attributes(pk, due_at=notice.due_at, kind=notice.kind.value, window_ms=window_ms, now=now)


def _clock(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return "the hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def agent_message(channel: Channel, notice: Notice, lead: timedelta, human_agent_follows: bool) -> str:
    """The sentence agent UIs show with the notice."""
    if channel is Channel.WHATSAPP:
        after = "only an approved template will work"
    elif channel in HUMAN_AGENT_CHANNELS and human_agent_follows:
        after = "only a person (HUMAN_AGENT tag, up to 7 days) or a template will work"
    elif channel in HUMAN_AGENT_CHANNELS:
        after = "only a utility template or an opted-in marketing message will work"
    else:
        after = "free-form replies stop"
    if notice.kind is NoticeKind.WINDOW_CLOSING_SOON:
        return (
            f"The messaging window closes at {_clock(notice.closes_at)}: "
            f"reply within {_duration(lead)} or {after}."
        )
    if notice.kind is NoticeKind.WINDOW_CLOSED:
        return f"The messaging window closed at {_clock(notice.closes_at)}: {after}."
    if notice.kind is NoticeKind.HUMAN_AGENT_CLOSING_SOON:
        return (
            f"The 7-day human-agent window closes at {_clock(notice.closes_at)}: a person must reply "
            f"within {_duration(lead)}; after that only a template or an opted-in marketing message "
            "will work."
        )
    return (
        f"The 7-day human-agent window closed at {_clock(notice.closes_at)}: only a template "
        "or an opted-in marketing message will work."
    )
