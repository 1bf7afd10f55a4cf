"""The contract's seven warnings, each on both sides of each threshold, through the public API.

The child "Amy Smith" is born 2020-01-15; arrival dates are chosen so that her age in completed
months sits exactly on either side of each limit.
"""

from __future__ import annotations

import pytest

from safeflag import RuleSettings, Safeflag, Settings
from safeflag.store.sqlite import SqliteStore

from ..conftest import attendance, load, person, plan, rel

BIRTH = "2020-01-15"


def codes(result) -> set[str]:
    return {w.code for w in result.warnings}


def warning(result, code):
    return next(w for w in result.warnings if w.code == code)


def on_register(sf: Safeflag, *extra_persons, relationships=(), plans=()) -> None:
    load(sf, [person("C1", "Amy", "Smith", BIRTH), *extra_persons], relationships, plans)


# --- age rules -------------------------------------------------------------------------------
@pytest.mark.parametrize("arrival, months, fires", [
    ("2021-01-14", 11, True),    # 11 completed months
    ("2021-01-15", 12, False),   # 12th birthday-month reached
])
def test_infant_injury_under_12_months(sf, arrival, months, fires):
    result = sf.check(attendance("A1", arrival, dx=("S80.0",)))
    assert ("INFANT_INJURY" in codes(result)) is fires
    if fires:
        w = warning(result, "INFANT_INJURY")
        assert w.level == "consider"
        assert any(f"age {months} completed months" in e for e in w.evidence)


def test_infant_injury_needs_an_injury(sf):
    result = sf.check(attendance("A1", "2020-06-01", dx=("J21.9",)))   # bronchiolitis
    assert not result.injury
    assert result.warnings == ()


@pytest.mark.parametrize("dx, arrival, fires", [
    ("S00.4", "2023-12-14", True),    # ear bruise, 46 months
    ("S00.4", "2024-01-14", True),    # 47 months
    ("S00.4", "2024-01-15", False),   # 48 months
    ("S20.2", "2024-01-14", True),    # torso contusion at 47 months
    ("S10.9", "2024-01-14", True),    # neck
    ("S00.5", "2024-01-14", True),    # frenulum / mouth
    ("S00.8", "2024-01-14", True),    # cheek
    ("S00.1", "2024-01-14", True),    # eyelid
    ("S00.2", "2024-01-14", True),    # other eyelid / periocular
    ("S00.0", "2024-01-14", False),   # scalp: not a TEN-4 site
    ("S80.0", "2020-06-14", True),    # knee bruise at 4 completed months: any site
    ("S80.0", "2020-06-15", False),   # 5 completed months: not any site
    ("S01.4", "2020-06-14", False),   # an open wound is not a bruise (but is infant injury)
])
def test_ten4_bruising(sf, dx, arrival, fires):
    result = sf.check(attendance("A1", arrival, dx=(dx,)))
    assert ("TEN4_BRUISING" in codes(result)) is fires
    if fires:
        assert warning(result, "TEN4_BRUISING").level == "suspect"


@pytest.mark.parametrize("dx, arrival, fires", [
    ("S52.5", "2021-12-14", True),    # 22 months... forearm fracture
    ("S52.5", "2022-01-14", True),    # 23 months
    ("S52.5", "2022-01-15", False),   # 24 months
    ("T14.2", "2022-01-14", True),    # fracture of unspecified region
    ("T14.0", "2022-01-14", False),   # superficial, not a fracture
    ("S72.0", "2022-01-14", True),    # femur
    ("S02.0", "2022-01-14", True),    # skull vault
])
def test_fracture_under_2(sf, dx, arrival, fires):
    result = sf.check(attendance("A1", arrival, dx=(dx,)))
    assert ("FRACTURE_UNDER_2" in codes(result)) is fires


@pytest.mark.parametrize("dx, arrival, fires", [
    ("S06.5", "2023-01-14", True),    # 35 months
    ("S06.5", "2023-01-15", False),   # 36 months
    ("S09.9", "2023-01-14", False),   # head injury, not intracranial
])
def test_head_injury_under_3(sf, dx, arrival, fires):
    result = sf.check(attendance("A1", arrival, dx=(dx,)))
    assert ("HEAD_INJURY_UNDER_3" in codes(result)) is fires
    if fires:
        assert warning(result, "HEAD_INJURY_UNDER_3").level == "suspect"


def test_partial_birth_date_is_an_age_range_not_1_january(sf):
    # Born "2020" (year only): on 2020-12-20 the child may be 0–11 months old: infant rule fires,
    # and the evidence says the age is a range.
    result = sf.check(attendance("A1", "2020-12-20", birth="2020", dx=("S80.0",)))
    w = warning(result, "INFANT_INJURY")
    assert any("known to the year only" in e for e in w.evidence)
    # On 2022-01-01 a child born in 2020 is at least 12 months: no infant prompt.
    result = sf.check(attendance("A2", "2022-01-01", birth="2020", given="Bea", dx=("S80.0",)))
    assert "INFANT_INJURY" not in codes(result)


