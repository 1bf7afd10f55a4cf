"""Batch results and history equal a one-at-a-time replay in arrival order, whatever the workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeflag import Safeflag
from safeflag.batch import merge_by_arrival, read_batch_items, run_batch
from safeflag.ingest import read_attendances
from safeflag.output import to_json_line

from .worlds import history_snapshot, new_db, small_world, write_csv, write_hl7, write_ndjson


@pytest.fixture(scope="module")
def world():
    return small_world(attendances=360, children=120, seed=11)


@pytest.fixture(scope="module")
def inputs(world, tmp_path_factory) -> list[str]:
    """Extracts of three sites, HL7, CSV and NDJSON, each in arrival order, interleaved in
    time (each format takes its own path to the workers)."""
    folder = tmp_path_factory.mktemp("inputs")
    atts = world.attendances
    return [str(write_hl7(atts[0::3], folder / "site_a.hl7")),
            str(write_csv(atts[1::3], folder / "site_b.csv")),
            str(write_ndjson(atts[2::3], folder / "site_c.ndjson"))]


def _replay(world, inputs: list[str], db: Path) -> list[str]:
    """The reference: the ingest readers, merged by arrival, checked one at a time."""
    new_db(db, world)
    streams = [iter(read_attendances(p)) for p in inputs]
    with Safeflag.open(db, user="replay") as sf:
        return [to_json_line(sf.check_item(entry)) for entry in merge_by_arrival(streams)]


@pytest.fixture(scope="module")
def replay(world, inputs, tmp_path_factory):
    db = tmp_path_factory.mktemp("replay") / "replay.db"
    return _replay(world, inputs, db), history_snapshot(db)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_batch_equals_one_at_a_time_replay(world, inputs, replay, tmp_path, workers):
    lines, snapshot = replay
    db = new_db(tmp_path / "batch.db", world)
    out = tmp_path / "out.ndjson"
    with Safeflag.open(db, user="batch") as sf:
        summary = run_batch(sf, inputs, out, workers=workers, commit_every=37, progress=False)
    got = out.read_text(encoding="utf-8").splitlines()
    assert summary.records == len(lines) == len(world.attendances)
    assert got == lines
    assert history_snapshot(db) == snapshot


def test_batch_past_the_history_memory_bound_equals_the_replay(world, inputs, replay, tmp_path,
                                                               monkeypatch, caplog):
    """Past :data:`~safeflag.store.sqlite.MIRROR_MOST` attendances the batch reads its history
    from the database instead of memory: the results and history are the same."""
    import safeflag.store.sqlite as sqlite_store
    monkeypatch.setattr(sqlite_store, "MIRROR_MOST", 100)
    lines, snapshot = replay
    db = new_db(tmp_path / "bounded.db", world)
    out = tmp_path / "out.ndjson"
    with Safeflag.open(db, user="batch") as sf, caplog.at_level("INFO", "safeflag"):
        run_batch(sf, inputs, out, workers=2, commit_every=37, progress=False)
    assert any("over 100 attendances" in r.getMessage() for r in caplog.records)
    assert out.read_text(encoding="utf-8").splitlines() == lines
    assert history_snapshot(db) == snapshot


def test_merge_keeps_arrival_order_across_inputs(inputs):
    merged = [e.item for e in merge_by_arrival(read_batch_items(p) for p in inputs)]
    arrivals = [a.arrival for a in merged]
    assert arrivals == sorted(arrivals)
    assert len(merged) == 360


def test_batch_reader_yields_what_the_ingest_reader_yields(world, tmp_path):
    atts = world.attendances[:50]
    for path in (write_hl7(atts, tmp_path / "a.hl7"), write_ndjson(atts, tmp_path / "a.ndjson"),
                 write_csv(atts, tmp_path / "a.csv")):
        assert [e.item for e in read_batch_items(str(path))] == list(read_attendances(path))


def test_workers_prepare_like_the_parent(world, inputs, tmp_path):
    """The register-only part of a check made in a worker (match, rivals, parents' register
    persons, birth date, register family, findings) is what the parent would make (a
    regression would also show in the output, which the equivalence test compares)."""
    db = new_db(tmp_path / "m.db", world)
    with Safeflag.open(db) as sf:
        from safeflag.batch import _Pool
        pool = _Pool(2, str(db), sf.settings, match=True)
        try:
            pairs = [p for path in inputs for p in read_batch_items(path, pool=pool)]
        finally:
            pool.close()
        assert pairs and all(p.prepared is not None for p in pairs)
        assert any(any(p.prepared.parents_on_register) for p in pairs)
        assert any(p.prepared.register_family.relatives for p in pairs)
        for pair in pairs[::5]:
            assert pair.prepared.match == sf.matcher.match(pair.item.patient,
                                                           pair.item.next_of_kin)
            assert pair.prepared == sf.prepare(pair.item)


def test_a_register_reloaded_during_the_run_makes_the_parent_match_again(world, inputs, tmp_path,
                                                                         monkeypatch):
    db = new_db(tmp_path / "r.db", world)
    with Safeflag.open(db) as sf:
        calls = {"match": 0, "info": 0}
        real_match, real_info = sf.matcher.match, sf.store.register_info

        def counting_match(demo, kin=()):
            calls["match"] += 1
            return real_match(demo, kin)

        def info_changing_later():
            calls["info"] += 1
            info = real_info()
            return info if calls["info"] <= 2 else info.__class__(**{**info.__dict__,
                                                                      "source": "reloaded"})
        monkeypatch.setattr(sf.matcher, "match", counting_match)
        run_batch(sf, inputs[:1], tmp_path / "a.ndjson", workers=2, progress=False)
        assert calls["match"] == 0                    # workers matched every record
        monkeypatch.setattr(sf.store, "register_info", info_changing_later)
        run_batch(sf, inputs[:1], tmp_path / "b.ndjson", workers=2, progress=False)
        assert calls["match"] > 0                     # the parent matched after the "reload"
