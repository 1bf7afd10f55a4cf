"""Record comparison: identities, blocking keys and Fellegi–Sunter comparison levels.

Each field is a :class:`Comparison`: a "no data" test, ordered levels tried in turn (the
first that holds wins) and an "otherwise" level. Weights are not here: a
:class:`~safeflag.match.weights.MatchModel` turns each (field, level) into a log2 Bayes
factor, log2(m/u), estimated from the register (u, name frequencies) and from attendances
(m, by expectation–maximisation), with documented defaults (``docs/matching.md``).

Every comparison is symmetric — ``compare(a, b)`` gives the same levels as
``compare(b, a)`` — and pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from rapidfuzz.distance import JaroWinkler

from .dates import PartialDate
from .names import are_nicknames, one_edit_apart, phonetic
from .postcode import parse_postcode

__all__ = ["Identity", "Comparison", "COMPARISONS", "FIELDS", "blocking_keys", "compare",
           "probability", "is_twin_pattern", "is_generation_gap", "personal_evidence",
           "no_name_agrees", "no_first_name_nor_home", "nhs_contradicted", "merge_identities",
           "premise_key", "premise_unit", "legacy_premise_key", "different_dwellings",
           "same_dwelling", "same_home", "family_unit_keys", "family_codes",
           "PRIOR_LOG2_ODDS", "NO_DATA", "OTHERWISE", "GENERATION_YEARS", "FIRST_NAME_AGREES",
           "BIRTH_AGREES"]

#: Default prior log2 odds that one register person is the attending child (about 1 in 4000);
#: a loaded register replaces it with log2(share on register / persons), see MatchModel.
PRIOR_LOG2_ODDS = -12.0
NO_DATA = "no data"
OTHERWISE = "otherwise"
#: Birth dates this many years apart belong to different generations (a parent and child).
GENERATION_YEARS = 12


def _units(postcodes: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    parsed = [p for p in (parse_postcode(x) for x in postcodes) if p is not None]
    return frozenset(p.sector for p in parsed), frozenset(p.district for p in parsed)


@dataclass(frozen=True)
class Identity:
    """What matching knows of one person or attendee, already normalised.

    ``givens`` holds one entry per recorded name: the first given name followed by any middle
    names (``"OLIVIA GRACE"``). ``kin_*`` describe the parents or carers (from the register's
    relationships, or from the attendance's next of kin). ``parent_of`` is the earliest birth
    year of a child this person is recorded as a parent or carer of.
    """

    ref: str
    nhs: str | None = None                    # only a checksum-valid number
    givens: tuple[str, ...] = ()
    families: tuple[str, ...] = ()            # normalised family names, aliases included
    birth: PartialDate | None = None
    sex: str = "unknown"
    postcodes: tuple[str, ...] = ()           # normalised units, current and previous
    kin_nhs: tuple[str, ...] = ()
    kin_names: tuple[tuple[str, str], ...] = ()
    kin_roles: tuple[str, ...] = ()           # "mother", "father" or "other", as named
    twin_hint: bool = False                   # a placeholder such as "TWIN 2" was sent
    parent_of: int | None = None
    #: where in a postcode unit: ``UNIT|numbers of the address line`` (:func:`premise_key`);
    #: kept for attending patients and the parents they name, to tell two homes of one unit
    #: apart (and to find one home's children: :mod:`safeflag.family.dwelling`)
    premises: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # derived once, used by every comparison
    firsts: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)
    given_words: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)
    family_words: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)

    @property
    def row_id(self) -> int:
        """The store's id of an attendee or parent identity read back from it (``ref``
        ``"A12"`` → 12, ``"K7"`` → 7)."""
        return int(self.ref[1:])

    def __post_init__(self) -> None:
        split = [g.split(" ") for g in self.givens if g]
        object.__setattr__(self, "firsts", frozenset(s[0] for s in split))
        object.__setattr__(self, "given_words", frozenset(w for s in split for w in s))
        object.__setattr__(self, "family_words", frozenset(
            w for f in self.families for w in f.split(" ") if len(w) > 1))

    # derived when first needed (most pairs never look at them)
    @cached_property
    def sectors(self) -> frozenset[str]:
        return _units(self.postcodes)[0]

    @cached_property
    def districts(self) -> frozenset[str]:
        return _units(self.postcodes)[1]

    @cached_property
    def birth_text(self) -> str:
        return str(self.birth) if self.birth is not None else ""

    def to_json(self) -> str:
        data: dict = {"ref": self.ref, "nhs": self.nhs, "g": self.givens, "f": self.families,
                      "b": str(self.birth) if self.birth else None, "s": self.sex,
                      "p": self.postcodes}
        if self.kin_nhs:
            data["kn"] = self.kin_nhs
        if self.kin_names:
            data["kg"] = self.kin_names
        if self.kin_roles:
            data["kr"] = self.kin_roles
        if self.twin_hint:
            data["tw"] = True
        if self.parent_of is not None:
            data["po"] = self.parent_of
        if self.premises:
            data["pm"] = self.premises
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Identity":
        """The identity stored as ``text`` (parsed once and shared: identities are frozen)."""
        return _from_json(text)

    @classmethod
    def _parse(cls, text: str) -> "Identity":
        d = json.loads(text)
        return cls(ref=d["ref"], nhs=d["nhs"], givens=tuple(d["g"]), families=tuple(d["f"]),
                   birth=PartialDate.parse(d["b"]) if d["b"] else None, sex=d["s"],
                   postcodes=tuple(d["p"]), kin_nhs=tuple(d.get("kn", ())),
                   kin_names=tuple(tuple(n) for n in d.get("kg", ())),
                   kin_roles=tuple(d.get("kr", ())),
                   twin_hint=d.get("tw", False), parent_of=d.get("po"),
                   premises=tuple(d.get("pm", ())))


#: A flat's letter ("Flat B", "Apartment c"), or a letter after a house number ("12A").
_FLAT_LETTER = re.compile(r"\b(?:flat|apartment|apt|unit|room|maisonette)\s+([a-z])\b"
                          r"|\b\d+([a-z])\b")


#: The house number: a number followed by a word that is not a flat's ("14 Fern Close",
#: "12B Fern Close"), the last in the line ("Flat 2, 14 Fern Close": 14), with that word, the
#: first of the street's name.
_HOUSE = re.compile(r"(?<![\w])(\d+)[a-z]?\s+(?!(?:flat|apartment|apt|unit|room|maisonette)\b)"
                    r"([a-z][a-z']+)")


def premise_key(postcode: str | None, line: str | None) -> str | None:
    """``UNIT|marks|HOUSE STREET``: the postcode unit and what tells homes in it apart.

    *marks* are the numbers of the address line (house, flat) and a flat's letter;
    *HOUSE STREET* is which of them is the house number, and the first word of the street
    after it, when the line says (``LS2 9JT|2,14|14 FERN`` for "Flat 2, 14 Fern Close",
    ``LS2 9JT|2,14|2 FERN`` for "Flat 14, 2 Fern Close", ``LS2 9JT|b,12|12 FERN`` for
    "Flat B, 12 Fern Close" or "12B Fern Close"). A postcode unit may hold two streets, and
    flats numbered like the houses, so "14 Oak Road" and "14 Fern Close" are two homes.
    ``None`` without a valid postcode or a number in the line. A letter is its own mark, so
    "12 Fern Close" still fits "12B" (the letter left out) while "Flat A" and "Flat B" of
    number 12 are two homes. Keys stored before the house and street were kept
    (``UNIT|marks``) still compare by their marks alone."""
    parsed = parse_postcode(postcode)
    text = (line or "").lower()
    numbers = set(re.findall(r"\d+", text))
    if parsed is None or not numbers:
        return None
    letters = {a or b for a, b in _FLAT_LETTER.findall(text)}
    marks = sorted(numbers | letters, key=lambda n: (len(n), n))
    houses = _HOUSE.findall(text)
    house = f"|{houses[-1][0]} {houses[-1][1].upper()}" if houses else ""
    return f"{parsed.unit}|{','.join(marks)}{house}"


def premise_unit(key: str) -> str:
    """The postcode unit of a premise key (:func:`premise_key`: ``UNIT|...``)."""
    return key.partition("|")[0]


def legacy_premise_key(key: str) -> str:
    """``key`` as keys were stored before they named the house and street (``UNIT|marks``)."""
    unit, _, rest = key.partition("|")
    return f"{unit}|{rest.partition('|')[0]}"


def different_dwellings(a: Identity, b: Identity) -> bool:
    """Do ``a`` and ``b`` share postcode units only as two different homes in them? True when
    every unit they share has an address line with numbers on both sides, and no two of them
    fit (:func:`_one_home`: ``14`` fits ``Flat 2, 14``; ``Flat 1, 14`` does not fit
    ``Flat 7, 14``, nor ``14 Oak Road`` ``14 Fern Close``). A postcode unit holds about fifteen
    homes: agreeing on it is weaker evidence when the homes are known to differ."""
    shared = set(a.postcodes) & set(b.postcodes)
    if not shared:
        return False
    for unit in shared:
        mine, theirs = _numbers_at(a, unit), _numbers_at(b, unit)
        if not mine or not theirs or _fit(mine, theirs):
            return False
    return True


def same_dwelling(a: Identity, b: Identity) -> bool:
    """Do ``a`` and ``b`` give one home: premises in one postcode unit that fit
    (:func:`_one_home`, as for :func:`different_dwellings`)?"""
    return same_home(a.premises, b.premises)


def same_home(mine: Iterable[str], theirs: Iterable[str]) -> bool:
    """Do two sets of premise keys (:func:`premise_key`) hold one home: premises in one postcode
    unit that fit (:func:`_one_home`)?"""
    mine, theirs = tuple(mine), tuple(theirs)
    return any(_fit(_homes_at(mine, unit), _homes_at(theirs, unit))
               for unit in {premise_unit(key) for key in mine})


#: One home's premises in a unit: its marks, and (house number, street word) when known.
_Home = tuple[frozenset[str], tuple[str, str] | None]


def _one_home(x: _Home, y: _Home) -> bool:
    """Can two premises of one unit be one home? Their marks fit (one set holds the other:
    a flat's number or letter left out on one side), and, where both say which number is the
    house and what the street is, the house number is the same and the street's word too (or
    one keying slip apart: "Fern", "Fen")."""
    (marks_x, house_x), (marks_y, house_y) = x, y
    if house_x and house_y and (house_x[0] != house_y[0] or not (
            house_x[1] == house_y[1] or one_edit_apart(house_x[1], house_y[1]))):
        return False
    return marks_x <= marks_y or marks_y <= marks_x


def _fit(mine: list[_Home], theirs: list[_Home]) -> bool:
    return any(_one_home(x, y) for x in mine for y in theirs)


def _numbers_at(ident: Identity, unit: str) -> list[_Home]:
    return _homes_at(ident.premises, unit)


def _homes_at(premises: Iterable[str], unit: str) -> list[_Home]:
    homes = []
    for key in premises:
        at, _, rest = key.partition("|")
        if at == unit:
            marks, _, house = rest.partition("|")
            number, _, street = house.partition(" ")
            homes.append((frozenset(marks.split(",")), (number, street) if house else None))
    return homes


def merge_identities(old: Identity, new: Identity) -> Identity:
    """Everything known of one person seen twice: names, postcodes and the parents named
    accumulate; the NHS number, birth date and sex already known are kept (``old`` wins),
    except that a partial birth date is completed by a fuller one that agrees with it."""
    def both(a: tuple, b: tuple) -> tuple:
        return tuple(dict.fromkeys((*a, *b)))
    return Identity(ref=old.ref, nhs=old.nhs or new.nhs, givens=both(old.givens, new.givens),
                    families=both(old.families, new.families),
                    birth=_fuller(old.birth, new.birth),
                    sex=old.sex if old.sex in ("female", "male") else new.sex,
                    postcodes=both(old.postcodes, new.postcodes),
                    kin_nhs=both(old.kin_nhs, new.kin_nhs),
                    kin_names=both(old.kin_names, new.kin_names),
                    kin_roles=both(old.kin_roles, new.kin_roles),
                    twin_hint=old.twin_hint or new.twin_hint,
                    parent_of=old.parent_of if old.parent_of is not None else new.parent_of,
                    premises=both(old.premises, new.premises))


def _fuller(old: PartialDate | None, new: PartialDate | None) -> PartialDate | None:
    """``old``, or ``new`` where it says more and agrees with all that ``old`` says ("2016"
    becomes 24 September 2016; 3 March never becomes another day)."""
    if old is None or new is None:
        return old or new
    more = (new.month is not None and old.month is None) or (new.day is not None
                                                              and old.day is None)
    agrees = new.year == old.year and old.month in (None, new.month) \
        and old.day in (None, new.day)
    return new if more and agrees else old


@lru_cache(maxsize=50_000)
def _from_json(text: str) -> Identity:
    return Identity._parse(text)


# --- blocking -----------------------------------------------------------------------------------
def _swapped(b: PartialDate) -> PartialDate | None:
    if b.day is None or b.day > 12 or b.day == b.month:
        return None
    try:
        return PartialDate(b.year, b.day, b.month)
    except ValueError:
        return None


def blocking_keys(ident: Identity, *, query: bool = False) -> set[str]:
    """Keys under which an identity is indexed (or, with ``query``, looked up).

    Every key joins two fields, so that any single wrong or missing field still leaves a key
    shared with the true record while candidate sets stay small:

    ``N``  NHS number;
    ``FD`` family name + birth date (first name wrong, a nickname or a placeholder);
    ``GD`` first name + birth date (family name changed or misspelt);
    ``GFM``, ``GFD``, ``GFA`` names + birth year-month, year-day, month-day (one part of the
    birth date wrong, e.g. one digit mistyped; a year-month partial date);
    ``GFY`` names + birth year (a year-only partial date: queried only then);
    ``GFP`` names + postcode district (birth date missing or wholly wrong);
    ``DP`` birth date + postcode district (a placeholder first name with the mother's
    family name, as newborns are often booked);
    ``FP``, ``GP`` family or first name + postcode unit (a name and the birth date wrong).

    Names enter keys as NYSIIS phonetic codes. A query also looks under the day/month-swapped
    birth date.
    """
    keys: set[str] = set()
    if ident.nhs:
        keys.add("N:" + ident.nhs)
    b = ident.birth
    births = [b] if b is not None else []
    if query and b is not None:
        swapped = _swapped(b)
        if swapped is not None:
            births.append(swapped)
    gs = {phonetic(g) for g in (ident.given_words if query else ident.firsts)}
    fs = {phonetic(f) for f in ident.family_words}   # (a query's middle name may be its first)
    gfs = [f"{g}:{f}" for g in gs for f in fs]
    for d in births:
        y, m, day = d.year, d.month, d.day
        if day is not None:
            text = f"{y:04d}-{m:02d}-{day:02d}"
            keys.update(f"DP:{text}:{p}" for p in ident.districts)
            keys.update(f"FD:{f}:{text}" for f in fs)
            keys.update(f"GD:{g}:{text}" for g in gs)
            keys.update(f"GFD:{gf}:{y}-{day}" for gf in gfs)
            keys.update(f"GFA:{gf}:{m}-{day}" for gf in gfs)
        if m is not None:
            keys.update(f"GFM:{gf}:{y}-{m}" for gf in gfs)
        if not query or m is None:
            keys.update(f"GFY:{gf}:{y}" for gf in gfs)
    if not query or b is None or not b.is_full:
        keys.update(f"GFP:{gf}:{d}" for gf in gfs for d in ident.districts)
    keys |= family_unit_keys(ident, ident.postcodes)
    for unit in ident.postcodes:
        keys.update(f"GP:{g}:{unit}" for g in gs)
    return keys


def family_unit_keys(ident: Identity, units: Iterable[str]) -> set[str]:
    """The ``FP`` blocking keys of ``ident``'s family names at the postcode units ``units``."""
    units = tuple(units)
    return {f"FP:{code}:{unit}" for code in family_codes(ident) for unit in units}


