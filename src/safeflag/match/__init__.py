"""Match: find the attending child on the register, and earlier attendances of the same child.

Candidates come from the blocking index stored with the register (nothing is rebuilt on a cold
check); each is scored field by field with the levels of :mod:`safeflag.algo.compare` and the
weights of the stored :class:`~safeflag.match.weights.MatchModel`. The posterior of each
candidate counts the others: p_i = o_i / (1 + Σ o_j), where o is the candidate's odds, so
two near-identical candidates (twins, a duplicated record) can never both look certain.
The same engine links attendances of children who are not on the register to their own
earlier attendances through the attendee index.

Guards: a twin pattern (same birth date and family name, a different first name or sex) is
never a match; a "TWIN 1"-style placeholder without an agreeing NHS number is at most
*possible*; when two candidates are close the best is reported as *possible* only, so a
person confirms it — a wrong match would show one child's plans to another family.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..algo.compare import (BIRTH_AGREES, FIRST_NAME_AGREES, Identity, blocking_keys,
                            is_generation_gap, is_twin_pattern, merge_identities,
                            no_first_name_nor_home, no_name_agrees, nhs_contradicted,
                            personal_evidence, probability)
from ..models import Band, Candidate, Demographics, FieldComparison, MatchResult, NextOfKin
from ..settings import MatchSettings
from ..store import Store
from .identity import demographics_identity, person_identity, register_identities
from .weights import META_KEY, MatchModel

__all__ = ["Matcher", "person_identity", "demographics_identity", "register_identities",
           "Scored", "MatchModel", "load_model", "Linker"]

#: Fields a whole household shares: their joint evidence is capped (see Matcher.score).
HOUSEHOLD_FIELDS = ("family_name", "postcode", "parents")
_TWIN_NOTE = ("same birth date and family name but a different first name or sex: a sibling "
              "(e.g. a twin), not the same child")
_GENERATION_NOTE = ("birth dates twelve or more years apart: a parent or relative of "
                    "another generation, not the same child")
_HOUSEHOLD_NOTE = ("only household details agree (family name, address, parents) and the "
                   "child's own first name or birth date does not: a sibling or relative")
_NOTHING_PERSONAL_NOTE = ("no first name, birth date or NHS number to compare: confirm who "
                          "this is")
_NO_NAME_NOTE = ("neither first name nor family name agrees: birth date and address alone "
                 "may fit another child; confirm who this is")
_NHS_DOUBT_NOTE = ("the NHS number agrees but the birth year or both names do not: the number "
                   "may be another child's; confirm who this is")
_PLACEHOLDER_NOTE = ("a twin's placeholder name and no agreeing NHS number: confirm which "
                     "child this is")
_NO_FIRST_NAME_NOTE = ("no first name to compare (a newborn's \"BABY\", or none sent), and "
                       "neither the NHS number nor the home agrees: a family name and birth "
                       "date alone may fit another child born that day; confirm who this is")


@dataclass(frozen=True)
class Scored:
    ref: str
    weight: float           # log2 odds, prior included
    probability: float
    band: Band
    levels: tuple[tuple[str, str, float], ...]     # (field, level, weight)
    note: str = ""
    excluded: bool = False  # ruled out by a guard
    alone: float = 0.0      # probability had it been the only candidate

    @property
    def comparisons(self) -> tuple[FieldComparison, ...]:
        """Each field's level and weight, as reported with a match."""
        return tuple(_field_comparison(f, lv, round(w, 2)) for f, lv, w in self.levels)


@lru_cache(maxsize=4096)
def _field_comparison(field_name: str, level: str, weight: float) -> FieldComparison:
    return FieldComparison(field=field_name, level=level, weight=weight)


def _identifies(levels: Iterable[tuple[str, str, float]]) -> bool:
    """The NHS number agrees, or the first name and the birth date both do."""
    by_field = {f: lv for f, lv, _ in levels}
    return by_field.get("nhs_number") == "exact" or (
        by_field.get("given_name") in FIRST_NAME_AGREES
        and by_field.get("birth_date") in BIRTH_AGREES)


def load_model(store: Store) -> MatchModel:
    """The model stored with the register, or documented defaults sized to the register."""
    info = store.register_info()
    text = store.get_meta(META_KEY)
    if text:
        model = MatchModel.from_json(text)
        if info is None or model.persons in (0, info.persons):
            return model
    return MatchModel.sized(info.persons if info else 0)


