"""The pipeline: ingest → match → family → rules → output, one attendance at a time.

:class:`Safeflag` is the library's one entry point. It holds a :class:`~safeflag.store.Store`
and :class:`~safeflag.settings.Settings` (both passed in, nothing global) and turns each
attendance into a :class:`~safeflag.models.CheckResult`, recording it as history so that later
checks see it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .algo.injury import InjuryFinding, classify
from .errors import MessageError, NotAnArrival, StoreError
from .family import (Family, NamedParent, attendance_only, build_family, family_of,
                     name_parents, resolve_parents, with_current_addresses)
from .ingest import IngestItem
from .ingest.register import load_register
from .match import Matcher, demographics_identity, register_identities
from .match.weights import META_KEY as MODEL_META_KEY, MatchModel, estimate_from_register
from .algo.compare import Identity, blocking_keys
from .algo.dates import PartialDate
from .models import Attendance, CheckResult, MatchResult, Person, Register, Warning
from .rules import Age, RelativeView, RuleContext, evaluate, flags_for
from .settings import Settings
from .audit import os_user
from .store import AuditEntry, HistoryEntry, RegisterInfo, Store, open_store

__all__ = ["Safeflag", "Prepared", "injury_findings", "index_register", "prepare_register"]

log = logging.getLogger("safeflag")

#: Earlier attendees matched again per transaction after a register load (about a third of a
#: millisecond each): the write lock is held for one chunk at a time, never for them all.
RELINK_CHUNK = 1000
_RELINK_PENDING, _RELINK_DONE = "relink_pending", "relink_done"
_EPOCH = date(1900, 1, 1)
_ONE_READ = 500      # attendee ids the store reads in one query (SqliteStore chunks)


def injury_findings(attendance: Attendance) -> tuple[InjuryFinding, ...]:
    """Injury findings from the presenting complaint and every diagnosis."""
    terms = [t for t in (attendance.complaint, *attendance.diagnoses) if t is not None]
    found = [f for f in (classify(t.code, t.system, t.text) for t in terms) if f is not None]
    coded = tuple(f for f in found if f.confidence == "coded")
    # Free text is a fallback: once an injury is coded it adds only noise.
    return coded or tuple(found)


def prepare_register(register: Register) -> tuple[list[tuple[Identity, set[str]]], MatchModel]:
    """Each register person's matching identity (address history, recorded parents and
    carers included) with its blocking keys, and the match model estimated from the register
    (u probabilities, name frequencies, prior; see ``docs/matching.md``)."""
    identities = register_identities(register)
    return ([(ident, blocking_keys(ident)) for ident in identities],
            estimate_from_register(identities))


def index_register(register: Register, store: Store | None = None
                   ) -> list[tuple[Identity, set[str]]]:
    """The blocking index of :func:`prepare_register`; with ``store``, the model is saved
    there too (tests and benchmarks; :meth:`Safeflag.load_register` saves both at once)."""
    index, model = prepare_register(register)
    if store is not None:
        store.set_meta(MODEL_META_KEY, model.to_json())
    return index


@dataclass(frozen=True)
class _Identities:
    """The attending child's matching identity with the parents named (``query``, for the
    attendee index) and without (``child``, for the family stage), its blocking keys, and the
    parents named: built once per check."""

    query: Identity
    child: Identity
    keys: frozenset[str]
    lookup: frozenset[str]
    parents: tuple[NamedParent, ...]


@dataclass(frozen=True)
class Prepared:
    """What a check needs from the register alone, with no history: the register match, the
    other register persons the child could be, the register person of each parent named, the
    matched person's birth date and register family on the arrival date; and the injury
    findings. Batch workers make it ahead of the serial part of the check (it is small, to
    travel cheaply); it holds for as long as the same register is loaded."""

    match: MatchResult
    findings: tuple[InjuryFinding, ...] = ()
    rivals: tuple[str, ...] = ()
    parents_on_register: tuple[str | None, ...] = ()
    birth_date: PartialDate | None = None
    register_family: Family = Family("")
    #: the child's matching identities and the parents named, when made with the rest
    identities: _Identities | None = None


def _changed(old: Person | None, new: Person) -> bool:
    """Is the person under this id someone else now (name, birth date or NHS number)?"""
    return old is None or (old.given_name, old.family_name, old.birth_date, old.nhs_number) \
        != (new.given_name, new.family_name, new.birth_date, new.nhs_number)


def _birth_date(registered: PartialDate | None, attendance: Attendance
                ) -> tuple[PartialDate | None, list[str]]:
    """The birth date a check ages the child by, and a note when the two sources differ.

    A matched child's age comes from the register's full birth date: a date keyed at triage is
    the likelier to be wrong. Unless the register's is after the arrival date and the
    attendance's is not: the child is there, so the register's cannot be right."""
    birth = attendance.patient.birth_date
    if registered is None or not (birth is None or registered.is_full):
        return birth, []
    if birth is None or birth == registered:
        return registered, []
    on = attendance.arrival.date()
    if registered.earliest() > on >= birth.earliest():
        return birth, [f"the register's birth date is after the arrival date; ages use the "
                       f"attendance's (attendance {attendance.attendance_id})"]
    return registered, [f"birth date on attendance {attendance.attendance_id} differs from "
                        "the register's; ages use the register's"]


def _relatives_shown(ctx: RuleContext, warnings: Iterable[Warning]) -> tuple[str, ...]:
    """The register persons whose attendances or plans ``warnings`` show (a warning held
    back shows nothing; a child known only from attendances is no register person)."""
    return tuple(p for w in warnings for p in ctx.shown.get(w.code, ())
                 if not attendance_only(p))


def _settings(settings: Settings | None) -> Settings:
    """``settings``, or the defaults; anything else (a dict of values) is refused before a
    database is opened, rather than failing at the first check."""
    if settings is None:
        return Settings()
    if not isinstance(settings, Settings):
        raise TypeError(f"settings must be a Settings, not {type(settings).__name__}; build one "
                        "with Settings(...) or Settings.from_toml(path)")
    return settings


class Safeflag:
    """Check attendances against a register and the attendance history.

    >>> sf = Safeflag.open("safeflag.db")                       # doctest: +SKIP
    >>> sf.load_register("register/")                           # doctest: +SKIP
    >>> for result in sf.check_path("attendances.hl7"): ...     # doctest: +SKIP
    """

    def __init__(self, store: Store, settings: Settings | None = None, *,
                 user: str | None = None, channel: str = "library") -> None:
        self.store = store
        self.settings = _settings(settings)
        self.matcher = Matcher(store, self.settings.match)
        self.user = user or os_user()      # who asks, for the audit (a user or system id)
        self.channel = channel

    @classmethod
    def open(cls, db: str | Path | None = None, settings: Settings | None = None, *,
             user: str | None = None, channel: str = "library") -> "Safeflag":
        """Open the SQLite store at ``db`` (default: ``SAFEFLAG_DB`` or the user data folder)."""
        settings = _settings(settings)         # before a database is made
        return cls(open_store(db), settings, user=user, channel=channel)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Safeflag":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- register -------------------------------------------------------------------------------
    def load_register(self, path: str | Path, *,
                      progress: Callable[[int, int], None] | None = None) -> RegisterInfo:
        """Replace the register with a CSV folder or FHIR Bundle at ``path`` (all or nothing).

        Earlier attendees are kept linked to register persons by person_id. Those linked to a
        person_id the new register no longer holds, or whose person's name, birth date or NHS
        number changed (a register renumbered, or ids given to other people), are unlinked in
        the load's own transaction, so no history ever follows an id to another child. They
        are then matched again against the new register, :data:`RELINK_CHUNK` to a
        transaction, so triage checks get the database between chunks however many there
        are: linked where the match is certain. A sibling's past injuries stay with the family
        although the sibling never attends again. A load stopped while matching again (the
        process killed, the database failing) leaves the rest recorded, and the next load
        matches them too. ``progress`` is called after each chunk with (attendees matched
        again so far, all to match)."""
        register = with_current_addresses(load_register(path), date.today())
        index, model = prepare_register(register)
        try:
            with self.store.transaction():
                linked = self.store.attendee_person_links()
                before = self.store.persons(set(linked.values()))
                pending = self._relinks_pending()
                info = self.store.replace_register(register, index, source=str(path),
                                                   meta={MODEL_META_KEY: model.to_json()})
                self.matcher.reload(model)
                now = {p.person_id: p for p in register.persons}
                doubtful = sorted({*pending, *(
                    a for a, pid in linked.items()
                    if pid not in now or _changed(before.get(pid), now[pid]))})
                for attendee in doubtful:
                    if linked.get(attendee) is not None:
                        self.store.link_attendee(attendee, None)
                self.store.set_meta(_RELINK_PENDING, json.dumps(doubtful))
                self.store.set_meta(_RELINK_DONE, "0")
        except BaseException:
            self.matcher.reload()     # the old register stays (even a failed commit): its model
            raise
        relinked = self._relink(doubtful, progress)
        return replace(info, relinked=relinked, unlinked=len(doubtful) - relinked)

    def _relinks_pending(self) -> list[int]:
        """Attendees an earlier load unlinked but did not get to match again."""
        pending = json.loads(self.store.get_meta(_RELINK_PENDING) or "[]")
        return pending[int(self.store.get_meta(_RELINK_DONE) or 0):]

    def _relink(self, attendees: list[int],
                progress: Callable[[int, int], None] | None = None) -> int:
        """Match ``attendees`` (unlinked) again against the register just loaded, a chunk to a
        transaction: link each where the match is certain; how many were linked."""
        relinked, done = 0, 0
        try:
            with self.store.give_way():
                for start in range(0, len(attendees), RELINK_CHUNK):
                    chunk = attendees[start:start + RELINK_CHUNK]
                    with self.store.transaction():
                        for ident in self.store.attendees(chunk):
                            found = self.matcher.result(self.matcher.rank(
                                ident, self.store.person_candidates(
                                    blocking_keys(ident, query=True))))
                            if found.band == "certain":
                                self.store.link_attendee(ident.row_id, found.person_id)
                                relinked += 1
                        self.store.set_meta(_RELINK_DONE, str(start + len(chunk)))
                    done = start + len(chunk)
                    if progress is not None:
                        progress(done, len(attendees))
        except StoreError as exc:
            raise StoreError(
                f"the register was loaded, but matching earlier attendees to it again stopped "
                f"after {done:,} of {len(attendees):,}: {exc} The rest are recorded; load the "
                "register again to finish.") from exc
        if attendees:
            log.info("register load: %d earlier attendee(s) matched again, %d left unlinked",
                     relinked, len(attendees) - relinked)
        return relinked

    # --- checking -------------------------------------------------------------------------------
    def check(self, attendance: Attendance, *, record: bool = True, user: str | None = None,
              match: MatchResult | None = None, prepared: Prepared | None = None
              ) -> CheckResult:
        """Flags and warnings for one attendance; recorded as history unless ``record=False``.

        Every check is audited: who asked (``user``, default the instance's), when, the
        attendance and the register persons shown. The attendee, history and audit rows are
        written in one transaction: all of them or none. ``match`` is this attendance's register
        match, or ``prepared`` all of :meth:`prepare`'s answer, when already made against the
        same register (batch workers make them).
        """
        if not isinstance(attendance, Attendance):
            raise TypeError(
                f"check() takes an Attendance, not {type(attendance).__name__}: for what "
                "read_attendances() and read_text() yield (an unreadable record is a "
                "MessageError) use check_item(), which gives it its error line")
        with self.store.transaction():
            if prepared is None:
                match = match or self._match(attendance)
                ids = self._identities(attendance, match.person_id)
                prepared = self._prepare(attendance, match, ids)
            else:
                ids = prepared.identities or self._identities(
                    attendance, prepared.match.person_id, prepared.parents_on_register)
            result, relatives = self._check(attendance, record=record, prepared=prepared,
                                            ids=ids)
            shown = (result.match.person_id, *(f.person_id for f in result.flags),
                     *(c.person_id for c in result.match.candidates), *relatives)
            self.store.record_audit(AuditEntry(
                at=datetime.now(timezone.utc), user=user or self.user,
                attendance_id=attendance.attendance_id,
                person_ids=tuple(p for p in dict.fromkeys(shown) if p), channel=self.channel))
        return result

    def prepare(self, attendance: Attendance, match: MatchResult | None = None) -> Prepared:
        """The part of a check that reads the register alone (see :class:`Prepared`);
        ``match`` is the register match when already made."""
        match = match or self._match(attendance)
        return self._prepare(attendance, match, self._identities(attendance, match.person_id))

    def _match(self, attendance: Attendance) -> MatchResult:
        return (self.matcher.match(attendance.patient, attendance.next_of_kin)
                if self.store.register_info()
                else MatchResult(band="none", method="no register loaded"))

    def _prepare(self, attendance: Attendance, match: MatchResult,
                 ids: _Identities) -> Prepared:
        person_id = match.person_id
        person = self.store.persons([person_id]).get(person_id) if person_id else None
        return Prepared(
            match=match, findings=injury_findings(attendance),
            rivals=self.matcher.register_rivals(ids.lookup, person_id) if person_id else (),
            parents_on_register=tuple(p.on_register for p in ids.parents),
            birth_date=person.birth_date if person is not None else None,
            register_family=family_of(
                self.store, person_id, attendance.arrival_date,
                address=attendance.patient.addresses[0] if attendance.patient.addresses else None,
                most=self.settings.rules.address_household_most),
            identities=ids)

    def _identities(self, attendance: Attendance, person_id: str | None,
                    parents_on_register: tuple[str | None, ...] | None = None) -> _Identities:
        """The child's identities and keys, and the parents named (matched to the register
        here unless ``parents_on_register`` already says who they are)."""
        query = demographics_identity(attendance.patient, kin=attendance.next_of_kin)
        child = (replace(query, kin_nhs=(), kin_names=(), kin_roles=())
                 if query.kin_nhs or query.kin_names or query.kin_roles else query)
        return _Identities(query=query, child=child, keys=frozenset(blocking_keys(query)),
                           lookup=frozenset(blocking_keys(query, query=True)),
                           parents=name_parents(self.store, self.matcher, attendance, child,
                                                person_id, parents_on_register))

    def _check(self, attendance: Attendance, *, record: bool, prepared: Prepared,
               ids: _Identities) -> tuple[CheckResult, tuple[str, ...]]:
        """The result, and the register persons whose attendances or plans its warnings show
        (for the audit)."""
        s = self.settings.rules
        arrival = attendance.arrival_date
        match, findings, person_id = prepared.match, prepared.findings, prepared.match.person_id
        query, child = ids.query, ids.child
        previous = self.store.attendance(attendance.attendance_id)
        if previous is not None:
            # A re-check of a recorded attendance (a rerun, an A08) keeps the child it was
            # linked to: matching it again against attendees that came later could split it.
            # It still reads the history of every attendee that is certainly this child, as
            # the first check did (a child first recorded badly has two), writing nothing.
            attendee_id = previous.attendee_id
            _, same = self.matcher.attendee_for(
                attendance.patient, person_id, attendance.next_of_kin, query=query,
                keys=ids.keys, lookup=ids.lookup, rivals=prepared.rivals, record=False)
            if person_id and previous.person_id is None and record:
                self.store.link_attendee(attendee_id, person_id)
            attendee_ids = sorted({attendee_id, *same})
        else:
            attendee_id, attendee_ids = self.matcher.attendee_for(
                attendance.patient, person_id, attendance.next_of_kin, query=query,
                keys=ids.keys, lookup=ids.lookup, rivals=prepared.rivals, record=record)
        parents = resolve_parents(self.store, self.matcher, attendee_id, attendance,
                                  person_id=person_id, record=record, child=child,
                                  named=ids.parents, rechecked=previous is not None)

        birth, birth_notes = _birth_date(prepared.birth_date, attendance)
        own_history = self.store.history(
            attendee_ids, until=attendance.arrival, exclude=attendance.attendance_id,
            since=arrival - timedelta(days=max(s.repeat_long_days, s.repeat_short_days)))

        family = build_family(self.store, person_id, attendee_ids, attendance.arrival, parents,
                              child, register=prepared.register_family,
                              most=s.address_household_most,
                              child_months=s.household_child_years * 12,
                              shared_days=s.home_shared_days,
                              attendance_id=attendance.attendance_id)
        rel_ids = [r.person_id for r in family.relatives]
        # the plans on record by the arrival date: a look-back over old attendances against
        # today's register must not show a plan that began later
        plans = [p for p in self.store.plans_of([*([person_id] if person_id else []), *rel_ids])
                 if p.start_date <= arrival]
        relatives = self._relative_views(family, plans, attendance)
        flags = flags_for(person_id or "", family, plans, arrival)

        ctx = RuleContext(attendance=attendance, settings=s, findings=findings,
                          age=Age.at(birth, arrival), person_id=person_id,
                          own_plans=tuple(p for p in plans if p.person_id == person_id),
                          own_history=tuple(own_history), relatives=relatives)
        warnings = evaluate(ctx)
        notes = [*attendance.notes, *birth_notes, *family.notes, *ctx.notes]

        if previous is not None and previous.warnings and attendance.event == "A08":
            repeated = [w.code for w in warnings if w.code in previous.warnings]
            if repeated:
                notes.append(f"already shown for attendance {attendance.attendance_id} "
                             f"({previous.event or 'earlier message'}): {', '.join(repeated)}")
                warnings = [w for w in warnings if w.code not in previous.warnings]
        if record:
            shown = tuple(dict.fromkeys((*(previous.warnings if previous else ()),
                                         *(w.code for w in warnings))))
            self.store.record_attendance(HistoryEntry(
                attendance_id=attendance.attendance_id, attendee_id=attendee_id,
                arrival=attendance.arrival, injury=bool(findings),
                findings=tuple(f.describe() for f in findings), event=attendance.event,
                person_id=person_id, warnings=shown))
            self.store.record_homes(attendance.attendance_id, attendee_id, attendance.arrival,
                                    child.premises)
        log.debug("checked attendance %s: band=%s flags=%d warnings=%d",
                  attendance.attendance_id, match.band, len(flags), len(warnings))
        result = CheckResult(attendance_id=attendance.attendance_id, arrival=attendance.arrival,
                             match=match, flags=tuple(flags), warnings=tuple(warnings),
                             message_id=attendance.message_id, injury=bool(findings),
                             notes=tuple(notes))
        return result, _relatives_shown(ctx, warnings)

    def _relative_views(self, family: Family, plans: list,
                        attendance: Attendance) -> tuple[RelativeView, ...]:
        if not family.relatives:
            return ()
        ids = [r.person_id for r in family.relatives]
        persons = self.store.persons(ids)
        attendees = self.store.attendees_of_persons(ids)
        own = {rel.person_id: list(dict.fromkeys((*attendees.get(rel.person_id, []),
                                                  *rel.attendee_ids)))
               for rel in family.relatives}
        everyone = list(dict.fromkeys(a for ids in own.values() for a in ids))
        # One read for every relative's history; past one query's worth of ids the store reads
        # in chunks, whose rows are not in one order, so each relative is then read alone.
        shared = (self.store.history(everyone, until=attendance.arrival, since=_EPOCH,
                                     exclude=attendance.attendance_id)
                  if len(everyone) <= _ONE_READ else None)
        views = []
        for rel in family.relatives:
            if shared is not None:
                mine = set(own[rel.person_id])
                history = [h for h in shared if h.attendee_id in mine]
            else:
                history = self.store.history(own[rel.person_id], until=attendance.arrival,
                                             since=_EPOCH, exclude=attendance.attendance_id)
            person = persons.get(rel.person_id)
            views.append(RelativeView(
                relative=rel, age=Age.at(person.birth_date if person else rel.birth,
                                         attendance.arrival_date),
                history=tuple(history),
                plans=tuple(p for p in plans if p.person_id == rel.person_id)))
        return tuple(views)

    def check_item(self, item: IngestItem, *, record: bool = True,
                   user: str | None = None) -> CheckResult:
        """A result for an ingest item: a check for an attendance, an error line otherwise."""
        if isinstance(item, MessageError):
            ref = item.message_ref or item.source or "unknown"
            kind = "not an arrival" if isinstance(item, NotAnArrival) else "unreadable"
            log.warning("%s record %s: %s", kind, ref, item.describe())
            return CheckResult(attendance_id=item.attendance_id or ref,
                               errors=(item.describe(),),
                               not_arrival=isinstance(item, NotAnArrival),
                               message_id=item.message_ref or "")
        return self.check(item, record=record, user=user)

    def check_items(self, items: Iterable[IngestItem], *, record: bool = True,
                    user: str | None = None) -> Iterator[CheckResult]:
        for item in items:
            yield self.check_item(item, record=record, user=user)

    def check_path(self, path: str | Path, *, fmt: str | None = None,
                   user: str | None = None) -> Iterator[CheckResult]:
        """Check every record in a file (HL7 v2, FHIR JSON/NDJSON or CSV), in input order; a
        record that arrived before one read earlier is logged (:mod:`safeflag.arrivals`)."""
        from .arrivals import ArrivalOrder
        from .ingest import read_attendances
        return self.check_items(ArrivalOrder(str(path)).watch(read_attendances(path, fmt=fmt)),
                                user=user)
