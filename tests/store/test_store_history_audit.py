"""The SQLite store: atomic register reloads, idempotent history, nested transactions, audit."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from safeflag import Safeflag
from safeflag.errors import RegisterError
from safeflag.models import Register
from safeflag.pipeline import index_register
from safeflag.store import AuditEntry, HistoryEntry
from safeflag.store.sqlite import SqliteStore

from ..conftest import attendance, load, person, plan


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "s.db")
    yield s
    s.close()


def _register(*pids: str) -> Register:
    return Register(persons=tuple(person(p, "Amy", f"Smith{p}", "2020-01-15") for p in pids),
                    plans=(plan(pids[0], "CP", "2020-02-01"),))


def test_a_reload_that_fails_inside_the_transaction_keeps_the_old_register(store):
    old = _register("P1", "P2")
    store.replace_register(old, index_register(old), source="old")
    new = _register("Q1", "Q2", "Q3")
    broken_index = index_register(new)[:-1]        # Q3 has no identity: fails mid-write
    with pytest.raises(KeyError):
        store.replace_register(new, broken_index, source="new")
    assert store.register_info().source == "old"
    assert set(store.persons(["P1", "P2", "Q1"])) == {"P1", "P2"}
    assert [p.person_id for p in store.plans_of(["P1", "Q1"])] == ["P1"]


def test_a_bad_register_folder_keeps_the_old_register(tmp_path):
    from safeflag.demo import demo_data
    bad = tmp_path / "bad"
    with demo_data() as (register, _), Safeflag.open(tmp_path / "r.db") as sf:
        sf.load_register(register)
        bad.mkdir()
        for f in register.iterdir():
            (bad / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
        with open(bad / "plans.csv", "a", encoding="utf-8") as handle:
            handle.write("CL-M,NOT-A-PLAN,2013-01-01,,,,\n")
        with pytest.raises(RegisterError):
            sf.load_register(bad)
        assert sf.store.register_info().persons == 9
        assert sf.store.register_info().source == str(register)


def test_recording_an_attendance_twice_keeps_one_row(store):
    entry = HistoryEntry(attendance_id="V1", attendee_id=1, arrival=datetime(2014, 1, 3, 10),
                         injury=True, findings=("fracture",), event="A04")
    store.record_attendance(entry)
    store.record_attendance(HistoryEntry(**{**entry.__dict__, "event": "A08"}))
    store.add_attendee(_ident(), set(), None)
    got = store.history([1], until=datetime(2015, 1, 1), since=date(2000, 1, 1))
    assert [(h.attendance_id, h.event) for h in got] == [("V1", "A08")]


def test_homes_given_are_replaced_per_attendance_and_read_by_home_and_window(store):
    day = datetime(2021, 3, 1, 10)
    store.record_homes("V1", 1, day, ["LS2 9JT|14", "LS2 9JT|14", "HU1 2AA|3"])
    store.record_homes("V2", 2, day + timedelta(days=10), ["LS2 9JT|14"])
    store.record_homes("V3", 3, day + timedelta(days=20), ["LS2 9JT|2,14"])   # another home

    def given(until: datetime, since: date) -> list[tuple[str, int]]:
        return [(h.attendance_id, h.attendee_id)
                for h in store.homes_given(["LS2 9JT|14"], until=until, since=since)]

    assert given(day + timedelta(days=30), date(2021, 3, 1)) == [("V1", 1), ("V2", 2)]
    assert given(day + timedelta(days=30), date(2021, 3, 2)) == [("V2", 2)]
    assert given(day + timedelta(days=10, seconds=-1), date(2021, 3, 1)) == [
        ("V1", 1)]                                             # until the moment, inclusive
    store.record_homes("V1", 1, day, ["LS2 9JU|16"])           # an A08 corrects the address
    assert given(day + timedelta(days=30), date(2021, 3, 1)) == [("V2", 2)]
    store.record_homes("V2", 2, day + timedelta(days=10), [])  # ... or takes it away
    assert given(day + timedelta(days=30), date(2000, 1, 1)) == []
    got = store.homes_given(["LS2 9JU|16", "LS2 9JT|2,14", "HU1 2AA|3"],
                            until=day + timedelta(days=30), since=date(2000, 1, 1))
    assert [(h.premise, h.attendee_id, h.attendance_id, h.arrival) for h in got] == [
        ("LS2 9JU|16", 1, "V1", day), ("LS2 9JT|2,14", 3, "V3", day + timedelta(days=20))]


def test_homes_of_attendees_and_in_units_are_read_as_the_attendances_give_them_now(store):
    """Whenever given, and after an A08 only what it gives: an address it corrected is gone."""
    day = datetime(2021, 3, 1, 10)
    for aid, attendee, when, homes in [("V1", 1, day, ["LS2 9JT|41|41 FERN"]),
                                       ("V2", 1, day - timedelta(days=900), ["HU1 2AA|3"]),
                                       ("V3", 2, day + timedelta(days=1), ["LS2 9JT|2,14"]),
                                       ("V4", 3, day, ["LS2 9JTX|1"])]:
        store.record_attendance(HistoryEntry(aid, attendee, when, injury=False))
        store.record_homes(aid, attendee, when, homes)

    def of(ids: list[int], units: tuple[str, ...] = (), exclude: str = ""
           ) -> list[tuple[str, str]]:
        return [(h.attendance_id, h.premise)
                for h in store.homes_of(ids, units, exclude=exclude)]

    assert of([1, 2]) == [("V2", "HU1 2AA|3"), ("V1", "LS2 9JT|41|41 FERN"),
                          ("V3", "LS2 9JT|2,14")]                   # in arrival order
    assert of([1], exclude="V1") == [("V2", "HU1 2AA|3")]         # a re-check's own left out
    assert of([], ("LS2 9JT",)) == [("V1", "LS2 9JT|41|41 FERN"),
                                    ("V3", "LS2 9JT|2,14")]         # not LS2 9JTX's
    assert of([1], ("LS2 9JT",), exclude="V1") == [              # each once; the units' all
        ("V2", "HU1 2AA|3"), ("V1", "LS2 9JT|41|41 FERN"), ("V3", "LS2 9JT|2,14")]
    store.record_homes("V1", 1, day, ["LS2 9JT|14|14 FERN"])         # an A08 corrects V1
    assert of([1]) == [("V2", "HU1 2AA|3"), ("V1", "LS2 9JT|14|14 FERN")]
    assert of([], ("LS2 9JT",)) == [("V1", "LS2 9JT|14|14 FERN"), ("V3", "LS2 9JT|2,14")]
    assert of([]) == []
    many = of(list(range(1, 1500)), tuple(f"ZZ{i} 1AA" for i in range(700)))   # > 999 values
    assert many == of([1, 2, 3])


def _ident():
    from safeflag.algo.compare import Identity
    return Identity(ref="q", nhs=None, givens=("AMY",), families=("SMITH",), birth=None,
                    sex="female", postcodes=())


def test_nested_transactions_roll_back_only_the_inner_part(store):
    with store.transaction():
        store.set_meta("outer", "kept")
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.set_meta("inner", "dropped")
                raise RuntimeError("one record failed")
        store.set_meta("after", "kept")
    assert (store.get_meta("outer"), store.get_meta("inner"), store.get_meta("after")) == (
        "kept", None, "kept")


def test_an_outer_rollback_drops_committed_inner_parts(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            with store.transaction():
                store.set_meta("inner", "x")
            raise RuntimeError("the group failed")
    assert store.get_meta("inner") is None


def test_audit_filters_by_time_and_user_in_recorded_order(store):
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    for i, user in enumerate(["nurse1", "nurse2", "nurse1"]):
        store.record_audit(AuditEntry(at=t0 + timedelta(hours=i), user=user,
                                      attendance_id=f"V{i}", person_ids=("P1", "P2")[: i + 1],
                                      channel="check"))
    everything = list(store.audit_entries())
    assert [e.attendance_id for e in everything] == ["V0", "V1", "V2"]
    assert everything[1].person_ids == ("P1", "P2") and everything[0].at == t0
    # both sides of the --since boundary: an entry exactly at `since` is included
    assert [e.attendance_id for e in store.audit_entries(since=t0 + timedelta(hours=1))] == [
        "V1", "V2"]
    assert [e.attendance_id for e in store.audit_entries(
        since=t0 + timedelta(hours=1, microseconds=1))] == ["V2"]
    assert [e.attendance_id for e in store.audit_entries(user="nurse1")] == ["V0", "V2"]
    assert list(store.audit_entries(user="nobody")) == []


def test_every_check_is_audited_with_the_persons_shown(tmp_path):
    with Safeflag(SqliteStore(tmp_path / "a.db"), user="nurse7") as sf:
        load(sf, [person("P1", "Amy", "Smith", "2020-01-15")], plans=[plan("P1", "CP", "2020-02-01")])
        sf.check(attendance("V1", "2021-05-01"))
        sf.check(attendance("V2", "2021-05-02", given="Zed", family="Other", birth="2011-01-01",
                            postcode="ZZ1 1ZZ"), user="sys:triage", record=False)
        entries = list(sf.store.audit_entries())
    assert [(e.user, e.attendance_id, e.person_ids, e.channel) for e in entries] == [
        ("nurse7", "V1", ("P1",), "library"), ("sys:triage", "V2", (), "library")]
    assert entries[0].at.tzinfo is not None


def test_a_check_that_is_not_recorded_writes_no_history_and_no_attendee(tmp_path):
    """record=False looks, and leaves the history as it was: no attendance, no attendee for
    a child never seen, no new links; earlier history still counts (the look is audited)."""
    with Safeflag(SqliteStore(tmp_path / "n.db")) as sf:
        load(sf, [person("P1", "Amy", "Smith", "2020-01-15")])
        stranger = dict(given="Zed", family="Other", birth="2020-02-02", postcode="ZZ1 1ZZ")
        first = sf.check(attendance("V1", "2021-05-01", **stranger), record=False)
        assert first.match.band == "none"
        assert sf.store.attendance("V1") is None
        assert sf.store.attendee_candidates(["N:none"]) == []
        with sf.store.transaction() as db:
            assert db.execute("SELECT COUNT(*) FROM attendee").fetchone()[0] == 0
        sf.check(attendance("V2", "2021-05-02", **stranger))            # now recorded
        again = sf.check(attendance("V3", "2021-05-03", **stranger), record=False)
        assert "REPEAT_INJURY" in {w.code for w in again.warnings}      # V2 counts, V1 not
        assert any("V2" in e for w in again.warnings for e in w.evidence)
        assert not any("V1" in e for w in again.warnings for e in w.evidence)
        with sf.store.transaction() as db:
            assert db.execute("SELECT COUNT(*) FROM attendee").fetchone()[0] == 1
            assert db.execute("SELECT COUNT(*) FROM attendance").fetchone()[0] == 1
        assert len(list(sf.store.audit_entries())) == 3


@pytest.mark.parametrize("in_memory", [False, True], ids=["database", "batch mirror"])
def test_updating_an_attendee_or_parent_with_no_row_leaves_no_keys_behind(store, in_memory):
    """Keys written for an id with no row would attach to whichever attendee (or parent node)
    is next given that id, linking two children who share nothing."""
    from contextlib import nullcontext

    from safeflag.algo.compare import Identity
    with store.keep_history() if in_memory else nullcontext():
        with store.transaction():
            store.update_attendee(1, Identity(ref="", givens=("GHOST",)), {"k-ghost"})
            store.update_parent(1, Identity(ref="", families=("GHOST",)), {"p-ghost"}, None)
            first = store.add_attendee(Identity(ref="", givens=("AMY",)), {"k-amy"}, None)
            parent = store.add_parent(Identity(ref="", families=("SMITH",)), {"p-smith"}, None)
        with store.transaction():
            assert (first, parent) == (1, 1)
            assert store.attendee_candidates(["k-ghost"]) == []
            assert store.parent_candidates(["p-ghost"]) == []
            assert [i.givens for i in store.attendee_candidates(["k-amy"])] == [("AMY",)]


def test_attendees_by_id_in_id_order_unknown_ids_left_out(tmp_path):
    from safeflag.algo.compare import Identity
    from safeflag.store.sqlite import SqliteStore
    store = SqliteStore(tmp_path / "s.db")
    first = store.add_attendee(Identity(ref="", givens=("AMY",)), {"k1"}, None)
    second = store.add_attendee(Identity(ref="", givens=("BEN",)), {"k2"}, None)
    assert [(i.ref, i.givens) for i in store.attendees([second, 99, first, second])] == [
        (f"A{first}", ("AMY",)), (f"A{second}", ("BEN",))]
    assert store.attendees([]) == []
    store.close()


def _read_only(store: SqliteStore) -> None:
    """Every write now fails as SQLite's own would on a read-only file."""
    store._db.execute("PRAGMA query_only = ON")


