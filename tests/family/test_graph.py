"""The register's family graph: full, half and step siblings, household, co-residence across
moves, and the one-hop guard that keeps one wrong link from merging two families."""

from __future__ import annotations

from datetime import date

import pytest

from safeflag.family import Family, family_of, residents_at, same_place
from safeflag.models import Address, AddressPeriod

from ..conftest import attendance, load, person, plan, rel

DAY = date(2021, 5, 1)


def kinds(family: Family) -> dict[str, tuple[str, str, bool]]:
    return {r.person_id: (r.subject, r.relationship, r.confirmed) for r in family.relatives}


def addr(pid: str, line: str, postcode: str, start: str | None = None,
         end: str | None = None) -> AddressPeriod:
    return AddressPeriod(person_id=pid, address_line=line, postcode=postcode,
                         from_date=date.fromisoformat(start) if start else None,
                         to_date=date.fromisoformat(end) if end else None)


PEOPLE = [person("C1", "Amy", "Smith", "2020-01-15"),
          person("S1", "Ben", "Smith", "2017-03-03", sex="male"),
          person("S2", "Cal", "Green", "2016-04-04", sex="male"),
          person("S3", "Dee", "Hart", "2015-05-05"),
          person("M1", "Jo", "Smith", "1995-02-02"),
          person("F1", "Ed", "Smith", "1994-02-02", sex="male"),
          person("F2", "Gus", "Green", "1990-02-02", sex="male"),
          person("P1", "Lee", "Hart", "1992-02-02", sex="male")]


def test_full_sibling_needs_two_shared_parents_half_sibling_one(sf):
    load(sf, PEOPLE, [rel("C1", "M1", "mother"), rel("C1", "F1", "father"),
                      rel("S1", "M1", "mother"), rel("S1", "F1", "father"),
                      rel("S2", "M1", "mother"), rel("S2", "F2", "father")])
    got = kinds(family_of(sf.store, "C1", DAY))
    assert got["S1"] == ("sibling", "sibling", True)
    assert got["S2"] == ("sibling", "half-sibling", True)
    assert got["M1"][0] == got["F1"][0] == "household"
    assert "F2" not in got          # the half-sibling's father is not the child's household


def test_parent_link_recorded_on_the_parent_side_is_read_both_ways(sf):
    load(sf, PEOPLE, [rel("M1", "C1", "household-member"), rel("C1", "M1", "mother"),
                      rel("S1", "M1", "mother")])
    got = kinds(family_of(sf.store, "S1", DAY))
    assert got["C1"] == ("sibling", "half-sibling", True)


@pytest.mark.parametrize("start, end, present", [
    ("2021-01-01", None, True),
    ("2021-05-01", "2021-05-01", True),     # current on the day itself
    ("2021-05-02", None, False),            # starts the day after
    ("2020-01-01", "2021-04-30", False),    # ended the day before
])
def test_step_sibling_through_a_parent_while_the_step_link_is_current(sf, start, end, present):
    # S3 records C1's mother as her step-parent: S3 lives with C1's mother, so with C1.
    load(sf, PEOPLE, [rel("C1", "M1", "mother"), rel("S3", "M1", "step-parent", start, end)])
    got = kinds(family_of(sf.store, "C1", DAY))
    assert (got.get("S3") == ("household", "step-sibling", True)) is present
    # and from S3's side, C1 is a step-sibling through S3's own step-parent link
    back = kinds(family_of(sf.store, "S3", DAY))
    assert (back.get("C1") == ("household", "step-sibling", True)) is present


@pytest.mark.parametrize("lives_here, present", [(True, True), (False, False)])
def test_partners_child_is_a_step_sibling_only_when_living_at_the_childs_address(
        sf, lives_here, present):
    addresses = [addr("C1", "14 Fern Close", "DN32 7QX", "2020-01-15")]
    addresses.append(addr("S3", "14 Fern Close", "DN32 7QX", "2021-02-01") if lives_here
                     else addr("S3", "2 Other Road", "LS2 9JT", "2021-02-01"))
    load(sf, PEOPLE, [rel("C1", "M1", "mother"), rel("C1", "P1", "partner-of-parent"),
                      rel("S3", "P1", "father")], addresses=addresses)
    got = kinds(family_of(sf.store, "C1", DAY))
    assert got["P1"][:2] == ("household", "partner-of-parent")
    assert (got.get("S3") == ("household", "step-sibling", True)) is present


