"""Dates that keep their precision, and ages in completed months.

A birth date recorded as "2014" is a year, not 1 January 2014: :class:`PartialDate` keeps what
was recorded and answers questions (earliest/latest possible day, age range) honestly.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["PartialDate", "months_between", "age_months_range", "parse_iso_date",
           "parse_hl7_datetime", "parse_iso_datetime", "local_wall_time"]

_LONDON = ZoneInfo("Europe/London")


def local_wall_time(dt: datetime) -> datetime:
    """Naive UK wall-clock time: an aware value is converted to Europe/London first."""
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(_LONDON).replace(tzinfo=None)

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})?(\d{2})?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date known to year, month or day precision."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year {self.year} out of range")
        if self.month is None and self.day is not None:
            raise ValueError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} out of range")
        if self.day is not None:
            last = calendar.monthrange(self.year, self.month or 1)[1]
            if not 1 <= self.day <= last:
                raise ValueError(f"day {self.day} out of range")

    # --- construction -------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> "PartialDate":
        """Read ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, ``YYYYMM`` or ``YYYYMMDD``.

        Raises ``ValueError`` with a reason (callers wrap it with record context).
        """
        text = text.strip()
        m = _ISO.match(text) or _COMPACT.match(text)
        if not m:
            raise ValueError("expected a date as YYYY, YYYY-MM or YYYY-MM-DD")
        y, mo, d = m.group(1), m.group(2), m.group(3)
        return cls(int(y), int(mo) if mo else None, int(d) if d else None)

    @classmethod
    def of(cls, d: date) -> "PartialDate":
        return cls(d.year, d.month, d.day)

    # --- questions ----------------------------------------------------------------------
    @property
    def precision(self) -> str:
        return "day" if self.day is not None else "month" if self.month is not None else "year"

    @property
    def is_full(self) -> bool:
        return self.day is not None

    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return date(self.year, month, day)

    def as_date(self) -> date | None:
        return self.earliest() if self.is_full else None

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def months_between(born: date, on: date) -> int:
    """Completed calendar months from ``born`` to ``on`` (negative if ``on`` is earlier)."""
    months = (on.year - born.year) * 12 + (on.month - born.month)
    if on.day < born.day:
        # A birthday on the 31st is reached on the last day of a shorter month.
        last = calendar.monthrange(on.year, on.month)[1]
        if not (on.day == last and born.day > last):
            months -= 1
    return months


def age_months_range(birth: PartialDate, on: date) -> tuple[int, int]:
    """(youngest, oldest) possible age in completed months on ``on``."""
    return months_between(birth.latest(), on), months_between(birth.earliest(), on)


def parse_iso_date(text: str) -> date:
    """A full ISO date; ``ValueError`` otherwise."""
    return date.fromisoformat(text.strip())


_HL7_TS = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$")


def parse_hl7_datetime(text: str) -> datetime:
    """An HL7 TS/DTM value (``YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]``).

    Missing parts default to the start of the period; an offset gives an aware datetime,
    which callers convert to local wall time as the message intended.
    """
    m = _HL7_TS.match(text.strip())
    if not m:
        raise ValueError("expected an HL7 date/time YYYYMMDD[HHMM[SS]][+ZZZZ]")
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    dt = datetime(int(y), int(mo or 1), int(d or 1), int(hh or 0), int(mi or 0), int(ss or 0),
                  int((frac or "0").ljust(6, "0")[:6]))
    if tz:
        sign = 1 if tz[0] == "+" else -1
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
        dt = dt.replace(tzinfo=timezone(sign * offset))
    return dt


def parse_iso_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time (FHIR ``dateTime``/``instant``, CSV extracts)."""
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
