"""The true population of the synthetic world: families, adults, children and addresses.

These records hold the *truth*. The register and the attendances are views of it with
recording errors added (:mod:`safeflag.synth.noise`).
"""

from __future__ import annotations

import random
from itertools import accumulate
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import pools

__all__ = ["TrueAdult", "TrueChild", "Home", "TrueFamily", "PopulationBuilder",
           "PERIOD_START", "PERIOD_END"]

PERIOD_START = date(2016, 1, 1)     # first possible attendance
PERIOD_END = date(2024, 12, 31)     # last possible attendance; the register's snapshot date


@dataclass
class TrueAdult:
    key: str
    given: str
    family: str                      # current family name
    sex: str
    birth: date
    nhs: str
    former_family: str = ""          # family name before a change (e.g. at marriage)
    family_changed: date | None = None
    person_id: str | None = None     # set when the adult is on the register


@dataclass
class TrueChild:
    child_id: str                    # register person_id when registered, else "U…"
    given: str
    middle: str
    family: str
    sex: str
    birth: date
    nhs: str
    family_id: int
    mother: TrueAdult
    father: TrueAdult
    twin_of: str | None = None
    registered: bool = False
    weight: float = 1.0              # relative attendance rate

    def window(self) -> tuple[date, date]:
        """The days on which this child can attend: alive, under 18 and inside the period."""
        adult = date(self.birth.year + 18, self.birth.month, min(self.birth.day, 28))
        return max(PERIOD_START, self.birth), min(PERIOD_END, adult - timedelta(days=1))


@dataclass(frozen=True)
class Home:
    line: str
    town: str
    postcode: str
    from_date: date


def make_home(rng: random.Random, from_date: date, town_index: int | None = None) -> Home:
    """A home in a town of the pools (a random one unless ``town_index`` says which)."""
    town, area = pools.TOWNS[rng.randrange(len(pools.TOWNS)) if town_index is None
                             else town_index]
    district = rng.randint(1, 24)
    sector = rng.randint(0, 9)
    unit = rng.choice(pools.UNIT_LETTERS) + rng.choice(pools.UNIT_LETTERS)
    street = f"{rng.choice(pools.STREETS)} {rng.choice(pools.STREET_KINDS)}"
    return Home(line=f"{rng.randint(1, 180)} {street}", town=town,
                postcode=f"{area}{district} {sector}{unit}", from_date=from_date)


@dataclass
class TrueFamily:
    family_id: int
    mother: TrueAdult
    fathers: list[TrueAdult]
    children: list[TrueChild] = field(default_factory=list)
    homes: list[Home] = field(default_factory=list)
    partner: TrueAdult | None = None         # mother's current partner, not a parent
    partner_from: date | None = None
    registered: bool = False
    high_risk: bool = False

    def home_on(self, day: date) -> Home:
        current = self.homes[0]
        for home in self.homes:
            if home.from_date <= day:
                current = home
        return current

    def lives_here(self, adult: TrueAdult, day: date) -> bool:
        """Does ``adult`` live in the family's home on ``day``? The mother always; her partner
        from the day the partnership began."""
        return adult is not self.partner or (self.partner_from is not None
                                             and day >= self.partner_from)

    def home_of(self, adult: TrueAdult, day: date) -> Home:
        """Where ``adult`` lives on ``day``: the family's home, or (a partner before the
        partnership) a home of their own in the same town, the same every time (drawn from
        its own random source, so the rest of the world is unchanged)."""
        if self.lives_here(adult, day):
            return self.home_on(day)
        towns = [town for town, _ in pools.TOWNS]
        town = self.homes[0].town
        rng = random.Random(f"own home of {adult.key} near {self.homes[0].postcode}")
        return make_home(rng, PERIOD_START, towns.index(town) if town in towns else None)

    def home_before(self, day: date) -> Home | None:
        """The home before the one lived in on ``day`` (an out-of-date address)."""
        past = [h for h in self.homes if h.from_date <= day]
        return past[-2] if len(past) >= 2 else None


def _close(a: str, b: str) -> bool:
    a, b = a.upper(), b.upper()
    return a[:3] == b[:3] or a in b or b in a


def _variants(names: set[str]) -> set[str]:
    """Every diminutive or formal variant of ``names``: siblings are not given two forms of
    one name."""
    from .noise import variants
    return {v for n in names for v in variants(n)}


