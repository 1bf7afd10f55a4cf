"""The register's family graph around one child on one day.

Relationships are read in both directions (a link recorded one way is inferred the other way,
see :data:`INVERSE`). From the child's *own* links:

- siblings: declared sibling / half-sibling links, and the other children of the child's own
  parents (two shared parents: ``sibling``; one: ``half-sibling``). Sibling links are permanent.
- step-siblings: the children of the child's current step-parent, and children who record
  one of the child's parents as their current step-parent. Through a parent's *partner*
  (partner-of-parent, either way round) only when the address history places that child at
  the child's address on the day: a partner's children from another family may live
  elsewhere, so a partner alone is never a path into another family.
- household: anyone else linked to the child by a relationship current on the day (mother,
  father, parent, step-parent, carer, partner-of-parent, household-member), and anyone the
  register's address history places at the child's own address on that day (``co-resident``;
  an inference, so ``confirmed=False``).
- at the address given: anyone the register's address history places at the address given at
  this attendance on that day (:func:`residents_at`; ``co-resident``, ``confirmed=False``),
  kept apart in :attr:`Family.at_address` because they come last: any other link to the same
  person says more. This is how an attendee the register does not hold (an adult, a child
  social care has not met) finds the register's children at home. An address more than
  ``most`` register persons share on the day is taken as communal (a hostel, a children's
  home, flats recorded without their numbers) and links nobody.

Guard against merging families: every derived relative is found *one hop* from a link the
child itself holds (the child's parent, step-parent or partner of a parent). Nothing is ever
derived through a sibling, a co-resident or a relative's relative, so one wrong link adds at
most the people directly behind that one link, never a whole second family.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ..algo.dates import PartialDate
from ..algo.postcode import postcode_key
from ..models import Address, AddressPeriod, Register, Relationship, RelationshipType as R
from ..settings import RuleSettings
from ..store import Store

__all__ = ["Relative", "Family", "family_of", "INVERSE", "same_place", "co_residents",
           "residents_at", "with_current_addresses"]

INVERSE: dict[R, R] = {
    R.mother: R.child, R.father: R.child, R.parent: R.child,
    R.step_parent: R.step_child, R.carer: R.cared_for_child,
    R.partner_of_parent: R.partner_child, R.sibling: R.sibling,
    R.half_sibling: R.half_sibling, R.household_member: R.household_member,
    R.child: R.parent, R.step_child: R.step_parent, R.cared_for_child: R.carer,
    R.partner_child: R.partner_of_parent,
}
PARENTS = frozenset({R.mother, R.father, R.parent})
_STEP_CHILDREN = frozenset({R.step_child, R.partner_child})
HOUSEHOLD = frozenset({R.mother, R.father, R.parent, R.step_parent, R.carer,
                       R.partner_of_parent, R.household_member, R.child, R.step_child,
                       R.cared_for_child, R.partner_child})


@dataclass(frozen=True)
class Relative:
    """One person in the child's family, with what they are to the child and how we know."""

    person_id: str          # a register person_id, or "attendee:N" for a child known only
                            # from attendances
    subject: str            # "sibling" or "household"
    relationship: str       # what they are to the child: sibling, half-sibling, mother, ...
    evidence: str           # how the link was found, for the output
    confirmed: bool = True  # False when the register does not record the link itself
    attendee_ids: tuple[int, ...] = ()   # attendee index ids, for attendance-only relatives
    #: the birth date the attendances give, for a relative the register does not hold (their
    #: age decides whether a household relative counts as a household child)
    birth: PartialDate | None = None


@dataclass(frozen=True)
class Family:
    person_id: str
    relatives: tuple[Relative, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)
    #: co-residents at the address given at the attendance, not among ``relatives``: joined
    #: after every other link (:func:`~safeflag.family.build_family`)
    at_address: tuple[Relative, ...] = ()

    def of(self, subject: str) -> tuple[Relative, ...]:
        return tuple(r for r in self.relatives if r.subject == subject)

    def get(self, person_id: str) -> Relative | None:
        return next((r for r in self.relatives if r.person_id == person_id), None)