def family_codes(ident: Identity) -> frozenset[str]:
    """The phonetic codes of ``ident``'s family names, each part of a double-barrelled name
    (as the ``FP`` blocking keys hold them)."""
    return frozenset(phonetic(f) for f in ident.family_words)


# --- comparison levels --------------------------------------------------------------------------
Test = Callable[[Identity, Identity], bool]


@dataclass(frozen=True)
class Comparison:
    """One field: when it has no data, and its levels from strongest agreement down."""

    field: str
    missing: Callable[[Identity], bool]
    levels: tuple[tuple[str, Test], ...]
    #: when no level agrees and this holds, the pair says nothing ("no data"), not "otherwise"
    silent: Test | None = None

    @property
    def level_names(self) -> tuple[str, ...]:
        return (*(name for name, _ in self.levels), OTHERWISE)

    def level(self, a: Identity, b: Identity) -> str:
        if self.missing(a) or self.missing(b):
            return NO_DATA
        for name, test in self.levels:
            if test(a, b):
                return name
        return NO_DATA if self.silent is not None and self.silent(a, b) else OTHERWISE


def _any_pair(test: Callable[[str, str], bool], get: Callable[[Identity], Iterable[str]]) -> Test:
    return lambda a, b: any(test(x, y) for x in get(a) for y in get(b))


