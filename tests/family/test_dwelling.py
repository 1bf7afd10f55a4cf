"""Household children from the addresses given at attendances: another attending child who
gave the same home (postcode unit and the numbers of the address line) and the same family
name, or the very same home under any family name within ``home_shared_days``, linked as
``household`` and unconfirmed; nobody by a postcode unit, a surname or a street alone, no
adult, never the child itself, nobody at a communal address."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from safeflag import Safeflag
from safeflag.algo.compare import Identity
from safeflag.family import children_at_home
from safeflag.match import demographics_identity
from safeflag.models import Address, Demographics, Name, NextOfKin
from safeflag.settings import RuleSettings, Settings
from safeflag.store.sqlite import SqliteStore

from ..conftest import attendance, load, person

HOME = "LS2 9JT"


def at(aid: str, arrival: str, given: str, family: str, birth: str, line: str,
       postcode: str = HOME, dx: tuple[str, ...] = ("S52.5",), **more):
    a = attendance(aid, arrival, given=given, family=family, birth=birth, postcode=postcode,
                   dx=dx, **more)
    home = Address(line=line, city="Leeds", postcode=postcode) if line else Address(
        postcode=postcode)
    return a.model_copy(update={"patient": a.patient.model_copy(update={"addresses": (home,)})})


def warning(result, code: str):
    return next((w for w in result.warnings if w.code == code), None)


@pytest.mark.parametrize("line, family, postcode, linked", [
    ("14 Fern Close", "Lowe", HOME, True),
    ("Flat 2, 14 Fern Close", "Lowe", HOME, True),    # the same building, numbers fit
    ("14 fern close", "LOWE", HOME, True),            # case and spacing
    ("14 Fern Close", "Lowe-Dunn", HOME, True),       # one part of a double-barrelled name
    ("16 Fern Close", "Lowe", HOME, False),           # another house in the postcode unit
    ("Flat A, 14 Fern Close", "Lowe", HOME, True),    # the flat's letter only on one side
    ("14B Fern Close", "Lowe", HOME, True),
    ("14 Fern Close", "Dunn", HOME, True),            # another family name, a month apart
    ("Flat 2, 14 Fern Close", "Dunn", HOME, False),   # ... but the numbers only fit
    ("Fern Cottage", "Lowe", HOME, False),            # no number: the unit alone is ~15 homes
    ("", "Lowe", HOME, False),                        # no address line at all
    ("14 Fern Close", "Lowe", "LS2 9JU", False),      # another postcode unit
    ("14 Oak Road", "Lowe", HOME, False),             # the same number in another street
    ("14 Oak Road", "Dunn", HOME, False),             # ... of the unit, either way
    ("14 Fen Close", "Lowe", HOME, True),             # a slip in the street's name
])
def test_a_child_at_the_same_home_with_the_family_name_is_household(sf, line, family,
                                                                     postcode, linked):
    load(sf, [person("X1", "Unrelated", "Person", "2001-01-01", postcode="ZZ1 1ZZ")])
    sf.check(at("V1", "2021-03-01", "Tom", "Lowe", "2016-02-02", "14 Fern Close",
                dx=("S42.0",)))
    result = sf.check(at("V2", "2021-04-01", "Ivy", family, "2019-06-06", line,
                         postcode=postcode))
    assert result.match.band == "none"
    w = warning(result, "SIBLING_INJURY")
    assert (w is not None) is linked
    if linked:
        assert w.subject == "household" and w.confirmed is False
        assert any(e.startswith("household-member attendee:") and "same home" in e
                   for e in w.evidence)
        assert any("V1" in e for e in w.evidence)


@pytest.mark.parametrize("earlier_line, linked", [
    ("14 Fern Close", True),      # the child gave the home before: its address history
    ("16 Fern Close", False),     # another house before, and none given today
])
def test_a_home_the_child_gave_at_an_earlier_attendance_counts(sf, earlier_line, linked):
    sf.check(at("V0", "2020-01-10", "Ivy", "Lowe", "2019-06-06", earlier_line, dx=()))
    sf.check(at("V1", "2021-03-01", "Tom", "Lowe", "2016-02-02", "14 Fern Close",
                dx=("S42.0",)))
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", ""))
    assert (warning(result, "SIBLING_INJURY") is not None) is linked


def test_flats_a_and_b_of_one_house_are_two_homes(sf):
    sf.check(at("V1", "2021-03-01", "Tom", "Lowe", "2016-02-02", "Flat A, 14 Fern Close",
                dx=("S42.0",)))
    other_flat = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06",
                             "Flat B, 14 Fern Close"))
    same_flat = sf.check(at("V3", "2021-04-02", "Amy", "Lowe", "2018-01-09",
                            "Flat A, 14 Fern Close"))
    assert warning(other_flat, "SIBLING_INJURY") is None
    assert warning(same_flat, "SIBLING_INJURY") is not None


@pytest.mark.parametrize("birth, linked", [
    ("2003-04-02", True),     # 17 on the arrival date: a household child
    ("2003-04-01", False),    # 18 that day: an adult is for the register's household links
    ("2003", True),           # a year only: may still be 17, so counted
])
def test_only_children_are_linked_by_the_home(sf, birth, linked):
    load(sf, [person("X1", "Unrelated", "Person", "2001-01-01", postcode="ZZ1 1ZZ")])
    sf.check(at("V1", "2021-03-20", "Jo", "Lowe", birth, "14 Fern Close", dx=("S42.0",)))
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    assert (warning(result, "SIBLING_INJURY") is not None) is linked


@pytest.mark.parametrize("years, linked", [(17, True), (16, False)])
def test_household_child_years_sets_who_is_a_child_at_the_home(sf, years, linked):
    sf.check(at("V1", "2021-03-20", "Jo", "Lowe", "2004-06-06", "14 Fern Close",
                dx=("S42.0",)))                                # 16 on the day
    child = demographics_identity(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06",
                                     "14 Fern Close").patient)
    found, _ = children_at_home(sf.store, child, [], None, datetime(2021, 4, 1, 10), most=10,
                                child_months=years * 12)
    assert bool(found) is linked


def test_the_child_under_another_first_name_is_not_its_own_household(sf):
    """The same birth date at the same home: on attendance data alone that may be the child
    itself (a middle name, two keying slips), so it is never listed."""
    sf.check(at("V1", "2021-03-01", "Olivia", "Lowe", "2019-06-06", "14 Fern Close",
                dx=("S42.0",)))
    result = sf.check(at("V2", "2021-04-01", "Grace", "Lowe", "2019-06-06", "14 Fern Close"))
    assert warning(result, "SIBLING_INJURY") is None


@pytest.mark.parametrize("given, linked", [("Ivy", False), ("Ivey", False), ("Amy", True)])
def test_a_record_of_the_child_itself_is_not_its_household_when_today_has_no_birth_date(
        sf, given, linked):
    """Without today's birth date nothing tells an earlier record of the same first name at
    the home from the child itself (the matcher does not join them without it)."""
    sf.check(at("V1", "2021-03-01", given, "Lowe", "2019-06-06", "14 Fern Close",
                dx=("S42.0",)))
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", None, "14 Fern Close"))
    assert (warning(result, "SIBLING_INJURY") is not None) is linked


def test_a_child_linked_to_the_register_is_shown_as_that_person(sf):
    """An attendee matched to a register person is that person (whose own register address
    is elsewhere now, so the register alone does not place them at the home)."""
    load(sf, [person("P1", "Tom", "Lowe", "2016-02-02", sex="male", postcode="HU1 2AA",
                     nhs="9434765919")])
    first = sf.check(at("V1", "2021-03-01", "Tom", "Lowe", "2016-02-02", "14 Fern Close",
                        dx=("S42.0",), nhs="9434765919", sex="male"))
    assert first.match.person_id == "P1"
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    w = warning(result, "SIBLING_INJURY")
    assert w is not None and any(e.startswith("household-member P1 ") for e in w.evidence)


def test_an_adult_at_the_home_does_not_bring_attendance_only_children_into_think_family(sf):
    """THINK_FAMILY speaks of the register's children: a child known only from attendances
    at the same home is not enough to put before the adult's clinician."""
    sf.check(at("V1", "2021-03-01", "Tom", "Lowe", "2016-02-02", "14 Fern Close"))
    adult = sf.check(at("A1", "2021-04-01", "Dan", "Lowe", "1988-03-03", "14 Fern Close",
                        dx=("T39.1",), sex="male"))
    assert warning(adult, "THINK_FAMILY") is None