def _unique(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


class PopulationBuilder:
    """Makes families one at a time from one seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.girls = _unique(pools.GIRL_NAMES)
        self.boys = _unique(pools.BOY_NAMES)
        self.surnames = pools.family_names()
        self._girl_w = list(accumulate(pools.zipf_weights(len(self.girls), 0.5)))
        self._boy_w = list(accumulate(pools.zipf_weights(len(self.boys), 0.5)))
        self._surname_w = list(accumulate(pools.zipf_weights(len(self.surnames), 0.6)))
        self._nhs_seen: set[str] = set()
        self._units: dict[tuple[str, int], list[str]] = {}
        self._adults = 0
        self._next_family = 0

    # --- primitives -----------------------------------------------------------------------
    def nhs_number(self) -> str:
        """A fresh, checksum-valid NHS number (9 digits plus the modulus 11 check digit)."""
        while True:
            body = f"{self.rng.randrange(400_000_000, 999_999_999):09d}"
            total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1)))
            check = (11 - total % 11) % 11
            if check == 10:
                continue
            number = body + str(check)
            if number not in self._nhs_seen:
                self._nhs_seen.add(number)
                return number

    def given(self, sex: str, avoid: set[str] = frozenset(), near: list[str] = ()) -> str:
        """A first name, not one of ``avoid`` nor within one letter of any of ``near`` (a
        co-twin: parents do not name twins Luca and Lucas)."""
        names, weights = (self.girls, self._girl_w) if sex == "female" else (self.boys, self._boy_w)
        while True:
            name = self.rng.choices(names, cum_weights=weights)[0]
            if name not in avoid and not any(_close(name, other) for other in near):
                return name

    def surname(self) -> str:
        return self.rng.choices(self.surnames, cum_weights=self._surname_w)[0]

    def day_between(self, start: date, end: date) -> date:
        span = (end - start).days
        return start + timedelta(days=self.rng.randint(0, max(span, 0)))

    def home(self, from_date: date, town_index: int | None = None) -> Home:
        return make_home(self.rng, from_date, town_index)

    def adult(self, sex: str, born_after: date, born_before: date, family: str) -> TrueAdult:
        self._adults += 1
        return TrueAdult(key=f"ADULT{self._adults}", given=self.given(sex), family=family,
                         sex=sex, birth=self.day_between(born_after, born_before),
                         nhs=self.nhs_number())

    # --- a family -------------------------------------------------------------------------
    def family(self, registered: bool, next_child_id) -> TrueFamily:
        """A mother, one or two fathers, 1–5 children (twins sometimes), 1–4 homes."""
        rng = self.rng
        self._next_family += 1
        mother = self.adult("female", date(1972, 1, 1), date(2003, 12, 31), self.surname())
        fathers = [self.adult("male", date(1966, 1, 1), date(2002, 12, 31), self.surname())]
        fam = TrueFamily(family_id=self._next_family, mother=mother, fathers=fathers,
                         registered=registered,
                         high_risk=rng.random() < (0.35 if registered else 0.08))
        first_birth = self.day_between(
            max(date(mother.birth.year + 17, 1, 1), date(2000, 1, 1)),
            min(date(mother.birth.year + 38, 12, 31), date(2024, 10, 31)))
        births = 1 + min(int(rng.expovariate(0.8)), 4)
        born = first_birth
        for index in range(births):
            if index > 0:
                born = born + timedelta(days=rng.randint(300, 2200))
                if born > date(2024, 10, 31):
                    break
                if index >= 1 and len(fathers) == 1 and rng.random() < 0.3:
                    fathers.append(self.adult("male", date(1966, 1, 1), date(2002, 12, 31),
                                              self.surname()))
            father = fathers[-1]
            surname = self._child_surname(mother, father)
            twins = rng.random() < 0.03
            sexes = [rng.choice(("female", "male")) for _ in range(2 if twins else 1)]
            used = {c.given for c in fam.children}
            givens = []
            # twins' first names first: no twin's middle is the other's first
            for sex in sexes:
                givens.append(self.given(sex, used | _variants(used), near=givens))
                used.add(givens[-1])
            first = None
            for sex, given in zip(sexes, givens):
                other = "female" if rng.random() < 0.5 else "male"
                middle = self.given(other, used) if rng.random() < 0.45 else ""
                child = TrueChild(child_id=next_child_id(), given=given, middle=middle,
                                  family=surname, sex=sex, birth=born, nhs=self.nhs_number(),
                                  family_id=fam.family_id, mother=mother, father=father,
                                  twin_of=first.child_id if first else None)
                if first is not None:
                    first.twin_of = child.child_id
                first = first or child
                fam.children.append(child)
        self._homes(fam)
        self._surname_change(fam)
        if rng.random() < 0.25:
            fam.partner = self.adult("male", date(1966, 1, 1), date(2002, 12, 31), self.surname())
            fam.partner_from = self.day_between(date(2014, 1, 1), date(2024, 6, 30))
        for child in fam.children:
            child.weight = rng.gammavariate(1.5, 1.0) * (3.0 if fam.high_risk else 1.0) * (
                2.0 if registered else 1.0)
        return fam

    def _child_surname(self, mother: TrueAdult, father: TrueAdult) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return father.family
        if roll < 0.9 or "-" in mother.family or " " in mother.family:
            return mother.family
        return f"{mother.family}-{father.family}"

    def _homes(self, fam: TrueFamily) -> None:
        rng = self.rng
        start = min(c.birth for c in fam.children)
        start = min(start, date(2012, 1, 1))
        town = rng.randrange(len(pools.TOWNS))
        fam.homes.append(self.home(start, town))
        moves = rng.choices((0, 1, 2, 3), (0.45, 0.3, 0.15, 0.1))[0]
        for _ in range(moves):
            moved = self.day_between(date(2014, 1, 1), date(2024, 9, 30))
            if moved > fam.homes[-1].from_date:
                fam.homes.append(self.home(moved, town if rng.random() < 0.8 else None))

    def _surname_change(self, fam: TrueFamily) -> None:
        """Some mothers change family name (marriage, new partner) after the children's births."""
        if self.rng.random() >= 0.15:
            return
        mother = fam.mother
        mother.former_family = mother.family
        mother.family = self.surname()
        mother.family_changed = self.day_between(date(2015, 1, 1), date(2024, 6, 30))