def _firsts(i: Identity) -> frozenset[str]:
    return i.firsts


def _jw(threshold: float) -> Callable[[str, str], bool]:
    return lambda x, y: JaroWinkler.similarity(x, y, score_cutoff=threshold) >= threshold


def _middle(a: Identity, b: Identity) -> bool:
    """A first name recorded as the other record's middle name (or the reverse)."""
    return bool(a.firsts & b.given_words) or bool(b.firsts & a.given_words)


def _dob_exact(a: Identity, b: Identity) -> bool:
    return a.birth == b.birth and a.birth is not None and a.birth.is_full


def _dob_swap(a: Identity, b: Identity) -> bool:
    x, y = a.birth, b.birth
    return (x is not None and y is not None and x.is_full and y.is_full and x.year == y.year
            and x.month == y.day and x.day == y.month)


def _dob_one_digit(a: Identity, b: Identity) -> bool:
    x, y = a.birth_text, b.birth_text
    if len(x) != 10 or len(y) != 10:
        return False
    return sum(c1 != c2 for c1, c2 in zip(x, y)) == 1


def _dob_partial(precision: str) -> Test:
    """One date is partial and agrees with the other down to ``precision``."""
    def test(a: Identity, b: Identity) -> bool:
        x, y = a.birth, b.birth
        if x is None or y is None or (x.is_full and y.is_full):
            return False
        coarse = "year" if "year" in (x.precision, y.precision) else "month"
        return (coarse == precision and x.year == y.year
                and (precision == "year" or x.month == y.month))
    return test