def from_child(rel: Relationship, child: str) -> tuple[str, R] | None:
    """(other person, what they are to ``child``) for a relationship touching ``child``."""
    if rel.person_id == child:
        return rel.related_person_id, rel.relationship
    if rel.related_person_id == child:
        return rel.person_id, INVERSE[rel.relationship]
    return None


# --- co-residence -----------------------------------------------------------------------------
def _line_key(line: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", line.lower()))


def same_place(a: AddressPeriod, b: AddressPeriod) -> bool:
    """Same postcode (case and spaces ignored) and the same address line, word for word."""
    pa, pb = postcode_key(a.postcode), postcode_key(b.postcode)
    la, lb = _line_key(a.address_line), _line_key(b.address_line)
    return bool(pa) and pa == pb and bool(la) and la == lb


def with_current_addresses(register: Register, since: date) -> Register:
    """``register`` with each person's current address (persons.csv ``address_line`` and
    ``postcode``; a Patient's address without an end) in their address history from
    ``since``, the day it is loaded, where the history does not already place them there.

    Co-residence reads the history, so a register without ``addresses.csv`` linked nobody by
    the address. From the load day only: the register says where a person lives now, not
    since when, and a look-back over earlier attendances must not place today's family in the
    home of the one before."""
    history: dict[str, list[AddressPeriod]] = {}
    for period in register.addresses:
        history.setdefault(period.person_id, []).append(period)
    added = []
    for person in register.persons:
        if not (person.address_line and person.postcode):
            continue
        now = AddressPeriod(person_id=person.person_id, address_line=person.address_line,
                            postcode=person.postcode, from_date=since)
        if not any(same_place(now, known) for known in history.get(person.person_id, ())):
            added.append(now)
    if not added:
        return register
    return register.model_copy(update={"addresses": (*register.addresses, *added)})


def _current(period: AddressPeriod, on: date) -> bool:
    return (period.from_date is None or period.from_date <= on) and (
        period.to_date is None or on <= period.to_date)


def co_residents(store: Store, person_id: str, on: date) -> dict[str, AddressPeriod]:
    """Other register persons whose address history puts them at the child's address on ``on``
    (person id → their period there). Only the child's *own* current addresses are used."""
    mine = [a for a in store.addresses_of([person_id]) if _current(a, on)]
    if not mine:
        return {}
    found: dict[str, AddressPeriod] = {}
    for other in store.addresses_at(a.postcode for a in mine):
        if other.person_id != person_id and _current(other, on) and any(
                same_place(other, m) for m in mine):
            found.setdefault(other.person_id, other)
    return found


def _given_lines(address: Address) -> set[str]:
    """The address line as given, alone and followed by the town (registers often hold both
    in one line)."""
    line = _line_key(address.line)
    return {line, _line_key(f"{address.line} {address.city}")} if line else set()


def residents_at(store: Store, address: Address | None, on: date, *, most: int
                 ) -> tuple[dict[str, AddressPeriod], str | None]:
    """Register persons whose address history puts them at ``address`` (one given at an
    attendance) on ``on``: the same postcode and the same address line word for word, with or
    without the town. Returns (person id → their period there, a note). More than ``most``
    persons there on the day: a communal address, so nobody, and the note says so."""
    lines = _given_lines(address) if address is not None else set()
    postcode = postcode_key(address.postcode) if address is not None else ""
    if not (lines and postcode):
        return {}, None
    found: dict[str, AddressPeriod] = {}
    for other in store.addresses_at([postcode]):       # the same postcode_key, by the store
        if _current(other, on) and _line_key(other.address_line) in lines:
            found.setdefault(other.person_id, other)
    if len(found) > most:
        return {}, (f"the address given is where the register places {len(found)} persons on "
                    f"{on}: taken as communal, so no household is linked by it")
    return found, None


#: ``address_household_most``'s default, for callers without settings
DEFAULT_HOUSEHOLD_MOST: int = RuleSettings.model_fields[
    "address_household_most"].default


# --- the graph ----------------------------------------------------------------------------------
def _since(period: AddressPeriod) -> str:
    return f" since {period.from_date}" if period.from_date else ""


def family_of(store: Store, person_id: str | None, on: date, *,
              address: Address | None = None,
              most: int = DEFAULT_HOUSEHOLD_MOST) -> Family:
    """Siblings and household of ``person_id`` on ``on`` from the register alone, and (in
    :attr:`Family.at_address`) the register persons at ``address``, the address given at the
    attendance, that day (at most ``most`` of them; see :func:`residents_at`). Without a
    ``person_id`` (the attendee is not on the register) only the latter."""
    if person_id is None:
        return _at_address(store, Family(""), address, on, most)
    links: list[tuple[str, R, Relationship]] = []
    for rel in store.relationships_touching([person_id]):
        other = from_child(rel, person_id)
        if other is not None and other[0] != person_id:
            links.append((other[0], other[1], rel))

    relatives: dict[str, Relative] = {}
    for pid, kind, rel in links:
        if kind in (R.sibling, R.half_sibling):
            relatives[pid] = Relative(pid, "sibling", kind.value,
                                      f"register: recorded as {kind.value}")

    parents = {pid for pid, kind, _ in links if kind in PARENTS}
    step_parents = {pid for pid, kind, rel in links
                    if kind == R.step_parent and rel.current_on(on)}
    partners = {pid for pid, kind, rel in links
                if kind == R.partner_of_parent and rel.current_on(on)}
    adults = parents | step_parents | partners
    shared: dict[str, set[str]] = {}
    step: dict[str, tuple[str, bool]] = {}   # step-sibling → (through whom, certain to live here)
    for rel in store.relationships_touching(adults) if adults else ():
        for adult in adults:
            other = from_child(rel, adult)
            if other is None or other[0] in (person_id, adult):
                continue
            pid, kind = other
            if adult in parents and kind == R.child:
                shared.setdefault(pid, set()).add(adult)
            elif not rel.current_on(on):
                continue
            elif (adult in parents and kind == R.step_child) or (
                    adult in step_parents and kind == R.child):
                step[pid] = (adult, True)          # a step-parent's child, either way round
            elif kind in _STEP_CHILDREN or adult in step_parents | partners:
                step.setdefault(pid, (adult, False))   # through a partner: needs co-residence
    for pid, common in sorted(shared.items()):
        if pid not in relatives:
            kind = "sibling" if len(common) >= 2 else "half-sibling"
            relatives[pid] = Relative(pid, "sibling", kind,
                                      f"register: shares parent(s) {', '.join(sorted(common))}")
    residents = co_residents(store, person_id, on)
    for pid, (adult, lives_here) in sorted(step.items()):
        if pid not in relatives and (lives_here or pid in residents):
            relatives[pid] = Relative(pid, "household", "step-sibling",
                                      f"register: child of {adult}, this child's step-parent "
                                      f"or parent's partner (or the reverse), current on {on}")

    for pid, kind, rel in links:
        if pid in relatives or kind not in HOUSEHOLD or not rel.current_on(on):
            continue
        relatives[pid] = Relative(pid, "household", kind.value,
                                  f"register: {kind.value}, current on {on}")

    for pid, period in residents.items():
        known = relatives.get(pid)
        where = f"address history: at the child's address on {on}{_since(period)}"
        if known is None:
            relatives[pid] = Relative(pid, "household", "co-resident", where, confirmed=False)
        elif known.subject == "household":
            relatives[pid] = Relative(pid, known.subject, known.relationship,
                                      f"{known.evidence}; {where}", known.confirmed)
    return _at_address(store, Family(person_id, tuple(relatives.values())), address, on, most)


def _at_address(store: Store, family: Family, address: Address | None, on: date,
                most: int) -> Family:
    found, note = residents_at(store, address, on, most=most)
    known = {family.person_id, *(r.person_id for r in family.relatives)}
    at = tuple(Relative(pid, "household", "co-resident",
                        f"address history: at the address given at this attendance on "
                        f"{on}{_since(period)}", confirmed=False)
               for pid, period in sorted(found.items()) if pid not in known)
    return Family(family.person_id, family.relatives, (*family.notes, *([note] if note else [])),
                  at_address=at)
