"""The embedded SQLite store: register, blocking index, attendee index and history in one file.

Writes happen in transactions; a register reload replaces every register table inside one
transaction, so a failed load leaves the old register in place. History writes are idempotent
on attendance id (an A08 update replaces its A01/A04). WAL mode and a busy timeout let several
processes read and write the same file; triage writes go before a batch's next group
(:mod:`.priority`).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import sqlite3
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import NoReturn, TypeVar

from pydantic import BaseModel

from ..algo.compare import Identity
from ..errors import StoreError
from ..models import AddressPeriod, Person, Plan, Register, Relationship
from . import AuditEntry, HistoryEntry, HomeGiven, ParentLink, RegisterInfo
from ._rows import (HISTORY_SELECT, PARENT_SELECT, SCHEMA, add_column, chunks, columns_to_add,
                    history_entry, key_tables_to_rebuild, postcode_key, rebuild_key_table,
                    utc_text, wall_text)
from .mirror import HistoryMirror
from .priority import WritePriority

__all__ = ["SqliteStore", "SCHEMA_VERSION"]

#: 2: the blocking-key tables are stored without a rowid (``_rows.KEY_TABLES``).
#: 3: the homes each attendance gave, dated (``home``); an older safeflag would record
#: attendances without them, and leave an updated attendance's old home in place.
#: 4: how each attendee's link to a parent node was made (``attendee_parent.how``,
#: ``_rows.ADDED_COLUMNS``); an older safeflag would make links without it.
SCHEMA_VERSION = 4
log = logging.getLogger("safeflag.store")

_REGISTER_TABLES = ("person", "person_key", "relationship", "plan", "address")

#: Register reads kept per kind of read (persons, plans, ...); past it, the least recently used
#: goes. Each process of a batch keeps its own (see docs/performance.md for the measured sizes).
_REGISTER_READS_KEPT = 10_000
#: The history mirror is loaded again at most once per this many times its last load's duration.
_RELOAD_SPACING = 20
#: The most attendances the history mirror holds (about 0.6 KB each with their attendees and
#: links): past it, reads go to the database for the rest of the run, so a batch over a long
#: history stays within memory (docs/performance.md: 1,000,000 keeps a batch under 2 GB).
MIRROR_MOST = 1_000_000
#: SQLite's page cache (KiB) while a long run keeps the history (its default is 2,000 KiB):
#: the candidate searches read the key tables, which outgrow it early. 64 MiB took 4–6 % off
#: a batch's CPU over 100,000 attendances for about 60 MiB more (docs/performance.md).
RUN_CACHE_KIB = 65_536
_UNREAD = object()
_HOME_SELECT = "SELECT premise, attendee_id, attendance_id, arrival FROM home"
# (a key already held is not an error: the key tables are keyed by (key, id))
_ADD_ATTENDEE_KEY = "INSERT OR IGNORE INTO attendee_key VALUES (?, ?)"
_ADD_PARENT_KEY = "INSERT OR IGNORE INTO parent_key VALUES (?, ?)"
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _home_order(home: HomeGiven) -> tuple:
    return home.arrival, home.attendance_id, home.premise


#: The most values one read of ``home`` binds (SQLite's limit was 999 before 3.32).
_ONE_STATEMENT = 900


@lru_cache(maxsize=256)
def _home_statement(by: str, keys: int, ranges: int) -> str:
    """One read of ``home``: the rows of ``keys`` attendees' attendances (``by`` "attendee":
    the attendance table's index, one attendance left out) or of ``keys`` attendances (``by``
    "attendance"), and those in ``ranges`` ranges of premise keys, as one UNION ALL."""
    marks = ",".join("?" * keys)
    reads = ([] if not keys else [
        "SELECT h.premise, h.attendee_id, h.attendance_id, h.arrival FROM attendance t JOIN "
        "home h ON h.attendance_id = t.attendance_id AND h.attendee_id = t.attendee_id "
        f"WHERE t.attendee_id IN ({marks}) AND t.attendance_id != ?"] if by == "attendee"
        else [f"{_HOME_SELECT} WHERE attendance_id IN ({marks})"])
    reads += [f"{_HOME_SELECT} WHERE premise >= ? AND premise < ?"] * ranges
    return " UNION ALL ".join(reads)


def _advice(exc: BaseException) -> str:
    """What to do about a database error, by SQLite's own wording."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return ("The database file or its folder is read-only for this user: check the "
                "permissions, or use another database (--db or SAFEFLAG_DB).")
    if "locked" in text or "busy" in text:
        return ("Another process held the database for longer than the wait allows: try "
                "again when it has finished.")
    if "malformed" in text or "not a database" in text or "disk image" in text:
        return ("The file is damaged or is not a safeflag database: restore it from a backup, "
                "or use another database (--db or SAFEFLAG_DB).")
    return "Check the path (--db or SAFEFLAG_DB) and that its folder is writable."