def test_unknown_birth_date_says_no_data(sf):
    result = sf.check(attendance("A1", "2021-01-01", birth=None, dx=("S06.5",)))
    assert "HEAD_INJURY_UNDER_3" not in codes(result)
    assert any(n.startswith("HEAD_INJURY_UNDER_3: no data") for n in result.notes)


# --- repeat injury ---------------------------------------------------------------------------
@pytest.mark.parametrize("earlier, fires", [
    ("2024-10-27", True),    # 56 days before 2024-12-22: inside (N days back, inclusive)
    ("2024-10-26", False),   # 57 days before
    ("2024-12-22T08:00:00", True),   # same day, earlier
])
def test_repeat_injury_56_days_under_5(sf, earlier, fires):
    on_register(sf)
    sf.check(attendance("E1", earlier, dx=("S80.0",)))
    result = sf.check(attendance("A1", "2024-12-22T18:00:00", dx=("S52.5",)))   # 59 months
    assert ("REPEAT_INJURY" in codes(result)) is fires
    if fires:
        assert any("E1" in e for e in warning(result, "REPEAT_INJURY").evidence)


@pytest.mark.parametrize("arrival, fires", [
    ("2025-01-14", True),    # 59 completed months: under 5
    ("2025-01-15", False),   # 60 completed months: not under 5, and only 1 earlier
])
def test_repeat_injury_short_window_needs_under_5(sf, arrival, fires):
    on_register(sf)
    sf.check(attendance("E1", "2024-12-20", dx=("S80.0",)))
    result = sf.check(attendance("A1", arrival, dx=("S52.5",)))
    assert ("REPEAT_INJURY" in codes(result)) is fires


@pytest.mark.parametrize("first, fires", [
    ("2029-01-16", True),    # 365 days before 2030-01-16
    ("2029-01-15", False),   # 366 days before
])
def test_repeat_injury_two_in_365_days_any_age(sf, first, fires):
    on_register(sf)
    sf.check(attendance("E1", first, dx=("S80.0",)))
    sf.check(attendance("E2", "2029-09-01", dx=("S60.0",)))
    result = sf.check(attendance("A1", "2030-01-16", dx=("S52.5",)))   # aged 10
    assert ("REPEAT_INJURY" in codes(result)) is fires


def test_repeat_injury_counts_injuries_not_other_attendances(sf):
    on_register(sf)
    sf.check(attendance("E1", "2029-03-01", dx=("J45.9",)))   # asthma
    sf.check(attendance("E2", "2029-09-01", dx=("S60.0",)))
    result = sf.check(attendance("A1", "2030-01-16", dx=("S52.5",)))
    assert "REPEAT_INJURY" not in codes(result)


def test_repeat_injury_for_a_child_not_on_the_register(sf):
    # No register at all: the attendee index still links the same child's attendances.
    sf.check(attendance("E1", "2021-03-01", dx=("S80.0",)))
    result = sf.check(attendance("A1", "2021-03-20", dx=("S52.5",)))
    assert "REPEAT_INJURY" in codes(result)
    assert result.match.band == "none"


# --- injury after concern ------------------------------------------------------------------------
@pytest.mark.parametrize("start, end, fires", [
    ("2021-05-01", None, True),            # plan started on the arrival date
    ("2021-05-02", None, False),           # starts the day after: ignored
    ("2020-06-01", "2020-12-31", True),    # ended long ago: previous still counts
])
def test_injury_after_concern(sf, start, end, fires):
    on_register(sf, plans=[plan("C1", "CIN", start, end)])
    result = sf.check(attendance("A1", "2021-05-01", dx=("S52.5",)))
    assert ("INJURY_AFTER_CONCERN" in codes(result)) is fires
    if fires:
        w = warning(result, "INJURY_AFTER_CONCERN")
        assert w.level == "suspect" and "Serious Case Review" in w.source


@pytest.mark.parametrize("kind", ["CP", "LAC", "CIN"])
def test_injury_after_concern_each_plan_type(sf, kind):
    on_register(sf, plans=[plan("C1", kind, "2020-06-01")])
    result = sf.check(attendance("A1", "2021-05-01", dx=("S52.5",)))
    assert "INJURY_AFTER_CONCERN" in codes(result)


def test_cp_unborn_on_the_mother_does_not_count_as_the_childs_plan(sf):
    on_register(sf, person("M1", "Jo", "Smith", "1995-02-02"),
                relationships=[rel("C1", "M1", "mother")],
                plans=[plan("M1", "CP-UNBORN", "2019-11-01", "2020-01-15")])
    result = sf.check(attendance("A1", "2021-05-01", dx=("S52.5",)))
    assert "INJURY_AFTER_CONCERN" not in codes(result)
    assert [(f.code, f.subject) for f in result.flags] == [("CP-UNBORN", "household")]