def _kin_names(a: Identity, b: Identity, full: bool) -> bool:
    for ga, fa in a.kin_names:
        for gb, fb in b.kin_names:
            given = bool(ga) and ga.split(" ")[0] == gb.split(" ")[0]
            if given and (not full or (bool(fa) and bool(set(fa.split()) & set(fb.split())))):
                return True
    return False


def _other_parent(a: Identity, b: Identity) -> bool:
    """One names only the mother and the other only the father (or the other way round):
    naming the other parent says nothing against the same child."""
    roles_a, roles_b = set(a.kin_roles), set(b.kin_roles)
    return (len(roles_a) == len(roles_b) == 1 and roles_a != roles_b
            and not (roles_a | roles_b) - {"mother", "father"})


def _older_parent(a: Identity, b: Identity) -> bool:
    """One is recorded as the parent of a child born before (or soon after) the other."""
    for x, y in ((a, b), (b, a)):
        if x.parent_of is not None and x.birth is None and y.birth is not None \
                and y.birth.year >= x.parent_of - 12:
            return True
    return False


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("nhs_number", lambda i: not i.nhs, (
        ("exact", lambda a, b: a.nhs == b.nhs),
    )),
    Comparison("given_name", lambda i: not i.firsts, (
        ("exact", lambda a, b: bool(a.firsts & b.firsts)),
        ("nickname", _any_pair(are_nicknames, _firsts)),
        ("one edit", _any_pair(one_edit_apart, _firsts)),
        ("middle name", _middle),
        ("jaro-winkler >= 0.9", _any_pair(_jw(0.9), _firsts)),
    )),
    Comparison("family_name", lambda i: not i.families, (
        ("exact", lambda a, b: bool(set(a.families) & set(b.families))),
        ("shared part", lambda a, b: bool(a.family_words & b.family_words)),
        ("one edit", _any_pair(one_edit_apart, lambda i: i.families)),
        ("jaro-winkler >= 0.92", _any_pair(_jw(0.92), lambda i: i.families)),
    )),
    Comparison("birth_date", lambda i: i.birth is None, (
        ("exact", _dob_exact),
        ("day/month swapped", _dob_swap),
        ("one digit differs", _dob_one_digit),
        ("same year and month (partial)", _dob_partial("month")),
        ("same year (partial)", _dob_partial("year")),
        # "otherwise" here: twelve or more years apart — another generation
        ("under 12 years apart", lambda a, b: abs(a.birth.year - b.birth.year) < GENERATION_YEARS),
    )),
    Comparison("sex", lambda i: i.sex not in ("female", "male"), (
        ("exact", lambda a, b: a.sex == b.sex),
    )),
    Comparison("postcode", lambda i: not i.postcodes, (
        # the same unit, unless both give numbered homes in it and no two of them fit: then
        # two homes of one street, which says no more than the sector
        ("unit", lambda a, b: bool(set(a.postcodes) & set(b.postcodes))
         and not different_dwellings(a, b)),
        ("sector", lambda a, b: bool(a.sectors & b.sectors)),
        ("district", lambda a, b: bool(a.districts & b.districts)),
    )),
    Comparison("parents", lambda i: not (i.kin_nhs or i.kin_names), (
        ("nhs number", lambda a, b: bool(set(a.kin_nhs) & set(b.kin_nhs))),
        ("full name", lambda a, b: _kin_names(a, b, True)),
        ("first name", lambda a, b: _kin_names(a, b, False)),
    ), silent=_other_parent),
    Comparison("age", lambda i: i.birth is None and i.parent_of is None, (
        # "otherwise" here: one is recorded as the parent of a child older than the other
        ("compatible", lambda a, b: not _older_parent(a, b)),
    )),
)
FIELDS: tuple[str, ...] = tuple(c.field for c in COMPARISONS)


