"""Plain-English pieces of a decision's explanation: instants and durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple


def iso(instant: datetime) -> str:
    """``2026-11-21T07:02Z``; seconds only when they are not zero.

    Formatted by hand: ``strftime`` was the single costliest call of a decision.
    """
    i = instant.astimezone(UTC)
    text = f"{i.year}-{i.month:02d}-{i.day:02d}T{i.hour:02d}:{i.minute:02d}"
    return f"{text}:{i.second:02d}Z" if i.second or i.microsecond else f"{text}Z"


def span(delta: timedelta) -> str:
    """A rounded human duration: ``45 min``, ``3 h``, ``2 d 4 h``."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" if minutes < 30 or hours >= 10 else f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def until(instant: datetime, at: datetime) -> str:
    """``until 2026-11-24T10:02Z (in 2 d 23 h)``."""
    return f"until {iso(instant)} (in {span(instant - at)})"


def since(instant: datetime, at: datetime) -> str:
    """``3 h ago (2026-11-21T07:02Z)``."""
    return f"{span(at - instant)} ago ({iso(instant)})"


def sentence(clauses: list[str]) -> str:
    text = "; ".join(c for c in clauses if c)
    if not text:
        return ""
    return text[0].upper() + text[1:] + "."


class Clause(NamedTuple):
    """A clause naming an instant, formatted only when read (``check()`` never reads it).

    ``str(Clause("open ", "until", closes_at, at))`` is ``"open " + until(closes_at, at)``.
    """

    head: str
    relation: Literal["until", "since"]
    instant: datetime
    at: datetime
    tail: str = ""

    def __str__(self) -> str:
        when = until if self.relation == "until" else since
        return f"{self.head}{when(self.instant, self.at)}{self.tail}"


Note = str | Clause
"""A path's clause of the explanation: plain text, or a ``Clause`` formatted on demand."""