# --- sibling injury ----------------------------------------------------------------------------
def _family(sf, relationships):
    on_register(sf, person("S1", "Ben", "Smith", "2018-03-03", sex="male"),
                person("M1", "Jo", "Smith", "1995-02-02"),
                person("X1", "Kim", "Jones", "1990-01-01", postcode="LS1 1AA"),
                relationships=relationships)


@pytest.mark.parametrize("earlier, fires", [
    ("2021-02-01", True),    # 90 days before 2021-05-02
    ("2021-01-31", False),   # 91 days before
    ("2021-05-02T07:00:00", True),   # same day
])
def test_sibling_injury_90_days(sf, earlier, fires):
    _family(sf, [rel("C1", "S1", "sibling")])
    sf.check(attendance("E1", earlier, given="Ben", birth="2018-03-03", sex="male", dx=("S52.5",)))
    result = sf.check(attendance("A1", "2021-05-02T12:00:00", dx=("S80.0",)))
    assert ("SIBLING_INJURY" in codes(result)) is fires
    if fires:
        w = warning(result, "SIBLING_INJURY")
        assert w.subject == "sibling" and any("E1" in e for e in w.evidence)


def test_sibling_injury_from_a_shared_mother(sf):
    _family(sf, [rel("C1", "M1", "mother"), rel("S1", "M1", "mother")])
    sf.check(attendance("E1", "2021-04-01", given="Ben", birth="2018-03-03", sex="male", dx=("S52.5",)))
    result = sf.check(attendance("A1", "2021-05-02", dx=("S80.0",)))
    assert "SIBLING_INJURY" in codes(result)


def test_sibling_injury_ignores_an_injured_adult_in_the_household(sf):
    _family(sf, [rel("C1", "X1", "household-member")])
    sf.check(attendance("E1", "2021-04-01", given="Kim", family="Jones", birth="1990-01-01",
                        postcode="LS1 1AA", dx=("S52.5",)))
    result = sf.check(attendance("A1", "2021-05-02", dx=("S80.0",)))
    assert "SIBLING_INJURY" not in codes(result)


def test_sibling_injury_household_child(sf):
    load(sf, [person("C1", "Amy", "Smith", BIRTH),
              person("H1", "Zak", "Brown", "2015-05-05", sex="male", postcode="LS1 1AA")],
         [rel("C1", "H1", "household-member", "2020-01-01")])
    sf.check(attendance("E1", "2021-04-01", given="Zak", family="Brown", birth="2015-05-05",
                        sex="male", postcode="LS1 1AA", dx=("S52.5",)))
    result = sf.check(attendance("A1", "2021-05-02", dx=("S80.0",)))
    w = warning(result, "SIBLING_INJURY")
    assert w.subject == "household"


# --- settings -------------------------------------------------------------------------------------
def test_every_threshold_is_configurable():
    sf = Safeflag(SqliteStore(":memory:"), Settings(rules=RuleSettings(infant_months=24)))
    result = sf.check(attendance("A1", "2021-06-01", dx=("S80.0",)))   # 16 months
    assert "INFANT_INJURY" in codes(result)


def test_warnings_are_ordered_by_level(sf):
    on_register(sf, plans=[plan("C1", "CIN", "2020-06-01")])
    sf.check(attendance("E1", "2021-04-20", dx=("S80.0",)))
    result = sf.check(attendance("A1", "2021-05-01", dx=("S06.5",)))
    levels = [w.level for w in result.warnings]
    assert levels == sorted(levels, key=["suspect", "consider", "info"].index)
    assert {"HEAD_INJURY_UNDER_3", "INJURY_AFTER_CONCERN", "REPEAT_INJURY"} <= codes(result)


def test_wording_prompts_and_never_asserts(sf):
    on_register(sf, plans=[plan("C1", "CP", "2020-06-01")])
    result = sf.check(attendance("A1", "2020-07-01", dx=("S06.5", "S00.4", "S52.5")))
    assert result.warnings
    for w in result.warnings:
        assert w.source and w.evidence
        text = w.message.lower()
        assert any(word in text for word in ("consider", "suspect", "discuss"))
        assert "abuse confirmed" not in text and "was abused" not in text


def test_concern_evidence_does_not_show_an_end_date_not_yet_known(sf):
    # The register now says the plan ended 2021-09-01; on 2021-05-01 it was open.
    on_register(sf, plans=[plan("C1", "CIN", "2020-06-01", "2021-09-01")])
    result = sf.check(attendance("A1", "2021-05-01", dx=("S52.5",)))
    evidence = warning(result, "INJURY_AFTER_CONCERN").evidence
    assert evidence == ("plan CIN from 2020-06-01, open on the arrival date, Test Council",)
    later = sf.check(attendance("A2", "2021-10-01", dx=("S52.5",)))
    assert warning(later, "INJURY_AFTER_CONCERN").evidence == (
        "plan CIN from 2020-06-01, ended 2021-09-01, Test Council",)