class Matcher:
    """Scores an attending patient against the register and the attendee index."""

    def __init__(self, store: Store | None, settings: MatchSettings,
                 model: MatchModel | None = None,
                 candidates: Callable[[set[str]], Iterable[Identity]] | None = None) -> None:
        """``candidates`` replaces the store's blocking-index lookup (an in-memory index for
        linking a whole extract, see :class:`~safeflag.match.linkage.Linker`)."""
        self.store = store
        self.settings = settings
        self._model = model
        self._candidates = candidates

    @property
    def model(self) -> MatchModel:
        if self._model is None:
            self._model = load_model(self.store)
        return self._model

    def reload(self, model: MatchModel | None = None) -> None:
        """Use ``model``, or forget the cached one so the stored model is read again (after a
        register load)."""
        self._model = model

    # --- scoring ------------------------------------------------------------------------------
    def _band(self, p: float) -> Band:
        s = self.settings
        return ("certain" if p >= s.certain else "probable" if p >= s.probable
                else "possible" if p >= s.possible else "none")

    def score(self, query: Identity, candidate: Identity) -> Scored:
        """One candidate on its own: its weights, log2 odds and probability.

        Family name, address and parents are shared by a whole household, so their evidence
        is not independent: together they count for at most ``settings.household_cap``
        (enough to find the household, not the child), and the comparisons show the cut as a
        ``household`` line.
        """
        levels = tuple(self.model.score(query, candidate))
        shared = sum(w for f, _, w in levels if f in HOUSEHOLD_FIELDS and w > 0)
        cap = self.settings.household_cap
        if shared > cap:
            levels += (("household", "capped: family name, address and parents together",
                        cap - shared),)
        by_field = {f: lv for f, lv, _ in levels}
        doubted = nhs_contradicted(by_field, query, candidate)
        # a number keyed from another record is no evidence for this one against the others
        # (its weight leaves the ranking); on its own it still offers the record to confirm
        offered = self.model.prior + sum(w for _, _, w in levels)
        if doubted:
            levels += (("nhs_doubt", "not counted: the birth year or both names disagree",
                        -sum(w for f, _, w in levels if f == "nhs_number")),)
        comparisons = levels
        weight = self.model.prior + sum(w for _, _, w in levels)
        if is_twin_pattern(by_field):
            return Scored(candidate.ref, weight, 0.0, "none", comparisons, _TWIN_NOTE, True)
        if is_generation_gap(by_field):
            return Scored(candidate.ref, weight, 0.0, "none", comparisons, _GENERATION_NOTE, True)
        personal = personal_evidence(by_field)
        if personal == "disagrees":
            return Scored(candidate.ref, weight, 0.0, "none", comparisons, _HOUSEHOLD_NOTE, True)
        p = probability(offered)
        band = self._band(p)
        note = (_NOTHING_PERSONAL_NOTE if personal == "none" else _NHS_DOUBT_NOTE
                if doubted else _PLACEHOLDER_NOTE
                if query.twin_hint and by_field["nhs_number"] != "exact" else _NO_NAME_NOTE
                if no_name_agrees(by_field) else _NO_FIRST_NAME_NOTE
                if no_first_name_nor_home(by_field) else "")
        if note and band in ("certain", "probable"):
            band = "possible"
        return Scored(candidate.ref, weight, p, band, comparisons, note)

    def rank(self, query: Identity, candidates: Iterable[Identity]) -> list[Scored]:
        """Candidates best first; each probability counts the competing candidates."""
        scored = [self.score(query, c) for c in candidates]
        total = sum(2.0 ** min(s.weight, 60) for s in scored if not s.excluded)
        out = []
        for s in scored:
            if not s.excluded:
                p = 2.0 ** min(s.weight, 60) / (1.0 + total)
                band = self._band(p)
                if s.note and band in ("certain", "probable"):
                    band = "possible"
                s = Scored(s.ref, s.weight, p, band, s.levels, s.note, alone=s.probability)
            out.append(s)
        out.sort(key=lambda s: (s.excluded, -s.probability, -s.weight, s.ref))
        return out

    # --- register -----------------------------------------------------------------------------
    def match(self, demo: Demographics, kin: Iterable[NextOfKin] = ()) -> MatchResult:
        """The register person this patient is; ``kin`` (the attendance's next of kin) adds
        the parents' names and NHS numbers as supporting evidence."""
        query = demographics_identity(demo, kin=kin)
        keys = blocking_keys(query, query=True)
        found = self._candidates(keys) if self._candidates else self.store.person_candidates(keys)
        return self.result(self.rank(query, found))

    def result(self, ranked: list[Scored]) -> MatchResult:
        """The match for a ranked candidate list.

        The best is the match when it is certain or probable counting its rivals and leads
        the next by ``ambiguity_margin``. Otherwise every candidate that is at least
        possible — counting its rivals, or on its own when rivals share the evidence (twins
        with no first name sent, a duplicated record) — is offered for a person to confirm.
        """
        possible = self.settings.possible
        live = [s for s in ranked if not s.excluded]
        best = ranked[0] if ranked else None
        if best is not None and not best.excluded and best.band in ("certain", "probable"):
            runner_up = live[1] if len(live) > 1 else None
            if (runner_up is None
                    or (runner_up.band == "none" and runner_up.alone < possible)
                    or best.weight - runner_up.weight >= self.settings.ambiguity_margin):
                return MatchResult(person_id=best.ref, score=round(best.probability, 4),
                                   band=best.band, comparisons=best.comparisons,
                                   method="fellegi-sunter")
        offered = [s for s in live if s.band != "none" or s.alone >= possible]
        if not offered:
            return MatchResult(band="none", score=round(best.probability, 4) if best else 0.0,
                               method="fellegi-sunter",
                               comparisons=best.comparisons if best else ())
        shared = len(offered) > 1
        offered = offered[: self.settings.max_candidates]
        return MatchResult(
            score=round(offered[0].probability, 4), band="possible", method="fellegi-sunter",
            comparisons=offered[0].comparisons,
            candidates=tuple(Candidate(person_id=s.ref, score=round(s.probability, 4),
                                       band="possible", comparisons=s.comparisons,
                                       note="two or more register records fit closely; "
                                            "confirm which" if shared else s.note)
                             for s in offered))

    # --- attendee index -----------------------------------------------------------------------
    def attendee_for(self, demo: Demographics, person_id: str | None,
                     kin: Iterable[NextOfKin] = (), *, query: Identity | None = None,
                     keys: Collection[str] | None = None, lookup: Collection[str] | None = None,
                     rivals: Collection[str] | None = None,
                     record: bool = True) -> tuple[int, list[int]]:
        """The attendee id for this attendance, and every attendee id of the same child.

        Earlier attendees whose demographics match this child with certainty (each on its
        own: two attendees may be one child whose first visit was recorded badly) are the
        same child. A child matched to the register also takes the attendees linked to that
        person, and adopts unlinked ones — never one linked to another register person who
        resembles it (a twin). Otherwise a new attendee is created. With ``record=False``
        nothing is written: no links are made, and a child never seen before gets
        ``(0, [])`` (no attendee, no history) instead of a new attendee.

        When the caller has already made them (a batch worker, from the register alone):
        ``query`` is ``demographics_identity(demo, kin=kin)``, ``keys`` and ``lookup`` its
        stored and query blocking keys, ``rivals`` the other register persons under ``lookup``.
        """
        if query is None:
            query = demographics_identity(demo, kin=kin)
        if keys is None:
            keys = blocking_keys(query)
        if lookup is None:
            lookup = blocking_keys(query, query=True)
        linked = (self.store.attendees_of_persons([person_id]).get(person_id, [])
                  if person_id is not None else [])
        found = self._same_attendees(query, {*keys, *lookup})
        if record:
            self._learn(found, query)
        same = [c.row_id for c in found]
        if person_id is not None and same:
            if rivals is None:
                rivals = self.register_rivals(lookup, person_id)
            taken = {a for ids in self.store.attendees_of_persons(rivals).values() for a in ids}
            same = [a for a in same if a not in taken]
            for attendee in same:
                if attendee not in linked and record:
                    self.store.link_attendee(attendee, person_id)
        ids = list(dict.fromkeys([*linked, *same]))
        if not ids:
            if not record:
                return 0, []
            ids = [self.store.add_attendee(query, keys, person_id)]
        return ids[0], sorted(ids)

    def register_rivals(self, lookup: Iterable[str], person_id: str) -> tuple[str, ...]:
        """Register persons other than ``person_id`` found under the query keys ``lookup``."""
        return tuple(p.ref for p in self.store.person_candidates(lookup) if p.ref != person_id)

    def _learn(self, same: list[Identity], query: Identity) -> None:
        """Each attendee this attendance certainly is learns its names, addresses and parents
        named, as a parent node does: a child's records under a new surname or address (or a
        newborn's placeholder name, then the real one) then find one another."""
        for known in same:
            merged = merge_identities(known, query)
            if merged != known:
                self.store.update_attendee(known.row_id, merged,
                                           blocking_keys(merged) - blocking_keys(known))

    def _same_attendees(self, query: Identity, keys: set[str]) -> list[Identity]:
        """Earlier attendees certainly this child: each certain on its own, and with the NHS
        number or both the first name and the birth date agreeing — a newborn booked as
        "BABY" or "TWIN 1" is never joined to a named child by birth date and address alone,
        which would join twins."""
        if not (query.firsts or query.nhs or query.birth):
            return []
        by_ref = {c.ref: c for c in self.store.attendee_candidates(keys)}
        scored = [self.score(query, c) for c in by_ref.values()]
        certain = sorted((s for s in scored if not s.excluded and s.band == "certain"
                          and _identifies(s.levels)), key=lambda s: (-s.weight, s.ref))
        return [by_ref[s.ref] for s in certain]


from .linkage import Linker  # noqa: E402  (needs Matcher above)