@pytest.mark.parametrize("day, present", [
    (date(2021, 2, 28), False),   # before the move in
    (date(2021, 3, 1), True),     # the day of the move
    (date(2021, 8, 31), True),    # the last day there
    (date(2021, 9, 1), False),    # after moving out
])
def test_co_residence_follows_the_address_history_across_moves(sf, day, present):
    load(sf, PEOPLE, [], addresses=[
        addr("C1", "27 Birch Road", "DN33 1HG", "2020-01-15", "2021-02-28"),
        addr("C1", "14 Fern Close", "dn327qx", "2021-03-01"),
        addr("P1", "14, Fern Close", "DN32 7QX", "2021-03-01", "2021-08-31"),
        addr("S3", "16 Fern Close", "DN32 7QX", "2021-01-01")])   # a neighbour
    got = kinds(family_of(sf.store, "C1", day))
    assert (got.get("P1") == ("household", "co-resident", False)) is present
    assert "S3" not in got


def test_same_place_compares_postcode_and_address_line():
    a = addr("X", "14 Fern Close", "DN32 7QX")
    assert same_place(a, addr("Y", "14 FERN CLOSE.", "dn32 7qx"))
    assert not same_place(a, addr("Y", "Flat 2, 14 Fern Close", "DN32 7QX"))
    assert not same_place(a, addr("Y", "14 Fern Close", "DN32 7QY"))
    assert not same_place(addr("X", "", "DN32 7QX"), addr("Y", "", "DN32 7QX"))


def test_a_known_household_member_gains_the_address_evidence(sf):
    load(sf, PEOPLE, [rel("C1", "P1", "partner-of-parent")], addresses=[
        addr("C1", "14 Fern Close", "DN32 7QX", "2020-01-15"),
        addr("P1", "14 Fern Close", "DN32 7QX", "2020-06-01")])
    p1 = family_of(sf.store, "C1", DAY).get("P1")
    assert p1.relationship == "partner-of-parent" and p1.confirmed
    assert "address history" in p1.evidence and "since 2020-06-01" in p1.evidence


def test_family_holds_across_a_mothers_surname_change_and_moves(sf):
    # The register keeps one person through a surname change (an alias) and five addresses:
    # links are by person_id, so the children of both surnames stay siblings.
    people = [person("L", "Lily", "Parker", "2012-03-14"), person("M", "Megan", "Turner", "2008-11-15"),
              person("ML", "Leanne", "Ward", "1990-07-19")]
    load(sf, people, [rel("L", "ML", "mother"), rel("M", "ML", "mother")], addresses=[
        addr("ML", "27 Birch Road", "DN33 1HG", "2011-06-01", "2012-08-31"),
        addr("ML", "14 Fern Close", "DN32 7QX", "2013-05-20")])
    for day in (date(2012, 6, 1), date(2014, 1, 3)):
        assert kinds(family_of(sf.store, "L", day))["M"] == ("sibling", "half-sibling", True)


def _two_families(bad_link: bool):
    people = [person(pid, given, family, born) for pid, given, family, born in (
        ("A1", "Ann", "Able", "2019-01-01"), ("A2", "Art", "Able", "2017-01-01"),
        ("MA", "Amy", "Able", "1990-01-01"), ("B1", "Bea", "Best", "2019-06-06"),
        ("B2", "Bob", "Best", "2016-06-06"), ("MB", "Bel", "Best", "1991-01-01"),
        ("PB", "Baz", "Best", "1989-01-01"))]
    links = [rel("A1", "MA", "mother"), rel("A2", "MA", "mother"),
             rel("B1", "MB", "mother"), rel("B2", "MB", "mother"),
             rel("B1", "PB", "father"), rel("B2", "PB", "father"),
             rel("B2", "PB", "household-member")]
    if bad_link:
        links.append(rel("B1", "MA", "mother"))     # a data-entry error
    return people, links


@pytest.mark.parametrize("bad_link", [False, True])
def test_one_wrong_link_adds_one_person_never_a_second_family(sf, bad_link):
    people, links = _two_families(bad_link)
    load(sf, people, links, plans=[plan("B2", "CP", "2020-01-01"), plan("MB", "CP-UNBORN",
                                                                       "2018-12-01", "2019-06-06")])
    a1 = kinds(family_of(sf.store, "A1", DAY))
    assert set(a1) == ({"A2", "MA", "B1"} if bad_link else {"A2", "MA"})
    # nothing behind B1: not her sibling B2, mother MB or father PB
    assert not {"B2", "MB", "PB"} & set(a1)
    # and from the other family's side the Able children never appear
    b2 = kinds(family_of(sf.store, "B2", DAY))
    assert not {"A1", "A2", "MA"} & set(b2)
    # B2's CP plan and MB's pre-birth plan never reach A1's flags
    result = sf.check(attendance("V1", "2021-05-01", given="Ann", family="Able",
                                 birth="2019-01-01"))
    assert result.match.person_id == "A1"
    assert {f.person_id for f in result.flags}.isdisjoint({"B2", "MB"})


