"""Family: the matched child's siblings and household on the arrival date.

Relationships are read in both directions (a link recorded one way is inferred the other way).

- sibling: declared sibling / half-sibling, or derived from a shared mother, father or parent
  (two shared parents: full sibling; one: half-sibling). Sibling links are permanent.
- household: anyone else linked to the child by a relationship current on the arrival date
  (mother, father, parent, step-parent, carer, partner-of-parent, household-member).

Guard against merging families: siblings are derived in one hop from the child's *own* parent
links only — never through a sibling's sibling or a parent's partner — so one wrong link adds
at most one person, never a whole second family.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..models import Relationship, RelationshipType as R
from ..store import Store

__all__ = ["Relative", "Family", "family_of", "INVERSE"]

INVERSE: dict[R, R] = {
    R.mother: R.child, R.father: R.child, R.parent: R.child,
    R.step_parent: R.step_child, R.carer: R.cared_for_child,
    R.partner_of_parent: R.partner_child, R.sibling: R.sibling,
    R.half_sibling: R.half_sibling, R.household_member: R.household_member,
    R.child: R.parent, R.step_child: R.step_parent, R.cared_for_child: R.carer,
    R.partner_child: R.partner_of_parent,
}
_PARENTS = {R.mother, R.father, R.parent}
_HOUSEHOLD = {R.mother, R.father, R.parent, R.step_parent, R.carer, R.partner_of_parent,
              R.household_member, R.step_child, R.cared_for_child, R.partner_child}


@dataclass(frozen=True)
class Relative:
    person_id: str
    subject: str            # "sibling" or "household"
    relationship: str       # what they are to the child: sibling, half-sibling, mother, ...
    evidence: str           # how the link was found, for the output
    confirmed: bool = True  # False when only attendance data suggests it


@dataclass(frozen=True)
class Family:
    person_id: str
    relatives: tuple[Relative, ...]

    def of(self, subject: str) -> tuple[Relative, ...]:
        return tuple(r for r in self.relatives if r.subject == subject)


def _from_child(rel: Relationship, child: str) -> tuple[str, R] | None:
    """(other person, what they are to the child) for a relationship touching the child."""
    if rel.person_id == child:
        return rel.related_person_id, rel.relationship
    if rel.related_person_id == child:
        return rel.person_id, INVERSE[rel.relationship]
    return None


def family_of(store: Store, person_id: str, on: date) -> Family:
    """Siblings and household of ``person_id`` on ``on`` from the register's relationships."""
    own = store.relationships_touching([person_id])
    links: list[tuple[str, R, Relationship]] = []
    for rel in own:
        other = _from_child(rel, person_id)
        if other is not None and other[0] != person_id:
            links.append((other[0], other[1], rel))

    parents = {pid for pid, kind, _ in links if kind in _PARENTS}
    relatives: dict[str, Relative] = {}

    for pid, kind, rel in links:
        if kind in (R.sibling, R.half_sibling):
            relatives[pid] = Relative(pid, "sibling", kind.value,
                                      f"relationship: {pid} recorded as {kind.value}")

    # Derived siblings: other children of the child's own parents (one hop only).
    if parents:
        shared: dict[str, set[str]] = {}
        for rel in store.relationships_touching(parents):
            for parent in parents:
                other = _from_child(rel, parent)
                if other is None:
                    continue
                pid, kind = other
                if kind == R.child and pid != person_id:
                    shared.setdefault(pid, set()).add(parent)
        for pid, common in sorted(shared.items()):
            if pid in relatives:
                continue
            kind = "sibling" if len(common) >= 2 else "half-sibling"
            relatives[pid] = Relative(pid, "sibling", kind,
                                      f"relationship: shares parent(s) {', '.join(sorted(common))}")

    for pid, kind, rel in links:
        if pid in relatives or kind not in _HOUSEHOLD or not rel.current_on(on):
            continue
        relatives[pid] = Relative(pid, "household", kind.value,
                                  f"relationship: {pid} is {kind.value}, current on {on}")
    return Family(person_id, tuple(relatives.values()))
