"""The synthetic world: deterministic, internally consistent, and carrying the error mix that
matching has to cope with."""

from __future__ import annotations

from collections import Counter

import pytest

from safeflag.algo.names import is_placeholder
from safeflag.algo.nhs import is_valid_nhs_number
from safeflag.models import RelationshipType
from safeflag.synth import World, generate_world


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(children=600, attendances=4_000, seed=11)


def test_same_seed_gives_the_same_world(world: World) -> None:
    again = generate_world(children=600, attendances=4_000, seed=11)
    assert again.register == world.register
    assert again.attendances == world.attendances
    assert again.truth == world.truth and again.child_of == world.child_of
    assert again.true_siblings == world.true_siblings


def test_another_seed_gives_another_world(world: World) -> None:
    other = generate_world(children=600, attendances=4_000, seed=12)
    assert other.attendances != world.attendances


def test_sizes_are_as_asked(world: World) -> None:
    registered = {c.child_id for c in world.children.values() if c.registered}
    assert len(registered) == 600
    assert len(world.attendances) == 4_000
    ids = {p.person_id for p in world.register.persons}
    assert registered <= ids
    assert len(ids) == len(world.register.persons)


def test_attendances_come_in_arrival_order_with_unique_ids(world: World) -> None:
    arrivals = [a.arrival for a in world.attendances]
    assert arrivals == sorted(arrivals)
    assert len({a.attendance_id for a in world.attendances}) == len(world.attendances)


def test_truth_is_the_registered_child_or_none(world: World) -> None:
    person_ids = {p.person_id for p in world.register.persons}
    for attendance in world.attendances:
        child = world.child_of[attendance.attendance_id]
        truth = world.truth[attendance.attendance_id]
        if world.children[child].registered:
            assert truth == child and truth in person_ids
        else:
            assert truth is None and child not in person_ids


def test_most_attending_children_are_not_on_the_register(world: World) -> None:
    attendees = set(world.child_of.values())
    outside = [c for c in attendees if not world.children[c].registered]
    assert len(outside) > len(attendees) / 2


def test_children_attend_while_alive_and_under_18(world: World) -> None:
    for attendance in world.attendances:
        child = world.children[world.child_of[attendance.attendance_id]]
        lo, hi = child.window()
        assert lo <= attendance.arrival_date <= hi


def test_siblings_are_symmetric_and_share_a_mother(world: World) -> None:
    for cid, sibs in world.true_siblings.items():
        assert cid not in sibs
        for other in sibs:
            assert cid in world.true_siblings[other]
            assert world.children[other].mother is world.children[cid].mother


def test_twins_share_birth_date_surname_and_home_but_not_first_name(world: World) -> None:
    twins = [c for c in world.children.values() if c.twin_of]
    assert twins, "the world should hold some twins"
    for child in twins:
        other = world.children[child.twin_of]
        assert other.twin_of == child.child_id
        assert (other.birth, other.family, other.family_id) == (child.birth, child.family,
                                                                child.family_id)
        assert other.given != child.given
        assert other.child_id in world.true_siblings[child.child_id]


def test_half_siblings_moves_and_surname_changes_occur(world: World) -> None:
    half = sum(1 for f in world.families if len({c.father.key for c in f.children}) > 1)
    moved = sum(1 for f in world.families if len(f.homes) > 1)
    renamed = sum(1 for f in world.families if f.mother.former_family)
    assert half > 0 and moved > 0 and renamed > 0
    kinds = Counter(r.relationship for r in world.register.relationships)
    assert kinds[RelationshipType.mother] and kinds[RelationshipType.half_sibling]


def test_register_has_every_plan_type_and_valid_references(world: World) -> None:
    ids = {p.person_id for p in world.register.persons}
    assert {p.plan.value for p in world.register.plans} == {"CP", "LAC", "CIN", "CP-UNBORN"}
    assert all(p.person_id in ids for p in world.register.plans)
    assert all(r.person_id in ids and r.related_person_id in ids
               for r in world.register.relationships)
    assert all(p.end_date is None or p.end_date >= p.start_date for p in world.register.plans)


