"""The cyclic garbage collector during a batch: collections fall between groups, outside the
write lock (a triage check would wait on a pause inside one), and the caller's thresholds come
back at the end."""

from __future__ import annotations

import gc

import pytest

from safeflag import Safeflag
from safeflag import batch as batch_module
from safeflag.batch import run_batch

from .worlds import new_db, small_world, write_hl7


@pytest.fixture
def collections(monkeypatch):
    """Every collection made while the run's thresholds are set: (generation, whether a write
    transaction was open)."""
    made: list[tuple[int, bool]] = []
    stores: list[Safeflag] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start" and stores and gc.get_threshold() == batch_module._GC_THRESHOLDS:
            made.append((info["generation"], stores[0].store._db.in_transaction))
    gc.callbacks.append(watch)
    yield made, stores
    gc.callbacks.remove(watch)


@pytest.mark.parametrize("young, middle, between", [(1, 3, True), (10**9, 10**9, False)])
def test_collections_fall_between_groups_never_inside_one(tmp_path, monkeypatch, collections,
                                                           young, middle, between):
    made, stores = collections
    monkeypatch.setattr(batch_module, "_YOUNG_BETWEEN_GROUPS", young)
    monkeypatch.setattr(batch_module, "_MIDDLE_EVERY", middle)
    world = small_world(attendances=60, children=30)
    hl7 = write_hl7(world.attendances, tmp_path / "day.hl7")
    db = new_db(tmp_path / "batch.db", world)
    before = gc.get_threshold()
    with Safeflag.open(db, user="test") as sf:
        stores.append(sf)
        summary = run_batch(sf, [str(hl7)], tmp_path / "out.ndjson", workers=1,
                            commit_every=5, progress=False)
        stores.clear()
    assert summary.errors == 0 and summary.records > 10
    assert gc.get_threshold() == before
    assert all(not inside for _, inside in made)          # none inside a write transaction
    assert bool(made) is between
    if between:                                           # the middle generation too, in turn
        assert {g for g, _ in made} == {0, 1}
