"""Storage: the register and the attendance history, behind one small interface.

:class:`Store` is what the pipeline stages use. :class:`SqliteStore` is the embedded default
(one file, WAL mode); ``SqliteStore(":memory:")`` is the in-memory store tests use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from ..algo.compare import Identity
from ..models import AddressPeriod, Person, Plan, Register, Relationship

__all__ = ["Store", "HistoryEntry", "HomeGiven", "RegisterInfo", "AuditEntry", "ParentLink",
           "default_db_path", "open_store"]


@dataclass(frozen=True)
class HistoryEntry:
    """One attendance as kept for later checks (no names: identifiers and findings only)."""

    attendance_id: str
    attendee_id: int
    arrival: datetime
    injury: bool
    findings: tuple[str, ...] = ()
    event: str = ""
    person_id: str | None = None
    warnings: tuple[str, ...] = ()    # warning codes already shown for this attendance


@dataclass(frozen=True)
class HomeGiven:
    """A home an attendance gave: its premises (``UNIT|marks``,
    :func:`~safeflag.algo.compare.premise_key`), whose attendance it was and when."""

    premise: str
    attendee_id: int
    attendance_id: str
    arrival: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One look-up: who asked, when, for which attendance, and whose flags were shown.

    Identifiers only: a user or system id, the attendance id and register person ids.
    """

    at: datetime                      # when the check ran (UTC)
    user: str                         # who asked: a user or system id
    attendance_id: str
    person_ids: tuple[str, ...] = ()  # register persons whose flags or records were shown
    channel: str = ""                 # how: check, batch, library


@dataclass(frozen=True)
class ParentLink:
    """An attendee's parent as named on an attendance (NK1 / RelatedPerson), no names kept.

    ``parent_id`` is a node of the parent index: every attendance naming the same mother (same
    NHS number, or name with birth date/address matched with certainty) shares one node.
    ``parent_person_id`` is set when that parent was matched to a register person.

    ``how`` is how the attendance that made the link found the node
    (:attr:`safeflag.family.ResolvedParent.how`: ``nhs number``, ``demographics``,
    ``register``, ``renamed``, ``new``); ``""`` when not recorded (a link made before schema
    version 4). Like ``attendance_id`` it is the first link's: naming the parent again, or a
    re-check of the attendance, does not change it.
    """

    attendee_id: int
    parent_id: int
    relationship: str                 # mother, father or parent
    attendance_id: str = ""           # the attendance that named the parent
    attendee_person_id: str | None = None
    parent_person_id: str | None = None
    how: str = ""                     # how that attendance's parent was found to be the node


@dataclass(frozen=True)
class RegisterInfo:
    loaded_at: str
    source: str
    persons: int
    relationships: int
    plans: int
    #: earlier attendees linked to a person this load no longer holds (by that person_id):
    #: how many were matched again to a person it does hold, and how many were left unlinked
    relinked: int = 0
    unlinked: int = 0


class Store(Protocol):
    """What the pipeline needs from storage."""

    # register
    def replace_register(self, register: Register, index: Sequence[tuple[Identity, set[str]]],
                         *, source: str, meta: Mapping[str, str] | None = None
                         ) -> RegisterInfo: ...
    def register_info(self) -> RegisterInfo | None: ...
    def person_candidates(self, keys: Iterable[str]) -> list[Identity]: ...
    def persons(self, ids: Iterable[str]) -> dict[str, Person]: ...
    def relationships_touching(self, ids: Iterable[str]) -> list[Relationship]: ...
    def plans_of(self, ids: Iterable[str]) -> list[Plan]: ...
    def addresses_of(self, ids: Iterable[str]) -> list[AddressPeriod]: ...
    def addresses_at(self, postcodes: Iterable[str]) -> list[AddressPeriod]: ...  # by postcode_key

    # attendance history
    def attendee_candidates(self, keys: Iterable[str]) -> list[Identity]: ...
    def attendees(self, ids: Iterable[int]) -> list[Identity]: ...   # by attendee id
    def attendees_of_persons(self, ids: Iterable[str]) -> dict[str, list[int]]: ...
    def persons_of_attendees(self, ids: Iterable[int]) -> dict[int, str]: ...  # linked ones
    def attendee_person_links(self) -> dict[int, str]: ...   # every linked attendee's person
    def add_attendee(self, ident: Identity, keys: set[str], person_id: str | None) -> int: ...
    def link_attendee(self, attendee_id: int, person_id: str | None) -> None: ...  # None: unlink
    def update_attendee(self, attendee_id: int, ident: Identity, new_keys: set[str]) -> None: ...
    def record_attendance(self, entry: HistoryEntry) -> None: ...
    def attendance(self, attendance_id: str) -> HistoryEntry | None: ...
    def history(self, attendee_ids: Iterable[int], *, until: datetime, since: date,
                exclude: str = "") -> list[HistoryEntry]: ...
    def record_homes(self, attendance_id: str, attendee_id: int, arrival: datetime,
                     premises: Sequence[str]) -> None: ...   # replaces the attendance's homes
    def homes_given(self, premises: Iterable[str], *, until: datetime,
                    since: date) -> list[HomeGiven]: ...     # these very homes
    def homes_of(self, attendee_ids: Iterable[int], units: Iterable[str] = (), *,
                 exclude: str = "") -> list[HomeGiven]: ...  # theirs, and the units', any date

    # parents named on attendances (the attendance-derived family graph)
    def parent_candidates(self, keys: Iterable[str]) -> list[Identity]: ...
    def parents(self, ids: Iterable[int]) -> list[Identity]: ...     # by parent id
    def add_parent(self, ident: Identity, keys: set[str], person_id: str | None) -> int: ...
    def update_parent(self, parent_id: int, ident: Identity, keys: set[str],
                      person_id: str | None) -> None: ...
    def parent_of_person(self, person_id: str) -> int | None: ...
    def link_parent(self, link: ParentLink) -> None: ...   # an existing link is kept as is
    def unlink_parent(self, attendee_id: int, parent_id: int) -> None: ...
    def parents_of_attendees(self, attendee_ids: Iterable[int]) -> list[ParentLink]: ...
    def children_of_parents(self, parent_ids: Iterable[int]) -> list[ParentLink]: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...

    # audit of look-ups
    def record_audit(self, entry: AuditEntry) -> None: ...
    def audit_entries(self, *, since: datetime | None = None,
                      user: str | None = None) -> Iterator[AuditEntry]: ...
    def transaction(self) -> AbstractContextManager: ...   # nestable; one commit at the end
    def keep_history(self) -> AbstractContextManager: ...  # a long run of checks: may keep
    #                                                          the attendance side in memory
    def give_way(self) -> AbstractContextManager: ...      # a long run of writes: other
    #                                                          writers go first, between groups
    def close(self) -> None: ...


def default_db_path() -> Path:
    """``$SAFEFLAG_DB``, else ``$XDG_DATA_HOME/safeflag/safeflag.db`` (``~/.local/share``)."""
    env = os.environ.get("SAFEFLAG_DB")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "safeflag" / "safeflag.db"


def open_store(path: str | Path | None = None) -> "Store":
    """Open (creating if needed) the SQLite store at ``path`` or the default location."""
    from .sqlite import SqliteStore
    return SqliteStore(path if path is not None else default_db_path())