@pytest.mark.parametrize("failure, advice", [
    ("read-only", "read-only"),             # the write lock cannot even be taken
    ("damaged", "damaged"),                 # a write inside the check fails
])
def test_a_failing_write_is_a_store_error_that_says_what_to_do(tmp_path, failure, advice):
    from safeflag.errors import StoreError
    store = SqliteStore(tmp_path / "bad.db")
    with Safeflag(store) as sf:
        load(sf, [person("P1", "Amy", "Smith", "2020-01-15")])
        sf.check(attendance("V1", "2021-05-01"))            # the other side: writes work
        if failure == "read-only":
            _read_only(store)
        else:
            store._db.execute("CREATE TEMP TRIGGER fail BEFORE INSERT ON main.attendance "
                              "BEGIN SELECT RAISE(ABORT, 'database disk image is malformed'); "
                              "END")
        with pytest.raises(StoreError, match=advice) as caught:
            sf.check(attendance("V2", "2021-05-02"))
    assert "bad.db" in str(caught.value) and "Amy" not in str(caught.value)


def test_a_database_failure_stops_a_batch_instead_of_failing_each_record(tmp_path):
    """A per-record error line would hide that nothing is being recorded."""
    from safeflag.batch import run_batch
    from safeflag.errors import StoreError
    from safeflag.synth.writers import hl7_message
    store = SqliteStore(tmp_path / "ro.db")
    src = tmp_path / "day.hl7"
    src.write_text("".join(hl7_message(attendance(f"V{i}", "2021-05-01")) for i in range(3)))
    with Safeflag(store) as sf:
        load(sf, [person("P1", "Amy", "Smith", "2020-01-15")])
        _read_only(store)
        with pytest.raises(StoreError):
            run_batch(sf, [str(src)], tmp_path / "out.ndjson", workers=1, progress=False)
    # nothing was written, so nothing is left behind to look like a run in progress
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == []


@pytest.mark.parametrize("renumbered, relinked", [(True, 1), (False, 0)])
def test_a_reload_that_renumbers_the_register_keeps_a_siblings_history(tmp_path, renumbered,
                                                                       relinked):
    """The sister never attends again; her injury must stay with her family when the register
    gives her another person_id (and goes when the register no longer holds her at all)."""
    from safeflag.models import Relationship, RelationshipType
    sister = lambda pid: person(pid, "Ivy", "Lowe", "2019-02-02", postcode="LS2 9JT")
    brother = person("B1", "Tom", "Lowe", "2020-06-06", postcode="LS2 9JT")
    siblings = lambda pid: [Relationship(person_id="B1", related_person_id=pid,
                                         relationship=RelationshipType("sibling"))]
    with Safeflag(SqliteStore(tmp_path / "r.db")) as sf:
        load(sf, [sister("S1"), brother], siblings("S1"))
        sf.check(attendance("V1", "2021-03-01", given="Ivy", family="Lowe", birth="2019-02-02",
                            postcode="LS2 9JT", dx=("S42.0",)))
        folder = tmp_path / "reg"
        folder.mkdir()
        new = [sister("S9"), brother] if renumbered else [brother]
        (folder / "persons.csv").write_text(
            "person_id,given_name,family_name,birth_date,sex,postcode\n" + "".join(
                f"{p.person_id},{p.given_name},{p.family_name},{p.birth_date},female,"
                f"{p.postcode}\n" for p in new), encoding="utf-8")
        if renumbered:
            (folder / "relationships.csv").write_text(
                "person_id,related_person_id,relationship\nB1,S9,sibling\n", encoding="utf-8")
        info = sf.load_register(folder)
        assert (info.relinked, info.unlinked) == (relinked, 1 - relinked)
        result = sf.check(attendance("V2", "2021-04-01", given="Tom", family="Lowe",
                                     birth="2020-06-06", postcode="LS2 9JT"))
    shown = [w for w in result.warnings if w.code == "SIBLING_INJURY"]
    assert bool(shown) is renumbered
    if renumbered:
        assert any("S9" in e for e in shown[0].evidence)


