"""The Child L scenario: every row of the review's table, as the hospital could have seen it."""

from __future__ import annotations

import pytest

from safeflag import Safeflag
from safeflag.demo import STORY, run_demo
from safeflag.store.sqlite import SqliteStore


@pytest.fixture(scope="module")
def results():
    sf = Safeflag(SqliteStore(":memory:"))
    out = {r.attendance_id: r for _, r in run_demo(sf)}
    sf.close()
    return out


def flags(result):
    return {(f.code, f.status, f.subject, f.person_id) for f in result.flags}


def codes(result):
    return {w.code for w in result.warnings}


def evidence(result, code=None):
    return " | ".join(e for w in result.warnings if code in (None, w.code) for e in w.evidence)


def test_every_story_step_has_a_result(results):
    assert [s.attendance_id for s in STORY] == list(results)
    assert all(not r.errors for r in results.values())


def test_all_children_found_without_nhs_numbers_under_other_surnames(results):
    expected = ["CL-M", "CL-M", "CL-M", "CL-L", "CL-L"]
    assert [r.match.person_id for r in results.values()] == expected
    assert all(r.match.band in ("certain", "probable") for r in results.values())


def test_2012_05_02_nothing_on_record_yet(results):
    r = results["V12050201"]
    assert r.flags == () and r.warnings == ()


def test_2012_05_21_second_injury_in_19_days(results):
    r = results["V12052107"]
    assert codes(r) == {"REPEAT_INJURY"}
    assert "V12050201" in evidence(r, "REPEAT_INJURY")


def test_2012_06_12_third_in_six_weeks_and_late_presentation(results):
    r = results["V12061203"]
    assert {"REPEAT_INJURY", "DELAYED_PRESENTATION"} <= codes(r)
    assert "2 earlier injury" in evidence(r, "REPEAT_INJURY")


def test_2014_01_03_leg_injury_shows_the_family(results):
    r = results["V14010311"]
    f = flags(r)
    assert {("CIN", "active", "self", "CL-L"), ("CP", "previous", "self", "CL-L")} <= f
    for sib in ("CL-M", "CL-N"):
        assert {("CIN", "active", "sibling", sib), ("CP", "previous", "sibling", sib)} <= f
    assert ("CIN", "active", "sibling", "CL-O") in f
    assert ("CP-UNBORN", "previous", "household", "CL-ML") in f
    # as the contract's example: the open CIN plan from 2013-03-27, no end known on the day
    cin = next(x for x in r.flags if x.code == "CIN" and x.subject == "self")
    assert (str(cin.start), cin.end) == ("2013-03-27", None)
    assert "INJURY_AFTER_CONCERN" in codes(r)
    # The sister's earlier injuries are shown as evidence.
    assert all(a in evidence(r) for a in ("V12050201", "V12052107", "V12061203"))


def test_2014_01_27_head_injury(results):
    r = results["V14012722"]
    assert {"HEAD_INJURY_UNDER_3", "REPEAT_INJURY", "INJURY_AFTER_CONCERN"} <= codes(r)
    assert "V14010311" in evidence(r, "REPEAT_INJURY")
    cin = next(f for f in r.flags if f.code == "CIN" and f.subject == "self")
    assert cin.status == "previous" and str(cin.end) == "2014-01-24"
    assert "3 day(s)" in evidence(r, "RECENT_CLOSURE")
