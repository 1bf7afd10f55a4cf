"""Family: the attending child's siblings and household on the arrival date.

Three sources, one hop each (see :mod:`.graph` for the guard against merging families):

- the register (:func:`family_of`): declared links, siblings through shared parents,
  step-siblings, household links current on the day, co-residents from address history
  (at the child's register address, and at the address given at the attendance);
- the attendances (:mod:`.kin`): children whose attendances name the same mother or father
  (same NHS number, or name with birth date/address matched with certainty);
- the attendances' addresses (:mod:`.dwelling`): children who gave the same home (postcode
  unit and house number) and family name at their own attendances, or the very same home
  under any family name within the last ``home_shared_days``.

The last two are marked ``confirmed=False``; the register's own link wins wherever it knows a
person, then a named parent, then the home. A register person at the address given who may be
the attending child itself (:func:`may_be_self`) stays listed, their evidence and a note saying
so: their plans matter whether they are the child or a twin.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..algo.compare import Identity
from ..match import person_identity
from ..store import Store
from .dwelling import HOME_SHARED_DAYS, HOUSEHOLD_CHILD_MONTHS, children_at_home
from .graph import (DEFAULT_HOUSEHOLD_MOST, INVERSE, Family, Relative, co_residents,
                    family_of, residents_at, same_place, with_current_addresses)
from .kin import (PARENT_ROLES, NamedParent, ResolvedParent, attendance_only,
                  attendance_relatives, may_be_self, name_parents, resolve_parents)

__all__ = ["Relative", "Family", "family_of", "build_family", "INVERSE", "PARENT_ROLES",
           "ResolvedParent", "NamedParent", "name_parents", "resolve_parents",
           "attendance_relatives", "attendance_only", "co_residents", "residents_at",
           "same_place", "may_be_self", "children_at_home", "with_current_addresses"]


def build_family(store: Store, person_id: str | None, attendee_ids: list[int],
                 arrival: datetime, parents: list[ResolvedParent] = (),
                 child: Identity | None = None, register: Family | None = None, *,
                 most: int = DEFAULT_HOUSEHOLD_MOST, child_months: int = HOUSEHOLD_CHILD_MONTHS,
                 shared_days: int = HOME_SHARED_DAYS, attendance_id: str = "") -> Family:
    """The register family of ``person_id`` (if matched) plus attendance-derived siblings,
    then the register's residents at the address given (``register.at_address``) and the
    attending children at the same home (:func:`children_at_home`) whom none of those names.

    ``child`` (the attending child's identity on this attendance) keeps an unlinked record of
    the same child from being listed as its sibling, and gives the home. ``register`` is
    ``family_of(store, person_id, on)`` when the caller has already made it (it needs the
    register alone). ``most`` is ``address_household_most``: more children than this at one
    home is a communal address; ``child_months`` is ``household_child_years`` in months;
    ``shared_days`` is ``home_shared_days``. ``arrival`` is the attendance's arrival (wall
    clock): the family is as known on its date, the homes as given up to that moment.
    ``attendance_id`` is the attendance's id: on a re-check (an A08) the homes it gives are
    ``child``'s, not those recorded for it before."""
    on = arrival.date()
    if register is None:
        register = family_of(store, person_id, on) if person_id else Family(person_id or "")
    known = {r.person_id for r in register.relatives}
    # The child's own register parents, where attendances have named them, are parents too:
    # other children whose attendances name the same mother join as unconfirmed siblings.
    named = [ResolvedParent(node, r.relationship, r.person_id, "register")
             for r in register.relatives if r.relationship in PARENT_ROLES
             for node in (store.parent_of_person(r.person_id),) if node is not None]
    derived = [r for r in attendance_relatives(store, attendee_ids, person_id,
                                               [*parents, *named], child)
               if r.person_id not in known]
    known |= {r.person_id for r in derived}
    at_address, notes = _maybe_the_child(
        store, child, [r for r in register.at_address if r.person_id not in known])
    known |= {r.person_id for r in at_address}
    mothers = [p.parent_id for p in parents
               if p.relationship == "mother" and p.parent_id is not None]
    home, home_notes = children_at_home(store, child, attendee_ids, person_id, arrival,
                                        most=most, child_months=child_months,
                                        shared_days=shared_days, mothers=mothers,
                                        attendance_id=attendance_id)
    at_home = [r for r in home if r.person_id not in known]
    return Family(person_id or "", (*register.relatives, *derived, *at_address, *at_home),
                  (*register.notes, *notes, *home_notes))


def _maybe_the_child(store: Store, child: Identity | None, residents: list[Relative]
                     ) -> tuple[list[Relative], list[str]]:
    """The register's ``residents`` at the address given, those who may be the attending child
    itself (:func:`may_be_self`: the matcher did not take the child for them, under a middle
    name or a mistyped one, nor can it tell them from a twin) saying so in their evidence, and
    a note naming them. They stay listed: their plans matter whether they are the child or a
    twin, and the note asks for the match to be checked."""
    if child is None or not residents:
        return residents, []
    persons = store.persons([r.person_id for r in residents])
    maybe = {pid for pid, found in persons.items()
             if may_be_self(child, person_identity(found))}
    if not maybe:
        return residents, []
    return ([replace(r, evidence=f"{r.evidence}; {_MAYBE}") if r.person_id in maybe else r
             for r in residents],
            [f"register person(s) {', '.join(sorted(maybe))} at the address given may be this "
             "child recorded differently (not matched with certainty), or a twin: consider "
             "whether the child is that register person"])


_MAYBE = "may be this child itself recorded differently, or a twin (not matched with certainty)"