_KIDS = [("Amy", "2010-05-01"), ("Ben", "2012-08-13"), ("Cal", "2014-11-20"),
         ("Dee", "2016-03-09")]


def _children(sf, n: int, families: tuple[str, ...] = ("Lowe",) * 4) -> None:
    for i, (given, birth) in enumerate(_KIDS[:n]):
        sf.check(at(f"V{i}", "2021-03-01", given, families[i], birth, "1 Hostel Road",
                    dx=("S42.0",)))


@pytest.mark.parametrize("families, which", [
    (("Lowe",) * 4, "of the same family name"),         # both ways find them
    (("Dunn", "Hart", "Khan", "Webb"), "in the previous 365 days"),
])
@pytest.mark.parametrize("others, linked", [(2, True), (3, False)])
def test_more_children_at_one_home_than_most_is_communal(families, which, others, linked):
    with _rules(address_household_most=2) as sf:
        _children(sf, others, families)
        result = sf.check(at("A1", "2021-04-01", "Ivy", "Lowe", "2019-06-06",
                             "1 Hostel Road"))
    assert (warning(result, "SIBLING_INJURY") is not None) is linked
    communal = [n for n in result.notes if "communal" in n]
    assert (communal == []) is linked
    if not linked:
        assert (f"the child's home was given at attendances of {others} other children "
                f"{which}: taken as communal, so no household child is linked by it"
                in communal)