def test_attendances_carry_realistic_errors(world: World) -> None:
    """The error mix matching must handle is present, and most records are still right."""
    counts: Counter[str] = Counter()
    for attendance in world.attendances:
        child = world.children[world.child_of[attendance.attendance_id]]
        demo = attendance.patient
        name = demo.names[0]
        counts["no nhs"] += demo.nhs_number is None
        counts["invalid nhs"] += bool(demo.nhs_number) and not is_valid_nhs_number(
            demo.nhs_number)
        counts["placeholder"] += is_placeholder(name.given)
        counts["given differs"] += name.given.upper() != child.given.upper()
        birth = demo.birth_date
        counts["partial or no birth"] += birth is None or not birth.is_full
        counts["wrong birth"] += (birth is not None and birth.is_full
                                  and birth.as_date() != child.birth)
        counts["kin"] += bool(attendance.next_of_kin)
        counts["injury"] += any(d.code.startswith(("S", "T")) for d in attendance.diagnoses)
    n = len(world.attendances)
    for key in ("no nhs", "invalid nhs", "placeholder", "given differs", "partial or no birth",
                "wrong birth"):
        assert 0 < counts[key] < 0.5 * n, key
    assert counts["kin"] > 0.5 * n
    assert 0.2 * n < counts["injury"] < 0.6 * n


def test_repeat_injuries_cluster_in_high_risk_families(world: World) -> None:
    per_child: Counter[str] = Counter(world.child_of.values())
    risky = [c for c in per_child if _family(world, c).high_risk]
    calm = [c for c in per_child if c not in set(risky)]
    mean = lambda ids: sum(per_child[c] for c in ids) / max(len(ids), 1)  # noqa: E731
    assert mean(risky) > mean(calm)


def test_people_are_plainly_fictional(world: World) -> None:
    """Postcode areas begin with Q or X, which no real UK postcode area does."""
    assert all(p.postcode[0] in "QX" for p in world.register.persons if p.postcode)


def _family(world: World, child_id: str):
    family_id = world.children[child_id].family_id
    return next(f for f in world.families if f.family_id == family_id)


def test_no_birth_date_is_after_the_day_it_was_keyed(world: World) -> None:
    """Systems refuse a birth date in the future: a slip that would land there is keyed again."""
    from safeflag.synth.people import PERIOD_END
    for attendance in world.attendances:
        birth = attendance.patient.birth_date
        assert birth is None or birth.earliest() <= attendance.arrival_date
    assert all(p.birth_date is None or p.birth_date.earliest() <= PERIOD_END
               for p in world.register.persons)


def test_a_slipped_digit_never_lands_after_the_limit() -> None:
    import random
    from datetime import date

    from safeflag.synth.noise import one_digit_date
    rng = random.Random(1)
    born, limit = date(2024, 4, 11), date(2024, 6, 7)
    slips = [one_digit_date(rng, born, not_after=limit) for _ in range(300)]
    assert all(s.as_date() <= limit for s in slips)
    assert any(s.as_date() != born for s in slips)
    free = [one_digit_date(rng, born) for _ in range(300)]
    assert any(s.as_date() > limit for s in free)


def _first_homes(world: World) -> Counter:
    return Counter((f.homes[0].line, f.homes[0].postcode) for f in world.families)


@pytest.mark.parametrize("share", [0.0, 0.2])
def test_shared_houses_put_unrelated_families_at_one_address_and_change_nothing_else(
        world: World, share: float) -> None:
    """``shared_houses`` (for measuring what linking children by a home costs): that share of
    families give another family's first address; the people and visits stay the same."""
    shared = generate_world(children=600, attendances=4_000, seed=11, shared_houses=share)
    homes = _first_homes(shared)
    together = sum(n for n in homes.values() if n > 1)
    if share:
        assert 0.1 * len(shared.families) < together < 0.5 * len(shared.families)
        assert shared.register != world.register        # the register's addresses follow
    else:
        assert together == sum(n for n in _first_homes(world).values() if n > 1) == 0
        assert shared.attendances == world.attendances
    assert shared.child_of == world.child_of and shared.truth == world.truth
    assert [a.arrival for a in shared.attendances] == [a.arrival for a in world.attendances]