def test_matching_again_after_a_load_is_chunked_and_resumes_after_a_failure(tmp_path,
                                                                           monkeypatch):
    """Renumbering a whole register must not hold the write lock while every earlier attendee
    is matched again (triage checks would time out): each chunk commits on its own, and a
    load stopped partway leaves no attendee linked to a wrong child and the rest for the next
    load to match."""
    import safeflag.pipeline as pipeline
    from safeflag.errors import StoreError
    monkeypatch.setattr(pipeline, "RELINK_CHUNK", 1)
    kids = [("Amy", "Smith", "2019-02-02"), ("Ben", "Jones", "2018-05-05"),
            ("Cal", "Brown", "2017-08-08")]
    with Safeflag(SqliteStore(tmp_path / "r.db")) as sf:
        load(sf, [person(f"P{i}", g, f, b, postcode="LS2 9JT") for i, (g, f, b) in
                  enumerate(kids)])
        for i, (g, f, b) in enumerate(kids):
            sf.check(attendance(f"V{i}", "2021-03-01", given=g, family=f, birth=b,
                                postcode="LS2 9JT"))
        assert sf.store.attendee_person_links() == {1: "P0", 2: "P1", 3: "P2"}
        folder = tmp_path / "reg"
        folder.mkdir()
        (folder / "persons.csv").write_text(
            "person_id,given_name,family_name,birth_date,sex,postcode\n" + "".join(
                f"N{i},{g},{f},{b},female,LS2 9JT\n" for i, (g, f, b) in enumerate(kids)),
            encoding="utf-8")
        reads = sf.store.attendees
        calls = []

        def fails_on_the_second_chunk(ids):
            calls.append(ids)
            if len(calls) == 2:
                raise StoreError("database is locked")
            return reads(ids)
        monkeypatch.setattr(sf.store, "attendees", fails_on_the_second_chunk)
        with pytest.raises(StoreError, match="register was loaded.*after 1 of 3.*load the "
                                             "register again"):
            sf.load_register(folder)
        assert sf.store.register_info().persons == 3          # the register itself is loaded
        assert sf.store.attendee_person_links() == {1: "N0"}  # the first chunk committed
        monkeypatch.setattr(sf.store, "attendees", reads)
        seen = []
        info = sf.load_register(folder, progress=lambda done, total: seen.append((done, total)))
        assert (info.relinked, info.unlinked) == (2, 0)       # the same register again
        assert seen == [(1, 2), (2, 2)]
        assert sf.store.attendee_person_links() == {1: "N0", 2: "N1", 3: "N2"}
        assert sf.load_register(folder).relinked == 0          # nothing left pending


