"""Families from the attendances themselves: parents named on attendances (HL7 NK1, FHIR
RelatedPerson, CSV next-of-kin columns) link children that share a mother or father.

Each parent named on an attendance is resolved to one node of the parent index:

1. the same valid NHS number as a known parent node — the same person;
2. otherwise the Fellegi–Sunter scorer of :mod:`safeflag.match` (name with birth date and/or
   address; a name alone never reaches *certain*) finds a unique *certain* node, led by the
   configured ambiguity margin;
3. otherwise, a parent named under another family name (marriage, separation): the one node
   of the same role with the same first name at the same postcode unit, nothing against it
   (NHS number, birth date, sex), that was named as that role for an earlier attendee of
   this child's family name at this child's postcode unit (:func:`renamed`);
4. otherwise a new node.

The parent is also matched (same scorer, same bar) to a register person, so a mother social
care knows under another surname or address joins her register children. Surname changes and
moves are carried by the node: every name, address and identifier seen for it is kept, so a
later attendance under the new name still finds it.

Children are siblings here only when they share a *node* with the attending child — one hop,
as in the register graph — and every link found this way is ``confirmed=False``. Each
attendee's link to a node keeps how its first attendance found the node
(:attr:`ResolvedParent.how`); the sibling evidence says so for a link weaker than an NHS
number or a certain match (:data:`WEAK_LINKS`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..algo.compare import (NO_DATA, PRIOR_LOG2_ODDS, Identity, blocking_keys, compare,
                            different_dwellings, is_twin_pattern, merge_identities,
                            nhs_contradicted, probability)
from ..match import Matcher, demographics_identity, person_identity
from ..models import (Attendance, FieldComparison, NextOfKin, RelationshipType as R,
                      Sex)
from ..store import ParentLink, Store
from .graph import Relative, from_child

__all__ = ["PARENT_ROLES", "ResolvedParent", "NamedParent", "name_parents", "resolve_parents",
           "attendance_relatives", "parent_identity", "attendance_only"]

PARENT_ROLES = ("mother", "father", "parent")
#: How a relative known only from attendances is named (``attendee:N``): no register person
ATTENDEE = "attendee:"
#: The ways of finding a parent's node (:attr:`ResolvedParent.how`) weaker than their NHS
#: number or a certain match of their name with birth date or address, and what the evidence
#: of a sibling says of a link made that way. The other ways ("nhs number", "demographics",
#: "register": a certain match to the register person whose node it is, "new": the node made
#: from this very naming) and a link whose way was not recorded (made before schema version
#: 4) add nothing to the evidence.
WEAK_LINKS = {
    "renamed": "named under another family name: matched by first name and postcode unit"}
#: The current attendance in the evidence, when its parents are not recorded (a dry run)
THIS_ATTENDANCE = "this attendance"
_ROLE_SEX = {"mother": Sex.female.value, "father": Sex.male.value}


@dataclass(frozen=True)
class ResolvedParent:
    parent_id: int | None        # None when not recorded (a dry run found no known node)
    relationship: str
    person_id: str | None        # the register person this parent was matched to
    #: how the node was found: "nhs number", "demographics", "register", "renamed",
    #: "earlier check" (a re-check: the node the attendee is already linked to) or "new";
    #: recorded on the link (:attr:`~safeflag.store.ParentLink.how`) when the link is made
    how: str


@dataclass(frozen=True)
class NamedParent:
    """A parent named on an attendance with what the register alone says of them: the
    matching identity, its blocking keys (stored and query) and the register person it
    certainly is. Needs no history, so a batch worker can make it."""

    relationship: str
    ident: Identity
    keys: frozenset[str]
    lookup: frozenset[str]
    on_register: str | None


def attendance_only(person_id: str) -> bool:
    """True for a relative known only from attendances (not a register person)."""
    return person_id.startswith(ATTENDEE)


def name_parents(store: Store, matcher: Matcher, attendance: Attendance, child: Identity,
                 person_id: str | None, on_register: Sequence[str | None] | None = None
                 ) -> tuple[NamedParent, ...]:
    """Every parent named on ``attendance`` (in order), matched to the register; ``person_id``
    is the attending child's register match (never their own parent). ``on_register`` is
    the register persons of an earlier answer for the same attendance and register, in order
    (a batch worker makes them)."""
    named = []
    for kin in attendance.next_of_kin:
        if kin.relationship not in PARENT_ROLES:
            continue
        ident = parent_identity(kin, child)
        if ident is None:
            continue
        lookup = frozenset(blocking_keys(ident, query=True))
        found = (on_register[len(named)] if on_register is not None
                 else _register_parent(store, matcher, ident, person_id, lookup))
        named.append(NamedParent(kin.relationship, ident, frozenset(blocking_keys(ident)),
                                 lookup, found))
    return tuple(named)


def parent_identity(kin: NextOfKin, child: Identity | None = None) -> Identity | None:
    """The matching view of a parent named on an attendance; ``None`` when nothing but a role
    (or a lone name part) is given.

    A parent sent without an address is taken to live at the child's address on the day (an
    ED records the next of kin's address only when it differs): their name with that address
    can then reach *certain*, their name alone still cannot. The child's address premises
    (:func:`~safeflag.algo.compare.premise_key`) are taken with the address.
    """
    ident = demographics_identity(kin.demographics, ref="parent")
    if not ident.nhs and not (ident.givens and ident.families):
        return None
    if not ident.postcodes and child is not None and child.postcodes:
        ident = replace(ident, postcodes=child.postcodes, premises=child.premises)
    if ident.sex not in ("female", "male") and kin.relationship in _ROLE_SEX:
        ident = replace(ident, sex=_ROLE_SEX[kin.relationship])
    return ident


#: Prior log2 odds that a parent named on an attendance is one given known person.
PARENT_PRIOR = PRIOR_LOG2_ODDS

#: Agreement beyond the name that a parent match needs (the scorer's levels).
CORROBORATING = {"nhs_number": ("exact",),
                 "birth_date": ("exact", "day/month swapped", "one digit differs"),
                 "postcode": ("unit",)}


def corroborated(comparisons: Iterable[FieldComparison], other_home: bool = False) -> bool:
    """True when the NHS number, the birth date or the postcode unit agrees: a parent is
    never matched by name alone, whatever the scorer's prior. ``other_home``: the shared
    postcode units are known to be two different homes (:func:`different_dwellings`), so the
    postcode unit does not count."""
    return any(c.level in CORROBORATING.get(c.field, ()) for c in comparisons
               if not (other_home and c.field == "postcode"))


def _two_numbers(a: Identity, b: Identity) -> bool:
    """Two valid, different NHS numbers: two people, whatever else agrees."""
    return bool(a.nhs and b.nhs and a.nhs != b.nhs)


def _levels(matcher: Matcher, query: Identity, cand: Identity) -> dict[str, str]:
    return {c.field: c.level for c in matcher.score(query, cand).comparisons}


def _plausible(matcher: Matcher, query: Identity,
               candidates: list[Identity]) -> list[tuple[float, Identity]]:
    """The candidates that may be this parent (corroborated, nothing against them), with their
    log2 odds under :data:`PARENT_PRIOR`, best first."""
    scored = []
    for cand in candidates:
        if _two_numbers(query, cand):
            continue                      # two valid, different NHS numbers: two people
        s = matcher.score(query, cand)
        levels = {c.field: c.level for c in s.comparisons}
        if is_twin_pattern(levels) or nhs_contradicted(levels, query, cand) \
                or not corroborated(s.comparisons, different_dwellings(query, cand)):
            continue
        scored.append((PARENT_PRIOR + sum(c.weight for c in s.comparisons), cand))
    scored.sort(key=lambda x: -x[0])
    return scored


def _unique_certain(matcher: Matcher, query: Identity,
                    candidates: list[Identity]) -> Identity | None:
    """The one candidate that is certainly this parent, or ``None``.

    The scorer's field weights are used with a fixed population prior
    (:data:`PARENT_PRIOR`), not the register-sized prior of child matching: a mother named on
    an attendance may be anyone in the hospital's population, however small the register.
    """
    if query.nhs:
        same = [c for c in candidates if c.nhs == query.nhs]
        if len(same) == 1 and not nhs_contradicted(_levels(matcher, query, same[0]), query,
                                                    same[0]):
            return same[0]
    settings = matcher.settings
    scored = _plausible(matcher, query, candidates)
    if not scored or probability(scored[0][0]) < settings.certain:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < settings.ambiguity_margin:
        return None
    return scored[0][1]


#: What a parent named under another family name must agree on with the known node (the
#: scorer's levels; the family name may say anything). A field with no data on either side
#: says nothing against it; any other level does.
RENAMED_AGREES = {"given_name": ("exact", "nickname"), "postcode": ("unit",)}
RENAMED_NOT_AGAINST = {"nhs_number": ("exact",),
                       "birth_date": ("exact", "day/month swapped", "one digit differs"),
                       "sex": ("exact",)}


def renamed(comparisons: Iterable[FieldComparison]) -> bool:
    """True when a parent and a known node agree as :data:`RENAMED_AGREES` asks and nothing
    in :data:`RENAMED_NOT_AGAINST` disagrees: the node may be the same parent under another
    family name. Never enough alone — :func:`_renamed_node` also asks for a child."""
    levels = {c.field: c.level for c in comparisons}
    return (all(levels.get(f) in ok for f, ok in RENAMED_AGREES.items())
            and all(levels.get(f, NO_DATA) in (*ok, NO_DATA)
                    for f, ok in RENAMED_NOT_AGAINST.items()))


def _renamed_node(store: Store, matcher: Matcher, ident: Identity, role: str,
                  child: Identity | None, candidates: list[Identity]) -> Identity | None:
    """The one node that is ``ident`` under another family name, or ``None``.

    A mother who marries or separates is named under a new surname while her children keep
    theirs. The node must pass :func:`renamed` and have been named as ``role`` for an earlier
    attendee with this child's family name at this child's postcode unit: a first name and an
    address alone would link two women of the same first name in one street.
    """
    if child is None or not child.families or not child.postcodes:
        return None
    hits = [c for c in candidates if renamed(matcher.score(ident, c).comparisons)
            and not different_dwellings(ident, c)]
    if not hits:
        return None
    same_family_here = {
        c.row_id for c in store.attendee_candidates(blocking_keys(child, query=True))
        if set(c.families) & set(child.families) and set(c.postcodes) & set(child.postcodes)}
    if not same_family_here:
        return None
    named_for = {link.parent_id for link in store.children_of_parents(
                 node.row_id for node in hits)
                 if link.relationship == role and link.attendee_id in same_family_here}
    found = [node for node in hits if node.row_id in named_for]
    return found[0] if len(found) == 1 else None


def _register_parent(store: Store, matcher: Matcher, ident: Identity,
                     exclude: str | None, lookup: Iterable[str] | None = None) -> str | None:
    """The register person ``ident`` certainly is; ``lookup`` is its query blocking keys."""
    if lookup is None:
        lookup = blocking_keys(ident, query=True)
    found = _unique_certain(matcher, ident, [
        c for c in store.person_candidates(lookup) if c.ref != exclude])
    return found.ref if found is not None else None


def resolve_parents(store: Store, matcher: Matcher, attendee_id: int, attendance: Attendance,
                    *, person_id: str | None = None, record: bool = True,
                    child: Identity | None = None,
                    named: tuple[NamedParent, ...] | None = None,
                    rechecked: bool = False) -> list[ResolvedParent]:
    """Resolve every parent named on ``attendance`` to a node of the parent index; with
    ``record``, store the nodes and the attendee's links to them. ``child`` is
    ``demographics_identity(attendance.patient)`` and ``named`` is :func:`name_parents`'
    answer, when the caller has already made them.

    ``rechecked``: the attendance is already recorded for ``attendee_id`` (a rerun, an A08).
    A parent is then first looked for among the nodes the attendee is linked to
    (:func:`_linked_node`), so a re-check adds no node or link for a parent the first check
    resolved — however many nodes later attendances have added since. A link this attendance
    made in a role it now names someone else in (an A08 that corrects the mother) is removed
    (:func:`_drop_corrected`)."""
    resolved: list[ResolvedParent] = []
    if named is None:
        if child is None:
            child = demographics_identity(attendance.patient)
        named = name_parents(store, matcher, attendance, child, person_id)
    if named and child is None:
        child = demographics_identity(attendance.patient)
    own = store.parents_of_attendees([attendee_id]) if rechecked and named else []
    for kin in named:
        candidates = store.parent_candidates(kin.keys | kin.lookup)
        node, parent_id, how = _find_node(store, matcher, kin, child, candidates)
        if own and parent_id is None:
            taken = {p.parent_id for p in resolved}
            before = _linked_node(store, matcher, kin, own, attendance.attendance_id, taken)
            if before is not None:
                node, parent_id, how = None, before, "earlier check"
        if record:
            parent_id = _record_parent(store, kin, node, parent_id, attendee_id,
                                       attendance.attendance_id, candidates, how)
        resolved.append(ResolvedParent(parent_id, kin.relationship, kin.on_register, how))
    if record and own:
        _drop_corrected(store, attendee_id, attendance.attendance_id, own, resolved)
    return resolved


def _drop_corrected(store: Store, attendee_id: int, attendance_id: str, own: list[ParentLink],
                    resolved: list[ResolvedParent]) -> None:
    """Remove the links ``attendance_id`` made (among ``own``, the attendee's links) to parents
    it no longer names in their role:
    the first message named the wrong mother, and left linked she would keep the child in her
    family. A role the re-check names nobody in keeps its link (an update may carry no NK1).
    A link row records the first attendance that named the parent, so a parent both this
    attendance and a later one of the child named loses the link until the child's next
    attendance naming her makes it again."""
    roles = {p.relationship for p in resolved}
    kept = {p.parent_id for p in resolved}
    for link in own:
        if (link.attendance_id == attendance_id and link.relationship in roles
                and link.parent_id not in kept):
            store.unlink_parent(attendee_id, link.parent_id)


def _find_node(store: Store, matcher: Matcher, kin: NamedParent, child: Identity | None,
               candidates: list[Identity]) -> tuple[Identity | None, int | None, str]:
    """The node ``kin`` is (its identity when found by matching, its id, and how it was
    found): by NHS number or demographics, through the register person, or renamed."""
    node = _unique_certain(matcher, kin.ident, candidates)
    if node is not None:
        how = "nhs number" if kin.ident.nhs and node.nhs == kin.ident.nhs else "demographics"
        return node, node.row_id, how
    if kin.on_register is not None:
        parent_id = store.parent_of_person(kin.on_register)
        if parent_id is not None:
            return None, parent_id, "register"
    if candidates:
        node = _renamed_node(store, matcher, kin.ident, kin.relationship, child, candidates)
        if node is not None:
            return node, node.row_id, "renamed"
    return None, None, "new"


def _linked_node(store: Store, matcher: Matcher, kin: NamedParent, own: list[ParentLink],
                 attendance_id: str, taken: set[int | None]) -> int | None:
    """On a re-check, the node among those the attendee is linked to (``own``) that the first
    check of ``attendance_id`` took for ``kin``: a linked node of this role that is the same
    register person; else the link that attendance made in this role, unless the parent now
    named is someone else (:func:`_named_someone_else`); else the linked node of this role
    that is certainly the parent (no margin asked: the nodes made later may resemble it, but
    the first check linked this one). ``None`` when none is: a parent the first check did
    not name (an A08 that adds or corrects one)."""
    mine = [link for link in own
            if link.relationship == kin.relationship and link.parent_id not in taken]
    same_person = [link.parent_id for link in mine
                   if kin.on_register is not None and link.parent_person_id == kin.on_register]
    if same_person:
        return min(same_person)
    linked = store.parents({link.parent_id for link in mine}) if mine else []
    # this attendance's own link, unless the parent now named is someone else: an A08 that
    # names another mother is heard
    fits = {c.row_id for c in linked if not _named_someone_else(matcher, kin.ident, c)}
    for link in mine:
        if link.attendance_id == attendance_id and link.parent_id in fits:
            return link.parent_id
    scored = _plausible(matcher, kin.ident, linked)
    if scored and probability(scored[0][0]) >= matcher.settings.certain:
        return scored[0][1].row_id
    return None


def _named_someone_else(matcher: Matcher, query: Identity, node: Identity) -> bool:
    """Does the parent named say they are not ``node``: two valid, different NHS numbers, an
    NHS number the node's details contradict, or neither name agreeing?"""
    if _two_numbers(query, node):
        return True
    levels = _levels(matcher, query, node)
    return nhs_contradicted(levels, query, node) or (
        levels.get("given_name") == "otherwise" and levels.get("family_name") == "otherwise")


def _record_parent(store: Store, kin: NamedParent, node: Identity | None,
                   parent_id: int | None, attendee_id: int, attendance_id: str,
                   candidates: list[Identity], how: str) -> int:
    """Store ``kin``'s node (new when ``parent_id`` is ``None``; a node found by matching
    learns the names and addresses given) and the attendee's link to it, with ``how`` it was
    found (idempotent: a link already held keeps its first attendance and way, so a re-check
    or a later attendance naming the parent otherwise neither weakens nor strengthens it
    silently).

    A new node does not keep an NHS number a known node already holds: the number was
    refused as that person's (:func:`nhs_contradicted`), so it is not this parent's either,
    and two nodes must never share one."""
    if parent_id is None:
        ident, keys = kin.ident, kin.keys
        if ident.nhs and any(c.nhs == ident.nhs for c in candidates):
            ident = replace(ident, nhs=None)
            keys = frozenset(blocking_keys(ident))
        parent_id = store.add_parent(ident, set(keys), kin.on_register)
    elif node is not None:
        merged = merge_identities(node, kin.ident)   # names and moves accumulate
        if merged != node or kin.on_register is not None:
            store.update_parent(parent_id, merged, kin.keys | blocking_keys(merged),
                                kin.on_register)
    # found only through the register person: link, keep the node's identity
    store.link_parent(ParentLink(attendee_id, parent_id, kin.relationship, attendance_id,
                                 how=how))
    return parent_id


def _look_alikes(store: Store, child: Identity | None, ids: Iterable[int]) -> set[int]:
    """Those of the attendees ``ids`` that :func:`may_be_self` says could be the attending
    child."""
    if child is None:
        return set()
    return {c.row_id for c in store.attendees(ids) if may_be_self(child, c)}


def _kind(mine: dict[int, str], theirs: dict[int, str]) -> str:
    """half-sibling when a parent node is shared and, in another role, both children have a
    parent named but none in common; sibling otherwise (shared parents, nothing known to differ).
    """
    def by_role(nodes: dict[int, str]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = defaultdict(set)
        for pid, role in nodes.items():
            out[role].add(pid)
        return out
    a, b = by_role(mine), by_role(theirs)
    differ = any(role in b and not (a[role] & b[role]) for role in a)
    return "half-sibling" if set(mine) & set(theirs) and differ else "sibling"


#: First-name levels under which two records may be one child's ("no data": a placeholder or
#: no name, which tells nothing).
_MAY_BE_OWN_FIRST = ("exact", "nickname", "one edit", "middle name", "no data")


def other_sex_twins(levels: dict[str, str]) -> bool:
    """Same full birth date and family name, a first name that is not the other's in any form
    the matcher knows (nickname, one edit, middle name) *and* the other sex on both records:
    twins of the other sex. One child's records need two independent slips (a name not their
    own and a sex keyed wrongly) to look like this; a twin pair of the same sex does not
    qualify, as a child under a middle name looks the same."""
    return (is_twin_pattern(levels) and levels.get("sex") == "otherwise"
            and levels.get("given_name", "no data") not in _MAY_BE_OWN_FIRST)


_SLIPS = ("one digit differs", "day/month swapped", "same year and month (partial)",
          "same year (partial)")


def may_be_self(child: Identity | None, other: Identity) -> bool:
    """Could a found "sibling" be the attending child itself, under a record not yet linked
    to it (another surname, a newborn's "BABY", a mistyped first name)?

    Two valid, different NHS numbers: never. The same full birth date: yes — on attendance
    data alone a twin is hard to tell from the child itself, so a same-birthday sibling is
    linked by different NHS numbers, by the register, or by :func:`other_sex_twins` (another
    first name *and* the other sex recorded). Another first name alone does not tell them
    apart: a child goes by a middle name the register does not hold, or a name carries two
    keying slips, as often as a twin attends (a sibling link would list the child as its own
    sibling). A birth date one keying slip away (a digit, day and month swapped), known only
    in part, or missing on either record: yes when the first names agree as the matcher sees
    it (same, nickname, one edit, middle name) — without both birth dates the matcher does not
    join two records of one child, so they meet here. A child is never listed as their own
    sibling.
    """
    if child is None:
        return False
    levels = {row[0]: row[1] for row in compare(child, other)}
    nhs, birth = levels.get("nhs_number"), levels.get("birth_date", "")
    if nhs == "exact":
        return True
    if nhs not in ("no data", None):
        return False
    if birth == "exact":
        return not other_sex_twins(levels)
    given = levels.get("given_name", "")
    same_first = given not in ("no data", "otherwise") and not given.startswith("jaro")
    return (birth in _SLIPS or birth == NO_DATA) and same_first


def attendance_relatives(store: Store, attendee_ids: list[int], person_id: str | None,
                         extra: list[ResolvedParent] = (),
                         child: Identity | None = None) -> list[Relative]:
    """Siblings found through parents named on attendances (``confirmed=False``), and the
    register persons those parents were matched to (household).

    ``extra`` are parents resolved for the current attendance but not recorded (a dry run);
    ``child`` is the attending child's identity, used to avoid listing the child as its own
    sibling when one of its records is not yet linked (see :func:`may_be_self`).
    """
    own = store.parents_of_attendees(attendee_ids)
    mine: dict[int, str] = {link.parent_id: link.relationship for link in own}
    # how the child's own links to each node were made: (attendance, how)
    made: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for link in own:
        made[link.parent_id].append((link.attendance_id, link.how))
    linked = set(made)
    for p in extra:
        if p.parent_id is not None:
            mine.setdefault(p.parent_id, p.relationship)
            if p.parent_id not in linked:     # not recorded: as this attendance found it
                made[p.parent_id].append((THIS_ATTENDANCE, p.how))
    parents = _register_parents(own, extra, person_id)
    relatives = (_sibling_attendees(store, mine, made, attendee_ids, person_id, child)
                 if mine else {})
    # a parent matched to a register person brings that person's register children
    for parent in parents:
        relatives.update(_register_children(store, parent.person_id, person_id, child,
                                            taken=relatives))
    return [*relatives.values(), *(p for p in parents if p.person_id not in relatives)]


def _sibling_attendees(store: Store, mine: dict[int, str], made: dict[int, list[tuple[str, str]]],
                       attendee_ids: list[int], person_id: str | None,
                       child: Identity | None) -> dict[str, Relative]:
    """Other attendees (or the register persons they were matched to) whose attendances name
    one of the parent nodes ``mine``; ``made`` is how the child's own links to them were made
    (attendance, how), for the evidence."""
    theirs: dict[str, dict[int, str]] = defaultdict(dict)
    attendees: dict[str, set[int]] = defaultdict(set)
    named_on: dict[str, set[str]] = defaultdict(set)
    weak: dict[str, set[tuple[str, str, str]]] = defaultdict(set)   # (role, how, attendance)
    kids = store.children_of_parents(mine)
    others = {k.attendee_id for k in kids if k.attendee_id not in attendee_ids}
    for link in kids:
        if link.attendee_id in attendee_ids or (person_id and link.attendee_person_id == person_id):
            continue
        key = link.attendee_person_id or f"{ATTENDEE}{link.attendee_id}"
        attendees[key].add(link.attendee_id)
        named_on[key].add(link.attendance_id)
        # the pair is linked through this node only as firmly as both links to it
        for attendance_id, how in ((link.attendance_id, link.how), *made.get(link.parent_id, ())):
            if how in WEAK_LINKS:
                weak[key].add((mine[link.parent_id], how, attendance_id))
    for link in store.parents_of_attendees(others) if others else ():
        key = link.attendee_person_id or f"{ATTENDEE}{link.attendee_id}"
        if key in attendees:
            theirs[key][link.parent_id] = link.relationship

    look_alikes = (_look_alikes(store, child, {a for ids in attendees.values() for a in ids})
                   if attendees else set())
    relatives: dict[str, Relative] = {}
    for key in sorted(attendees):
        if attendees[key] & look_alikes:
            continue
        shared = sorted({mine[pid] for pid in set(mine) & set(theirs[key])})
        relatives[key] = Relative(
            key, "sibling", _kind(mine, theirs[key]),
            f"attendances: same {', '.join(shared) or 'parent'} named on attendance(s) "
            f"{', '.join(sorted(named_on[key]))}{_how_linked(weak[key], len(shared) > 1)}",
            confirmed=False, attendee_ids=tuple(sorted(attendees[key])))
    return relatives


def _how_linked(weak: set[tuple[str, str, str]], name_roles: bool) -> str:
    """What the sibling evidence adds for links weaker than an NHS number or a certain match
    (``weak``: role, how, attendance): `` (on V2 named under another family name: matched by
    first name and postcode unit)``, the role first when the evidence names several; ``""``
    when there are none."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for role, how, attendance_id in weak:
        grouped[role, how].append(attendance_id)
    parts = []
    for (role, how), ids in sorted(grouped.items()):
        ids.sort(key=lambda a: (a == THIS_ATTENDANCE, a))
        parts.append(f"{f'the {role} ' if name_roles else ''}on {', '.join(ids)} "
                     f"{WEAK_LINKS[how]}")
    return f" ({'; '.join(parts)})" if parts else ""


def _register_children(store: Store, parent_person: str, person_id: str | None,
                       child: Identity | None, taken: dict[str, Relative]
                       ) -> dict[str, Relative]:
    """The register children of ``parent_person`` (a register person a parent named on the
    child's attendances was matched to), as unconfirmed siblings; none already ``taken``."""
    out: dict[str, Relative] = {}
    for rel in store.relationships_touching([parent_person]):
        other = from_child(rel, parent_person)
        if other is None or other[1] != R.child or other[0] in (person_id, *taken, *out):
            continue
        found = store.persons([other[0]]).get(other[0])
        if found is not None and may_be_self(child, person_identity(found)):
            continue
        out[other[0]] = Relative(
            other[0], "sibling", "sibling",
            f"attendances: the parent named on this child's attendance matches register "
            f"person {parent_person}, recorded as parent of {other[0]}", confirmed=False)
    return out


def _register_parents(own: list[ParentLink], extra: Iterable[ResolvedParent],
                      person_id: str | None) -> list[Relative]:
    """The register persons that parents named on the child's attendances were matched to:
    household (the contract's "mother, father, parent"), ``confirmed=False``. This is how a
    pre-birth plan (CP-UNBORN, held on the mother) reaches a newborn the register does not
    hold yet."""
    named_on: dict[str, set[str]] = defaultdict(set)
    role: dict[str, str] = {}
    for link in own:
        if link.parent_person_id:
            named_on[link.parent_person_id].add(link.attendance_id)
            role.setdefault(link.parent_person_id, link.relationship)
    for p in extra:
        if p.person_id and p.person_id not in named_on:   # not recorded yet (a dry run)
            named_on[p.person_id].add("this attendance")
            role.setdefault(p.person_id, p.relationship)
    return [Relative(pid, "household", role[pid],
                     f"attendances: the {role[pid]} named on {', '.join(sorted(named_on[pid]))} "
                     f"matches register person {pid}", confirmed=False)
            for pid in sorted(named_on) if pid != person_id]
