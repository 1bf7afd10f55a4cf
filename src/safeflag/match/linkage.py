"""Linking a whole extract against a register in memory (evaluation, benchmarks, bulk runs).

:class:`Linker` builds the same identities, blocking keys and match model as a register load
(:func:`safeflag.pipeline.index_register`), keeps the index in memory instead of SQLite, can
re-estimate m by EM on the extract itself, and matches each attendance with the same
:class:`~safeflag.match.Matcher` rules as ``safeflag check``: the results are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..algo.compare import Identity, blocking_keys, compare
from ..models import Attendance, MatchResult, Register
from ..settings import MatchSettings
from .identity import demographics_identity, register_identities
from .weights import MatchModel, estimate_from_register, estimate_m

__all__ = ["Linker"]


class Linker:
    """A register held in memory, ready to match attendances."""

    def __init__(self, register: Register, settings: MatchSettings | None = None,
                 model: MatchModel | None = None) -> None:
        from . import Matcher

        self.identities = register_identities(register)
        self.index: dict[str, list[Identity]] = {}
        for ident in self.identities:
            for key in blocking_keys(ident):
                self.index.setdefault(key, []).append(ident)
        self.model = model or estimate_from_register(self.identities)
        self.matcher = Matcher(None, settings or MatchSettings(), self.model,
                               candidates=self.candidates)

    def candidates(self, keys: Iterable[str]) -> list[Identity]:
        found: dict[str, Identity] = {}
        for key in keys:
            for ident in self.index.get(key, ()):
                found[ident.ref] = ident
        return list(found.values())

    def train(self, attendances: Sequence[Attendance], *, sample: int = 3_000) -> float:
        """Re-estimate m by EM on the first ``sample`` attendances' candidate pairs.

        Returns the estimated share of candidate pairs that are true matches.
        """
        vectors = []
        for attendance in attendances[:sample]:
            query = demographics_identity(attendance.patient, kin=attendance.next_of_kin)
            vectors.extend(compare(query, c)
                           for c in self.candidates(blocking_keys(query, query=True)))
        self.model, share = estimate_m(vectors, self.model)
        self.matcher.reload(self.model)
        return share

    def match(self, attendance: Attendance) -> MatchResult:
        """The same result as :meth:`Matcher.match` against the stored register."""
        return self.matcher.match(attendance.patient, attendance.next_of_kin)

    def link(self, attendances: Iterable[Attendance]) -> list[MatchResult]:
        return [self.match(a) for a in attendances]
