"""What a warning rule may look at, assembled once per attendance by the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..algo.dates import PartialDate, age_months_range
from ..algo.injury import InjuryFinding
from ..family import Relative
from ..models import Attendance, Plan
from ..settings import RuleSettings
from ..store import HistoryEntry

__all__ = ["RuleContext", "RelativeView", "Age"]


@dataclass(frozen=True)
class Age:
    """Age in completed months at arrival, as a range when the birth date is partial."""

    youngest: int
    oldest: int
    precision: str = "day"

    #: ``precision`` of an age read from a birth date recorded after the arrival date
    AFTER_ARRIVAL = "after arrival"

    @classmethod
    def at(cls, birth: PartialDate | None, on: date) -> "Age | None":
        if birth is None:
            return None
        young, old = age_months_range(birth, on)
        return cls(young, old, birth.precision)

    def under(self, months: int) -> bool:
        """True when the child is, or (partial birth date) may be, under ``months``."""
        return self.youngest < months

    def describe(self) -> str:
        if self.precision == self.AFTER_ARRIVAL:
            return (f"age possibly {self.youngest}–{self.oldest} months at arrival (birth date "
                    "recorded after the arrival date)")
        if self.youngest == self.oldest:
            return f"age {self.youngest} completed months at arrival"
        return (f"age {self.youngest}–{self.oldest} months at arrival "
                f"(birth date known to the {self.precision} only)")


@dataclass(frozen=True)
class RelativeView:
    relative: Relative
    age: Age | None
    history: tuple[HistoryEntry, ...]     # earlier attendances, oldest first
    plans: tuple[Plan, ...]


@dataclass(frozen=True)
class RuleContext:
    attendance: Attendance
    settings: RuleSettings
    findings: tuple[InjuryFinding, ...]
    age: Age | None
    person_id: str | None
    own_plans: tuple[Plan, ...] = ()
    own_history: tuple[HistoryEntry, ...] = ()   # earlier attendances of the same child
    relatives: tuple[RelativeView, ...] = ()
    match_confirmed: bool = True
    notes: list[str] = field(default_factory=list, compare=False)
    #: rule id -> the relatives (``person_id``) whose attendances or plans the warning it gave
    #: shows (filled as the rules run; see :attr:`Outcome.shown`)
    shown: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def arrival(self) -> date:
        return self.attendance.arrival_date

    @property
    def injury(self) -> bool:
        return bool(self.findings)

    def window_start(self, days: int) -> date:
        """First day of "the previous N days": N days back, inclusive."""
        return self.arrival - timedelta(days=days)

    def earlier_injuries(self, days: int) -> list[HistoryEntry]:
        start = self.window_start(days)
        return [h for h in self.own_history if h.injury and h.arrival.date() >= start]