def _commit_will_fail(store: SqliteStore, table: str = "meta") -> None:
    """The next transaction that writes ``table`` fails at COMMIT (a deferred constraint),
    as a commit fails on a full disk: the writes themselves succeed."""
    db = store._db
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("CREATE TEMP TABLE anchor (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TEMP TABLE dangling (id INTEGER REFERENCES anchor(id) "
               "DEFERRABLE INITIALLY DEFERRED)")
    db.execute(f"CREATE TEMP TRIGGER fail_at_commit AFTER INSERT ON main.{table} "
               "BEGIN INSERT INTO dangling VALUES (1); END")


def test_a_failed_commit_leaves_no_transaction_open(tmp_path):
    from safeflag.errors import StoreError
    store = SqliteStore(tmp_path / "c.db")
    _commit_will_fail(store)
    with pytest.raises(StoreError, match="cannot commit"):
        with store.transaction():
            store.set_meta("k", "v")
    assert not store._db.in_transaction
    store._db.execute("DROP TRIGGER temp.fail_at_commit")
    with store.transaction():                  # the next transaction is a real one
        store.set_meta("k", "w")
    assert SqliteStore(tmp_path / "c.db").get_meta("k") == "w"


def test_a_register_load_whose_commit_fails_keeps_the_old_model(tmp_path):
    """The matcher must go on scoring with the register that is still stored."""
    from safeflag.errors import StoreError
    with Safeflag(SqliteStore(tmp_path / "m.db")) as sf:
        load(sf, [person(f"P{i}", "Amy", f"Smith{i}", "2020-01-15") for i in range(40)])
        before = sf.matcher.model.prior
        folder = tmp_path / "reg"
        folder.mkdir()
        (folder / "persons.csv").write_text(
            "person_id,given_name,family_name,birth_date\nN1,Amy,Lowe,2019-01-01\n",
            encoding="utf-8")
        _commit_will_fail(sf.store)
        with pytest.raises(StoreError):
            sf.load_register(folder)
        assert sf.matcher.model.prior == before
        assert sf.store.register_info().persons == 40