def test_without_an_identity_or_premises_nobody_is_looked_for(sf):
    _children(sf, 1)
    on = datetime(2021, 4, 1, 10)
    assert children_at_home(sf.store, None, [], None, on, most=10) == ([], [])
    no_numbers = demographics_identity(at("Q", "2021-04-01", "Ivy", "Lowe", "2019-06-06",
                                          "Hostel Road").patient)
    assert no_numbers.premises == ()
    assert children_at_home(sf.store, no_numbers, [], None, on, most=10) == ([], [])
    found, notes = children_at_home(
        sf.store, Identity(ref="q", families=("LOWE",), premises=("LS2 9JT|1",)), [], None,
        on, most=10)
    assert [r.person_id for r in found] == ["attendee:1"] and notes == []


# --- the very same home lately, whatever the family name --------------------------------------
def _rules(**values) -> Safeflag:
    return Safeflag(SqliteStore(":memory:"), Settings(rules=RuleSettings(**values)))


@pytest.mark.parametrize("apart, shared_days, linked", [
    (30, 30, True),               # the window counts back inclusively, as every window does
    (31, 30, False),
    (31, 31, True),
    (0, 0, True),                 # the same day, with a window of none
])
def test_another_family_name_at_the_very_same_home_counts_within_home_shared_days(
        apart, shared_days, linked):
    """A half-sibling with their father's surname, or a step-sibling, at the same home."""
    with _rules(home_shared_days=shared_days) as sf:
        sf.check(at("V1", "2021-03-01T09:00:00", "Tom", "Dunn", "2016-02-02", "14 Fern Close",
                    dx=("S42.0",)))
        arrival = (datetime(2021, 3, 1, 11) + timedelta(days=apart)).isoformat()
        result = sf.check(at("V2", arrival, "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    w = warning(result, "SIBLING_INJURY")
    assert (w is not None) is linked
    if linked:
        assert w.subject == "household" and w.confirmed is False
        assert any(e.startswith("household-member attendee:") and
                   f"at attendance V1 on 2021-03-01, within {shared_days} days" in e
                   for e in w.evidence)


def test_the_latest_attendance_at_the_home_dates_the_link():
    """An earlier child's injury long ago still shows when a later attendance of theirs (of no
    injury) gave the home within the window: they still live there."""
    with _rules(home_shared_days=30) as sf:
        sf.check(at("V1", "2020-01-10", "Tom", "Dunn", "2016-02-02", "14 Fern Close",
                    dx=("S42.0",)))
        sf.check(at("V2", "2021-03-20", "Tom", "Dunn", "2016-02-02", "14 Fern Close", dx=()))
        result = sf.check(at("V3", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    w = warning(result, "FAMILY_INJURY_HISTORY")
    assert w is not None
    assert any("at attendance V2 on 2021-03-20, within 30 days" in e for e in w.evidence)


@pytest.mark.parametrize("corrected, linked", [(None, True), ("16 Fern Close", False)])
def test_an_a08_that_corrects_the_address_takes_the_old_home_away(sf, corrected, linked):
    first = at("V1", "2021-03-01", "Tom", "Dunn", "2016-02-02", "14 Fern Close", dx=("S42.0",))
    sf.check(first)
    if corrected:
        sf.check(at("V1", "2021-03-01", "Tom", "Dunn", "2016-02-02", corrected,
                    dx=("S42.0",), event="A08"))
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    assert (warning(result, "SIBLING_INJURY") is not None) is linked


# An address keyed wrongly at registration (A01) and corrected by an A08 of the same attendance:
# the wrong home in the same postcode unit, or the right number at the wrong postcode.
WRONG_HOMES = [("41 Fern Close", HOME), ("14 Fern Close", "LS2 9JU")]


def _corrected(sf, aid: str, arrival: str, given: str, birth: str, wrong: tuple[str, str],
               dx: tuple[str, ...] = ()) -> None:
    line, postcode = wrong
    sf.check(at(aid, arrival, given, "Lowe", birth, line, postcode=postcode, dx=dx,
                event="A01"))
    sf.check(at(aid, arrival, given, "Lowe", birth, "14 Fern Close", dx=dx, event="A08"))


def _by_family_name(result) -> bool:
    """Is SIBLING_INJURY shown for a child found at the same home under the same family name
    (not by the very same home lately, which ``home_shared_days=0`` keeps to one day)?"""
    w = warning(result, "SIBLING_INJURY")
    return w is not None and any("under the same family name" in e for e in w.evidence)


@pytest.mark.parametrize("wrong", WRONG_HOMES)
@pytest.mark.parametrize("later_home, linked", [("wrong", False), ("right", True)])
def test_an_a08_that_corrects_the_address_takes_the_old_home_away_for_the_family_name(
        wrong, later_home, linked):
    """A child of the same family name later at the wrong address is a stranger, not the
    injured child's household; a child at the address the A08 gave is."""
    line, postcode = wrong if later_home == "wrong" else ("14 Fern Close", HOME)
    with _rules(home_shared_days=0) as sf:
        _corrected(sf, "V1", "2021-03-01", "Tom", "2016-02-02", wrong, dx=("S42.0",))
        result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", line,
                             postcode=postcode))
    assert _by_family_name(result) is linked


@pytest.mark.parametrize("wrong", WRONG_HOMES)
@pytest.mark.parametrize("injured_at, linked", [("wrong", False), ("right", True)])
def test_a_home_the_child_gave_only_before_an_a08_corrected_it_is_not_its_home(
        wrong, injured_at, linked):
    """The child's own earlier homes are those its attendances give now: the address an A08
    corrected is not one of them, the address it gave instead is."""
    line, postcode = wrong if injured_at == "wrong" else ("14 Fern Close", HOME)
    with _rules(home_shared_days=0) as sf:
        _corrected(sf, "V0", "2021-01-10", "Ivy", "2019-06-06", wrong)
        sf.check(at("V1", "2021-03-01", "Tom", "Lowe", "2016-02-02", line, postcode=postcode,
                    dx=("S42.0",)))
        result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", ""))
    assert _by_family_name(result) is linked


@pytest.mark.parametrize("wrong", WRONG_HOMES)
def test_a_home_also_given_at_another_attendance_stays_after_an_a08(wrong):
    """The A08 takes away what its own attendance gave, not the same home given at another."""
    line, postcode = wrong
    with _rules(home_shared_days=0) as sf:
        sf.check(at("V0", "2021-01-10", "Tom", "Lowe", "2016-02-02", line, postcode=postcode,
                    dx=()))
        _corrected(sf, "V1", "2021-03-01", "Tom", "2016-02-02", wrong, dx=("S42.0",))
        at_old = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", line,
                             postcode=postcode))
        at_new = sf.check(at("V3", "2021-04-02", "Amy", "Lowe", "2018-01-09",
                             "14 Fern Close"))
    assert _by_family_name(at_old) and _by_family_name(at_new)