class _Closed:
    """A store's connection after :meth:`SqliteStore.close`: any use of it is a
    :class:`StoreError` that says the database was closed."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __getattr__(self, name: str) -> NoReturn:
        raise StoreError(f"the database at {self._path} was closed; open it again "
                         "(Safeflag.open) to go on")


class SqliteStore:
    """:class:`~safeflag.store.Store` on one SQLite file (or ``":memory:"``)."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = str(path)
        # Register reads, kept for as long as the same register is loaded (see _register_reads)
        self._reads: dict[str, OrderedDict[Hashable, object]] = {}
        self._data_version: int | None = None
        self._register_checked = False
        # the attendance side kept in memory while a batch runs (see keep_history), and the
        # attendance-side writes held back, in order, while it answers reads: written with
        # executemany just before the transaction commits
        self._keep_history = False
        self._behind: list[tuple[str, tuple]] = []
        self._mirror: HistoryMirror | None = None
        self._mirror_checked = False
        self._mirror_next_load = 0.0       # time.monotonic() before which it is not reloaded
        self._mirror_most = MIRROR_MOST
        self._giving_way = False           # a batch: wait for other writers before each group
        self._priority = WritePriority(":memory:")   # the file's own, once the database opens
        self._forget_register()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA schema_version")   # fails here if it is no database
            self._priority = WritePriority(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._refuse_newer(self._stored_version())   # before anything is created in it
            self._db.executescript(SCHEMA)     # IF NOT EXISTS throughout: no write when present
            version = self._stored_version()
            if version != str(SCHEMA_VERSION):
                self._upgrade()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database at {self.path}: {exc}. "
                             f"{_advice(exc)}") from exc

    def _stored_version(self) -> str | None:
        """The schema version the database records; ``None`` for a new (or pre-meta) one."""
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                            "AND name = 'meta'").fetchone() is None:
            return None
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return row[0] if row else None

    def _refuse_newer(self, stored: str | None) -> None:
        """A database a newer safeflag made (or one whose version this one cannot read) is
        never written to by this one: its tables may mean something this version does not
        know."""
        if stored is None or (stored.isdigit() and int(stored) <= SCHEMA_VERSION):
            return
        self._db.close()
        which = (f"was made by a newer safeflag (schema version {stored}; this one knows up "
                 f"to {SCHEMA_VERSION})" if stored.isdigit()
                 else "records a schema version this safeflag cannot read")
        raise StoreError(f"the database at {self.path} {which}; nothing was changed. Upgrade "
                         "safeflag, or use another database (--db or SAFEFLAG_DB).")

    def _upgrade(self) -> None:
        """Bring a new or older database to :data:`SCHEMA_VERSION`, in one transaction (a
        database already there is not written to)."""
        with self.transaction() as db:
            for table in key_tables_to_rebuild(db):
                log.info("rebuilding %s of %s without a rowid (once)", table, self.path)
                rebuild_key_table(db, table)
            for table, column, definition in columns_to_add(db):
                log.info("adding %s.%s to %s (once)", table, column, self.path)
                add_column(db, table, column, definition)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                       (str(SCHEMA_VERSION),))

    # --- plumbing -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls become savepoints inside the outer one, so a
        caller can group many writes into one commit (all kept, or none)."""
        if self._db.in_transaction:
            yield from self._savepoint()
            return
        if self._keep_history:
            self._refresh_mirror()             # before the write lock: nobody waits on a load
        turn: AbstractContextManager[None]
        if self._giving_way:
            self._priority.wait_for_others()
            turn = nullcontext()
        else:
            turn = self._priority.first()
        with turn:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a write to {self.path}: {exc}. "
                                 f"{_advice(exc)}") from exc
            self._register_checked = False
            self._mirror_checked = False
            try:
                yield self._db
                self._flush()
            except BaseException as exc:
                self._behind.clear()
                self._roll_back()
                self._forget_register()        # the rollback may have undone a register load
                if isinstance(exc, sqlite3.Error):
                    raise self._write_error(exc) from exc
                raise
            else:
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._behind.clear()
                    self._roll_back()          # never leave the transaction open
                    self._forget_register()
                    raise StoreError(f"cannot commit to {self.path}: {exc}. "
                                     f"{_advice(exc)}") from exc

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"cannot write to {self.path}: {exc}. {_advice(exc)}")

    def _roll_back(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass       # SQLite rolled back already (a failed commit, a damaged file)

    @contextmanager
    def give_way(self) -> Iterator[None]:
        """For a long run of write transactions (a batch): before each, wait while any other
        connection's writer is waiting for the write lock or holding it, so that triage checks
        do not queue behind the run (:mod:`.priority`)."""
        self._giving_way = True
        try:
            yield
        finally:
            self._giving_way = False

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        held = len(self._behind)
        self._db.execute("SAVEPOINT nested")
        try:
            yield self._db
        except BaseException as exc:
            del self._behind[held:]
            try:
                self._db.execute("ROLLBACK TO nested")
                self._db.execute("RELEASE nested")
            except sqlite3.Error:
                pass      # SQLite already rolled the whole transaction back (a full disk)
            self._forget_register()
            if isinstance(exc, sqlite3.Error):    # the database, not the record: stop the run
                raise self._write_error(exc) from exc
            raise
        self._db.execute("RELEASE nested")

    def _forget_mirror(self) -> None:
        """Stop answering from memory; what was held back is written first, because reads go
        to the database from here."""
        if self._behind:
            self._flush()
        self._mirror = None

    def _write(self, sql: str, params: tuple) -> None:
        """An attendance-side write: held back until the commit while the mirror answers the
        reads (inside a write transaction, so nobody else reads it before then either)."""
        if self._mirrored() is not None:
            self._behind.append((sql, params))
        else:
            self._write_one(sql, params)

    def _flush(self) -> None:
        """Write what was held back, in order (runs of one statement as one executemany)."""
        held, self._behind = self._behind, []
        try:
            for sql, rows in itertools.groupby(held, key=lambda w: w[0]):
                self._db.executemany(sql, [params for _, params in rows])
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc
        if self._mirror is not None:
            self._mirror.settled()

    def _write_one(self, sql: str, params: Sequence) -> None:
        """One write statement. Inside a transaction it takes no savepoint of its own: SQLite
        undoes a failed statement by itself, leaving the transaction as it was. Outside one, it
        is its own transaction."""
        if self._db.in_transaction:
            self._db.execute(sql, params)
            return
        with self.transaction() as db:
            db.execute(sql, params)

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the database at {self.path}: {exc}") from exc

    def _in(self, sql: str, values: Iterable, extra: Sequence = ()) -> list[tuple]:
        values = list(dict.fromkeys(values))
        rows: list[tuple] = []
        for chunk in chunks(values):
            marks = ",".join("?" * len(chunk))
            rows.extend(self._query(sql.format(marks=marks), (*chunk, *extra)))
        return rows

    def close(self) -> None:
        """Close the connection; closing again does nothing, and any other use after it is a
        :class:`StoreError` saying so (not sqlite3's ProgrammingError from deep inside)."""
        if isinstance(self._db, _Closed):
            return
        self._db.close()
        self._priority.close()
        self._db = _Closed(self.path)

    # --- the attendance side in memory, for a batch ----------------------------------------
    @contextmanager
    def keep_history(self, most: int | None = None) -> Iterator[None]:
        """Answer attendee, parent and history reads from memory inside write transactions
        (:class:`~safeflag.store.mirror.HistoryMirror`); writes still go to the database first.
        For a long run of checks on one connection: the first read loads the attendance side
        of the database, and it is loaded again only after another connection has written.
        A history of more than ``most`` attendances is not kept (or no longer kept, once it
        grows past that; default :data:`MIRROR_MOST`): reads then go to the database, with the
        same answers. SQLite's page cache is raised to :data:`RUN_CACHE_KIB` meanwhile (the
        blocking-key and home reads stay in the database)."""
        self._keep_history = True
        self._mirror_most = MIRROR_MOST if most is None else most
        cache = self._query("PRAGMA cache_size")[0][0]
        self._db.execute(f"PRAGMA cache_size = -{RUN_CACHE_KIB}")
        try:
            yield
        finally:
            self._keep_history = False
            self._forget_mirror()
            self._mirror_next_load = 0.0
            self._db.execute(f"PRAGMA cache_size = {int(cache)}")

    def _mirrored(self) -> HistoryMirror | None:
        """The mirror, when reads may come from it: kept, inside a write transaction (nobody
        else can write), and loaded since the last commit of another connection. Checked once
        per transaction; it is loaded only before a write transaction begins
        (:meth:`_refresh_mirror`), never while this connection holds the write lock."""
        if not (self._keep_history and self._db.in_transaction):
            return None
        if not self._mirror_checked:
            self._mirror_checked = True
            version = self._query("PRAGMA data_version")[0][0]
            if self._mirror is not None and self._mirror.version != version:
                self._forget_mirror()          # written since it was loaded: reads go to SQLite
            if self._mirror is not None and len(self._mirror.attendance) > self._mirror_most:
                self._too_long_to_keep()
        return self._mirror

    def _refresh_mirror(self) -> None:
        """Load the mirror, or load it again after another connection has written, before a
        write transaction begins: in a read transaction of its own, so the write lock is not
        held while loading (at 100,000 attendances a load takes about a second, and a triage
        check would wait for it). If someone writes between the load and the write
        transaction, :meth:`_mirrored` sees it and the reads go to the database instead.

        After another connection's write the mirror is loaded again at most once per
        :data:`_RELOAD_SPACING` times the last load's duration; until then reads go to the
        database, so frequent writers cannot make a batch spend its time reloading."""
        if self._db.in_transaction:
            return
        if self._mirror is not None:
            if self._mirror.version == self._query("PRAGMA data_version")[0][0]:
                return
            self._forget_mirror()
        if time.monotonic() < self._mirror_next_load:
            return
        started = time.monotonic()
        try:
            self._db.execute("BEGIN")          # one snapshot for the count, version and load
            try:
                # MAX(rowid): at least the number of attendances, without counting them
                held = self._db.execute("SELECT MAX(rowid) FROM attendance").fetchone()[0] or 0
                if held > self._mirror_most:
                    self._too_long_to_keep()
                    return
                version = self._db.execute("PRAGMA data_version").fetchone()[0]
                self._mirror = HistoryMirror.load(self._db, version)
            finally:
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the database at {self.path}: {exc}") from exc
        took = time.monotonic() - started
        self._mirror_next_load = started + took * _RELOAD_SPACING
        log.debug("history kept in memory: %d attendances loaded in %.2fs",
                  len(self._mirror.attendance), took)

    def _too_long_to_keep(self) -> None:
        log.info("the history is over %d attendances: read from the database from now on",
                 self._mirror_most)
        self._forget_mirror()
        self._mirror_next_load = math.inf

    # --- register reads, kept per register load -------------------------------------------
    # The register tables change only through replace_register, so their reads are kept for
    # as long as the same register is loaded. They are dropped when this connection replaces
    # the register or rolls back (which may undo a replacement), and when another connection
    # has committed (PRAGMA data_version moved) and the stored RegisterInfo differs. Inside
    # one write transaction nobody else can commit, so the check runs once per transaction.
    def _forget_register(self) -> None:
        self._reads.clear()
        # a rollback or a reload may have undone what the mirror holds (a rollback has already
        # dropped the held-back writes it undid)
        self._forget_mirror()
        self._register_loaded: tuple[str | None, str | None] | None = None
        self._data_version = None

    def _register_reads(self) -> dict[str, OrderedDict[Hashable, object]]:
        if not (self._register_checked and self._db.in_transaction):
            version = self._query("PRAGMA data_version")[0][0]
            if version != self._data_version:
                rows = dict(self._query("SELECT key, value FROM meta "
                                        "WHERE key IN ('register', 'register_load')"))
                loaded = (rows.get("register"), rows.get("register_load"))
                if loaded != self._register_loaded:
                    self._reads.clear()
                    self._register_loaded = loaded
                self._data_version = version
            self._register_checked = self._db.in_transaction
        return self._reads

    def _kept(self, kind: str, key: Hashable, read: Callable[[], T]) -> T:
        """``read()`` for register data, answered from memory while the register is the same."""
        reads = self._register_reads().get(kind)
        if reads is None:
            reads = self._reads[kind] = OrderedDict()
        found = reads.get(key, _UNREAD)
        if found is _UNREAD:
            if len(reads) >= _REGISTER_READS_KEPT:
                reads.popitem(last=False)
            found = reads[key] = read()
        else:
            reads.move_to_end(key)
        return found  # type: ignore[return-value]

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._write_one("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- register -------------------------------------------------------------------------
    def replace_register(self, register: Register, index: Sequence[tuple[Identity, set[str]]],
                         *, source: str, meta: Mapping[str, str] | None = None) -> RegisterInfo:
        info = RegisterInfo(loaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            source=source, persons=len(register.persons),
                            relationships=len(register.relationships), plans=len(register.plans))
        identities = {ident.ref: ident for ident, _ in index}
        self._forget_register()
        with self.transaction() as db:
            for table in _REGISTER_TABLES:
                db.execute(f"DELETE FROM {table}")
            db.executemany("INSERT INTO person VALUES (?, ?, ?)", (
                (p.person_id, p.model_dump_json(), identities[p.person_id].to_json())
                for p in register.persons))
            db.executemany("INSERT INTO person_key VALUES (?, ?)",
                           ((k, ident.ref) for ident, keys in index for k in keys))
            db.executemany("INSERT INTO relationship VALUES (?, ?, ?)", (
                (r.person_id, r.related_person_id, r.model_dump_json())
                for r in register.relationships))
            db.executemany("INSERT INTO plan VALUES (?, ?)",
                           ((p.person_id, p.model_dump_json()) for p in register.plans))
            db.executemany("INSERT INTO address VALUES (?, ?, ?)", (
                (a.person_id, postcode_key(a.postcode), a.model_dump_json())
                for a in register.addresses))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('register', ?)",
                       (json.dumps(info.__dict__),))
            # tells every connection's kept register reads that this is another load, even
            # one of the same source within the same second
            db.execute("INSERT OR REPLACE INTO meta VALUES ('register_load', ?)",
                       (uuid.uuid4().hex,))
            # what was derived from this register (the match model) lands with it, or not at all
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", (meta or {}).items())
            # attendees linked to persons who are no longer on the register lose the link
            db.execute("UPDATE attendee SET person_id = NULL WHERE person_id IS NOT NULL "
                       "AND person_id NOT IN (SELECT person_id FROM person)")
            db.execute("UPDATE parent SET person_id = NULL WHERE person_id IS NOT NULL "
                       "AND person_id NOT IN (SELECT person_id FROM person)")
        self._forget_register()
        return info

    def register_info(self) -> RegisterInfo | None:
        self._register_reads()
        text = self._register_loaded[0] if self._register_loaded else None
        return RegisterInfo(**json.loads(text)) if text is not None else None

    # Each register read below is kept under its exact arguments (in their order), so an
    # answer from memory is the one the same query gave.
    def person_candidates(self, keys: Iterable[str]) -> list[Identity]:
        keys = tuple(sorted(set(keys)))     # one cache entry per key set, whatever its order

        def read() -> list[Identity]:
            rows = self._in("SELECT DISTINCT p.identity FROM person_key k JOIN person p "
                            "ON p.person_id = k.person_id WHERE k.key IN ({marks})", keys)
            return [Identity.from_json(r[0]) for r in rows]
        return list(self._kept("person_candidates", keys, read))

    def persons(self, ids: Iterable[str]) -> dict[str, Person]:
        ids = tuple(ids)

        def read() -> dict[str, Person]:
            rows = self._in("SELECT person_id, record FROM person WHERE person_id IN ({marks})",
                            ids)
            return {pid: Person.model_validate_json(rec) for pid, rec in rows}
        return dict(self._kept("persons", ids, read))

    def relationships_touching(self, ids: Iterable[str]) -> list[Relationship]:
        ids = tuple(ids)

        def read() -> list[Relationship]:
            rows = self._in("SELECT record FROM relationship WHERE person_id IN ({marks})", ids)
            rows += self._in("SELECT record FROM relationship "
                             "WHERE related_person_id IN ({marks})", ids)
            return list(dict.fromkeys(Relationship.model_validate_json(r[0]) for r in rows))
        return list(self._kept("relationships_touching", ids, read))

    def _kept_records(self, table: str, column: str, values: tuple[str, ...],
                      model: type[M]) -> list[M]:
        """The register records of ``table`` whose ``column`` is one of ``values``, kept."""
        def read() -> list[M]:
            rows = self._in(f"SELECT record FROM {table} WHERE {column} IN ({{marks}})", values)
            return [model.model_validate_json(r[0]) for r in rows]
        return list(self._kept(f"{table}.{column}", values, read))

    def plans_of(self, ids: Iterable[str]) -> list[Plan]:
        return self._kept_records("plan", "person_id", tuple(ids), Plan)

    def addresses_of(self, ids: Iterable[str]) -> list[AddressPeriod]:
        return self._kept_records("address", "person_id", tuple(ids), AddressPeriod)

    def addresses_at(self, postcodes: Iterable[str]) -> list[AddressPeriod]:
        keys = tuple(k for k in (postcode_key(p) for p in postcodes) if k)
        return self._kept_records("address", "postcode", keys, AddressPeriod)

    # --- attendance history ---------------------------------------------------------------
    def attendee_candidates(self, keys: Iterable[str]) -> list[Identity]:
        if (mirror := self._mirrored()) is not None:
            keys = list(keys)
            return mirror.attendee_candidates(keys, (r[0] for r in self._in(
                "SELECT attendee_id FROM attendee_key WHERE key IN ({marks})", keys)))
        rows = self._in("SELECT DISTINCT a.identity FROM attendee_key k JOIN attendee a "
                        "ON a.attendee_id = k.attendee_id WHERE k.key IN ({marks})", keys)
        return [Identity.from_json(r[0]) for r in rows]

    def attendees(self, ids: Iterable[int]) -> list[Identity]:
        if (mirror := self._mirrored()) is not None:
            return mirror.attendees(ids)
        return self._identities_by_id("attendee", ids)

    def parents(self, ids: Iterable[int]) -> list[Identity]:
        if (mirror := self._mirrored()) is not None:
            return mirror.parents(ids)
        return self._identities_by_id("parent", ids)

    def _identities_by_id(self, table: str, ids: Iterable[int]) -> list[Identity]:
        """The stored identities of ``table`` (attendee or parent) with these ids, in id
        order; unknown ids left out."""
        rows = self._in(f"SELECT identity FROM {table} WHERE {table}_id IN ({{marks}}) "
                        f"ORDER BY {table}_id", sorted(set(ids)))
        return [Identity.from_json(r[0]) for r in rows]

    def attendee_person_links(self) -> dict[int, str]:
        return dict(self._query("SELECT attendee_id, person_id FROM attendee "
                                "WHERE person_id IS NOT NULL"))

    def persons_of_attendees(self, ids: Iterable[int]) -> dict[int, str]:
        if (mirror := self._mirrored()) is not None:
            return mirror.persons_of_attendees(ids)
        return dict(self._in("SELECT attendee_id, person_id FROM attendee WHERE attendee_id "
                             "IN ({marks}) AND person_id IS NOT NULL", sorted(set(ids))))

    def attendees_of_persons(self, ids: Iterable[str]) -> dict[str, list[int]]:
        if (mirror := self._mirrored()) is not None:
            return mirror.attendees_of_persons(ids)
        out: dict[str, list[int]] = {}
        for pid, aid in self._in("SELECT person_id, attendee_id FROM attendee "
                                 "WHERE person_id IN ({marks})", ids):
            out.setdefault(pid, []).append(aid)
        return out

    def add_attendee(self, ident: Identity, keys: set[str], person_id: str | None) -> int:
        mirror = self._mirrored()
        if mirror is not None:          # the next rowid, as SQLite would give it
            attendee_id = mirror.last_attendee + 1
            parsed = replace(ident, ref=f"A{attendee_id}")
            stored = parsed.to_json()
            self._behind.append(("INSERT INTO attendee (attendee_id, person_id, identity) "
                                 "VALUES (?, ?, ?)", (attendee_id, person_id, stored)))
            self._behind.extend((_ADD_ATTENDEE_KEY, (k, attendee_id))
                                for k in keys)
            mirror.add_attendee(attendee_id, stored, keys, person_id, parsed)
            return attendee_id
        with self.transaction() as db:
            cur = db.execute("INSERT INTO attendee (person_id, identity) VALUES (?, '')",
                             (person_id,))
            attendee_id = int(cur.lastrowid or 0)
            stored = replace(ident, ref=f"A{attendee_id}").to_json()
            db.execute("UPDATE attendee SET identity = ? WHERE attendee_id = ?",
                       (stored, attendee_id))
            db.executemany(_ADD_ATTENDEE_KEY,
                           ((k, attendee_id) for k in keys))
            if self._mirror is not None:
                self._mirror.add_attendee(attendee_id, stored, keys, person_id)
        return attendee_id

    def update_attendee(self, attendee_id: int, ident: Identity, new_keys: set[str]) -> None:
        """What is now known of an attendee (``ident``), and the blocking keys it adds; nothing
        for an attendee with no row (no keys left behind for a later attendee to inherit)."""
        parsed = replace(ident, ref=f"A{attendee_id}")
        stored = parsed.to_json()
        keys = sorted(new_keys)
        mirror = self._mirrored()
        if mirror is not None:
            if attendee_id not in mirror.attendee:
                return
            self._behind.append(("UPDATE attendee SET identity = ? WHERE attendee_id = ?",
                                 (stored, attendee_id)))
            self._behind.extend((_ADD_ATTENDEE_KEY, (k, attendee_id))
                                for k in keys)
            mirror.update_attendee(attendee_id, stored, keys, parsed)
            return
        with self.transaction() as db:
            if not db.execute("UPDATE attendee SET identity = ? WHERE attendee_id = ?",
                              (stored, attendee_id)).rowcount:
                return
            db.executemany(_ADD_ATTENDEE_KEY,
                           ((k, attendee_id) for k in keys))
            if self._mirror is not None:
                self._mirror.update_attendee(attendee_id, stored, keys)

    def link_attendee(self, attendee_id: int, person_id: str | None) -> None:
        self._write("UPDATE attendee SET person_id = ? WHERE attendee_id = ?",
                    (person_id, attendee_id))
        if self._mirror is not None:
            self._mirror.link_attendee(attendee_id, person_id)

    def record_attendance(self, entry: HistoryEntry) -> None:
        arrival, findings = wall_text(entry.arrival), json.dumps(entry.findings)
        warnings = json.dumps(entry.warnings)
        self._write(
            "INSERT INTO attendance VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(attendance_id) DO UPDATE SET attendee_id = excluded.attendee_id, "
            "arrival = excluded.arrival, injury = excluded.injury, "
            "findings = excluded.findings, event = excluded.event, "
            "warnings = excluded.warnings",
            (entry.attendance_id, entry.attendee_id, arrival, int(entry.injury), findings,
             entry.event, warnings, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        if self._mirror is not None:
            self._mirror.record_attendance(entry, arrival, findings, warnings)

    def attendance(self, attendance_id: str) -> HistoryEntry | None:
        if (mirror := self._mirrored()) is not None:
            return mirror.entry(attendance_id)
        rows = self._query(f"{HISTORY_SELECT} WHERE t.attendance_id = ?", (attendance_id,))
        return history_entry(rows[0]) if rows else None

    def history(self, attendee_ids: Iterable[int], *, until: datetime, since: date,
                exclude: str = "") -> list[HistoryEntry]:
        if (mirror := self._mirrored()) is not None:
            return mirror.history(attendee_ids, until=wall_text(until), since=since.isoformat(),
                                  exclude=exclude)
        rows = self._in(
            HISTORY_SELECT + " WHERE t.attendee_id IN ({marks}) AND t.arrival <= ? "
            "AND t.arrival >= ? AND t.attendance_id != ? ORDER BY t.arrival, t.attendance_id",
            attendee_ids, (wall_text(until), since.isoformat(), exclude))
        return [history_entry(r) for r in rows]

    def record_homes(self, attendance_id: str, attendee_id: int, arrival: datetime,
                     premises: Sequence[str]) -> None:
        """The homes (premise keys) ``attendance_id`` gave, in place of any it gave before (an
        A08 that corrects the address takes the old home away)."""
        mirror = self._mirrored()
        arrival = arrival.replace(tzinfo=None)   # wall clock as sent, as the table holds it
        homes = [HomeGiven(p, attendee_id, attendance_id, arrival)
                 for p in dict.fromkeys(premises)]
        self._write("DELETE FROM home WHERE attendance_id = ?", (attendance_id,))
        when = wall_text(arrival)
        for home in homes:
            self._write("INSERT OR IGNORE INTO home VALUES (?, ?, ?, ?)",
                        (home.premise, when, attendance_id, attendee_id))
        if mirror is not None:
            mirror.record_homes(attendance_id, homes)

    def homes_given(self, premises: Iterable[str], *, until: datetime,
                    since: date) -> list[HomeGiven]:
        """Who gave these very homes (premise keys) at attendances that arrived from
        ``since`` to ``until``, in arrival order."""
        premises = sorted(set(premises))
        window = (since.isoformat(), wall_text(until))
        found = self._homes(self._in(
            f"{_HOME_SELECT} WHERE premise IN ({{marks}}) AND arrival >= ? AND arrival <= ?",
            premises, window))
        if (mirror := self._mirrored()) is not None:
            found = mirror.homes_given(found, premises, *window)
        return sorted(found, key=_home_order)

    def homes_of(self, attendee_ids: Iterable[int], units: Iterable[str] = (), *,
                 exclude: str = "") -> list[HomeGiven]:
        """The homes the attendances of these attendees give, whenever they arrived (but
        attendance ``exclude``'s), and every home given in the postcode units ``units``,
        whenever: each once, in arrival order, as each attendance gives them now (an address
        an A08 corrected is not among them). One statement: the attendees' attendances by
        their index, each unit as one range of the ``home`` table's key (``UNIT|...``)."""
        ids, units = sorted(set(attendee_ids)), sorted(set(units))
        ranges = [bound for unit in units for bound in (f"{unit}|", f"{unit}}}")]
        if (mirror := self._mirrored()) is not None:
            attendances = mirror.attendances_of(ids, exclude)
            stored = [a for a in attendances if a not in mirror.fresh_homes]
            rows = self._home_rows("attendance", stored, (), ranges)
            return sorted(mirror.homes_of(self._homes(rows), attendances, units),
                          key=_home_order)
        rows = self._home_rows("attendee", ids, (exclude,), ranges)
        return sorted(self._homes(dict.fromkeys(rows)),   # a row both reads found, once
                      key=_home_order)

    def _home_rows(self, by: str, keys: Sequence, extra: tuple, ranges: Sequence[str]
                   ) -> list[tuple]:
        """``home`` rows of the attendances of attendees (``by`` "attendee", ``extra`` the
        attendance left out) or of attendances (``by`` "attendance") ``keys``, and in the
        premise ``ranges`` (low, high, ...): one statement, or one per chunk of a long list."""
        if not (keys or ranges):
            return []
        if len(keys) + len(ranges) <= _ONE_STATEMENT:
            return self._query(_home_statement(by, len(keys), len(ranges) // 2),
                               (*keys, *(extra if keys else ()), *ranges))
        rows = [row for i in range(0, len(ranges), 2)
                for row in self._query(_home_statement(by, 0, 1), ranges[i:i + 2])]
        for chunk in chunks(keys):
            rows.extend(self._query(_home_statement(by, len(chunk), 0), (*chunk, *extra)))
        return rows

    @staticmethod
    def _homes(rows: Iterable[tuple]) -> list[HomeGiven]:
        return [HomeGiven(premise, attendee_id, attendance_id, datetime.fromisoformat(arrival))
                for premise, attendee_id, attendance_id, arrival in rows]

    # --- parents named on attendances -----------------------------------------------------
    def parent_candidates(self, keys: Iterable[str]) -> list[Identity]:
        if (mirror := self._mirrored()) is not None:
            keys = list(keys)
            return mirror.parent_candidates(keys, (r[0] for r in self._in(
                "SELECT parent_id FROM parent_key WHERE key IN ({marks})", keys)))
        rows = self._in("SELECT DISTINCT p.identity FROM parent_key k JOIN parent p "
                        "ON p.parent_id = k.parent_id WHERE k.key IN ({marks})", keys)
        return [Identity.from_json(r[0]) for r in rows]

    def add_parent(self, ident: Identity, keys: set[str], person_id: str | None) -> int:
        mirror = self._mirrored()
        if mirror is not None:          # the next rowid, as SQLite would give it
            parent_id = mirror.last_parent + 1
            self._behind.append(("INSERT INTO parent (parent_id, person_id, identity) "
                                 "VALUES (?, ?, '')", (parent_id, person_id)))
            self._write_parent(parent_id, ident, keys, person_id)
            return parent_id
        with self.transaction() as db:
            cur = db.execute("INSERT INTO parent (person_id, identity) VALUES (?, '')",
                             (person_id,))
            parent_id = int(cur.lastrowid or 0)
            self._write_parent(parent_id, ident, keys, person_id)
        return parent_id

    def update_parent(self, parent_id: int, ident: Identity, keys: set[str],
                      person_id: str | None) -> None:
        """Nothing for a parent node with no row (as for attendees)."""
        with self.transaction() as db:
            mirror = self._mirrored()
            exists = (parent_id in mirror.parent if mirror is not None else
                      db.execute("SELECT 1 FROM parent WHERE parent_id = ?",
                                 (parent_id,)).fetchone() is not None)
            if exists:
                self._write_parent(parent_id, ident, keys, person_id)

    def _write_parent(self, parent_id: int, ident: Identity, keys: set[str],
                      person_id: str | None) -> None:
        """Inside a transaction: the node's identity, its register person if now known, and
        the blocking keys it did not have."""
        stored = replace(ident, ref=f"K{parent_id}").to_json()
        db, mirror = self._db, self._mirrored()
        update = ("UPDATE parent SET identity = ?, person_id = COALESCE(?, person_id) "
                  "WHERE parent_id = ?", (stored, person_id, parent_id))
        if mirror is not None:
            known = {r[0] for r in db.execute("SELECT key FROM parent_key WHERE parent_id = ?",
                                              (parent_id,))}
            new = sorted(keys - known - mirror.fresh_parent_key_set(parent_id))
            self._behind.append(update)
            self._behind.extend((_ADD_PARENT_KEY, (k, parent_id))
                                for k in new)
        else:
            db.execute(*update)
            known = {r[0] for r in db.execute("SELECT key FROM parent_key WHERE parent_id = ?",
                                              (parent_id,))}
            new = sorted(keys - known)
            db.executemany(_ADD_PARENT_KEY, ((k, parent_id) for k in new))
        if self._mirror is not None:
            self._mirror.put_parent(parent_id, stored, new, person_id)

    def parent_of_person(self, person_id: str) -> int | None:
        if (mirror := self._mirrored()) is not None:
            return mirror.parent_of_person(person_id)
        rows = self._query("SELECT MIN(parent_id) FROM parent WHERE person_id = ?", (person_id,))
        return rows[0][0] if rows and rows[0][0] is not None else None

    def link_parent(self, link: ParentLink) -> None:
        """The attendee's link to the parent node; a link already held is kept as it was (its
        first attendance and how that one found the parent)."""
        self._write("INSERT INTO attendee_parent (attendee_id, parent_id, relationship, "
                    "attendance_id, how) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(attendee_id, parent_id) DO NOTHING",
                    (link.attendee_id, link.parent_id, link.relationship, link.attendance_id,
                     link.how))
        if self._mirror is not None:
            self._mirror.link_parent(link)

    def unlink_parent(self, attendee_id: int, parent_id: int) -> None:
        self._write("DELETE FROM attendee_parent WHERE attendee_id = ? AND parent_id = ?",
                    (attendee_id, parent_id))
        if self._mirror is not None:
            self._mirror.unlink_parent(attendee_id, parent_id)

    def parents_of_attendees(self, attendee_ids: Iterable[int]) -> list[ParentLink]:
        if (mirror := self._mirrored()) is not None:
            return mirror.parents_of_attendees(attendee_ids)
        rows = self._in(PARENT_SELECT + " WHERE l.attendee_id IN ({marks})", attendee_ids)
        return [ParentLink(*r) for r in rows]

    def children_of_parents(self, parent_ids: Iterable[int]) -> list[ParentLink]:
        if (mirror := self._mirrored()) is not None:
            return mirror.children_of_parents(parent_ids)
        rows = self._in(PARENT_SELECT + " WHERE l.parent_id IN ({marks})", parent_ids)
        return [ParentLink(*r) for r in rows]

    # --- audit ----------------------------------------------------------------------------
    def record_audit(self, entry: AuditEntry) -> None:
        self._write("INSERT INTO audit (at, user, attendance_id, person_ids, channel) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (utc_text(entry.at), entry.user, entry.attendance_id,
                     json.dumps(entry.person_ids), entry.channel))

    def audit_entries(self, *, since: datetime | None = None,
                      user: str | None = None) -> Iterator[AuditEntry]:
        """Look-ups in the order they were recorded, optionally from ``since`` and by ``user``."""
        sql = "SELECT at, user, attendance_id, person_ids, channel FROM audit WHERE at >= ?"
        params: list[str] = [utc_text(since) if since is not None else ""]
        if self._behind:
            self._flush()
        if user is not None:
            sql += " AND user = ?"
            params.append(user)
        try:
            cursor = self._db.execute(sql + " ORDER BY audit_id", params)
            rows = iter(lambda: cursor.fetchmany(1000), [])
            for row in (r for chunk in rows for r in chunk):
                yield AuditEntry(at=datetime.fromisoformat(row[0]), user=row[1],
                                 attendance_id=row[2], person_ids=tuple(json.loads(row[3])),
                                 channel=row[4])
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the audit log at {self.path}: {exc}") from exc