def compare(a: Identity, b: Identity) -> list[tuple[str, str]]:
    """(field, level) for every comparison, in declaration order."""
    return [(c.field, c.level(a, b)) for c in COMPARISONS]


def probability(match_weight: float) -> float:
    """Posterior match probability from a log2 match weight (prior included)."""
    if match_weight > 60:
        return 1.0
    if match_weight < -60:
        return 0.0
    odds = 2.0 ** match_weight
    return odds / (1.0 + odds)


_SAME_FIRST = ("exact", "nickname", "one edit", "middle name")


def is_twin_pattern(levels: dict[str, str]) -> bool:
    """Same full birth date and family name but not the same first name — or a first name
    that only nearly agrees with the other sex or another valid NHS number: a sibling (a
    twin), never the same child — unless the NHS numbers agree.

    Twins share birth date, family name, address and parents; what tells them apart is the
    first name (and often the sex). A first name that is not the same, a nickname, one keying
    error or a middle name therefore rules the pair out whatever else agrees.
    """
    if levels.get("nhs_number") == "exact" or levels.get("birth_date") != "exact":
        return False
    if levels.get("family_name") in (NO_DATA, OTHERWISE, None):
        return False
    given = levels.get("given_name")
    if given == "exact":
        return False
    return (given != NO_DATA and given not in _SAME_FIRST) or levels.get("sex") == OTHERWISE \
        or levels.get("nhs_number") == OTHERWISE


