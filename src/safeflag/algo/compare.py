"""Record comparison: identities, blocking keys, and Fellegi–Sunter comparison levels.

Each field is a :class:`Comparison`: a "no data" case, ordered :class:`Level` s tried in turn
(the first that holds wins) and an "otherwise" weight. Weights are log2 Bayes factors
(log2 m/u): positive for agreement that is rare among non-matches, negative for disagreement
that is rare among matches. The sum plus the prior log-odds gives the match weight; its
logistic is the match probability. Default weights are documented in ``docs/matching.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz.distance import JaroWinkler

from .dates import PartialDate
from .names import are_nicknames, name_parts, phonetic
from .postcode import parse_postcode

__all__ = ["Identity", "Comparison", "Level", "COMPARISONS", "blocking_keys", "compare",
           "probability", "is_twin_pattern", "PRIOR_LOG2_ODDS"]

PRIOR_LOG2_ODDS = -12.0


@dataclass(frozen=True)
class Identity:
    """What matching knows of one person or attendee, already normalised."""

    ref: str
    nhs: str | None = None                    # only a checksum-valid number
    givens: tuple[str, ...] = ()              # normalised given names (first and middle)
    families: tuple[str, ...] = ()            # normalised family names, aliases included
    birth: PartialDate | None = None
    sex: str = "unknown"
    postcodes: tuple[str, ...] = ()           # normalised units, current and previous
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> str:
        return json.dumps({"ref": self.ref, "nhs": self.nhs, "g": self.givens, "f": self.families,
                           "b": str(self.birth) if self.birth else None, "s": self.sex,
                           "p": self.postcodes})

    @classmethod
    def from_json(cls, text: str) -> "Identity":
        d = json.loads(text)
        return cls(ref=d["ref"], nhs=d["nhs"], givens=tuple(d["g"]), families=tuple(d["f"]),
                   birth=PartialDate.parse(d["b"]) if d["b"] else None, sex=d["s"],
                   postcodes=tuple(d["p"]))


# --- blocking -----------------------------------------------------------------------------------
def blocking_keys(ident: Identity, *, query: bool = False) -> set[str]:
    """Keys under which an identity is indexed (or, with ``query``, looked up).

    Chosen so that any single corrupted field still shares a key with the true record:
    birth date alone (names or postcode wrong), given + family phonetic (birth date wrong),
    family phonetic + birth year and given phonetic + birth year-month (partial dates),
    postcode unit + given initial (family name and birth date both unknown). A query also
    looks under the day/month-swapped birth date.
    """
    keys: set[str] = set()
    if ident.nhs:
        keys.add("N:" + ident.nhs)
    b = ident.birth
    if b is not None and b.is_full:
        keys.add(f"D:{b}")
        if query and b.day is not None and b.day <= 12 and b.day != b.month:
            try:
                keys.add(f"D:{PartialDate(b.year, b.day, b.month)}")
            except ValueError:
                pass
    givens = {g.split(" ")[0] for g in ident.givens if g}
    fam_parts = {p for f in ident.families for p in f.split(" ") if p}
    for g in givens:
        for f in fam_parts:
            keys.add(f"GF:{phonetic(g)}:{phonetic(f)}")
        if b is not None and b.month is not None:
            keys.add(f"GM:{phonetic(g)}:{b.year}-{b.month:02d}")
        for pc in ident.postcodes:
            keys.add(f"PG:{pc}:{g[0]}")
    if b is not None:
        for f in fam_parts:
            keys.add(f"FY:{phonetic(f)}:{b.year}")
    return keys


# --- comparison levels --------------------------------------------------------------------------
Test = Callable[[Identity, Identity], bool]


@dataclass(frozen=True)
class Level:
    name: str
    weight: float
    test: Test


@dataclass(frozen=True)
class Comparison:
    field: str
    missing: Callable[[Identity], bool]
    levels: tuple[Level, ...]
    otherwise: float

    def compare(self, a: Identity, b: Identity) -> tuple[str, float]:
        if self.missing(a) or self.missing(b):
            return "no data", 0.0
        for level in self.levels:
            if level.test(a, b):
                return level.name, level.weight
        return "otherwise", self.otherwise


def _pairs(xs: Iterable[str], ys: Iterable[str]) -> Iterable[tuple[str, str]]:
    ys = tuple(ys)
    return ((x, y) for x in xs for y in ys)


def _given_first(i: Identity) -> tuple[str, ...]:
    return tuple(g.split(" ")[0] for g in i.givens if g)


def _jw(t: float, get: Callable[[Identity], tuple[str, ...]]) -> Test:
    return lambda a, b: any(JaroWinkler.similarity(x, y) >= t for x, y in _pairs(get(a), get(b)))


def _shared_part(a: Identity, b: Identity) -> bool:
    pa = {p for f in a.families for p in name_parts(f) if len(p) > 1}
    pb = {p for f in b.families for p in name_parts(f) if len(p) > 1}
    return bool(pa & pb)


def _dob_swap(a: Identity, b: Identity) -> bool:
    x, y = a.birth, b.birth
    return (x is not None and y is not None and x.is_full and y.is_full and x.year == y.year
            and x.month == y.day and x.day == y.month)


def _dob_one_digit(a: Identity, b: Identity) -> bool:
    x, y = str(a.birth), str(b.birth)
    return len(x) == len(y) == 10 and sum(c1 != c2 for c1, c2 in zip(x, y)) == 1


def _dob_compatible(precision: str) -> Test:
    def test(a: Identity, b: Identity) -> bool:
        x, y = a.birth, b.birth
        if x is None or y is None or (x.is_full and y.is_full):
            return False
        coarse = min((x.precision, y.precision), key=("year", "month", "day").index)
        if coarse != precision:
            return False
        return x.year == y.year and (precision == "year" or x.month == y.month)
    return test


def _postcode_part(part: str) -> Test:
    def test(a: Identity, b: Identity) -> bool:
        pa = {getattr(parse_postcode(p), part) for p in a.postcodes}
        pb = {getattr(parse_postcode(p), part) for p in b.postcodes}
        return bool((pa & pb) - {None})
    return test


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("nhs_number", lambda i: not i.nhs, (
        Level("exact", 14.0, lambda a, b: a.nhs == b.nhs),
    ), otherwise=-10.0),
    Comparison("given_name", lambda i: not i.givens, (
        Level("exact", 6.0, lambda a, b: bool(set(_given_first(a)) & set(_given_first(b)))),
        Level("nickname", 4.5,
              lambda a, b: any(are_nicknames(x, y) for x, y in _pairs(_given_first(a), _given_first(b)))),
        Level("middle name", 4.0, lambda a, b: bool(set(a.givens) & set(b.givens)) or any(
            x in y.split(" ") or y in x.split(" ") for x, y in _pairs(a.givens, b.givens))),
        Level("jaro-winkler >= 0.92", 4.0, _jw(0.92, _given_first)),
        Level("jaro-winkler >= 0.85", 1.5, _jw(0.85, _given_first)),
    ), otherwise=-5.0),
    Comparison("family_name", lambda i: not i.families, (
        Level("exact", 5.0, lambda a, b: bool(set(a.families) & set(b.families))),
        Level("shared part", 4.0, _shared_part),
        Level("jaro-winkler >= 0.92", 3.5, _jw(0.92, lambda i: i.families)),
    ), otherwise=-3.0),
    Comparison("birth_date", lambda i: i.birth is None, (
        Level("exact", 10.0, lambda a, b: a.birth == b.birth and a.birth is not None
              and a.birth.is_full),
        Level("day/month swapped", 6.0, _dob_swap),
        Level("one digit differs", 5.0, _dob_one_digit),
        Level("same year and month (partial)", 4.0, _dob_compatible("month")),
        Level("same year (partial)", 1.5, _dob_compatible("year")),
    ), otherwise=-7.0),
    Comparison("sex", lambda i: i.sex not in ("female", "male"), (
        Level("exact", 1.0, lambda a, b: a.sex == b.sex),
    ), otherwise=-4.5),
    Comparison("postcode", lambda i: not i.postcodes, (
        Level("unit", 8.0, lambda a, b: bool(set(a.postcodes) & set(b.postcodes))),
        Level("sector", 3.0, _postcode_part("sector")),
        Level("district", 1.5, _postcode_part("district")),
    ), otherwise=-1.0),
)


def compare(a: Identity, b: Identity) -> list[tuple[str, str, float]]:
    """(field, level, weight) for every comparison, in declaration order."""
    return [(c.field, *c.compare(a, b)) for c in COMPARISONS]


def probability(match_weight: float) -> float:
    """Posterior match probability from a log2 match weight (prior included)."""
    if match_weight > 60:
        return 1.0
    if match_weight < -60:
        return 0.0
    odds = 2.0 ** match_weight
    return odds / (1.0 + odds)


def is_twin_pattern(levels: dict[str, str]) -> bool:
    """Same full birth date and family name, different first name: a sibling, not this child.

    Twins and other same-birth-date siblings share everything but the first name; a given
    name that disagrees outright (not a nickname, not a near-spelling) therefore rules the
    pair out, whatever else agrees — unless the NHS numbers agree.
    """
    return (levels.get("birth_date") == "exact"
            and levels.get("family_name") in ("exact", "shared part")
            and levels.get("given_name") in ("otherwise", "jaro-winkler >= 0.85")
            and levels.get("nhs_number") != "exact")


def log2_odds(p: float) -> float:
    return math.log2(p / (1.0 - p))
