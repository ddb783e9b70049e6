"""A rule as a record: what it governs (its family), where and when it is in force, its sources.

Dates are UTC days; ``effective_from`` is inclusive, ``effective_until`` exclusive (the first day the
rule no longer applies, e.g. the day Meta starts answering error 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Generic, Literal, TypeVar

from windowkeeper.policy.model import Channel, RuleRef

P = TypeVar("P")
Confidence = Literal["H", "M", "L"]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@lru_cache(maxsize=512)
def day_start(day: date) -> datetime:
    """The UTC instant a dated rule change takes effect (cached: rule dates are a few dozen days)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Family(Generic[P]):
    """A kind of rule; the type parameter is its parameter record, so look-ups stay typed."""

    name: str


@dataclass(frozen=True)
class Rule(Generic[P]):
    rule_id: str
    family: Family[P]
    channels: frozenset[Channel]
    sources: tuple[str, ...]
    confidence: Confidence
    summary: str
    params: P
    effective_from: date | None = None
    effective_until: date | None = None

    def in_force(self, at: datetime) -> bool:
        starts, ends = self.bounds
        return (starts is None or at >= starts) and (ends is None or at < ends)

    def started_by(self, at: datetime) -> bool:
        starts = self.bounds[0]
        return starts is None or at >= starts

    @cached_property
    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The instants the rule starts and stops (None: undated), built once per rule."""
        return (
            day_start(self.effective_from) if self.effective_from else None,
            day_start(self.effective_until) if self.effective_until else None,
        )

    def ref(self) -> RuleRef:
        """The rule as a decision cites it (one immutable ``RuleRef`` per rule, shared)."""
        return self._ref

    @cached_property
    def _ref(self) -> RuleRef:
        return RuleRef(
            rule_id=self.rule_id, sources=self.sources, confidence=self.confidence, summary=self.summary
        )


MESSENGER = frozenset({Channel.MESSENGER})
INSTAGRAM = frozenset({Channel.INSTAGRAM})
MESSENGER_AND_INSTAGRAM = MESSENGER | INSTAGRAM
