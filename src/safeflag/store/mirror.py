"""The attendance side of the store kept in memory while a batch runs.

A batch checks attendances one after another, and each check reads the attendee and parent
indexes and the history about twenty times. :class:`HistoryMirror` holds the attendees' and
parents' identities, their links and the history in memory so that most reads cost a
dictionary look-up instead of a query. The blocking keys stay in the database (they are most of
the attendance side's size): a candidate search asks the database which ids share a key, adds
the ids of keys not yet written, and takes the identities from memory. Writes are held back by
the store until its transaction commits (see :mod:`safeflag.store.sqlite`), so the database
stays the record and a killed batch loses nothing the database had.

The mirror answers exactly what the SQL reads of :class:`~safeflag.store.sqlite.SqliteStore`
answer, in the same order. It is used only inside a write transaction (no other connection can
write then) and is loaded again when another connection has committed since it was loaded
(``PRAGMA data_version``) or when a rollback may have undone writes it saw.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from datetime import datetime
from operator import itemgetter

from ..algo.compare import Identity, premise_unit
from . import HistoryEntry, HomeGiven, ParentLink
from ._rows import wall_text

__all__ = ["HistoryMirror"]

_ARRIVAL = itemgetter(0)        # of an ``arrivals`` row: (wall-clock arrival text, attendance id)


def _identity(stored: Identity | str) -> Identity:
    return Identity.from_json(stored) if isinstance(stored, str) else stored


class HistoryMirror:
    """Attendees, parents, their links and the attendance history, as the database holds them.

    Reads join as the store's SQL does: a link or an attendance whose attendee (or parent) has
    no row is not returned.

    Identities are kept as the JSON the database holds and parsed when first read (parsing is
    shared with the store's reads), so a mirror of a large history loads quickly.
    """

    def __init__(self) -> None:
        self.version: int | None = None         # PRAGMA data_version when loaded
        # attendee id -> stored identity JSON; an identity written since the last commit is
        # kept parsed until then (the check that wrote it reads it back), its JSON in ``written``
        self.attendee: dict[int, str | Identity] = {}
        self.written: dict[int, str] = {}
        self.last_attendee = 0                  # the highest attendee id (rowid) and parent id
        self.last_parent = 0
        self.attendee_person: dict[int, str | None] = {}
        self.person_attendees: dict[str, list[int]] = {}
        self.parent: dict[int, str] = {}
        self.parent_person: dict[int, str | None] = {}
        self.person_parents: dict[str, set[int]] = {}
        # blocking keys added since the last commit (the database has the rest)
        self.fresh_attendee_keys: dict[str, list[int]] = {}
        self.fresh_parent_keys: dict[str, list[int]] = {}
        self.fresh_keys_of_parent: dict[int, set[str]] = {}
        # homes given, by attendance, written since the last commit (the database has the rest:
        # one indexed read per check finds a home's attendances, so the whole history's homes
        # are not held in memory)
        self.fresh_homes: dict[str, list[HomeGiven]] = {}
        self.fresh_by_premise: dict[str, dict[str, HomeGiven]] = {}   # premise -> by attendance
        self.fresh_by_unit: dict[str, dict[str, list[HomeGiven]]] = {}   # unit -> by attendance
        # one copy of each findings, warnings, event, relationship and how-linked text
        self._strings: dict[str, str] = {}
        self._lists: dict[str, tuple[str, ...]] = {}     # findings or warnings text -> decoded
        # attendee_parent rows: by attendee (parent id -> (relationship, attendance id, how))
        # and by parent (attendee ids in the order the links were made, as the table's rowid)
        self.links: dict[int, dict[int, tuple[str, str, str]]] = {}
        self.children: dict[int, list[int]] = {}
        # attendance rows: id -> (attendee id, wall arrival, injury, findings, event, warnings)
        self.attendance: dict[str, tuple[int, str, bool, str, str, str]] = {}
        self.arrivals: dict[int, list[tuple[str, str]]] = {}   # attendee -> sorted (arrival, id)

    @classmethod
    def load(cls, db: sqlite3.Connection, version: int) -> "HistoryMirror":
        """Everything the attendance side of the database holds, as of ``version``."""
        m = cls()
        m.version = version
        one = m._one                            # the same few texts repeat a million times
        for aid, person, text in db.execute(
                "SELECT attendee_id, person_id, identity FROM attendee ORDER BY attendee_id"):
            m.attendee[aid] = text
            m.attendee_person[aid] = person
            m.last_attendee = aid
            if person is not None:
                m.person_attendees.setdefault(person, []).append(aid)
        for pid, person, text in db.execute(
                "SELECT parent_id, person_id, identity FROM parent ORDER BY parent_id"):
            m.parent[pid] = text
            m._set_parent_person(pid, person)
            m.last_parent = pid
        for aid, pid, rel, att, how in db.execute(
                "SELECT attendee_id, parent_id, relationship, attendance_id, how "
                "FROM attendee_parent ORDER BY rowid"):
            m.links.setdefault(aid, {})[pid] = (one(rel), att, one(how))
            m.children.setdefault(pid, []).append(aid)
        for row in db.execute("SELECT attendance_id, attendee_id, arrival, injury, findings, "
                              "event, warnings FROM attendance"):
            m._put_attendance(row[0], (row[1], row[2], bool(row[3]), one(row[4]), one(row[5]),
                                       one(row[6])))
        return m

    # --- reads: the answers of SqliteStore's queries ---------------------------------------
    def attendee_candidates(self, keys: Iterable[str], stored: Iterable[int]) -> list[Identity]:
        """Attendees under ``keys``: ``stored`` are the ids the database has under them."""
        found = {*stored, *(a for k in keys for a in self.fresh_attendee_keys.get(k, ()))}
        return [_identity(self.attendee[a]) for a in sorted(found) if a in self.attendee]

    def attendees(self, ids: Iterable[int]) -> list[Identity]:
        return [_identity(self.attendee[a]) for a in sorted(set(ids)) if a in self.attendee]

    def parents(self, ids: Iterable[int]) -> list[Identity]:
        return [_identity(self.parent[p]) for p in sorted(set(ids)) if p in self.parent]

    def attendees_of_persons(self, ids: Iterable[str]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for pid in sorted(set(ids)):
            found = self.person_attendees.get(pid)
            if found:
                out[pid] = list(found)
        return out

    def persons_of_attendees(self, ids: Iterable[int]) -> dict[int, str]:
        return {a: p for a in sorted(set(ids)) if (p := self.attendee_person.get(a)) is not None}

    def parent_candidates(self, keys: Iterable[str], stored: Iterable[int]) -> list[Identity]:
        """Parent nodes under ``keys``: ``stored`` are the ids the database has under them."""
        found = {*stored, *(p for k in keys for p in self.fresh_parent_keys.get(k, ()))}
        return [_identity(self.parent[p]) for p in sorted(found) if p in self.parent]

    def parent_of_person(self, person_id: str) -> int | None:
        return min(self.person_parents.get(person_id, ()), default=None)

    def parents_of_attendees(self, attendee_ids: Iterable[int]) -> list[ParentLink]:
        return [self._link(aid, pid)
                for aid in sorted(set(attendee_ids)) if aid in self.attendee
                for pid in sorted(self.links.get(aid, ())) if pid in self.parent]

    def children_of_parents(self, parent_ids: Iterable[int]) -> list[ParentLink]:
        return [self._link(aid, pid)
                for pid in sorted(set(parent_ids)) if pid in self.parent
                for aid in self.children.get(pid, ()) if aid in self.attendee]

    def _link(self, attendee_id: int, parent_id: int) -> ParentLink:
        relationship, attendance_id, how = self.links[attendee_id][parent_id]
        return ParentLink(attendee_id, parent_id, relationship, attendance_id,
                          self.attendee_person.get(attendee_id), self.parent_person.get(parent_id),
                          how)

    def entry(self, attendance_id: str) -> HistoryEntry | None:
        row = self.attendance.get(attendance_id)
        return (self._entry(attendance_id, row)
                if row is not None and row[0] in self.attendee else None)

    def history(self, attendee_ids: Iterable[int], *, until: str, since: str,
                exclude: str) -> list[HistoryEntry]:
        """``until`` and ``since`` as the store compares them: wall-clock ISO text."""
        found: list[tuple[str, str]] = []
        for a in set(attendee_ids):
            rows = self.arrivals.get(a)
            if rows and a in self.attendee:   # sorted: the window is two bisections away
                window = rows[bisect_left(rows, since, key=_ARRIVAL):
                              bisect_right(rows, until, key=_ARRIVAL)]
                found.extend(row for row in window if row[1] != exclude)
        found.sort()
        return [self._entry(aid, self.attendance[aid]) for _, aid in found]

    def homes_given(self, stored: list[HomeGiven], premises: list[str], since: str,
                    until: str) -> list[HomeGiven]:
        """``stored``, the database's rows for ``premises`` from ``since`` to ``until``
        (wall-clock text), with the homes written since the last commit in place of theirs."""
        if not self.fresh_homes:
            return stored
        fresh = [h for p in premises for h in self.fresh_by_premise.get(p, {}).values()
                 if since <= wall_text(h.arrival) <= until]
        return [*(h for h in stored if h.attendance_id not in self.fresh_homes), *fresh]

    def attendances_of(self, attendee_ids: Iterable[int], exclude: str) -> dict[str, int]:
        """The attendances of these attendees but ``exclude``, each with its attendee (as the
        ``attendance`` table holds them, whether or not the attendee has a row)."""
        return {aid: a for a in sorted(set(attendee_ids)) for _, aid in self.arrivals.get(a, ())
                if aid != exclude}

    def homes_of(self, stored: list[HomeGiven], attendances: dict[str, int],
                 units: list[str]) -> list[HomeGiven]:
        """The homes ``attendances`` (from :meth:`attendances_of`) gave and those given in
        ``units``, each once: ``stored`` are the database's rows for the attendances not
        written since the last commit and for the units; the homes written since then are
        taken from memory in place of theirs."""
        found = {h: None for h in stored if h.attendance_id not in self.fresh_homes and (
            attendances.get(h.attendance_id) == h.attendee_id
            or premise_unit(h.premise) in units)}
        for aid, attendee in attendances.items():
            found.update((h, None) for h in self.fresh_homes.get(aid, ())
                         if h.attendee_id == attendee)
        for unit in units:
            found.update((h, None) for homes in self.fresh_by_unit.get(unit, {}).values()
                         for h in homes)
        return list(found)

    def _entry(self, attendance_id: str, row: tuple) -> HistoryEntry:
        attendee_id, arrival, injury, findings, event, warnings = row
        return HistoryEntry(attendance_id=attendance_id, attendee_id=attendee_id,
                            arrival=datetime.fromisoformat(arrival), injury=injury,
                            findings=self._decoded(findings), event=event,
                            person_id=self.attendee_person.get(attendee_id),
                            warnings=self._decoded(warnings))

    def _decoded(self, text: str) -> tuple[str, ...]:
        """The JSON list ``text`` (findings, warnings) as a tuple, decoded once per distinct
        text: the same few lists repeat across a million attendances."""
        found = self._lists.get(text)
        if found is None:
            found = self._lists[text] = tuple(json.loads(text))
        return found

    # --- writes, after the database took them ----------------------------------------------
    def add_attendee(self, attendee_id: int, stored: str, keys: Iterable[str],
                     person_id: str | None, parsed: Identity | None = None) -> None:
        self._put_identity(attendee_id, stored, parsed)
        self.attendee_person[attendee_id] = person_id
        self.last_attendee = max(self.last_attendee, attendee_id)
        if person_id is not None:
            insort(self.person_attendees.setdefault(person_id, []), attendee_id)
        for key in keys:
            self.fresh_attendee_keys.setdefault(key, []).append(attendee_id)

    def update_attendee(self, attendee_id: int, stored: str, new_keys: Iterable[str],
                        parsed: Identity | None = None) -> None:
        if attendee_id not in self.attendee:
            return                                   # the UPDATE matched no row either
        self._put_identity(attendee_id, stored, parsed)
        for key in new_keys:
            self.fresh_attendee_keys.setdefault(key, []).append(attendee_id)

    def link_attendee(self, attendee_id: int, person_id: str | None) -> None:
        """``person_id`` ``None``: the attendee is no longer linked to anyone."""
        if attendee_id not in self.attendee:
            return                                   # the UPDATE matched no row either
        before = self.attendee_person.pop(attendee_id, None)
        if before is not None:
            self.person_attendees[before].remove(attendee_id)
        if person_id is not None:
            self.attendee_person[attendee_id] = person_id
            insort(self.person_attendees.setdefault(person_id, []), attendee_id)

    def put_parent(self, parent_id: int, stored: str, new_keys: Iterable[str],
                   person_id: str | None) -> None:
        """A parent node written (added, or updated with ``COALESCE(person_id)``)."""
        self.parent[parent_id] = stored
        self.last_parent = max(self.last_parent, parent_id)
        if person_id is not None or parent_id not in self.parent_person:
            self._set_parent_person(parent_id, person_id)
        known = self.fresh_keys_of_parent.setdefault(parent_id, set())
        for key in new_keys:
            known.add(key)
            self.fresh_parent_keys.setdefault(key, []).append(parent_id)

    def fresh_parent_key_set(self, parent_id: int) -> set[str]:
        """The keys of ``parent_id`` added since the last commit."""
        return self.fresh_keys_of_parent.get(parent_id, set())

    def _put_identity(self, attendee_id: int, stored: str, parsed: Identity | None) -> None:
        if parsed is None:
            self.attendee[attendee_id] = stored
            self.written.pop(attendee_id, None)
        else:
            self.attendee[attendee_id] = parsed
            self.written[attendee_id] = stored

    def settled(self) -> None:
        """The held-back writes are in the database: it answers for their keys from now on,
        and the identities written are held as JSON again (a long run's memory stays bounded)."""
        for attendee_id, stored in self.written.items():
            if attendee_id in self.attendee:
                self.attendee[attendee_id] = stored
        self.written.clear()
        self.fresh_attendee_keys.clear()
        self.fresh_parent_keys.clear()
        self.fresh_keys_of_parent.clear()
        self.fresh_homes.clear()
        self.fresh_by_premise.clear()
        self.fresh_by_unit.clear()

    def record_homes(self, attendance_id: str, homes: list[HomeGiven]) -> None:
        for before in self.fresh_homes.get(attendance_id, ()):
            del self.fresh_by_premise[before.premise][attendance_id]
            self.fresh_by_unit[premise_unit(before.premise)].pop(attendance_id, None)
        self.fresh_homes[attendance_id] = homes
        for home in homes:
            self.fresh_by_premise.setdefault(home.premise, {})[attendance_id] = home
            self.fresh_by_unit.setdefault(premise_unit(home.premise), {}).setdefault(
                attendance_id, []).append(home)

    def link_parent(self, link: ParentLink) -> None:
        mine = self.links.setdefault(link.attendee_id, {})
        if link.parent_id in mine:
            return                                   # ON CONFLICT DO NOTHING: the first kept
        mine[link.parent_id] = (self._one(link.relationship), link.attendance_id,
                                self._one(link.how))
        self.children.setdefault(link.parent_id, []).append(link.attendee_id)

    def unlink_parent(self, attendee_id: int, parent_id: int) -> None:
        if self.links.get(attendee_id, {}).pop(parent_id, None) is not None:
            self.children[parent_id].remove(attendee_id)

    def record_attendance(self, entry: HistoryEntry, arrival: str, findings: str,
                          warnings: str) -> None:
        one = self._one
        self._put_attendance(entry.attendance_id, (entry.attendee_id, arrival, entry.injury,
                                                   one(findings), one(entry.event),
                                                   one(warnings)))

    def _one(self, text: str) -> str:
        """The one copy kept of ``text`` (findings, warnings, event, relationship and
        how-linked texts repeat across a million attendances)."""
        return self._strings.setdefault(text, text)

    def _put_attendance(self, attendance_id: str, row: tuple[int, str, bool, str, str, str]
                        ) -> None:
        before = self.attendance.get(attendance_id)
        if before is not None:                       # an upsert: the row moves
            self.arrivals[before[0]].remove((before[1], attendance_id))
        self.attendance[attendance_id] = row
        insort(self.arrivals.setdefault(row[0], []), (row[1], attendance_id))

    def _set_parent_person(self, parent_id: int, person_id: str | None) -> None:
        before = self.parent_person.get(parent_id)
        if before is not None:
            self.person_parents[before].discard(parent_id)
        self.parent_person[parent_id] = person_id
        if person_id is not None:
            self.person_parents.setdefault(person_id, set()).add(parent_id)
