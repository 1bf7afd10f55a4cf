"""Household children from the addresses given at attendances (derived, ``confirmed=False``).

A child social care has never met, whose attendances name no parent (or not the parent a
sibling's attendances name), is still found when an earlier attendee gave **the same home**
and **the same family name** as the child (at this attendance, or at an earlier one of the
child's own: a home given before, a family name recorded before):

- the same home: the same postcode unit *and* the numbers (and flat letters) of the address
  line fit (``14``, ``Flat 2, 14``; not ``Flat A, 14`` and ``Flat B, 14``;
  :func:`~safeflag.algo.compare.premise_key`). A postcode unit alone holds
  about fifteen homes, so an address line with no number links nobody;
- the same family name, as the matcher's blocking key holds it (phonetic, any part of a
  double-barrelled name): a home given by two attending children of different surnames may
  be a house in multiple occupation, a refuge or flats recorded without their numbers, where
  linking would show one family's injuries to clinicians treating another family's child;
- a child: the attendee's birth date puts them under ``household_child_years`` (18) on the
  arrival date (an adult at the home is for the register's own household links);
- not the child itself (:func:`~safeflag.family.kin.may_be_self`) nor already linked to the
  child's register person.

More than ``most`` such children at one home is taken as communal (a children's home, a
hostel), as for the register's residents at an address, and links nobody. The link is one
hop from the child's own address, so it cannot chain two families together; the relative is
``household`` (the contract's household-member), and the evidence says how it was found.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

from ..algo.compare import Identity, family_unit_keys, same_dwelling
from ..algo.dates import age_months_range
from ..store import Store
from .graph import Relative
from .kin import ATTENDEE, may_be_self

__all__ = ["children_at_home", "HOUSEHOLD_CHILD_MONTHS"]

#: A household child is a household-linked person under 18 (the interface contract;
#: ``household_child_years``' default, for callers without settings).
HOUSEHOLD_CHILD_MONTHS = 18 * 12


def _a_child(other: Identity, on: date, months: int) -> bool:
    if other.birth is None:
        return False
    youngest, oldest = age_months_range(other.birth, on)
    return youngest < months and oldest >= 0


def _homes(child: Identity, own: list[Identity]) -> Identity:
    """The child's homes and family names: those of this attendance and of the child's own
    attendee records (the homes and names its earlier attendances gave)."""
    premises = tuple(dict.fromkeys(p for ident in (child, *own) for p in ident.premises))
    families = tuple(dict.fromkeys(f for ident in (child, *own) for f in ident.families))
    if premises == child.premises and families == child.families:
        return child                 # nothing earlier that today's attendance does not give
    return replace(child, premises=premises, families=families)


def children_at_home(store: Store, child: Identity | None, attendee_ids: list[int],
                     person_id: str | None, on: date, *, most: int,
                     child_months: int = HOUSEHOLD_CHILD_MONTHS
                     ) -> tuple[list[Relative], str | None]:
    """Other attending children (under ``child_months`` on ``on``) who gave a home and family
    name of the child's (on this attendance or an earlier one of the child's attendee records
    ``attendee_ids``): ``household`` relatives, ``confirmed=False``; and a note when the
    homes are taken as communal. ``child`` is this attendance's identity."""
    if child is None:
        return [], None
    homes = _homes(child, store.attendees(attendee_ids) if attendee_ids else [])
    if not homes.premises or not homes.families:
        return [], None
    units = {p.split("|", 1)[0] for p in homes.premises}
    found = [c for c in store.attendee_candidates(family_unit_keys(homes, units))
             if int(c.ref[1:]) not in attendee_ids and same_dwelling(homes, c)
             and _a_child(c, on, child_months) and not may_be_self(child, c)]
    if not found:
        return [], None
    linked = store.persons_of_attendees(int(c.ref[1:]) for c in found)
    by_key: dict[str, list[Identity]] = defaultdict(list)
    for c in found:
        aid = int(c.ref[1:])
        person = linked.get(aid)
        if person is not None and person == person_id:
            continue
        by_key[person or f"{ATTENDEE}{aid}"].append(c)
    if len(by_key) > most:
        return [], (f"the child's home was given at attendances of {len(by_key)} other "
                    "children of the same family name: taken as communal, so no household "
                    "child is linked by it")
    relatives = []
    for key in sorted(by_key):
        ids = tuple(sorted(int(c.ref[1:]) for c in by_key[key]))
        relatives.append(Relative(
            key, "household", "household-member",
            "attendances: gave the same home (postcode unit and house number) under the same "
            "family name as this child",
            confirmed=False, attendee_ids=ids, birth=by_key[key][0].birth))
    return relatives, None
