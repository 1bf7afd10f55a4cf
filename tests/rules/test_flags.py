"""Flags: each status and subject of the contract, with the dates on both sides of each edge."""

from __future__ import annotations

import pytest

from ..conftest import attendance, load, person, plan, rel

ARRIVAL = "2021-05-01"


def flags(result):
    return [(f.code, f.status, f.subject, f.person_id) for f in result.flags]


@pytest.mark.parametrize("start, end, status", [
    ("2021-01-01", None, "active"),          # open plan
    ("2021-05-01", None, "active"),          # starts on the arrival date
    ("2021-01-01", "2021-05-01", "active"),  # ends on the arrival date
    ("2021-01-01", "2021-04-30", "previous"),  # ended the day before
    ("2010-01-01", "2011-01-01", "previous"),  # ended ten years before: never fades
    ("2021-05-02", None, None),              # starts after the arrival: ignored
])
def test_plan_status_edges(sf, start, end, status):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15")], plans=[plan("C1", "CP", start, end)])
    result = sf.check(attendance("A1", ARRIVAL))
    expected = [("CP", status, "self", "C1")] if status else []
    assert flags(result) == expected


@pytest.mark.parametrize("kind", ["CP", "LAC", "CIN", "CP-UNBORN"])
def test_every_plan_code_is_a_flag(sf, kind):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15")], plans=[plan("C1", kind, "2021-01-01")])
    assert flags(sf.check(attendance("A1", ARRIVAL))) == [(kind, "active", "self", "C1")]


def _family(sf, relationships, plans):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15"),
              person("S1", "Ben", "Smith", "2017-03-03", sex="male"),
              person("S2", "Cal", "Green", "2016-04-04", sex="male"),
              person("M1", "Jo", "Smith", "1995-02-02"),
              person("F1", "Ed", "Smith", "1994-02-02", sex="male"),
              person("F2", "Gus", "Green", "1990-02-02", sex="male"),
              person("P1", "Lee", "Hart", "1992-02-02", sex="male"),
              person("K1", "Kay", "Moss", "1970-02-02")],
         relationships, plans)


def test_declared_sibling_recorded_one_way_is_found_from_either_side(sf):
    _family(sf, [rel("S1", "C1", "sibling")], [plan("S1", "CIN", "2021-01-01")])
    assert flags(sf.check(attendance("A1", ARRIVAL))) == [("CIN", "active", "sibling", "S1")]


def test_full_and_half_siblings_are_derived_from_shared_parents(sf):
    _family(sf, [rel("C1", "M1", "mother"), rel("C1", "F1", "father"),
                 rel("S1", "M1", "mother"), rel("S1", "F1", "father"),
                 rel("S2", "M1", "mother"), rel("S2", "F2", "father")],
            [plan("S1", "CP", "2020-01-01", "2020-12-01"), plan("S2", "LAC", "2021-02-01")])
    result = sf.check(attendance("A1", ARRIVAL))
    assert ("CP", "previous", "sibling", "S1") in flags(result)
    assert ("LAC", "active", "sibling", "S2") in flags(result)
    kinds = {f.person_id: f.relationship for f in result.flags}
    assert kinds == {"S1": "sibling", "S2": "half-sibling"}


def test_sibling_derived_through_parent_recorded_from_the_parent_side_only(sf):
    # No contract type says "child", but a parent row may be recorded on either person.
    _family(sf, [rel("C1", "M1", "mother"), rel("S1", "M1", "mother")],
            [plan("S1", "CIN", "2021-01-01")])
    assert ("CIN", "active", "sibling", "S1") in flags(sf.check(attendance("A1", ARRIVAL)))


def test_household_by_current_relationship(sf):
    _family(sf, [rel("C1", "M1", "mother"), rel("C1", "P1", "partner-of-parent", "2020-06-01")],
            [plan("M1", "CP-UNBORN", "2019-10-01", "2020-01-15"),
             plan("P1", "CIN", "2021-01-01")])
    result = sf.check(attendance("A1", ARRIVAL))
    assert ("CP-UNBORN", "previous", "household", "M1") in flags(result)
    assert ("CIN", "active", "household", "P1") in flags(result)


@pytest.mark.parametrize("start, end, shown", [
    ("2020-01-01", "2021-05-01", True),    # ends on the arrival date: current
    ("2020-01-01", "2021-04-30", False),   # ended the day before
    ("2021-05-01", None, True),            # starts on the arrival date
    ("2021-05-02", None, False),           # starts the day after
])
def test_household_link_must_be_current(sf, start, end, shown):
    _family(sf, [rel("C1", "K1", "carer", start, end)], [plan("K1", "CIN", "2010-01-01")])
    result = sf.check(attendance("A1", ARRIVAL))
    assert (("CIN", "active", "household", "K1") in flags(result)) is shown


def test_sibling_links_are_permanent(sf):
    _family(sf, [rel("C1", "S1", "sibling", "2019-01-01", "2019-02-01")],
            [plan("S1", "CP", "2020-01-01")])
    assert ("CP", "active", "sibling", "S1") in flags(sf.check(attendance("A1", ARRIVAL)))


def test_a_parents_partner_is_household_not_a_path_to_another_family(sf):
    # P1 is the partner of C1's mother and the father of S2 (another family). S2 is not C1's
    # sibling: siblings come only from the child's own parent links, one hop.
    _family(sf, [rel("C1", "M1", "mother"), rel("C1", "P1", "partner-of-parent"),
                 rel("S2", "P1", "father")],
            [plan("S2", "CP", "2021-01-01")])
    result = sf.check(attendance("A1", ARRIVAL))
    assert all(f.person_id != "S2" for f in result.flags)


def test_flags_ordered_self_then_siblings_then_household_active_first(sf):
    _family(sf, [rel("C1", "M1", "mother"), rel("S1", "M1", "mother")],
            [plan("M1", "CP-UNBORN", "2019-10-01", "2020-01-15"),
             plan("S1", "CP", "2020-01-01", "2020-06-01"), plan("S1", "CIN", "2020-06-01"),
             plan("C1", "CP", "2020-02-01", "2020-03-01"), plan("C1", "CIN", "2021-01-01")])
    assert [(f.subject, f.status, f.code) for f in sf.check(attendance("A1", ARRIVAL)).flags] == [
        ("self", "active", "CIN"), ("self", "previous", "CP"),
        ("sibling", "active", "CIN"), ("sibling", "previous", "CP"),
        ("household", "previous", "CP-UNBORN")]


def test_no_match_no_flags(sf):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15")], plans=[plan("C1", "CP", "2021-01-01")])
    result = sf.check(attendance("A1", ARRIVAL, given="Zoe", family="Quinn", birth="2019-07-07",
                                 postcode="LS2 9JT"))
    assert result.match.band == "none" and result.flags == ()


@pytest.mark.parametrize("end, shown", [
    ("2021-05-02", None),            # ends after the arrival: not known on the day
    ("2021-05-01", "2021-05-01"),    # ends on the arrival date: known, still active
    ("2021-04-30", "2021-04-30"),    # ended before: previous, with its end
])
def test_flag_end_date_as_known_on_the_arrival_date(sf, end, shown):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15")], plans=[plan("C1", "CIN", "2021-01-01", end)])
    [flag] = sf.check(attendance("A1", ARRIVAL)).flags
    assert (str(flag.end) if flag.end else None) == shown