# --- co-residents at the address given at an attendance ----------------------------------------
HOME = [addr("C1", "14 Fern Close, Grimsby", "DN32 7QX", "2021-03-01"),
        addr("S3", "14 Fern Close, Grimsby", "DN32 7QX", "2021-03-01", "2021-08-31")]


@pytest.mark.parametrize("given, day, found", [
    (Address(line="14 Fern Close", city="Grimsby", postcode="dn32 7qx"), DAY, {"C1", "S3"}),
    (Address(line="14 Fern Close, Grimsby", postcode="DN32 7QX"), DAY, {"C1", "S3"}),
    (Address(line="14 Fern Close", city="Grimsby", postcode="DN32 7QX"), date(2021, 9, 1),
     {"C1"}),                                          # S3 moved out the day before
    (Address(line="14 Fern Close", city="Grimsby", postcode="DN32 7QX"), date(2021, 2, 28),
     set()),                                           # before either moved in
    (Address(line="Flat 2, 14 Fern Close", city="Grimsby", postcode="DN32 7QX"), DAY, set()),
    (Address(line="16 Fern Close", city="Grimsby", postcode="DN32 7QX"), DAY, set()),
    (Address(line="14 Fern Close", city="Grimsby", postcode="DN32 7QY"), DAY, set()),
    (Address(line="14 Fern Close", city="Grimsby"), DAY, set()),        # no postcode
    (Address(postcode="DN32 7QX"), DAY, set()),                          # no address line
    (None, DAY, set()),
])
def test_residents_at_the_address_given_need_postcode_line_and_dates(sf, given, day, found):
    load(sf, PEOPLE, [], addresses=HOME)
    residents, note = residents_at(sf.store, given, day, most=10)
    assert set(residents) == found and note is None


@pytest.mark.parametrize("most, linked", [(2, True), (1, False)])
def test_an_address_shared_by_more_than_most_persons_is_communal(sf, most, linked):
    load(sf, PEOPLE, [], addresses=HOME)
    given = Address(line="14 Fern Close", city="Grimsby", postcode="DN32 7QX")
    residents, note = residents_at(sf.store, given, DAY, most=most)
    assert (set(residents) == {"C1", "S3"}) is linked
    assert (note is None) is linked
    if not linked:
        assert residents == {} and "2 persons" in note and "communal" in note
        family = family_of(sf.store, None, DAY, address=given, most=most)
        assert family.at_address == () and family.notes == (note,)


def test_an_attendee_not_on_the_register_finds_the_households_register_persons(sf):
    load(sf, PEOPLE, [], addresses=HOME)
    given = Address(line="14 Fern Close", city="Grimsby", postcode="DN32 7QX")
    family = family_of(sf.store, None, DAY, address=given)
    assert family.relatives == ()
    got = {r.person_id: (r.subject, r.relationship, r.confirmed) for r in family.at_address}
    assert got == {"C1": ("household", "co-resident", False),
                   "S3": ("household", "co-resident", False)}
    assert all("address given at this attendance on 2021-05-01 since 2021-03-01" in r.evidence
               for r in family.at_address)


def test_address_given_adds_nobody_the_register_already_links_nor_the_child(sf):
    load(sf, PEOPLE, [rel("C1", "S3", "sibling")], addresses=HOME)
    given = Address(line="14 Fern Close", city="Grimsby", postcode="DN32 7QX")
    family = family_of(sf.store, "C1", DAY, address=given)
    assert kinds(family)["S3"] == ("sibling", "sibling", True)
    assert family.at_address == ()                 # S3 is known; C1 is the child itself
    assert family_of(sf.store, "S1", DAY, address=given).at_address != ()