def test_a_reload_that_gives_an_id_to_another_child_moves_the_history_with_the_child(tmp_path):
    """P1 was Amy; the re-export gives P1 to Ben. Amy's fracture must not become Ben's."""
    amy = lambda pid: person(pid, "Amy", "Smith", "2019-02-02", postcode="LS2 9JT")
    with Safeflag(SqliteStore(tmp_path / "r.db")) as sf:
        load(sf, [amy("P1"), person("P2", "Ben", "Jones", "2019-05-05", sex="male",
                                    postcode="HU1 2AA")])
        sf.check(attendance("V1", "2021-03-01", given="Amy", family="Smith",
                            birth="2019-02-02", postcode="LS2 9JT", dx=("S42.0",)))
        folder = tmp_path / "reg"
        folder.mkdir()
        (folder / "persons.csv").write_text(
            "person_id,given_name,family_name,birth_date,sex,postcode\n"
            "P1,Ben,Jones,2019-05-05,male,HU1 2AA\nP2,Amy,Smith,2019-02-02,female,LS2 9JT\n",
            encoding="utf-8")
        info = sf.load_register(folder)
        assert (info.relinked, info.unlinked) == (1, 0)
        assert sf.store.attendee_person_links() == {1: "P2"}
        ben = sf.check(attendance("V2", "2021-03-20", given="Ben", family="Jones",
                                  birth="2019-05-05", sex="male", postcode="HU1 2AA"))
        amy_again = sf.check(attendance("V3", "2021-03-25", given="Amy", family="Smith",
                                        birth="2019-02-02", postcode="LS2 9JT"))
    assert ben.match.person_id == "P1" and not any(w.code == "REPEAT_INJURY"
                                                   for w in ben.warnings)
    assert amy_again.match.person_id == "P2" and any(w.code == "REPEAT_INJURY"
                                                     for w in amy_again.warnings)


def test_a_store_used_after_close_says_so(tmp_path):
    from safeflag.errors import StoreError

    sf = Safeflag.open(tmp_path / "closed.db")
    sf.check(attendance("V1", "2021-05-01"))
    sf.close()
    with pytest.raises(StoreError, match="was closed; open it again"):
        sf.check(attendance("V2", "2021-05-02"))
    with pytest.raises(StoreError, match="closed"):
        sf.store.register_info()
