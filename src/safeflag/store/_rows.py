"""The SQLite store's schema, and how its rows are written and read back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

from ..algo.postcode import postcode_key
from . import HistoryEntry

__all__ = ["SCHEMA", "KEY_TABLES", "key_tables_to_rebuild", "rebuild_key_table",
           "ADDED_COLUMNS", "columns_to_add", "add_column", "PARENT_SELECT", "HISTORY_SELECT",
           "postcode_key", "wall_text", "utc_text", "history_entry", "chunks"]

#: ``home`` holds the homes each attendance gave (premise keys: postcode unit and address
#: marks), by home and arrival: the children who gave one home in a period are one range read.
#: Blocking keys live in tables keyed by (key, id) without a rowid: a candidate search reads
#: one B-tree, and each key written is one B-tree insert, not two (a table and its covering
#: index). Older databases have their key tables rebuilt when opened (:data:`KEY_TABLES`;
#: once, in one transaction; it takes a moment on a large history).
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS person (
    person_id TEXT PRIMARY KEY, record TEXT NOT NULL, identity TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS person_key (key TEXT NOT NULL, person_id TEXT NOT NULL);
DROP INDEX IF EXISTS person_key_key;
CREATE INDEX IF NOT EXISTS person_key_cover ON person_key(key, person_id);
CREATE TABLE IF NOT EXISTS relationship (
    person_id TEXT NOT NULL, related_person_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS relationship_a ON relationship(person_id);
CREATE INDEX IF NOT EXISTS relationship_b ON relationship(related_person_id);
CREATE TABLE IF NOT EXISTS plan (person_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS plan_person ON plan(person_id);
CREATE TABLE IF NOT EXISTS address (
    person_id TEXT NOT NULL, postcode TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS address_person ON address(person_id);
CREATE INDEX IF NOT EXISTS address_postcode ON address(postcode);
CREATE TABLE IF NOT EXISTS parent (
    parent_id INTEGER PRIMARY KEY, person_id TEXT, identity TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS parent_person ON parent(person_id);
CREATE TABLE IF NOT EXISTS parent_key (key TEXT NOT NULL, parent_id INTEGER NOT NULL,
    PRIMARY KEY (key, parent_id)) WITHOUT ROWID;
DROP INDEX IF EXISTS parent_key_key;
DROP INDEX IF EXISTS parent_key_parent;
CREATE INDEX IF NOT EXISTS parent_key_of ON parent_key(parent_id, key);
CREATE TABLE IF NOT EXISTS attendee_parent (
    attendee_id INTEGER NOT NULL, parent_id INTEGER NOT NULL, relationship TEXT NOT NULL,
    attendance_id TEXT NOT NULL, how TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (attendee_id, parent_id));
CREATE INDEX IF NOT EXISTS attendee_parent_parent ON attendee_parent(parent_id);
CREATE TABLE IF NOT EXISTS attendee (
    attendee_id INTEGER PRIMARY KEY, person_id TEXT, identity TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attendee_person ON attendee(person_id);
CREATE TABLE IF NOT EXISTS attendee_key (key TEXT NOT NULL, attendee_id INTEGER NOT NULL,
    PRIMARY KEY (key, attendee_id)) WITHOUT ROWID;
DROP INDEX IF EXISTS attendee_key_key;
CREATE TABLE IF NOT EXISTS attendance (
    attendance_id TEXT PRIMARY KEY, attendee_id INTEGER NOT NULL, arrival TEXT NOT NULL,
    injury INTEGER NOT NULL, findings TEXT NOT NULL, event TEXT NOT NULL,
    warnings TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attendance_attendee ON attendance(attendee_id, arrival);
CREATE TABLE IF NOT EXISTS home (
    premise TEXT NOT NULL, arrival TEXT NOT NULL, attendance_id TEXT NOT NULL,
    attendee_id INTEGER NOT NULL, PRIMARY KEY (premise, arrival, attendance_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS home_attendance ON home(attendance_id);
CREATE TABLE IF NOT EXISTS audit (
    audit_id INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL,
    attendance_id TEXT NOT NULL, person_ids TEXT NOT NULL, channel TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
"""

#: The key tables an older database holds with a rowid, and what rebuilding each without one
#: takes: (id column, indexes to create again afterwards).
KEY_TABLES = {
    "attendee_key": ("attendee_id", ()),
    "parent_key": ("parent_id",
                   ("CREATE INDEX IF NOT EXISTS parent_key_of ON parent_key(parent_id, key)",)),
}


def key_tables_to_rebuild(db: sqlite3.Connection) -> list[str]:
    """The key tables of ``db`` still stored with a rowid (a database made before
    ``SCHEMA_VERSION`` 2)."""
    found = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    return [t for t in KEY_TABLES if t in found and "WITHOUT ROWID" not in found[t].upper()]


def rebuild_key_table(db: sqlite3.Connection, table: str) -> None:
    """Inside a write transaction: ``table`` again, without a rowid, with the same rows (a
    repeated row, which the old table allowed, is kept once)."""
    column, indexes = KEY_TABLES[table]
    db.execute(f"CREATE TABLE {table}_rebuilt (key TEXT NOT NULL, {column} INTEGER NOT NULL, "
               f"PRIMARY KEY (key, {column})) WITHOUT ROWID")
    db.execute(f"INSERT OR IGNORE INTO {table}_rebuilt SELECT key, {column} FROM {table} "
               f"ORDER BY key, {column}")   # in key order: the new B-tree fills page by page
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for sql in indexes:
        db.execute(sql)


#: Columns added to a table after it was first made: (table, column, definition). A database
#: made before has them added when opened (``ALTER TABLE ... ADD COLUMN``, instant: the rows
#: already there read the default). ``attendee_parent.how``: schema version 4, how the parent
#: was found (``''``: not recorded, a link made before).
ADDED_COLUMNS = (("attendee_parent", "how", "TEXT NOT NULL DEFAULT ''"),)


def columns_to_add(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """The :data:`ADDED_COLUMNS` ``db`` does not have yet (a database made before they were
    added)."""
    missing = []
    for table, column, definition in ADDED_COLUMNS:
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            missing.append((table, column, definition))
    return missing


def add_column(db: sqlite3.Connection, table: str, column: str, definition: str) -> None:
    """Inside a write transaction: ``column`` added to ``table``; its rows read the default."""
    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


PARENT_SELECT = (
    "SELECT l.attendee_id, l.parent_id, l.relationship, l.attendance_id, a.person_id, "
    "p.person_id, l.how FROM attendee_parent l JOIN attendee a ON a.attendee_id = l.attendee_id "
    "JOIN parent p ON p.parent_id = l.parent_id")


def wall_text(moment: datetime) -> str:
    """Wall-clock time as sent (offset dropped), so history compares in one local frame."""
    return moment.replace(tzinfo=None).isoformat()


HISTORY_SELECT = (
    "SELECT t.attendance_id, t.attendee_id, t.arrival, t.injury, t.findings, t.event, "
    "a.person_id, t.warnings FROM attendance t JOIN attendee a ON a.attendee_id = t.attendee_id")


def utc_text(moment: datetime) -> str:
    """An instant as UTC ISO text (naive values are taken as UTC), so text order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def history_entry(r: tuple) -> HistoryEntry:
    return HistoryEntry(attendance_id=r[0], attendee_id=r[1], arrival=datetime.fromisoformat(r[2]),
                        injury=bool(r[3]), findings=tuple(json.loads(r[4])), event=r[5],
                        person_id=r[6], warnings=tuple(json.loads(r[7])))


def chunks(items: Sequence, size: int = 500) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