def test_a_current_address_without_history_places_the_person_there_from_the_load(tmp_path):
    """persons.csv gives a current address and addresses.csv nothing: a child arriving from
    that address after the load is in the household; an attendance before the load is not
    placed in today's family's home."""
    from datetime import date, timedelta

    from safeflag import Safeflag
    from safeflag.family import with_current_addresses
    from safeflag.models import Register

    mia = person("MIA", "Mia", "Lowe", "2019-01-01").model_copy(
        update={"address_line": "7 Fern Close"})
    register = Register(persons=(mia,), plans=(plan("MIA", "CP", "2020-01-01"),))
    placed = with_current_addresses(register, date(2026, 11, 28))
    assert [(a.person_id, a.address_line, a.from_date) for a in placed.addresses] == [
        ("MIA", "7 Fern Close", date(2026, 11, 28))]
    assert with_current_addresses(placed, date(2027, 1, 1)).addresses == placed.addresses

    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / "persons.csv").write_text(
        "person_id,nhs_number,given_name,family_name,birth_date,sex,address_line,postcode\n"
        "MIA,,Mia,Lowe,2019-01-01,female,7 Fern Close,DN32 7QX\n", encoding="utf-8")
    (folder / "plans.csv").write_text(
        "person_id,plan,start_date,end_date,category,local_authority,contact\n"
        "MIA,CP,2020-01-01,,,LA,\n", encoding="utf-8")
    (folder / "relationships.csv").write_text(
        "person_id,related_person_id,relationship,from_date,to_date\n", encoding="utf-8")
    sf = Safeflag.open(tmp_path / "sf.db")
    sf.load_register(folder)

    def visit(aid: str, day: date):
        a = attendance(aid, day.isoformat(), given="Ivy", family="Dunn", birth="2020-05-05")
        return a.model_copy(update={"patient": a.patient.model_copy(update={
            "addresses": (Address(line="7 Fern Close", postcode="DN32 7QX"),)})})
    after = sf.check(visit("V1", date.today() + timedelta(days=1)))
    assert any(f.person_id == "MIA" and f.subject == "household" for f in after.flags)
    before = sf.check(visit("V0", date.today() - timedelta(days=400)))
    assert not any(f.person_id == "MIA" for f in before.flags)
    sf.close()


@pytest.mark.parametrize("given, birth, sex, maybe", [
    ("Struan", "2018-09-19", "male", True),     # same birth date and sex: Teddy, or his twin
    ("Struan", "2016-02-02", "male", False),    # another birth date: a brother
    ("Sophie", "2018-09-19", "female", False),  # another first name and the other sex: a twin
])
def test_a_register_resident_who_may_be_the_unmatched_child_is_listed_as_such(
        sf, given, birth, sex, maybe):
    """A child the matcher does not take for the register's Teddy (another first name: a
    middle name the register does not hold, or a twin) at Teddy's address. Teddy stays a
    co-resident (his plan matters whether he is the child or a twin), but when he may be the
    child itself (:func:`may_be_self`) his evidence says so, and a note asks for the match to
    be checked: his injury may be the child's own, not a sibling's."""
    teddy = person("T1", "Teddy", "Whitford-Patel", "2018-09-19", sex="male",
                   postcode="QA5 8LB")
    load(sf, [teddy], [], [plan("T1", "CP", "2021-01-01")], addresses=[
        addr("T1", "111 Plover Road, Northmere", "QA5 8LB", "2018-09-19")])
    home = Address(line="111 Plover Road", city="Northmere", postcode="QA5 8LB")

    def at_home(aid: str, arrival: str, **kw):
        a = attendance(aid, arrival, family="Whitford-Patel", postcode="QA5 8LB", **kw)
        return a.model_copy(update={"patient": a.patient.model_copy(
            update={"addresses": (home,)})})

    first = sf.check(at_home("V1", "2021-02-04", given="Teddy", birth="2018-09-19",
                             sex="male", dx=("T14.0",)))
    assert first.match.person_id == "T1"
    result = sf.check(at_home("V2", "2021-04-10", given=given, birth=birth, sex=sex))
    assert result.match.person_id is None
    [flag] = [f for f in result.flags if f.person_id == "T1"]
    assert flag.subject == "household"
    sibling_injury = [w for w in result.warnings if w.code == "SIBLING_INJURY"]
    assert len(sibling_injury) == 1
    said = [e for w in (*sibling_injury, *result.warnings) for e in w.evidence
            if "co-resident T1" in e and "may be this child itself" in e]
    assert bool(said) is maybe
    notes = [n for n in result.notes if "T1" in n and "may be this child" in n]
    assert bool(notes) is maybe
