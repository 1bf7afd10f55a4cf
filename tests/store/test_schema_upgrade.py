"""An older database (schema version 1: blocking-key tables with a rowid and a covering index;
2: no table of homes; 3: no record of how a parent link was made) is brought to the current
schema once, when first opened, with every row kept; a database already there is not written
to."""

from __future__ import annotations

import sqlite3

from safeflag.algo.compare import Identity
from safeflag.store._rows import SCHEMA
from safeflag.store.sqlite import SCHEMA_VERSION, SqliteStore

# A whole database as schema version 1 made it: today's schema with the key tables as they
# were then (a rowid table and a covering index), and a few keys (one repeated, as the old
# table allowed).
_V2_KEY_TABLES = {
    "attendee_key": ("CREATE TABLE IF NOT EXISTS attendee_key (key TEXT NOT NULL, "
                     "attendee_id INTEGER NOT NULL,\n    PRIMARY KEY (key, attendee_id)) "
                     "WITHOUT ROWID;"),
    "parent_key": ("CREATE TABLE IF NOT EXISTS parent_key (key TEXT NOT NULL, "
                   "parent_id INTEGER NOT NULL,\n    PRIMARY KEY (key, parent_id)) "
                   "WITHOUT ROWID;"),
}
_V1_KEY_TABLES = {
    "attendee_key": ("CREATE TABLE attendee_key (key TEXT NOT NULL, attendee_id INTEGER NOT "
                     "NULL);\nCREATE INDEX attendee_key_cover ON attendee_key(key, "
                     "attendee_id);"),
    "parent_key": ("CREATE TABLE parent_key (key TEXT NOT NULL, parent_id INTEGER NOT NULL);"
                   "\nCREATE INDEX parent_key_cover ON parent_key(key, parent_id);"),
}
# The parent links as versions 1 to 3 made them: without how each link was made.
_V4_LINK_TABLE = ("CREATE TABLE IF NOT EXISTS attendee_parent (\n"
                  "    attendee_id INTEGER NOT NULL, parent_id INTEGER NOT NULL, "
                  "relationship TEXT NOT NULL,\n    attendance_id TEXT NOT NULL, "
                  "how TEXT NOT NULL DEFAULT '',\n    PRIMARY KEY (attendee_id, parent_id));")
_V3_LINK_TABLE = ("CREATE TABLE IF NOT EXISTS attendee_parent (\n"
                  "    attendee_id INTEGER NOT NULL, parent_id INTEGER NOT NULL, "
                  "relationship TEXT NOT NULL,\n    attendance_id TEXT NOT NULL, "
                  "PRIMARY KEY (attendee_id, parent_id));")
assert _V4_LINK_TABLE in SCHEMA, "the attendee_parent definition moved: update this test's copy"
VERSION_3 = SCHEMA.replace(_V4_LINK_TABLE, _V3_LINK_TABLE)
VERSION_1 = VERSION_3
for _table, _v2 in _V2_KEY_TABLES.items():
    assert _v2 in VERSION_1, f"the {_table} definition moved: update this test's copy"
    VERSION_1 = VERSION_1.replace(_v2, _V1_KEY_TABLES[_table])