@pytest.mark.parametrize("birth, linked", [("2003-04-02", True), ("2003-04-01", False)])
def test_only_children_are_linked_by_the_very_same_home(sf, birth, linked):
    sf.check(at("V1", "2021-03-01", "Sam", "Dunn", birth, "14 Fern Close", dx=("S42.0",)))
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    assert (warning(result, "SIBLING_INJURY") is not None) is linked


def _mother(given: str, family: str, nhs: str | None = None) -> NextOfKin:
    return NextOfKin(relationship="mother", code="MTH", demographics=Demographics(
        nhs_number=nhs, names=(Name(given=given, family=family),)))


@pytest.mark.parametrize("first_mother, second_mother, linked", [
    (("Kerry", "Dunn"), ("Lisa", "Lowe"), False),     # two women: two families in one house
    (("Kerry", "Dunn"), ("Kerry", "Lowe"), True),     # she may have married: her first name
    (("Rebecca", "Dunn"), ("Becky", "Lowe"), True),   # ... or be named by a nickname
    (("Kerry", "Dunn"), None, True),                  # nothing says who the mother is
    (None, ("Lisa", "Lowe"), True),
    (("Kerry", "Dunn", "9434765919"), ("Kerry", "Lowe", "9434765927"), False),  # two numbers
])
def test_two_mothers_named_at_the_very_same_home_are_two_families(sf, first_mother,
                                                                  second_mother, linked):
    """The very same home under another family name links half- and step-siblings; where the
    two children's attendances name two different women as mother, it is a shared house."""
    first = at("V1", "2021-03-01", "Tom", "Dunn", "2016-02-02", "14 Fern Close", dx=("S42.0",))
    if first_mother:
        first = first.model_copy(update={"next_of_kin": (_mother(*first_mother),)})
    sf.check(first)
    second = at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close")
    if second_mother:
        second = second.model_copy(update={"next_of_kin": (_mother(*second_mother),)})
    result = sf.check(second)
    assert (warning(result, "SIBLING_INJURY") is not None) is linked


