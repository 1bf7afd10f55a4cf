"""Linking an extract in memory gives the same answers as checking one attendance at a time."""

from __future__ import annotations

from safeflag.match import Linker, Matcher
from safeflag.pipeline import index_register
from safeflag.settings import MatchSettings
from safeflag.store.sqlite import SqliteStore
from safeflag.synth import generate_world


def test_linker_matches_the_store_backed_matcher():
    world = generate_world(children=2_200, attendances=1_500, seed=4)
    store = SqliteStore(":memory:")
    store.replace_register(world.register, index_register(world.register, store), source="t")
    matcher = Matcher(store, MatchSettings())
    linker = Linker(world.register)
    assert linker.model.to_json() == matcher.model.to_json()
    for attendance in world.attendances:
        assert linker.match(attendance) == matcher.match(attendance.patient,
                                                         attendance.next_of_kin)


def test_linker_is_accurate_on_generated_data():
    world = generate_world(children=2_200, attendances=4_000, seed=9)
    linker = Linker(world.register)
    share = linker.train(world.attendances)
    assert 0.1 < share < 0.9
    results = linker.link(world.attendances)
    tp = fp = fn = 0
    for attendance, result in zip(world.attendances, results):
        truth = world.truth[attendance.attendance_id]
        tp += result.person_id is not None and result.person_id == truth
        fp += result.person_id is not None and result.person_id != truth
        fn += truth is not None and result.person_id != truth
    assert fp / (tp + fp) <= 0.001
    assert tp / (tp + fn) >= 0.99
