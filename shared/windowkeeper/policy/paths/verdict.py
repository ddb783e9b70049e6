"""One path's verdict: allowed or refused, why, and the instants at which it may change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from windowkeeper.policy.explain import Note
from windowkeeper.policy.model import Option, Path, ReasonCode
from windowkeeper.policy.rules import Rule, day_start

_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})


class PathResult(NamedTuple):
    path: Path
    allowed: bool
    rule: Rule[Any] | None
    note: Note  # a clause of the explanation sentence, formatted when read (str(note))
    reasons: tuple[ReasonCode, ...] = ()
    send_fields: Mapping[str, Any] = _NO_FIELDS
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


def _bounds(boundaries: Iterable[datetime], *instants: datetime | None) -> frozenset[datetime]:
    """A verdict's own opening/closing instants are always boundaries too."""
    own = [i for i in instants if i is not None]
    if not boundaries:  # most verdicts: nothing but their own instants, often none
        return frozenset(own) if own else _NO_BOUNDARIES
    return frozenset(boundaries).union(own)


_NO_BOUNDARIES: frozenset[datetime] = frozenset()


def refuse(
    path: Path,
    rule: Rule[Any] | None,
    reason: ReasonCode,
    note: Note,
    *,
    needs: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    extra: Iterable[ReasonCode] = (),
    boundaries: Iterable[datetime] = (),
    matched_phrase: str | None = None,
) -> PathResult:
    # Positional, in field order: every evaluated path builds one (twice as fast as keywords).
    return PathResult(
        path,
        False,
        rule,
        note,
        (reason, *extra) if extra else (reason,),
        _NO_FIELDS,
        opens_at,
        closes_at,
        needs,
        _bounds(boundaries, opens_at, closes_at),
        matched_phrase,
        False,
    )


def allow(
    path: Path,
    rule: Rule[Any] | None,
    note: Note,
    send_fields: Mapping[str, Any],
    *,
    closes_at: datetime | None = None,
    needs: str = "",
    boundaries: Iterable[datetime] = (),
    confirmed: bool = False,
) -> PathResult:
    return PathResult(
        path,
        True,
        rule,
        note,
        (),
        send_fields,  # read-only here; the Decision copies what it keeps
        None,
        closes_at,
        needs,
        _bounds(boundaries, closes_at),
        None,
        confirmed,
    )


def rule_end(rule: Rule[Any]) -> datetime | None:
    """When a dated rule stops (None: it has no end date)."""
    return day_start(rule.effective_until) if rule.effective_until else None
