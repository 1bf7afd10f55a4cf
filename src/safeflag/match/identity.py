"""The matching view of register persons and attending patients (:class:`Identity`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from ..algo.compare import Identity, premise_key
from ..algo.names import clean_family, clean_given, names_a_twin
from ..algo.nhs import is_valid_nhs_number, normalise_nhs_number
from ..algo.postcode import parse_postcode
from ..models import (Address, AddressPeriod, Demographics, NextOfKin, Person, Register,
                      RelationshipType)

__all__ = ["person_identity", "demographics_identity", "register_identities", "premises_of",
           "KIN_ROLES"]

#: Relationships whose related person counts as a parent or carer for matching evidence.
KIN_ROLES = {RelationshipType.mother, RelationshipType.father, RelationshipType.parent,
             RelationshipType.step_parent, RelationshipType.carer}
_NK1_ROLES = {"mother", "father", "parent", "step-parent", "carer", "guardian"}


def _postcodes(values: Iterable[str]) -> tuple[str, ...]:
    units = (parse_postcode(v) for v in values)
    return tuple(dict.fromkeys(u.unit for u in units if u is not None))


def premises_of(addresses: Iterable[Address]) -> tuple[str, ...]:
    """The address premises (``UNIT|numbers``, :func:`~safeflag.algo.compare.premise_key`)
    of ``addresses``: where in each postcode unit, when the address line has numbers."""
    keys = (premise_key(a.postcode, a.line) for a in addresses)
    return tuple(dict.fromkeys(k for k in keys if k))


@lru_cache(maxsize=65536)
def _valid_nhs(value: str | None) -> str | None:
    nhs = normalise_nhs_number(value)
    return nhs if is_valid_nhs_number(nhs) else None


def _given(given: str, middle: str = "") -> str:
    first = clean_given(given)
    if not first:
        return ""
    rest = clean_given(middle)
    return f"{first} {rest}" if rest else first


def _kin_name(given: str, family: str) -> tuple[str, str] | None:
    g, f = clean_given(given), clean_family(family)
    return (g, f) if g else None


def person_identity(person: Person, addresses: Sequence[AddressPeriod] = (), *,
                    kin: Sequence[Person] = (), kin_roles: Sequence[str] = (),
                    parent_of: int | None = None) -> Identity:
    """A register person: aliases, address history and recorded parents/carers included."""
    names = [(person.given_name, person.family_name), *person.aliases]
    givens = tuple(dict.fromkeys(g for g in (_given(n[0]) for n in names) if g))
    families = tuple(dict.fromkeys(f for f in (clean_family(n[1]) for n in names) if f))
    kin_names = [k for p in kin for k in (_kin_name(g, f) for g, f in
                                          [(p.given_name, p.family_name), *p.aliases]) if k]
    homes = [(person.postcode, person.address_line),
             *((a.postcode, a.address_line) for a in addresses)]
    return Identity(ref=person.person_id, nhs=_valid_nhs(person.nhs_number), givens=givens,
                    families=families, birth=person.birth_date, sex=person.sex.value,
                    postcodes=_postcodes([person.postcode, *(a.postcode for a in addresses)]),
                    premises=tuple(dict.fromkeys(k for k in (premise_key(postcode, line)
                                                             for postcode, line in homes) if k)),
                    kin_nhs=tuple(dict.fromkeys(n for n in (_valid_nhs(p.nhs_number)
                                                            for p in kin) if n)),
                    kin_names=tuple(dict.fromkeys(kin_names)),
                    kin_roles=tuple(dict.fromkeys(_role(r) for r in kin_roles)),
                    parent_of=parent_of)


def _role(relationship: object) -> str:
    """The role a named parent or carer is matched by: mother, father, or other."""
    role = str(getattr(relationship, "value", relationship))
    return role if role in ("mother", "father") else "other"


def _kin_of(kin: Iterable[NextOfKin]
            ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    numbers, names, roles = [], [], []
    for k in kin:
        if k.relationship not in _NK1_ROLES:
            continue
        roles.append(_role(k.relationship))
        nhs = _valid_nhs(k.demographics.nhs_number)
        if nhs:
            numbers.append(nhs)
        names.extend(n for n in (_kin_name(x.given, x.family) for x in k.demographics.names)
                     if n)
    return tuple(dict.fromkeys(numbers)), tuple(dict.fromkeys(names)), tuple(dict.fromkeys(roles))


def demographics_identity(demo: Demographics, ref: str = "query",
                          kin: Iterable[NextOfKin] = ()) -> Identity:
    """An attending patient: every name and address sent (with the address premises, so two
    records can be told to be one home or two), and the parents named (NK1)."""
    givens = [g for g in (_given(n.given, n.middle) for n in demo.names) if g]
    families = [f for f in (clean_family(n.family) for n in demo.names) if f]
    kin_nhs, kin_names, kin_roles = _kin_of(kin)
    return Identity(ref=ref, nhs=_valid_nhs(demo.nhs_number),
                    givens=tuple(dict.fromkeys(givens)), families=tuple(dict.fromkeys(families)),
                    birth=demo.birth_date, sex=demo.sex.value,
                    postcodes=_postcodes(a.postcode for a in demo.addresses),
                    premises=premises_of(demo.addresses),
                    kin_nhs=kin_nhs, kin_names=kin_names, kin_roles=kin_roles,
                    twin_hint=any(names_a_twin(n.given) for n in demo.names))


def register_identities(register: Register) -> list[Identity]:
    """Every register person's identity, in register order.

    A child's identity carries its recorded parents and carers (names and NHS numbers), so an
    attendance naming the mother supports the match; an adult's carries the earliest birth
    year of a child they parent, so a father never matches his namesake son.
    """
    history: dict[str, list[AddressPeriod]] = {}
    for period in register.addresses:
        history.setdefault(period.person_id, []).append(period)
    persons = {p.person_id: p for p in register.persons}
    kin: dict[str, list[Person]] = {}
    roles: dict[str, list[str]] = {}
    eldest: dict[str, int] = {}
    for rel in register.relationships:
        if rel.relationship not in KIN_ROLES:
            continue
        child, adult = persons.get(rel.person_id), persons.get(rel.related_person_id)
        if child is None or adult is None:
            continue
        kin.setdefault(child.person_id, []).append(adult)
        roles.setdefault(child.person_id, []).append(rel.relationship)
        if child.birth_date is not None:
            year = child.birth_date.year
            eldest[adult.person_id] = min(eldest.get(adult.person_id, year), year)
    return [person_identity(p, history.get(p.person_id, ()), kin=kin.get(p.person_id, ()),
                            kin_roles=roles.get(p.person_id, ()),
                            parent_of=eldest.get(p.person_id))
            for p in register.persons]
