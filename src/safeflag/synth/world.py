"""The synthetic world: a register and ED attendances drawn from one true population.

>>> from safeflag.synth import generate_world
>>> world = generate_world(children=200, attendances=1_000, seed=7)
>>> len(world.attendances)
1000

``world.truth`` maps each attendance to the register person it really is (``None`` for a
child not on the register); ``world.child_of`` gives every child's attendance a stable true
child id, registered or not; ``world.true_siblings`` holds the true sibling sets (full, half,
twins). With ``adult_share`` above 0 the world also holds attendances of the families' mothers
and mothers' partners (``world.adult_of`` names the adult; ``world.household_children`` the
children living with them on a day). The same ``seed`` and sizes always give the same world.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ..algo.dates import PartialDate
from ..models import (AddressPeriod, Attendance, Person, Plan, PlanType, Register, Relationship,
                      RelationshipType, Sex)
from . import noise, pools
from .people import PERIOD_END, PopulationBuilder, TrueAdult, TrueChild, TrueFamily
from .presentations import AdultMaker, injury_timing

__all__ = ["World", "generate_world"]

_SEX = {"female": Sex.female, "male": Sex.male}


@dataclass
class World:
    """A generated register, its attendances and the ground truth that links them."""

    register: Register
    attendances: list[Attendance]
    truth: dict[str, str | None]
    child_of: dict[str, str]
    true_siblings: dict[str, set[str]]
    children: dict[str, TrueChild] = field(repr=False, default_factory=dict)
    families: list[TrueFamily] = field(repr=False, default_factory=list)
    hospital_number: dict[str, str] = field(repr=False, default_factory=dict)
    seed: int = 0
    adult_of: dict[str, str] = field(repr=False, default_factory=dict)   # attendance → adult key
    adults: dict[str, tuple[TrueAdult, TrueFamily]] = field(repr=False, default_factory=dict)

    def household_children(self, adult_key: str, day: date) -> list[TrueChild]:
        """The children living with an adult on ``day``: a mother's children, and a partner's
        from the day the partnership began; born by then and not yet in the month they turn
        18 (the rules' own age test decides that month)."""
        adult, fam = self.adults[adult_key]
        if not fam.lives_here(adult, day):
            return []
        return [c for c in fam.children
                if c.birth <= day < date(c.birth.year + 18, c.birth.month, 1)]

    def twin_of(self, child_id: str) -> str | None:
        child = self.children.get(child_id)
        return child.twin_of if child else None

    # writers live in safeflag.synth.writers; these are the documented entry points
    def write_register_csv(self, folder: str | Path) -> Path:
        from .writers import write_register_csv
        return write_register_csv(self, folder)

    def write_hl7(self, path: str | Path) -> Path:
        from .writers import write_hl7
        return write_hl7(self, path)

    def write_fhir_ndjson(self, path: str | Path) -> Path:
        from .writers import write_fhir_ndjson
        return write_fhir_ndjson(self, path)

    def write_csv(self, path: str | Path) -> Path:
        from .writers import write_csv
        return write_csv(self, path)


class _Ids:
    def __init__(self) -> None:
        self.persons = 0
        self.unregistered = 0
        self.temp = 0

    def person(self) -> str:
        self.persons += 1
        return f"P{self.persons:07d}"

    def outside(self) -> str:
        self.unregistered += 1
        return f"U{self.unregistered:07d}"

    def provisional(self) -> str:
        self.temp += 1
        return f"C{self.temp}"


# --- the population ---------------------------------------------------------------------------
def _population(rng: random.Random, children: int, outside_ratio: float
                ) -> tuple[list[TrueFamily], _Ids]:
    builder = PopulationBuilder(rng)
    ids = _Ids()
    families: list[TrueFamily] = []
    registered = 0
    while registered < children:
        fam = builder.family(True, ids.provisional)
        for child in fam.children:
            child.registered = registered < children and rng.random() < 0.93
            registered += child.registered
        families.append(fam)
    outside = sum(not c.registered for f in families for c in f.children)
    while outside < children * outside_ratio:
        fam = builder.family(False, ids.provisional)
        outside += len(fam.children)
        families.append(fam)
    rng.shuffle(families)
    renamed: dict[str, str] = {}
    for fam in families:
        for child in fam.children:
            renamed[child.child_id] = ids.person() if child.registered else ids.outside()
            child.child_id = renamed[child.child_id]
    for fam in families:
        for child in fam.children:
            child.twin_of = renamed[child.twin_of] if child.twin_of else None
    return families, ids


# --- the register -----------------------------------------------------------------------------
class _RegisterBuilder:
    def __init__(self, rng: random.Random, ids: _Ids, slips: random.Random) -> None:
        self.rng, self.ids = rng, ids
        self.slips = slips         # re-keys a slip that lands after the snapshot date
        self.persons: list[Person] = []
        self.relationships: list[Relationship] = []
        self.plans: list[Plan] = []
        self.addresses: list[AddressPeriod] = []

    def add_family(self, fam: TrueFamily) -> None:
        kids = [c for c in fam.children if c.registered]
        if not kids:
            return
        rng = self.rng
        last_home = fam.homes[-1]
        mother = self._adult(fam.mother, fam, birth_known=0.9)
        fathers = {f.key: self._adult(f, fam, birth_known=0.6) if rng.random() < 0.7 else None
                   for f in fam.fathers}
        partner = (self._adult(fam.partner, fam, birth_known=0.5)
                   if fam.partner is not None and rng.random() < 0.6 else None)
        for child in kids:
            self.persons.append(self._child(child, fam, last_home))
            self._history(child.child_id, fam)
            self._link(child.child_id, mother, RelationshipType.mother, rng.random() < 0.97)
            self._link(child.child_id, fathers.get(child.father.key), RelationshipType.father, True)
            if partner is not None:
                self._link(child.child_id, partner, RelationshipType.partner_of_parent, True,
                           from_date=fam.partner_from)
            self._plans(child)
        self._history(mother, fam)
        for i, a in enumerate(kids):
            for b in kids[i + 1:]:
                if rng.random() < 0.6:
                    kind = (RelationshipType.sibling if a.father is b.father
                            else RelationshipType.half_sibling)
                    self._link(a.child_id, b.child_id, kind, True)
                    if rng.random() < 0.5:
                        self._link(b.child_id, a.child_id, kind, True)
        for child in kids:
            if child.birth >= date(2016, 4, 1) and rng.random() < 0.25:
                start = child.birth - timedelta(days=rng.randint(60, 150))
                self.plans.append(Plan(person_id=mother, plan=PlanType.CP_UNBORN,
                                       start_date=start, end_date=child.birth,
                                       category=rng.choice(pools.PLAN_CATEGORIES),
                                       local_authority=rng.choice(pools.LOCAL_AUTHORITIES),
                                       contact="Children's Services duty team"))

    def _adult(self, adult: TrueAdult, fam: TrueFamily, birth_known: float) -> str:
        if adult.person_id is None:
            adult.person_id = self.ids.person()
            rng = self.rng
            aliases = ((adult.given, adult.former_family),) if adult.former_family else ()
            home = fam.homes[-1]
            self.persons.append(Person(
                person_id=adult.person_id,
                nhs_number=adult.nhs if rng.random() < 0.8 else None,
                given_name=adult.given, family_name=adult.family,
                birth_date=PartialDate.of(adult.birth) if rng.random() < birth_known else None,
                sex=_SEX[adult.sex], address_line=f"{home.line}, {home.town}",
                postcode=home.postcode, aliases=aliases))
        return adult.person_id

    def _child(self, child: TrueChild, fam: TrueFamily, home) -> Person:
        rng = self.rng
        given = noise.typo(rng, child.given) if rng.random() < 0.02 else child.given
        if child.middle and rng.random() < 0.6:
            given = f"{given} {child.middle}"
        birth = PartialDate.of(child.birth)
        if rng.random() < 0.005:
            birth = noise.one_digit_date(rng, child.birth)
            if birth.as_date() > PERIOD_END:       # refused by the system: keyed again
                birth = noise.one_digit_date(self.slips, child.birth, not_after=PERIOD_END)
        nhs: str | None = child.nhs if rng.random() < 0.88 else None
        if nhs and rng.random() < 0.004:
            nhs = noise.nhs_typo(rng, nhs)
        aliases = []
        if fam.mother.former_family and fam.mother.family != child.family and rng.random() < 0.5:
            aliases.append((child.given, fam.mother.family))
        return Person(person_id=child.child_id, nhs_number=nhs, given_name=given,
                      family_name=child.family, birth_date=birth, sex=_SEX[child.sex],
                      address_line=f"{home.line}, {home.town}", postcode=home.postcode,
                      aliases=tuple(aliases))

    def _history(self, person_id: str, fam: TrueFamily) -> None:
        for i, home in enumerate(fam.homes):
            until = fam.homes[i + 1].from_date if i + 1 < len(fam.homes) else None
            self.addresses.append(AddressPeriod(
                person_id=person_id, address_line=f"{home.line}, {home.town}",
                postcode=home.postcode, from_date=home.from_date, to_date=until))

    def _link(self, person_id: str, related: str | None, kind: RelationshipType, keep: bool,
              from_date: date | None = None) -> None:
        if related is not None and keep:
            self.relationships.append(Relationship(person_id=person_id, related_person_id=related,
                                                   relationship=kind, from_date=from_date))

    def _plans(self, child: TrueChild) -> None:
        rng = self.rng
        earliest = max(child.birth, date(2012, 1, 1))
        latest = min(PERIOD_END - timedelta(days=30),
                     date(child.birth.year + 17, child.birth.month, 1))
        if earliest >= latest:
            return
        start = earliest + timedelta(days=rng.randint(0, (latest - earliest).days))
        for _ in range(2 if rng.random() < 0.3 else 1):
            kind = rng.choices((PlanType.CIN, PlanType.CP, PlanType.LAC), (0.45, 0.35, 0.2))[0]
            end = start + timedelta(days=rng.randint(90, 720))
            self.plans.append(Plan(
                person_id=child.child_id, plan=kind, start_date=start,
                end_date=end if end < PERIOD_END else None,
                category=rng.choice(pools.PLAN_CATEGORIES),
                local_authority=rng.choice(pools.LOCAL_AUTHORITIES),
                contact="Children's Services duty team"))
            start = end + timedelta(days=rng.randint(1, 400))
            if start >= PERIOD_END:
                break

    def build(self) -> Register:
        return Register(persons=tuple(self.persons), relationships=tuple(self.relationships),
                        plans=tuple(self.plans), addresses=tuple(self.addresses))


# --- attendances ------------------------------------------------------------------------------
def _arrival_days(rng: random.Random, child: TrueChild, count: int, clustered: bool) -> list[date]:
    lo, hi = child.window()
    span = (hi - lo).days
    days: list[date] = []
    for _ in range(count):
        if clustered and days and rng.random() < 0.7:
            day = days[-1] + timedelta(days=1 + int(rng.expovariate(1 / 30)))
            if day <= hi:
                days.append(day)
                continue
        days.append(lo + timedelta(days=rng.randint(0, span)))
        days.sort()
    return days


class _AttendanceMaker:
    def __init__(self, rng: random.Random, families: dict[int, TrueFamily],
                 extra: random.Random) -> None:
        self.rng, self.families = rng, families
        self.extra = extra         # injury times, re-keyed slips: a source of their own

    def make(self, number: int, child: TrueChild, arrival: datetime) -> Attendance:
        rng = self.rng
        fam = self.families[child.family_id]
        day = arrival.date()
        injury_rate = 0.65 if fam.high_risk else 0.3
        injury = rng.random() < injury_rate
        complaint, diagnoses = self._clinical(injury)
        injured = None
        if injury:
            timed = injury_timing(self.extra, arrival, complaint, diagnoses, fam.high_risk)
            complaint, diagnoses, injured = timed.complaint, timed.diagnoses, timed.injury_time
        # one validation per attendance: pydantic builds the nested models from plain dicts
        return Attendance.model_validate({
            "attendance_id": f"V{number:08d}", "message_id": f"MSG{number:08d}",
            "event": "A04", "arrival": arrival, "patient_class": "E",
            "patient": self._patient(child, fam, day), "next_of_kin": self._kin(child, fam, day),
            "complaint": complaint, "diagnoses": diagnoses, "injury_time": injured})

    def _patient(self, child: TrueChild, fam: TrueFamily, day: date) -> dict:
        rng = self.rng
        newborn = (day - child.birth).days < 42
        given, middle, family = child.given, child.middle, child.family
        mother = fam.mother
        if (mother.family_changed and day >= mother.family_changed
                and family != mother.family and rng.random() < 0.35):
            family = mother.family
        roll = rng.random()
        if newborn and roll < 0.5:
            given = (f"TWIN {1 if child.twin_of and child.child_id < child.twin_of else 2}"
                     if child.twin_of else rng.choice(
                         ("BABY", f"BABY {'GIRL' if child.sex == 'female' else 'BOY'}")))
            middle, family = "", mother.family if rng.random() < 0.5 else family
        elif roll < 0.06:
            given = noise.nickname(rng, given)
        elif roll < 0.09:
            given = noise.typo(rng, given)
        elif roll < 0.10 and middle:
            given, middle = middle, ""
        if rng.random() < 0.2:
            given = noise.strip_accents(given)
        if "-" in family and rng.random() < 0.4:
            family = rng.choice(family.split("-"))
        elif rng.random() < 0.02:
            family = noise.typo(rng, family)
        if rng.random() < 0.5:
            middle = ""
        if rng.random() < 0.3:
            given, middle, family = given.upper(), middle.upper(), family.upper()
        return {"nhs_number": self._nhs(child.nhs, newborn),
                "names": ({"given": given, "family": family, "middle": middle},),
                "birth_date": self._birth(child.birth, day), "sex": self._sex(child.sex),
                "addresses": self._address(fam, day)}

    def _nhs(self, nhs: str, newborn: bool) -> str | None:
        roll = self.rng.random()
        if roll < (0.1 if newborn else 0.4):
            return None
        if roll > 0.996:
            return noise.nhs_typo(self.rng, nhs)
        return nhs

    def _birth(self, born: date, day: date) -> PartialDate | None:
        """The birth date as keyed at the front desk on ``day``. A slip that lands after that
        day is refused by the system (a birth date in the future) and keyed again, drawn from
        a source of its own so that the other attendances stay as they were."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.012:
            swapped = noise.swap_day_month(born)
            if swapped is not None:
                return swapped if swapped.as_date() <= day else \
                    noise.one_digit_date(self.extra, born, not_after=day)
        elif roll < 0.027:
            slipped = noise.one_digit_date(rng, born)
            return slipped if slipped.as_date() <= day else \
                noise.one_digit_date(self.extra, born, not_after=day)
        elif roll < 0.035:
            return noise.partial_birth(rng, born)
        elif roll < 0.040:
            return None
        return PartialDate.of(born)

    def _sex(self, sex: str) -> Sex:
        roll = self.rng.random()
        if roll < 0.02:
            return Sex.unknown
        if roll < 0.023:
            return Sex.male if sex == "female" else Sex.female
        return _SEX[sex]

    def _address(self, fam: TrueFamily, day: date) -> tuple[dict, ...]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            return ()
        home = fam.home_on(day)
        if roll < 0.09:
            home = fam.home_before(day) or home
        postcode = home.postcode
        if rng.random() < 0.01:
            postcode = noise.postcode_typo(rng, postcode)
        return ({"line": home.line, "city": home.town, "postcode": postcode},)

    def _kin(self, child: TrueChild, fam: TrueFamily, day: date) -> tuple[dict, ...]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.65:
            adult, rel, code = fam.mother, "mother", "MTH"
        elif roll < 0.75:
            adult, rel, code = child.father, "father", "FTH"
        else:
            return ()
        family = adult.family
        if adult.family_changed and day < adult.family_changed:
            family = adult.former_family
        nhs = adult.nhs if rng.random() < 0.3 else None
        demo = {"nhs_number": nhs, "names": ({"given": adult.given, "family": family},),
                "sex": _SEX[adult.sex]}
        return ({"relationship": rel, "code": code, "demographics": demo},)

    def _clinical(self, injury: bool) -> tuple[dict, tuple[dict, ...]]:
        rng = self.rng
        if injury:
            roll = rng.random()
            if roll < 0.8:
                code, text, _ = rng.choice(pools.INJURY_ICD10)
                return {"text": text}, ({"code": code, "text": text, "system": "ICD10"},)
            if roll < 0.92:
                code, text = rng.choice(pools.INJURY_SNOMED)
                return {"text": text}, ({"code": code, "text": text, "system": "SNOMED"},)
            return {"text": rng.choice(pools.INJURY_TEXT)}, ()
        if rng.random() < 0.85:
            code, text = rng.choice(pools.OTHER_ICD10)
            return {"text": text}, ({"code": code, "text": text, "system": "ICD10"},)
        return {"text": rng.choice(pools.OTHER_TEXT)}, ()


def _share_houses(families: list[TrueFamily], share: float, seed: int) -> None:
    """About ``share`` of the families live, from their first home, in a house another family
    also lives in from its first home: a house in multiple occupation whose flats are
    recorded without their numbers, so both give one address. (Its own random source: the
    rest of the world is unchanged.)"""
    if share <= 0:
        return
    rng = random.Random(f"safeflag-synth-shared-houses-{seed}")
    for fam in families:
        if rng.random() < share:
            other = rng.choice(families)
            if other is not fam:
                there = other.homes[0]
                fam.homes[0] = replace(fam.homes[0], line=there.line, town=there.town,
                                       postcode=there.postcode)


def generate_world(children: int = 1_000, attendances: int = 5_000, seed: int = 7, *,
                   outside_ratio: float = 2.5, adult_share: float = 0.0,
                   shared_houses: float = 0.0) -> World:
    """A deterministic synthetic world.

    ``children`` registered children (plus their parents and carers on the register);
    about ``outside_ratio`` times as many children who are not on the register; and
    ``attendances`` ED attendances in arrival order, drawn from all of them (registered
    children and children in high-risk families attend more often). ``adult_share`` adds
    that share of ``attendances`` again as attendances of the families' mothers and mothers'
    partners (ids ``A…``), merged in arrival order; at 0 every attendance is a child's.
    ``shared_houses`` puts that share of the families in a house another family also gives as
    its address (unrelated children at one address: the risk of linking children by a home);
    at 0 (the default) no family is put in another's house (a random address may still,
    rarely, come up twice).
    """
    rng = random.Random(seed)
    families, ids = _population(rng, children, outside_ratio)
    _share_houses(families, shared_houses, seed)
    reg = _RegisterBuilder(rng, ids, random.Random(f"safeflag-synth-slips-{seed}"))
    for fam in families:
        reg.add_family(fam)
    register = reg.build()

    kids = [c for f in families for c in f.children if c.window()[0] <= c.window()[1]]
    by_family = {f.family_id: f for f in families}
    picks: dict[str, int] = defaultdict(int)
    for child in rng.choices(kids, weights=[c.weight for c in kids], k=attendances):
        picks[child.child_id] += 1
    index = {c.child_id: c for c in kids}
    visits: list[tuple[datetime, str]] = []
    for child_id, count in picks.items():
        child = index[child_id]
        for day in _arrival_days(rng, child, count, by_family[child.family_id].high_risk):
            visits.append((datetime.combine(day, time(rng.randrange(24), rng.randrange(60))),
                           child_id))
    visits.sort()
    extra = random.Random(f"safeflag-synth-presentations-{seed}")
    maker = _AttendanceMaker(rng, by_family, extra)
    out: list[Attendance] = []
    truth: dict[str, str | None] = {}
    child_of: dict[str, str] = {}
    for number, (arrival, cid) in enumerate(visits, 1):
        attendance = maker.make(number, index[cid], arrival)
        out.append(attendance)
        child_of[attendance.attendance_id] = cid
        truth[attendance.attendance_id] = cid if index[cid].registered else None
    adult_of, adults = _adult_attendances(extra, families, round(attendances * adult_share),
                                          out, truth)

    all_children = {c.child_id: c for f in families for c in f.children}
    siblings = {cid: {o.child_id for o in by_family[c.family_id].children if o.child_id != cid}
                for cid, c in all_children.items()}
    numbers = rng.sample(range(1_000_000, 9_999_999), len(all_children))
    hospital = {cid: f"RX{n}" for cid, n in zip(sorted(all_children), numbers)}
    numbers = extra.sample(range(1_000_000, 9_999_999), len(adults))
    hospital.update({key: f"RA{n}" for key, n in zip(sorted(adults), numbers)})
    return World(register=register, attendances=out, truth=truth, child_of=child_of,
                 true_siblings=siblings, children=all_children, families=families,
                 hospital_number=hospital, seed=seed, adult_of=adult_of, adults=adults)


def _adult_attendances(rng: random.Random, families: list[TrueFamily], count: int,
                       out: list[Attendance], truth: dict[str, str | None]
                       ) -> tuple[dict[str, str], dict[str, tuple[TrueAdult, TrueFamily]]]:
    """Add ``count`` adult attendances to ``out`` (kept in arrival order) and ``truth``."""
    if count <= 0:
        return {}, {}
    maker = AdultMaker(rng, families)
    adult_of: dict[str, str] = {}
    adults: dict[str, tuple[TrueAdult, TrueFamily]] = {}
    made = []
    for number, (arrival, adult, fam) in enumerate(sorted(maker.draw(count),
                                                          key=lambda v: v[0]), 1):
        aid = f"A{number:08d}"
        made.append(Attendance.model_validate({
            "attendance_id": aid, "message_id": f"MSGA{number:08d}", "event": "A04",
            "arrival": arrival, "patient_class": "E", **maker.fields(adult, fam, arrival)}))
        adult_of[aid] = adult.key
        adults[adult.key] = (adult, fam)
        truth[aid] = adult.person_id
    out[:] = sorted([*out, *made], key=lambda a: a.arrival)
    return adult_of, adults
