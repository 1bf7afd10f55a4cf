"""Injury times, delays, old fractures and adult attendances in the synthetic world."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from safeflag.pipeline import injury_findings
from safeflag.rules import RULES, RuleContext
from safeflag.settings import RuleSettings
from safeflag.synth import World, generate_world
from safeflag.synth.presentations import injury_timing

DELAYED = next(r for r in RULES if r.id == "DELAYED_PRESENTATION")
THINK_FAMILY = next(r for r in RULES if r.id == "THINK_FAMILY")


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(children=400, attendances=3_000, seed=13, adult_share=0.05)


def _delayed(attendance) -> bool:
    ctx = RuleContext(attendance=attendance, settings=RuleSettings(),
                      findings=injury_findings(attendance), age=None, person_id=None)
    return DELAYED.apply(ctx) is not None


def test_children_attendances_do_not_change_when_adults_are_added(world: World) -> None:
    plain = generate_world(children=400, attendances=3_000, seed=13)
    children = [a for a in world.attendances if a.attendance_id in world.child_of]
    assert children == plain.attendances
    assert plain.register == world.register


def test_adult_attendances_are_a_share_on_top_in_arrival_order(world: World) -> None:
    adults = [a for a in world.attendances if a.attendance_id in world.adult_of]
    assert len(adults) == 150
    assert len(world.attendances) == 3_150
    arrivals = [a.arrival for a in world.attendances]
    assert arrivals == sorted(arrivals)
    assert not set(world.adult_of) & set(world.child_of)


def test_adults_attend_as_adults_and_truth_is_their_register_person(world: World) -> None:
    persons = {p.person_id for p in world.register.persons}
    on_register = 0
    for aid, key in world.adult_of.items():
        adult, _ = world.adults[key]
        attendance = next(a for a in world.attendances if a.attendance_id == aid)
        assert (attendance.arrival_date - adult.birth).days >= 18 * 365
        assert world.truth[aid] == adult.person_id
        on_register += adult.person_id in persons
    assert 0 < on_register < len(world.adult_of)


def test_some_adults_present_in_a_way_that_means_think_family(world: World) -> None:
    hits = 0
    for aid in world.adult_of:
        attendance = next(a for a in world.attendances if a.attendance_id == aid)
        ctx = RuleContext(attendance=attendance, settings=RuleSettings(), findings=(),
                          age=None, person_id=None)
        # without age and household the rule cannot fire; its reason says which part is missing
        assert THINK_FAMILY.apply(ctx) is None
        assert not injury_findings(attendance)
        text = " ".join(c.text for c in (attendance.complaint, *attendance.diagnoses) if c)
        hits += any(w in text.lower() for w in ("overdose", "poisoning", "self-harm",
                                                "intoxicat", "abuse", "ethanol"))
    assert 0.15 * len(world.adult_of) < hits < 0.8 * len(world.adult_of)


def test_household_children_are_born_and_under_18_and_a_partner_counts_from_moving_in(
        world: World) -> None:
    mothers = [(k, a, f) for k, (a, f) in world.adults.items() if a is f.mother]
    assert mothers
    key, adult, fam = mothers[0]
    first = min(c.birth for c in fam.children)
    assert world.household_children(key, first - timedelta(days=1)) == []
    assert fam.children[0] in world.household_children(key, fam.children[0].birth)
    partners = [(k, f) for k, (a, f) in world.adults.items() if a is f.partner]
    for key, fam in partners:
        assert world.household_children(key, fam.partner_from - timedelta(days=1)) == []


def test_injury_times_delays_and_old_fractures_occur_at_low_rates(world: World) -> None:
    injuries = [a for a in world.attendances if injury_findings(a)]
    timed = [a for a in injuries if a.injury_time is not None]
    delayed = [a for a in injuries if _delayed(a)]
    old = [a for a in injuries if any(d.text.startswith(("Old ", "Healing "))
                                      for d in a.diagnoses)]
    assert 0.5 * len(injuries) < len(timed) < 0.9 * len(injuries)
    assert 0.01 * len(injuries) < len(delayed) < 0.15 * len(injuries)
    assert old and set(map(id, old)) <= set(map(id, delayed))
    # no injury time on an attendance coded as something other than an injury
    assert not any(a.injury_time for a in world.attendances
                   if a.diagnoses and not injury_findings(a))
    # every delay the generator writes is a delay the rule sees; every other injury time is
    # within the 24 hours
    for a in timed:
        gap = a.arrival - a.injury_time
        assert (gap > timedelta(hours=24)) == _delayed(a)


def test_injury_timing_on_both_sides_of_a_day() -> None:
    arrival = datetime(2020, 5, 1, 12, 0)
    complaint = {"text": "Fracture of clavicle"}
    dx = ({"code": "S42.0", "text": "Fracture of clavicle", "system": "ICD10"},)
    seen = {"late": 0, "same day": 0, "old": 0}
    rng = random.Random(3)
    for _ in range(2_000):
        t = injury_timing(rng, arrival, complaint, dx, high_risk=True)
        if t.diagnoses[0]["text"] != "Fracture of clavicle":
            seen["old"] += 1
            assert t.complaint["text"] == t.diagnoses[0]["text"]
        elif t.injury_time is not None and arrival - t.injury_time > timedelta(hours=24):
            seen["late"] += 1
            assert t.complaint["text"].endswith("days ago")
        elif t.injury_time is not None:
            seen["same day"] += 1
            assert t.complaint == complaint
    assert all(seen.values()), seen


def test_an_adult_gives_the_family_home_only_while_living_there(world: World) -> None:
    """A partner attending before the partnership gives a home of their own; the mother, and
    the partner from moving in, the family's home that day (or no address: 5% leave it out).
    Otherwise the address would say the partner lives with children the truth says he
    does not."""
    seen = {"before": 0, "after": 0}
    for a in world.attendances:
        key = world.adult_of.get(a.attendance_id)
        if key is None or not a.patient.addresses:
            continue
        adult, fam = world.adults[key]
        given = a.patient.addresses[0]
        family_home = fam.home_on(a.arrival_date)
        at_home = (given.line, given.postcode) == (family_home.line, family_home.postcode)
        lives_here = fam.lives_here(adult, a.arrival_date)
        assert at_home is lives_here, a.attendance_id
        if adult is fam.partner:
            seen["after" if lives_here else "before"] += 1
    assert seen["before"] and seen["after"]


def test_a_partners_own_home_is_the_same_on_every_visit(world: World) -> None:
    partners = [f for a, f in world.adults.values() if a is f.partner and f.partner_from]
    fam = partners[0]
    before = fam.partner_from - timedelta(days=1)
    own = fam.home_of(fam.partner, before)
    assert own == fam.home_of(fam.partner, before - timedelta(days=400))
    assert own.town == fam.homes[0].town and own.postcode != fam.home_on(before).postcode
    assert fam.home_of(fam.partner, fam.partner_from) == fam.home_on(fam.partner_from)