VERSION_1 += """
INSERT INTO meta VALUES ('schema_version', '1');
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
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION) == "4"
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


# A database as schema version 2 made it: no table of the homes attendances gave.
_HOME_TABLE = SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS home ("):
                     SCHEMA.index("CREATE TABLE IF NOT EXISTS audit")]


def test_a_version_2_database_gains_the_homes_table_and_keeps_its_history(tmp_path):
    from datetime import date, datetime

    from safeflag.store import HistoryEntry
    assert "home_attendance" in _HOME_TABLE, "the home table's definition moved"
    path = tmp_path / "v2.db"
    old = sqlite3.connect(path)
    old.executescript(VERSION_3.replace(_HOME_TABLE, "") +
                      "INSERT INTO meta VALUES ('schema_version', '2');")
    old.close()
    assert "home" not in _tables(path)
    store = SqliteStore(path)
    try:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
        store.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, None)
        arrival = datetime(2021, 3, 1, 10)
        store.record_attendance(HistoryEntry("V1", 1, arrival, injury=False))
        store.record_homes("V1", 1, arrival, ["LS2 9JT|14"])
        assert [h.attendance_id for h in store.homes_given(
            ["LS2 9JT|14"], until=arrival, since=date(2021, 1, 1))] == ["V1"]
    finally:
        store.close()
    assert "home" in _tables(path)


def test_a_version_3_database_keeps_its_parent_links_and_learns_how_new_ones_were_made(
        tmp_path):
    """Version 4 adds ``attendee_parent.how``: the links already there are kept, every one,
    and read as not recorded (``""``); a link made after the upgrade keeps its way. The
    upgrade only adds the column."""
    from safeflag.store import ParentLink
    path = tmp_path / "v3.db"
    old = sqlite3.connect(path)
    old.executescript(VERSION_3 + "INSERT INTO meta VALUES ('schema_version', '3');")
    old.executemany("INSERT INTO attendee VALUES (?, NULL, ?)",
                    [(i, Identity(ref=f"A{i}", givens=(g,)).to_json())
                     for i, g in ((1, "TOM"), (2, "IVY"), (3, "ADA"))])
    old.execute("INSERT INTO parent VALUES (1, 'MUM', ?)",
                (Identity(ref="K1", families=("LOWE",)).to_json(),))
    old.executemany("INSERT INTO attendee_parent VALUES (?, ?, ?, ?)",
                    [(1, 1, "mother", "V1"), (2, 1, "mother", "V2")])
    old.commit()
    old.close()
    assert "how" not in _tables(path)["attendee_parent"]

    store = SqliteStore(path)
    try:
        assert store.get_meta("schema_version") == "4"
        assert store.children_of_parents([1]) == [
            ParentLink(1, 1, "mother", "V1", None, "MUM", ""),
            ParentLink(2, 1, "mother", "V2", None, "MUM", "")]
        store.link_parent(ParentLink(3, 1, "mother", "V3", how="renamed"))
        store.link_parent(ParentLink(1, 1, "mother", "V4", how="nhs number"))   # held: kept
        assert [(link.attendance_id, link.how) for link in store.children_of_parents([1])] == [
            ("V1", ""), ("V2", ""), ("V3", "renamed")]
    finally:
        store.close()
    assert "how" in _tables(path)["attendee_parent"]
    SqliteStore(path).close()                   # upgraded once: opened again without a write


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


def test_a_process_opening_during_an_upgrade_waits_and_finds_it_done(tmp_path):
    """Another process upgrading (here: a connection holding the write lock while it rebuilds
    the key tables): an opening store waits for the lock, then finds nothing left to do."""
    import threading

    from safeflag.store._rows import add_column, columns_to_add, rebuild_key_table

    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript(VERSION_1)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("BEGIN IMMEDIATE")
    opened: list[SqliteStore] = []
    thread = threading.Thread(target=lambda: opened.append(SqliteStore(path, timeout=10)))
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), "the opening store did not wait for the write lock"
    for table in ("attendee_key", "parent_key"):
        rebuild_key_table(old, table)
    for table, column, definition in columns_to_add(old):
        add_column(old, table, column, definition)
    old.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                (str(SCHEMA_VERSION),))
    old.execute("COMMIT")
    old.close()
    thread.join(10)
    assert opened, "the store did not open once the lock was free"
    store = opened[0]
    try:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert [i for i in store.attendee_candidates(["k1"])] == []   # no attendee rows here
    finally:
        store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM attendee_key").fetchone()[0] == 3
    db.close()
    assert not any(name.endswith("_rebuilt") for name in _tables(path))


def test_a_database_from_a_newer_safeflag_is_refused_and_left_alone(tmp_path):
    """Its tables may mean what this version does not know: never written, never re-stamped."""
    import pytest

    from safeflag.errors import StoreError
    path = tmp_path / "newer.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                   (str(SCHEMA_VERSION + 1),))
        db.execute("ALTER TABLE audit RENAME TO audit_v3")     # the newer layout
    with pytest.raises(StoreError, match="newer safeflag") as caught:
        SqliteStore(path)
    assert "--db" in str(caught.value)
    with sqlite3.connect(path) as db:                           # nothing created in it
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "audit" not in tables and "audit_v3" in tables
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION + 1),)
    with sqlite3.connect(path) as db:       # the other side: this version's own opens
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                   (str(SCHEMA_VERSION),))
        db.execute("ALTER TABLE audit_v3 RENAME TO audit")
    SqliteStore(path).close()