def test_a_mother_named_at_an_earlier_attendance_counts_for_the_child(sf):
    sf.check(at("V0", "2020-01-10", "Ivy", "Lowe", "2019-06-06", "3 Oak Road", dx=()
                ).model_copy(update={"next_of_kin": (_mother("Lisa", "Lowe"),)}))
    sf.check(at("V1", "2021-03-01", "Tom", "Dunn", "2016-02-02", "14 Fern Close",
                dx=("S42.0",)).model_copy(update={"next_of_kin": (_mother("Kerry", "Dunn"),)}))
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    assert warning(result, "SIBLING_INJURY") is None


@pytest.mark.parametrize("first, second, linked", [
    ("Flat 2, 14 Fern Close", "Flat 2, 14 Fern Close", True),
    ("Flat 14, 2 Fern Close", "Flat 2, 14 Fern Close", False),   # the same numbers swapped
    ("Flat 2, 14 Fern Close", "2 Fern Close", False),    # a flat of 14 and the house at 2
])
@pytest.mark.parametrize("family", ["Lowe", "Dunn"])
def test_which_number_is_the_house_tells_two_homes_apart(sf, first, second, linked, family):
    sf.check(at("V1", "2021-03-01", "Tom", "Lowe", "2016-02-02", first, dx=("S42.0",)))
    result = sf.check(at("V2", "2021-04-01", "Ivy", family, "2019-06-06", second))
    assert (warning(result, "SIBLING_INJURY") is not None) is linked


def test_a_home_recorded_before_keys_named_the_house_is_still_found(sf):
    """Homes stored as ``UNIT|marks`` (before the house and street were kept) still meet
    today's key for the very same home, by their marks."""
    from safeflag.algo.compare import premise_key
    first = at("V1", "2021-03-01", "Tom", "Dunn", "2016-02-02", "14 Fern Close", dx=("S42.0",))
    sf.check(first)
    key = premise_key(HOME, "14 Fern Close")
    assert key == f"{HOME}|14|14 FERN"
    with sf.store.transaction():            # as a database of the earlier version holds it
        sf.store.record_homes("V1", 1, first.arrival, [f"{HOME}|14"])
    result = sf.check(at("V2", "2021-04-01", "Ivy", "Lowe", "2019-06-06", "14 Fern Close"))
    assert warning(result, "SIBLING_INJURY") is not None
