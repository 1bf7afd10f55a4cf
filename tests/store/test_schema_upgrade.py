"""An older database (schema version 1: blocking-key tables with a rowid and a covering index)
is brought to the current schema once, when first opened, with every row kept; a database
already there is not written to."""

from __future__ import annotations

import sqlite3

from safeflag.algo.compare import Identity
from safeflag.store.sqlite import SCHEMA_VERSION, SqliteStore

# The key tables and meta row as schema version 1 made them.
VERSION_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE attendee (attendee_id INTEGER PRIMARY KEY, person_id TEXT, identity TEXT NOT NULL);
CREATE TABLE attendee_key (key TEXT NOT NULL, attendee_id INTEGER NOT NULL);
CREATE INDEX attendee_key_cover ON attendee_key(key, attendee_id);
CREATE TABLE parent (parent_id INTEGER PRIMARY KEY, person_id TEXT, identity TEXT NOT NULL);
CREATE TABLE parent_key (key TEXT NOT NULL, parent_id INTEGER NOT NULL);
CREATE INDEX parent_key_cover ON parent_key(key, parent_id);
CREATE INDEX parent_key_of ON parent_key(parent_id, key);
INSERT INTO attendee_key VALUES ('k1', 1), ('k2', 1), ('k1', 2), ('k1', 2);
INSERT INTO parent_key VALUES ('p1', 1), ('p2', 1);
"""


def _tables(path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    finally:
        db.close()


def test_an_older_database_has_its_key_tables_rebuilt_once_with_every_row(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(VERSION_1)
    old.executemany("INSERT INTO attendee VALUES (?, NULL, ?)",
                    [(1, Identity(ref="A1", givens=("AMY",)).to_json()),
                     (2, Identity(ref="A2", givens=("BEN",)).to_json())])
    old.execute("INSERT INTO parent VALUES (1, NULL, ?)",
                (Identity(ref="K1", families=("LOWE",)).to_json(),))
    old.commit()
    old.close()

    store = SqliteStore(path)
    try:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION) == "2"
        assert [i.ref for i in store.attendee_candidates(["k1"])] == ["A1", "A2"]
        assert [i.ref for i in store.attendee_candidates(["k2"])] == ["A1"]
        assert [i.ref for i in store.parent_candidates(["p2"])] == ["K1"]
        # a key an attendee already has is not an error now the table is keyed by it
        store.update_attendee(1, store.attendees([1])[0], {"k1", "k3"})
        assert [i.ref for i in store.attendee_candidates(["k3"])] == ["A1"]
    finally:
        store.close()
    tables = _tables(path)
    assert "WITHOUT ROWID" in tables["attendee_key"] and "WITHOUT ROWID" in tables["parent_key"]
    assert "attendee_key_cover" not in tables and "parent_key_cover" not in tables
    assert "parent_key_of" in tables          # the index the parent's own keys are read by
    assert not any(name.endswith("_rebuilt") for name in tables)


def test_a_current_database_is_opened_without_a_write(tmp_path):
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    before = _tables(path)
    db = sqlite3.connect(path)
    changes = db.execute("PRAGMA data_version").fetchone()[0]
    SqliteStore(path).close()
    assert db.execute("PRAGMA data_version").fetchone()[0] == changes   # nobody else wrote
    db.close()
    assert _tables(path) == before