#: First-name levels that count as the child's own first name (a shared middle name runs in
#: families, so "middle name" does not).
FIRST_NAME_AGREES = ("exact", "nickname", "one edit")
#: Birth-date levels that count as agreeing ("under 12 years apart" does not).
BIRTH_AGREES = ("exact", "day/month swapped", "one digit differs",
                "same year and month (partial)", "same year (partial)")
#: Personal evidence: a birth year alone is not the child's own (a brother or sister may share
#: it), so a pair whose first names disagree is not rescued by a year-only date.
_PERSONAL_AGREES = {
    "nhs_number": ("exact",),
    "given_name": FIRST_NAME_AGREES,
    "birth_date": tuple(level for level in BIRTH_AGREES if level != "same year (partial)"),
}


def is_generation_gap(levels: dict[str, str]) -> bool:
    """Birth dates twelve or more years apart and no agreeing NHS number: a parent or
    grandparent and a child who share a name and a home, never one person."""
    return levels.get("birth_date") == OTHERWISE and levels.get("nhs_number") != "exact"


def no_name_agrees(levels: dict[str, str]) -> bool:
    """Both names given and neither agrees (nor any alias), and no agreeing NHS number.

    Birth date and postcode alone fit another child born the same day in the same street;
    the register shows plans, so such a pair is offered for a person to confirm, never
    matched outright.
    """
    return (levels.get("given_name") == OTHERWISE and levels.get("family_name") == OTHERWISE
            and levels.get("nhs_number") != "exact")


