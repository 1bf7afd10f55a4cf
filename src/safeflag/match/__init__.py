"""Match: find the attending child on the register, and earlier attendances of the same child.

Candidates come from the blocking index stored with the register (nothing is rebuilt on a cold
check); each is scored with the comparison levels of :mod:`safeflag.algo.compare`. The same
engine links attendances of children who are not on the register to their own earlier
attendances through the attendee index.

Guards, in order: a twin pattern (same birth date and family name, different first name) is
never a match; when two candidates are close the best is reported as *possible* only, so a
person confirms it — a wrong match would show one child's plans to another family.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..algo.compare import (PRIOR_LOG2_ODDS, Identity, blocking_keys, compare, is_twin_pattern,
                            probability)
from ..algo.names import clean_family, clean_given
from ..algo.nhs import is_valid_nhs_number, normalise_nhs_number
from ..algo.postcode import parse_postcode
from ..models import (AddressPeriod, Band, Candidate, Demographics, FieldComparison,
                      MatchResult, Person)
from ..settings import MatchSettings
from ..store import Store

__all__ = ["Matcher", "person_identity", "demographics_identity", "Scored"]


def _postcodes(values: Iterable[str]) -> tuple[str, ...]:
    units = (parse_postcode(v) for v in values)
    return tuple(dict.fromkeys(u.unit for u in units if u is not None))


def _valid_nhs(value: str | None) -> str | None:
    nhs = normalise_nhs_number(value)
    return nhs if is_valid_nhs_number(nhs) else None


def person_identity(person: Person, addresses: Sequence[AddressPeriod] = ()) -> Identity:
    """The matching view of a register person: aliases and address history included."""
    names = [(person.given_name, person.family_name), *person.aliases]
    givens = tuple(dict.fromkeys(g for g in (clean_given(n[0]) for n in names) if g))
    families = tuple(dict.fromkeys(f for f in (clean_family(n[1]) for n in names) if f))
    return Identity(ref=person.person_id, nhs=_valid_nhs(person.nhs_number), givens=givens,
                    families=families, birth=person.birth_date, sex=person.sex.value,
                    postcodes=_postcodes([person.postcode, *(a.postcode for a in addresses)]))


def demographics_identity(demo: Demographics, ref: str = "query") -> Identity:
    """The matching view of an attending patient (every name and address sent)."""
    givens: list[str] = []
    for name in demo.names:
        given = clean_given(name.given)
        if given:
            givens.append(given)
            middle = clean_given(name.middle)
            if middle:
                givens.append(f"{given} {middle}")
                givens.append(middle)
    families = [f for f in (clean_family(n.family) for n in demo.names) if f]
    return Identity(ref=ref, nhs=_valid_nhs(demo.nhs_number),
                    givens=tuple(dict.fromkeys(givens)), families=tuple(dict.fromkeys(families)),
                    birth=demo.birth_date, sex=demo.sex.value,
                    postcodes=_postcodes(a.postcode for a in demo.addresses))


@dataclass(frozen=True)
class Scored:
    ref: str
    weight: float
    probability: float
    band: Band
    comparisons: tuple[FieldComparison, ...]
    note: str = ""


class Matcher:
    """Scores an attending patient against the register and the attendee index."""

    def __init__(self, store: Store, settings: MatchSettings) -> None:
        self.store = store
        self.settings = settings

    # --- scoring ------------------------------------------------------------------------------
    def _band(self, p: float) -> Band:
        s = self.settings
        return ("certain" if p >= s.certain else "probable" if p >= s.probable
                else "possible" if p >= s.possible else "none")

    def score(self, query: Identity, candidate: Identity) -> Scored:
        levels = compare(query, candidate)
        comparisons = tuple(FieldComparison(field=f, level=lv, weight=w) for f, lv, w in levels)
        weight = PRIOR_LOG2_ODDS + sum(w for _, _, w in levels)
        if is_twin_pattern({f: lv for f, lv, _ in levels}):
            return Scored(candidate.ref, weight, 0.0, "none", comparisons,
                          note="same birth date and family name but a different first name: "
                               "a sibling (e.g. a twin), not the same child")
        p = probability(weight)
        return Scored(candidate.ref, weight, p, self._band(p), comparisons)

    def rank(self, query: Identity, candidates: Iterable[Identity]) -> list[Scored]:
        scored = [self.score(query, c) for c in candidates]
        scored.sort(key=lambda s: (-s.probability, -s.weight, s.ref))
        return scored

    # --- register -----------------------------------------------------------------------------
    def match(self, demo: Demographics) -> MatchResult:
        query = demographics_identity(demo)
        ranked = self.rank(query, self.store.person_candidates(blocking_keys(query, query=True)))
        if not ranked or ranked[0].band == "none":
            return MatchResult(band="none", score=round(ranked[0].probability, 4) if ranked else 0.0,
                               method="fellegi-sunter")
        best = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        ambiguous = (runner_up is not None and runner_up.band in ("certain", "probable")
                     and best.weight - runner_up.weight < self.settings.ambiguity_margin)
        if best.band in ("certain", "probable") and not ambiguous:
            return MatchResult(person_id=best.ref, score=round(best.probability, 4),
                               band=best.band, comparisons=best.comparisons,
                               method="fellegi-sunter")
        possibles = [s for s in ranked if s.band != "none"][: self.settings.max_candidates]
        return MatchResult(
            score=round(best.probability, 4), band="possible", method="fellegi-sunter",
            comparisons=best.comparisons,
            candidates=tuple(Candidate(person_id=s.ref, score=round(s.probability, 4),
                                       band="possible" if s.band != "none" else "none",
                                       comparisons=s.comparisons,
                                       note="two or more register records fit closely; "
                                            "confirm which" if ambiguous else s.note)
                             for s in possibles))

    # --- attendee index -----------------------------------------------------------------------
    def attendee_for(self, demo: Demographics, person_id: str | None) -> tuple[int, list[int]]:
        """The attendee id for this attendance, and every attendee id of the same child.

        A child matched to the register is the same attendee as any earlier attendee linked
        to that person; a child not on the register is the same attendee as an earlier one
        whose demographics match with certainty. Otherwise a new attendee is created.
        """
        query = demographics_identity(demo)
        keys = blocking_keys(query)
        linked: list[int] = []
        if person_id is not None:
            linked = self.store.attendees_of_persons([person_id]).get(person_id, [])
        found: int | None = None
        if query.givens or query.nhs or query.birth:
            ranked = self.rank(query, self.store.attendee_candidates(keys | blocking_keys(
                query, query=True)))
            certain = [s for s in ranked if s.band == "certain"]
            if certain and (len(certain) == 1 or
                            certain[0].weight - certain[1].weight >= self.settings.ambiguity_margin):
                found = int(certain[0].ref[1:])
        if found is not None and person_id is not None and found not in linked:
            self.store.link_attendee(found, person_id)
            linked.append(found)
        if found is None and linked:
            found = linked[0]
        if found is None:
            found = self.store.add_attendee(query, keys, person_id)
        return found, sorted(set(linked) | {found})
