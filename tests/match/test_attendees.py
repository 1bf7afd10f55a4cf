"""The attendee index on generated data: repeat attendances of children who are not on the
register link to each other; twins never do."""

from __future__ import annotations

from collections import defaultdict

import pytest

from safeflag.match import Matcher
from safeflag.pipeline import index_register
from safeflag.settings import MatchSettings
from safeflag.store.sqlite import SqliteStore
from safeflag.synth import generate_world


@pytest.fixture(scope="module")
def linked():
    world = generate_world(children=300, attendances=3_000, seed=21)
    store = SqliteStore(":memory:")
    store.replace_register(world.register, index_register(world.register, store), source="t")
    matcher = Matcher(store, MatchSettings())
    attendee = {}
    for a in world.attendances:
        result = matcher.match(a.patient, a.next_of_kin)
        attendee[a.attendance_id], _ = matcher.attendee_for(a.patient, result.person_id,
                                                            a.next_of_kin)
    store.close()
    return world, attendee


def test_repeat_attendances_of_unregistered_children_link(linked):
    world, attendee = linked
    by_child = defaultdict(list)
    for a in world.attendances:
        if world.truth[a.attendance_id] is None:
            by_child[world.child_of[a.attendance_id]].append(attendee[a.attendance_id])
    repeats = [ids for ids in by_child.values() if len(ids) > 1]
    assert len(repeats) > 50
    pairs = sum(len(ids) * (len(ids) - 1) // 2 for ids in repeats)
    same = sum(sum(1 for i in range(len(ids)) for j in range(i) if ids[i] == ids[j])
               for ids in repeats)
    assert same / pairs > 0.9


def test_one_attendee_is_one_child_and_twins_stay_apart(linked):
    world, attendee = linked
    children = defaultdict(set)
    for aid, att in attendee.items():
        children[att].add(world.child_of[aid])
    merged = [kids for kids in children.values() if len(kids) > 1]
    assert len(merged) <= len(children) * 0.002
    for kids in children.values():
        for kid in kids:
            assert world.twin_of(kid) not in kids