def no_first_name_nor_home(levels: dict[str, str]) -> bool:
    """No first name to compare on one side or the other (a newborn booked as "BABY", none
    sent, none on the register), and neither the NHS number nor the postcode unit agrees.

    What is left — a family name, a birth date, a district — fits another family's baby born
    the same day; the register shows plans, so such a pair is offered for a person to confirm,
    never matched outright.
    """
    return (levels.get("given_name", NO_DATA) == NO_DATA
            and levels.get("nhs_number") != "exact" and levels.get("postcode") != "unit")


def nhs_contradicted(levels: dict[str, str], a: Identity, b: Identity) -> bool:
    """The NHS numbers of ``a`` and ``b`` agree but the person's own details say otherwise:
    birth dates in different years that agree in no way the matcher knows (not one keying
    slip, not a compatible partial date), or neither name agreeing without the same birth
    date *and* postcode unit to hold them together.

    A number keyed from the wrong record (a brother's or sister's, a newborn's swapped on the
    ward, a wrong trace) looks like this. One child's own number with a changed name (a name
    used at home, a new surname) keeps the birth date and home; with a mistyped birth date it
    keeps the name and, nearly always, the year. Such a pair is offered for a person to
    confirm, never matched outright, and a parent named with such a number is not taken to be
    that person.
    """
    if levels.get("nhs_number") != "exact":
        return False
    birth = levels.get("birth_date", NO_DATA)
    if birth not in BIRTH_AGREES and birth != NO_DATA and a.birth and b.birth \
            and a.birth.year != b.birth.year:
        return True
    no_name = levels.get("given_name") == OTHERWISE and levels.get("family_name") == OTHERWISE
    return no_name and not (birth == "exact" and levels.get("postcode") == "unit")


def personal_evidence(levels: dict[str, str]) -> str:
    """Whether anything personal to the child agrees: ``"agrees"``, ``"none"`` (NHS number,
    first name and birth date all missing) or ``"disagrees"``.

    Family name, address and parents are shared by a whole household, so they cannot tell a
    child from a brother or sister. A pair that agrees on none of the child's own details
    (NHS number, first name, birth date) while one of them disagrees is a sibling or another
    relative, whatever the household details add up to.
    """
    seen = False
    for name, agree in _PERSONAL_AGREES.items():
        level = levels.get(name, NO_DATA)
        if level in agree:
            return "agrees"
        seen = seen or level != NO_DATA
    return "disagrees" if seen else "none"
