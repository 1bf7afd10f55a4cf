"""Register reads kept in memory per register load: never an answer from another register."""

from __future__ import annotations

import pytest

from safeflag.models import Register
from safeflag.pipeline import index_register
from safeflag.store.sqlite import SqliteStore

from ..conftest import person, plan


def _register(family: str, *pids: str) -> Register:
    return Register(persons=tuple(person(p, "Amy", family, "2020-01-15") for p in pids),
                    plans=(plan(pids[0], "CP", "2020-02-01"),))


def _family(store: SqliteStore, pid: str) -> str | None:
    found = store.persons([pid]).get(pid)
    return found.family_name if found is not None else None


def test_a_reload_by_another_connection_replaces_what_was_kept(two_connections):
    loader, reader = two_connections
    old = _register("Smith", "P1", "P2")
    loader.replace_register(old, index_register(old), source="same")
    assert _family(reader, "P1") == "Smith"
    assert [p.person_id for p in reader.plans_of(["P1"])] == ["P1"]
    # the same source within the same second: still another load
    # the same counts (two persons, one plan) from the same source within the same second
    new = _register("Jones", "P3", "P1")
    loader.replace_register(new, index_register(new), source="same")
    assert _family(reader, "P1") == "Jones"
    assert _family(reader, "P2") is None
    assert reader.plans_of(["P1"]) == []
    assert reader.register_info().persons == 2


def test_kept_reads_survive_history_writes_of_another_connection(two_connections):
    loader, reader = two_connections
    reg = _register("Smith", "P1")
    loader.replace_register(reg, index_register(reg), source="r")
    first = reader.persons(["P1"])["P1"]
    loader.set_meta("unrelated", "x")          # another connection commits: not a reload
    assert reader.persons(["P1"])["P1"] is first
    assert reader.register_info().source == "r"


def test_a_reload_rolled_back_inside_an_outer_transaction_is_forgotten(tmp_path):
    store = SqliteStore(tmp_path / "s.db")
    old = _register("Smith", "P1")
    store.replace_register(old, index_register(old), source="old")
    assert _family(store, "P1") == "Smith"
    new = _register("Jones", "P1")
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.replace_register(new, index_register(new), source="new")
            assert _family(store, "P1") == "Jones"
            raise RuntimeError("abandon the load")
    assert _family(store, "P1") == "Smith"
    assert store.register_info().source == "old"
    store.close()


def test_answers_are_copies_the_caller_may_change(tmp_path):
    store = SqliteStore(tmp_path / "s.db")
    reg = _register("Smith", "P1")
    store.replace_register(reg, index_register(reg), source="r")
    store.persons(["P1"]).clear()
    store.plans_of(["P1"]).clear()
    assert set(store.persons(["P1"])) == {"P1"}
    assert len(store.plans_of(["P1"])) == 1
    store.close()


def test_kept_reads_are_bounded_and_the_least_recently_used_goes_first(tmp_path, monkeypatch):
    import safeflag.store.sqlite as sqlite_store
    monkeypatch.setattr(sqlite_store, "_REGISTER_READS_KEPT", 2)
    store = SqliteStore(tmp_path / "s.db")
    try:
        reg = _register("Smith", "P1", "P2", "P3")
        store.replace_register(reg, index_register(reg), source="r")
        p1, p2 = store.persons(["P1"])["P1"], store.persons(["P2"])["P2"]
        assert store.persons(["P1"])["P1"] is p1          # kept; P1 is now the most recent
        store.persons(["P3"])                              # a third: P2, least recent, goes
        assert store.persons(["P1"])["P1"] is p1
        again = store.persons(["P2"])["P2"]
        assert again == p2 and again is not p2             # read again from the database
        assert len(store._reads["persons"]) == 2
    finally:
        store.close()
