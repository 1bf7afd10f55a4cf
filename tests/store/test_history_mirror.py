"""The attendance side kept in memory for a batch answers exactly what the database answers.

Random sequences of the store's writes are applied through a store that keeps the history in
memory; after each one every read it answers from memory is compared with the same read from a
second connection that only queries the database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from safeflag.algo.compare import Identity
from safeflag.store import HistoryEntry, ParentLink
from safeflag.store.sqlite import SqliteStore

KEYS = [f"k{i}" for i in range(6)]
PERSONS = ["P1", "P2", "P3"]
START = datetime(2014, 1, 1, 9)

write = st.one_of(
    st.tuples(st.just("attendee"), st.sets(st.sampled_from(KEYS), max_size=3),
              st.sampled_from([None, *PERSONS])),
    st.tuples(st.just("link_attendee"), st.integers(1, 8), st.sampled_from(PERSONS)),
    st.tuples(st.just("update_attendee"), st.integers(1, 8), st.sets(st.sampled_from(KEYS))),
    st.tuples(st.just("parent"), st.sets(st.sampled_from(KEYS), max_size=3),
              st.sampled_from([None, *PERSONS])),
    st.tuples(st.just("update_parent"), st.integers(1, 5), st.sets(st.sampled_from(KEYS)),
              st.sampled_from([None, *PERSONS])),
    st.tuples(st.just("link_parent"), st.integers(1, 8), st.integers(1, 5),
              st.sampled_from(["mother", "father"]), st.sampled_from(["V1", "V2", "V3"]),
              st.sampled_from(["nhs number", "demographics", "renamed", ""])),
    st.tuples(st.just("unlink_parent"), st.integers(1, 8), st.integers(1, 5)),
    st.tuples(st.just("attendance"), st.sampled_from(["V1", "V2", "V3", "V4", "V5"]),
              st.integers(1, 8), st.integers(0, 40), st.booleans()),
    st.tuples(st.just("homes"), st.sampled_from(["V1", "V2", "V3", "V4", "V5"]),
              st.integers(1, 8), st.integers(0, 40),
              st.lists(st.sampled_from(["LS2 9JT|14", "LS2 9JT|2,14", "LS2 9JU|14"]),
                       max_size=3)),
)


def _apply(store: SqliteStore, op: tuple, counts: dict[str, int]) -> None:
    kind = op[0]
    if kind == "attendee":
        counts["attendees"] += 1
        store.add_attendee(Identity(ref="", givens=(f"G{counts['attendees']}",)), op[1], op[2])
    elif kind == "link_attendee":
        store.link_attendee(op[1], op[2])
    elif kind == "update_attendee":
        store.update_attendee(op[1], Identity(ref="", givens=(f"U{op[1]}",)), op[2])
    elif kind == "parent":
        counts["parents"] += 1
        store.add_parent(Identity(ref="", families=(f"F{counts['parents']}",)), op[1], op[2])
    elif kind == "update_parent":
        store.update_parent(op[1], Identity(ref="", families=(f"U{op[1]}",)), op[2], op[3])
    elif kind == "link_parent":
        store.link_parent(ParentLink(op[1], op[2], op[3], op[4], how=op[5]))
    elif kind == "unlink_parent":
        store.unlink_parent(op[1], op[2])
    elif kind == "attendance":
        store.record_attendance(HistoryEntry(
            attendance_id=op[1], attendee_id=op[2], arrival=START + timedelta(days=op[3]),
            injury=op[4], findings=("S00.0",) if op[4] else (), event="A01"))
    elif kind == "homes":
        store.record_homes(op[1], op[2], START + timedelta(days=op[3]), op[4])


def _reads(store: SqliteStore) -> dict[str, object]:
    every = list(range(1, 10))
    return {
        "attendee_candidates": sorted(i.to_json() for i in store.attendee_candidates(KEYS[:4])),
        "attendees": [i.to_json() for i in store.attendees([*every, 3, 42])],
        "attendees_of_persons": store.attendees_of_persons(PERSONS),
        "persons_of_attendees": store.persons_of_attendees([*every, 3, 42]),
        "parent_candidates": sorted(i.to_json() for i in store.parent_candidates(KEYS[2:])),
        "parents": [i.to_json() for i in store.parents([*every, 3, 42])],
        "parent_of_person": [store.parent_of_person(p) for p in PERSONS],
        "parents_of_attendees": store.parents_of_attendees(every),
        "children_of_parents": store.children_of_parents(every),
        "attendance": [store.attendance(f"V{i}") for i in range(1, 6)],
        "history": store.history(every, until=START + timedelta(days=30),
                                 since=date(2014, 1, 5), exclude="V2"),
        "homes_given": store.homes_given(["LS2 9JT|14", "LS2 9JU|14", "XX1 1XX|1"],
                                         until=START + timedelta(days=30),
                                         since=date(2014, 1, 5)),
        "homes_of": store.homes_of([*every, 42], exclude="V2"),
        "homes_in": store.homes_of([], ["LS2 9JT", "XX1 1XX"]),
        "homes_of_and_in": store.homes_of([2, 3, 5], ["LS2 9JU"], exclude="V1"),
    }


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=st.lists(st.lists(write, min_size=1, max_size=6), min_size=1, max_size=6))
def test_reads_from_memory_equal_reads_from_the_database(tmp_path_factory, groups):
    """Writes are held back until each group's commit; reads inside the group come from
    memory and must already show them; after the commit the database must agree."""
    path = tmp_path_factory.mktemp("mirror") / "s.db"
    kept, plain = SqliteStore(path), SqliteStore(path)
    counts = {"attendees": 0, "parents": 0}
    try:
        with kept.keep_history():
            for group in groups:
                with kept.transaction():
                    for op in group:
                        _apply(kept, op, counts)
                        from_memory = _reads(kept)
                    assert kept._mirror is not None        # the reads above came from memory
                assert from_memory == _reads(plain)
    finally:
        kept.close()
        plain.close()


def test_a_write_by_another_connection_is_seen_at_the_next_transaction(two_connections):
    kept, other = two_connections
    with kept.keep_history():
        with kept.transaction():
            assert kept.attendee_candidates(["k1"]) == []
        other.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, "P1")
        with kept.transaction():
            assert [i.ref for i in kept.attendee_candidates(["k1"])] == ["A1"]
            assert kept.attendees_of_persons(["P1"]) == {"P1": [1]}


def test_a_rolled_back_check_leaves_nothing_in_memory_or_the_database(two_connections):
    kept, other = two_connections
    with kept.keep_history():
        with kept.transaction():
            kept.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, None)
            with pytest.raises(RuntimeError):
                with kept.transaction():                         # a savepoint, as per check
                    kept.add_attendee(Identity(ref="", givens=("BEN",)), {"k1"}, None)
                    kept.record_attendance(HistoryEntry("V9", 2, START, injury=True))
                    assert len(kept.attendee_candidates(["k1"])) == 2
                    raise RuntimeError("the check failed")
            assert [i.givens for i in kept.attendee_candidates(["k1"])] == [("AMY",)]
            kept.add_attendee(Identity(ref="", givens=("CAL",)), {"k1"}, None)
        assert [(i.ref, i.givens) for i in other.attendee_candidates(["k1"])] == [
            ("A1", ("AMY",)), ("A2", ("CAL",))]
        assert other.attendance("V9") is None


def test_a_failed_group_writes_nothing_it_held_back(two_connections):
    kept, other = two_connections
    with kept.keep_history():
        with pytest.raises(RuntimeError):
            with kept.transaction():
                kept.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, None)
                kept.record_attendance(HistoryEntry("V1", 1, START, injury=False))
                raise RuntimeError("the run was stopped")
        with kept.transaction():
            kept.add_attendee(Identity(ref="", givens=("BEN",)), {"k1"}, None)
    assert [(i.ref, i.givens) for i in other.attendee_candidates(["k1"])] == [("A1", ("BEN",))]
    assert other.attendance("V1") is None


def test_outside_a_transaction_reads_go_to_the_database(two_connections):
    kept, other = two_connections
    with kept.keep_history():
        with kept.transaction():
            kept.attendee_candidates(["k1"])
        other.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, None)
        # no transaction: another connection may have written, so memory is not used
        assert [i.ref for i in kept.attendee_candidates(["k1"])] == ["A1"]
    assert kept._mirror is None                               # dropped when the run ends


def test_frequent_writers_do_not_make_the_run_reload_each_time(two_connections, monkeypatch):
    kept, other = two_connections
    monkeypatch.setattr("safeflag.store.sqlite._RELOAD_SPACING", 1e9)   # the next load: never
    with kept.keep_history():
        with kept.transaction():
            assert kept.attendee_candidates(["k1"]) == []
            assert kept._mirror is not None
        other.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, "P1")
        with kept.transaction():
            # not reloaded so soon after the last load: read from the database, still right
            assert [i.ref for i in kept.attendee_candidates(["k1"])] == ["A1"]
            assert kept._mirror is None
            kept.add_attendee(Identity(ref="", givens=("BEN",)), {"k1"}, None)
            assert [i.ref for i in kept.attendee_candidates(["k1"])] == ["A1", "A2"]
    monkeypatch.setattr("safeflag.store.sqlite._RELOAD_SPACING", 0)
    with kept.keep_history(), kept.transaction():
        assert [i.ref for i in kept.attendee_candidates(["k1"])] == ["A1", "A2"]
        assert kept._mirror is not None


def test_the_history_is_loaded_without_holding_the_write_lock(two_connections, monkeypatch):
    """A load takes about a second per 100,000 attendances: a triage check must be able to
    write meanwhile. If it does, the run reads from the database for that group instead."""
    import sqlite3

    from safeflag.store import mirror as mirror_module
    kept, other = two_connections
    other.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, "P1")
    real_load = mirror_module.HistoryMirror.load.__func__
    during = []

    def load(cls, db, version):
        loaded = real_load(cls, db, version)
        writer = sqlite3.connect(kept.path, timeout=0, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")      # fails at once if the load held the lock
        writer.execute("INSERT INTO meta VALUES ('written during the load', '1')")
        writer.execute("COMMIT")
        writer.close()
        during.append(True)
        return loaded
    monkeypatch.setattr(mirror_module.HistoryMirror, "load", classmethod(load))
    with kept.keep_history(), kept.transaction():
        assert during == [True]
        assert kept._mirrored() is None         # written since the load: not used ...
        assert [i.ref for i in kept.attendee_candidates(["k1"])] == ["A1"]   # ... still right
    monkeypatch.setattr(mirror_module.HistoryMirror, "load", classmethod(real_load))
    with kept.keep_history(), kept.transaction():
        assert kept._mirrored() is not None     # nobody wrote since: kept in memory
        assert [i.ref for i in kept.attendee_candidates(["k1"])] == ["A1"]


def _attend(store: SqliteStore, number: int) -> None:
    with store.transaction():
        attendee = store.add_attendee(Identity(ref="", givens=(f"G{number}",)), {"k1"}, None)
        store.record_attendance(HistoryEntry(f"V{number}", attendee,
                                             START + timedelta(days=number), injury=True))


def test_a_history_grown_past_its_bound_is_read_from_the_database(two_connections):
    kept, plain = two_connections
    with kept.keep_history(most=2):
        for number in (1, 2):
            _attend(kept, number)
        with kept.transaction():
            assert kept._mirrored() is not None              # two: kept in memory
        _attend(kept, 3)
        with kept.transaction():
            assert kept._mirrored() is None                  # three: no longer
            assert [h.attendance_id for h in kept.history([1, 2, 3], until=START + timedelta(
                days=9), since=date(2000, 1, 1))] == ["V1", "V2", "V3"]
        _attend(kept, 4)                                     # and it is not loaded again
        with kept.transaction():
            assert kept._mirrored() is None
            assert len(kept.attendee_candidates(["k1"])) == 4
    assert len(plain.attendee_candidates(["k1"])) == 4


def test_a_history_already_past_the_bound_is_never_loaded(two_connections):
    kept, other = two_connections
    for number in (1, 2, 3):
        _attend(other, number)
    with kept.keep_history(most=2):
        with kept.transaction():
            assert kept._mirrored() is None
            assert len(kept.attendee_candidates(["k1"])) == 3
    with kept.keep_history(most=3):
        with kept.transaction():
            assert kept._mirrored() is not None


def test_a_long_run_has_a_larger_page_cache_and_gives_it_back(tmp_path):
    from safeflag.store.sqlite import RUN_CACHE_KIB
    store = SqliteStore(tmp_path / "s.db")
    try:
        before = store._query("PRAGMA cache_size")[0][0]
        assert before != -RUN_CACHE_KIB
        with store.keep_history():
            assert store._query("PRAGMA cache_size")[0][0] == -RUN_CACHE_KIB
        assert store._query("PRAGMA cache_size")[0][0] == before
    finally:
        store.close()


def test_homes_given_at_an_arrival_with_an_offset_read_back_as_wall_clock(tmp_path):
    """The database holds wall-clock text; a home written moments before, with an offset,
    must read back the same way, so the two sort together."""
    from datetime import timezone
    store = SqliteStore(tmp_path / "s.db")
    try:
        store.record_homes("V1", 1, START, ["LS2 9JT|14"])
        with store.keep_history(), store.transaction():
            aware = (START + timedelta(days=1)).replace(tzinfo=timezone(timedelta(hours=1)))
            store.record_homes("V2", 2, aware, ["LS2 9JT|14"])
            got = store.homes_given(["LS2 9JT|14"], until=START + timedelta(days=2),
                                    since=START.date())
            assert store._mirror is not None
        assert [(h.attendance_id, h.arrival) for h in got] == [
            ("V1", START), ("V2", START + timedelta(days=1))]
    finally:
        store.close()


def test_how_a_parent_link_was_made_is_read_from_memory_as_from_the_database(two_connections):
    """Loaded with the history, written during a run, and kept first on a second link of the
    same attendee and parent, in memory as in the database."""
    kept, plain = two_connections
    for given in ("TOM", "IVY", "ADA"):
        plain.add_attendee(Identity(ref="", givens=(given,)), {"k1"}, None)
    plain.add_parent(Identity(ref="", families=("LOWE",)), {"k2"}, None)
    plain.link_parent(ParentLink(1, 1, "mother", "V1", how="nhs number"))

    def made(store: SqliteStore) -> list[tuple[int, str, str]]:
        return [(link.attendee_id, link.attendance_id, link.how)
                for link in store.children_of_parents([1])]
    with kept.keep_history():
        with kept.transaction():
            assert made(kept) == [(1, "V1", "nhs number")]      # loaded from the database
            kept.link_parent(ParentLink(2, 1, "mother", "V2", how="renamed"))
            kept.link_parent(ParentLink(2, 1, "mother", "V3", how="demographics"))  # held
            kept.link_parent(ParentLink(3, 1, "mother", "V4"))   # not recorded
            from_memory = made(kept)
            assert kept._mirror is not None                     # the reads came from memory
            assert kept.parents_of_attendees([2]) == [
                ParentLink(2, 1, "mother", "V2", None, None, "renamed")]
    assert from_memory == [(1, "V1", "nhs number"), (2, "V2", "renamed"), (3, "V4", "")]
    assert made(plain) == from_memory


def test_history_from_memory_keeps_both_ends_of_its_window(tmp_path):
    """An attendance at ``until`` to the second and one at midnight of ``since`` are in the
    window, one a second outside either end is not: from memory as from the database (the
    memory's window is found by bisection of each attendee's sorted arrivals)."""
    path = tmp_path / "s.db"
    kept, plain = SqliteStore(path), SqliteStore(path)
    until, since = datetime(2014, 1, 31, 9, 30), date(2014, 1, 5)
    at = {"IN_LAST": until, "OUT_LAST": until + timedelta(seconds=1),
          "IN_FIRST": datetime(2014, 1, 5), "OUT_FIRST": datetime(2014, 1, 4, 23, 59, 59),
          "MIDDLE": datetime(2014, 1, 20, 12), "SKIPPED": datetime(2014, 1, 21)}
    try:
        with kept.keep_history():
            with kept.transaction():
                kept.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, None)
            with kept.transaction():
                for aid, when in at.items():
                    kept.record_attendance(HistoryEntry(aid, 1, when, injury=True))
            with kept.transaction():
                from_memory = kept.history([1], until=until, since=since, exclude="SKIPPED")
                assert kept._mirror is not None
        from_database = plain.history([1], until=until, since=since, exclude="SKIPPED")
        assert [e.attendance_id for e in from_memory] == ["IN_FIRST", "MIDDLE", "IN_LAST"]
        assert from_memory == from_database
    finally:
        kept.close()
        plain.close()
