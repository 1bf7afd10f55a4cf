"""Household children from the addresses given at attendances (derived, ``confirmed=False``).

A child social care has never met, whose attendances name no parent (or not the parent a
sibling's attendances name), is still found through the homes attendances gave. Two ways,
each one hop from the child's own address (so they cannot chain two families together):

1. **The same home and the same family name, at any time**: an earlier attendee gave a home
   the child gives (at this attendance, or gave at an earlier one of the child's own) and a
   family name of the child's (as the matcher's blocking key holds it: phonetic, any part of
   a double-barrelled name). The same home is the same postcode unit *and* numbers (and
   flat letters) of the address line that fit (``14``, ``Flat 2, 14``; not ``Flat A, 14``
   and ``Flat B, 14``), with the same house number and street where both lines say them
   (not ``14 Oak Road`` and ``14 Fern Close`` of one unit, nor ``Flat 2, 14`` and
   ``2 Fern Close``; :func:`~safeflag.algo.compare.premise_key`). A postcode unit alone
   holds about fifteen homes, so an address line with no number links nobody. The homes are
   those the attendances give as recorded now (the dated homes below), the child's earlier
   ones and the other's alike, not the attendee records' (which keep every address they
   learnt, one keyed wrongly and corrected since included).
2. **The very same home lately, whatever the family name**: another child's attendance in the
   previous ``shared_days`` (365) gave exactly the premises this attendance gives (the same
   unit, the same numbers and letters, the same house number and street: ``14`` does not meet
   ``Flat 2, 14`` here, where a house in flats would join two families; a home stored before
   the house and street were kept is met by its numbers). Half-siblings with their fathers'
   names and step-siblings share a home under several surnames. Without the date, a house in
   multiple occupation or successive tenancies over the years would join unrelated children.
   Where the two children's attendances name two different women as their mother (two
   NHS numbers, or another first name), they are two families in one house and are not linked
   (nor, so, are step-siblings who each name their own mother: the register's step-parent
   links are for them).

The homes are recorded per attendance, dated: an A08 that corrects the address replaces its
attendance's homes, so the old home is taken away for both ways (a home also given at another
attendance stays). Attendances recorded before the homes were (``SCHEMA_VERSION`` 3) have
none, and are found neither way.

Either way the other must be a child (their birth date puts them under
``household_child_years`` on the arrival date: an adult at the home is for the register's
own household links), not possibly the child itself
(:func:`~safeflag.family.kin.may_be_self`), and not the child's own register person.

More than ``most`` such children at one home (for each way) is taken as communal (a children's
home, a hostel, a refuge), as for the register's residents at an address, and links nobody by
that way. The relative is ``household`` (the contract's household-member), and the evidence
says how it was found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from ..algo.compare import (OTHERWISE, Identity, compare, family_codes, legacy_premise_key,
                            premise_unit, same_home)
from ..algo.dates import age_months_range
from ..settings import RuleSettings
from ..store import HomeGiven, Store
from .graph import Relative
from .kin import ATTENDEE, may_be_self

__all__ = ["children_at_home", "HOUSEHOLD_CHILD_MONTHS", "HOME_SHARED_DAYS"]

#: A household child is a household-linked person under 18 (the interface contract;
#: ``household_child_years``' default, for callers without settings).
HOUSEHOLD_CHILD_MONTHS = 18 * 12
#: ``home_shared_days``' default (for callers without settings): how recently another child
#: must have given the very same home.
HOME_SHARED_DAYS: int = RuleSettings.model_fields["home_shared_days"].default


def _a_child(other: Identity, on: date, months: int) -> bool:
    if other.birth is None:
        return False
    youngest, oldest = age_months_range(other.birth, on)
    return youngest < months and oldest >= 0


def _units(premises: Iterable[str]) -> set[str]:
    """The postcode units of premise keys (``UNIT|...``)."""
    return {premise_unit(p) for p in premises}


def _families(child: Identity, own: list[Identity]) -> Identity:
    """The child with its family names: those of this attendance and of the child's own
    attendee records (the names its earlier attendances gave)."""
    families = tuple(dict.fromkeys(f for ident in (child, *own) for f in ident.families))
    return child if families == child.families else replace(child, families=families)


def children_at_home(store: Store, child: Identity | None, attendee_ids: list[int],
                     person_id: str | None, arrival: datetime, *, most: int,
                     child_months: int = HOUSEHOLD_CHILD_MONTHS,
                     shared_days: int = HOME_SHARED_DAYS, mothers: Sequence[int] = (),
                     attendance_id: str = "") -> tuple[list[Relative], list[str]]:
    """Other attending children (under ``child_months`` on the arrival date) at the child's
    home (see the module's two ways): ``household`` relatives, ``confirmed=False``; and a note
    for each way that found a communal home. ``child`` is this attendance's identity,
    ``attendee_ids`` the child's attendee records, ``mothers`` the parent nodes of the
    mothers named at this attendance, ``attendance_id`` this attendance's id (on a re-check
    its homes are ``child``'s, not those recorded before)."""
    if child is None:
        return [], []
    on = arrival.date()
    named, note = _same_family_name(store, child, attendee_ids, person_id, on, most,
                                    child_months, attendance_id)
    lately, late_note = _same_home_lately(store, child, attendee_ids, person_id, arrival,
                                          most, child_months, shared_days, mothers)
    seen = {r.person_id for r in named}
    return ([*named, *(r for r in lately if r.person_id not in seen)],
            [n for n in (note, late_note) if n])


def _same_family_name(store: Store, child: Identity, attendee_ids: list[int],
                      person_id: str | None, on: date, most: int, child_months: int,
                      attendance_id: str) -> tuple[list[Relative], str | None]:
    """Way 1: a home and a family name of the child's, given at any time. The homes, the
    child's own earlier ones and the others', are those the attendances give as recorded (the
    dated homes, which an A08 corrects), not the attendee records': those keep every address
    they learnt, a wrongly keyed one included. One read finds the child's earlier homes and
    every home given in the postcode units of today's; a second, the units only earlier homes
    are in (when any are)."""
    if not (child.families or attendee_ids):
        return [], None
    own, units = set(attendee_ids), _units(child.premises)
    homes = store.homes_of(own, units, exclude=attendance_id)
    mine = tuple(dict.fromkeys([*child.premises, *(
        h.premise for h in homes if h.attendee_id in own and h.attendance_id != attendance_id)]))
    if not mine:
        return [], None
    if earlier := _units(mine) - units:
        homes = [*homes, *store.homes_of((), earlier)]
    theirs: dict[int, list[str]] = defaultdict(list)
    for home in homes:
        if home.attendee_id not in own:
            theirs[home.attendee_id].append(home.premise)
    fitting = [a for a, given in theirs.items() if same_home(mine, given)]
    if not fitting:
        return [], None
    records = store.attendees([*own, *fitting])     # one read: the child's records and theirs
    codes = family_codes(_families(child, [r for r in records if r.row_id in own]))
    found = [c for c in records if c.row_id not in own and codes & family_codes(c)
             and _a_child(c, on, child_months) and not may_be_self(child, c)]
    return _relatives(
        store, found, person_id, most,
        lambda _: ("attendances: gave the same home (postcode unit and house number) under "
                   "the same family name as this child"),
        "of the same family name")


def _same_home_lately(store: Store, child: Identity, attendee_ids: list[int],
                      person_id: str | None, arrival: datetime, most: int, child_months: int,
                      shared_days: int, mothers: Sequence[int]
                      ) -> tuple[list[Relative], str | None]:
    """Way 2: exactly the premises this attendance gives, given by another child's attendance
    in the previous ``shared_days`` (whatever their family name), unless the two children's
    attendances name two different mothers."""
    if not child.premises:
        return [], None
    on = arrival.date()
    latest: dict[int, HomeGiven] = {}       # attendee -> their latest attendance at the home
    # homes recorded before keys named the house and street are found by their marks
    keys = dict.fromkeys([*child.premises, *map(legacy_premise_key, child.premises)])
    for home in store.homes_given(keys, until=arrival,
                                  since=on - timedelta(days=shared_days)):
        if home.attendee_id not in attendee_ids:
            latest[home.attendee_id] = home
    found = [c for c in store.attendees(latest)
             if _a_child(c, on, child_months) and not may_be_self(child, c)]
    if found:
        found = _not_another_mothers(store, found, attendee_ids, mothers)

    def evidence(records: list[Identity]) -> str:
        last = max((latest[c.row_id] for c in records), key=lambda h: h.arrival)
        return (f"attendances: gave the same home (postcode unit, house and flat numbers) at "
                f"attendance {last.attendance_id} on {last.arrival.date().isoformat()}, within "
                f"{shared_days} days of this one")

    return _relatives(store, found, person_id, most, evidence,
                      f"in the previous {shared_days} days")


def _not_another_mothers(store: Store, found: list[Identity], attendee_ids: list[int],
                         mothers: Sequence[int]) -> list[Identity]:
    """``found`` but those whose attendances name a mother who is clearly another woman than
    every mother the child's attendances name (``mothers``: named today, not yet stored):
    two families at one address. Clearly another woman: two valid, different NHS numbers,
    or another first name (a mother who married keeps hers; a nickname or a slip is not
    another name). Where either child has no mother named, nothing says so."""
    links = store.parents_of_attendees([*attendee_ids, *(c.row_id for c in found)])
    own = set(mothers) | {k.parent_id for k in links
                          if k.relationship == "mother" and k.attendee_id in attendee_ids}
    if not own:
        return found
    theirs: dict[int, set[int]] = defaultdict(set)
    for k in links:
        if k.relationship == "mother" and k.attendee_id not in attendee_ids:
            theirs[k.attendee_id].add(k.parent_id)
    women = {p.row_id: p for p in store.parents(own | {p for ids in theirs.values()
                                                              for p in ids})}

    def another(a: int, b: int) -> bool:
        if a == b:
            return False
        one, other = women.get(a), women.get(b)
        if one is None or other is None:
            return False
        levels = dict(compare(one, other))
        return bool(one.nhs and other.nhs and one.nhs != other.nhs) or \
            levels.get("given_name") == OTHERWISE

    return [c for c in found
            if not (theirs.get(c.row_id) and
                    all(another(a, b) for a in own for b in theirs[c.row_id]))]


def _relatives(store: Store, found: list[Identity], person_id: str | None, most: int,
               evidence: Callable[[list[Identity]], str], which: str
               ) -> tuple[list[Relative], str | None]:
    """The attendee records ``found`` as relatives, one per person (a register person, or an
    attendee known only from attendances); none, and a note, past ``most``."""
    if not found:
        return [], None
    linked = store.persons_of_attendees(c.row_id for c in found)
    by_key: dict[str, list[Identity]] = defaultdict(list)
    for c in found:
        aid = c.row_id
        person = linked.get(aid)
        if person is not None and person == person_id:
            continue
        by_key[person or f"{ATTENDEE}{aid}"].append(c)
    if len(by_key) > most:
        return [], (f"the child's home was given at attendances of {len(by_key)} other "
                    f"children {which}: taken as communal, so no household child is linked "
                    "by it")
    return [Relative(key, "household", "household-member", evidence(by_key[key]),
                     confirmed=False,
                     attendee_ids=tuple(sorted(c.row_id for c in by_key[key])),
                     birth=by_key[key][0].birth)
            for key in sorted(by_key)], None
