"""Siblings found from the attendances themselves: the same mother (or father) by identity —
her NHS number, or her name with birth date or address matched with certainty, never her name
alone — so SIBLING_INJURY can fire for families social care has never met, marked unconfirmed."""

from __future__ import annotations

import pytest

from safeflag.algo.dates import PartialDate
from safeflag.models import Address, AddressPeriod, Demographics, Name, NextOfKin, Sex

from ..conftest import attendance, load, person, plan, rel

NHS_MUM = "9434765919"
NHS_OTHER = "9434765927"


def kin(role: str, given: str, family: str, *, nhs: str | None = None, birth: str | None = None,
        postcode: str | None = None) -> NextOfKin:
    return NextOfKin(relationship=role, code={"mother": "MTH", "father": "FTH"}.get(role, ""),
                     demographics=Demographics(
                         nhs_number=nhs, names=(Name(given=given, family=family),),
                         birth_date=PartialDate.parse(birth) if birth else None,
                         addresses=(Address(postcode=postcode),) if postcode else ()))


def visit(aid: str, arrival: str, given: str, family: str, birth: str, *kins: NextOfKin,
          postcode: str = "LS2 9JT", dx: tuple[str, ...] = ("S52.5",), event: str = "A04"):
    a = attendance(aid, arrival, given=given, family=family, birth=birth, postcode=postcode,
                   dx=dx, event=event)
    return a.model_copy(update={"next_of_kin": kins})


def sibling_warning(result):
    return next((w for w in result.warnings if w.code == "SIBLING_INJURY"), None)


HOME, ELSEWHERE = "LS2 9JT", "HU1 2AA"


@pytest.mark.parametrize("first_mum, first_home, second_mum, second_home, linked", [
    # her NHS number, even across a surname change and a move
    (kin("mother", "Kerry", "Lowe", nhs=NHS_MUM), HOME,
     kin("mother", "Kerry", "Dunn", nhs=NHS_MUM), ELSEWHERE, True),
    # name and birth date, the children at different addresses
    (kin("mother", "Kerry", "Lowe", birth="1992-04-04"), HOME,
     kin("mother", "Kerry", "Lowe", birth="1992-04-04"), ELSEWHERE, True),
    # name and her own address
    (kin("mother", "Kerry", "Lowe", postcode=HOME), ELSEWHERE,
     kin("mother", "Kerry", "Lowe", postcode=HOME), ELSEWHERE, True),
    # name and no address of her own: she is taken to live at the child's address
    (kin("mother", "Kerry", "Lowe"), HOME, kin("mother", "Kerry", "Lowe"), HOME, True),
    # name alone (the children at different addresses): never enough
    (kin("mother", "Kerry", "Lowe"), HOME, kin("mother", "Kerry", "Lowe"), ELSEWHERE, False),
    # same name, different birth dates: two women
    (kin("mother", "Kerry", "Lowe", birth="1992-04-04"), HOME,
     kin("mother", "Kerry", "Lowe", birth="1987-10-21"), ELSEWHERE, False),
    # different NHS numbers: two women, whatever the name
    (kin("mother", "Kerry", "Lowe", nhs=NHS_MUM, birth="1992-04-04"), HOME,
     kin("mother", "Kerry", "Lowe", nhs=NHS_OTHER, birth="1992-04-04"), HOME, False),
    # a sibling named as next of kin is not a parent
    (kin("sibling", "Kerry", "Lowe", birth="1992-04-04"), HOME,
     kin("sibling", "Kerry", "Lowe", birth="1992-04-04"), HOME, False),
])
def test_siblings_off_the_register_through_the_same_mother(sf, first_mum, first_home,
                                                           second_mum, second_home, linked):
    load(sf, [person("X1", "Unrelated", "Person", "2001-01-01", postcode="ZZ1 1ZZ")])
    sf.check(visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02", first_mum, dx=("S42.0",),
                   postcode=first_home))
    result = sf.check(visit("V2", "2021-04-01", "Ivy", "Dunn", "2020-06-06", second_mum,
                            postcode=second_home))
    assert result.match.band == "none"
    w = sibling_warning(result)
    assert (w is not None) is linked
    if linked:
        assert w.confirmed is False and w.subject == "sibling"
        assert any("V1" in e for e in w.evidence)
        assert any("same mother" in e for e in w.evidence)


@pytest.mark.parametrize("days_before, fires", [(90, True), (91, False)])
def test_derived_sibling_injury_window(sf, days_before, fires):
    from datetime import date, timedelta
    first = (date(2021, 6, 1) - timedelta(days=days_before)).isoformat()
    mum = kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)
    sf.check(visit("V1", first, "Tom", "Lowe", "2019-02-02", mum))
    result = sf.check(visit("V2", "2021-06-01", "Ivy", "Lowe", "2020-06-06", mum))
    assert (sibling_warning(result) is not None) is fires


def test_full_and_half_siblings_from_the_parents_named(sf):
    mum, dad1, dad2 = (kin("mother", "Kerry", "Lowe", nhs=NHS_MUM),
                       kin("father", "Dan", "Lowe", birth="1990-01-01", postcode="LS2 9JT"),
                       kin("father", "Sam", "Pike", birth="1985-05-05", postcode="LS6 1AA"))
    sf.check(visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02", mum, dad1))
    sf.check(visit("V2", "2021-03-05", "Ned", "Pike", "2017-02-02", mum, dad2))
    result = sf.check(visit("V3", "2021-04-01", "Ivy", "Lowe", "2020-06-06", mum, dad1))
    evidence = " ".join(sibling_warning(result).evidence)
    assert "sibling attendee:" in evidence and "half-sibling attendee:" in evidence
    assert "same father, mother" in evidence        # Tom: both parents named are the same
    assert "same mother named" in evidence          # Ned: the mother only


def test_a_mother_known_to_the_register_brings_her_register_children_unconfirmed(sf):
    load(sf, [person("C1", "Amy", "Ward", "2018-01-15", postcode="DN33 1HG"),
              person("ML", "Leanne", "Ward", "1990-07-19", postcode="DN33 1HG")],
         [rel("C1", "ML", "mother")], [plan("C1", "CP", "2021-01-01")])
    # a baby social care has not met yet; the mother named as on the register, same address
    result = sf.check(visit("V1", "2021-05-01", "Rio", "Ward", "2021-03-03",
                            kin("mother", "Leanne", "Ward", postcode="DN33 1HG"),
                            postcode="DN33 1HG", dx=("S00.0",)))
    assert result.match.band != "certain" or result.match.person_id is None
    flag = next(f for f in result.flags if f.person_id == "C1")
    assert (flag.code, flag.subject, flag.confirmed) == ("CP", "sibling", False)


@pytest.mark.parametrize("line, linked", [("12 Fern Close", True), ("30 Fern Close", False)])
def test_a_register_mother_at_another_house_of_the_unit_is_another_woman(sf, line, linked):
    """Sarah Smith of number 12 (on the register, her son on a CP plan) is not the Sarah Smith
    named as mother by a child of number 30: the postcode unit holds both homes."""
    mum = person("SS", "Sarah", "Smith", None).model_copy(update={"address_line": "12 Fern Close"})
    tom = person("TOM", "Tom", "Smith", "2017-02-02", sex="male").model_copy(
        update={"address_line": "12 Fern Close"})
    load(sf, [mum, tom], [rel("TOM", "SS", "mother")], [plan("TOM", "CP", "2021-01-01")])
    a = visit("V1", "2021-05-01", "Mia", "Smith", "2019-06-06", kin("mother", "Sarah", "Smith"),
              postcode="DN32 7QX")
    a = a.model_copy(update={"patient": a.patient.model_copy(update={
        "addresses": (Address(line=line, postcode="DN32 7QX"),)})})
    result = sf.check(a)
    assert any(f.person_id == "TOM" for f in result.flags) is linked


@pytest.mark.parametrize("second_line, linked", [
    ("12 Fern Close", True),        # the same home: her name and her address
    ("12 Oak Road", False),         # the same number in another street of the unit
    ("2 Fern Close", False),        # house 2, where the first gave flat 2 of number 12
])
def test_two_women_of_one_name_in_two_homes_of_a_unit_are_two_mothers(sf, second_line,
                                                                      linked):
    def child_at(aid, arrival, given, birth, line, dx):
        a = visit(aid, arrival, given, "Smith", birth, kin("mother", "Sarah", "Smith"),
                  postcode="DN32 7QX", dx=dx)
        return a.model_copy(update={"patient": a.patient.model_copy(update={
            "addresses": (Address(line=line, postcode="DN32 7QX"),)})})
    first = "Flat 2, 12 Fern Close" if second_line == "2 Fern Close" else "12 Fern Close"
    sf.check(child_at("V1", "2021-03-01", "Ruby", "2018-02-02", first, ("S42.0",)))
    result = sf.check(child_at("V2", "2021-04-01", "Jack", "2019-06-06", second_line,
                               ("S00.0",)))
    assert (sibling_warning(result) is not None) is linked


def test_a_register_child_gains_an_unconfirmed_sibling_from_attendances(sf):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15")])
    mum = kin("mother", "Jo", "Smith", nhs=NHS_MUM)
    sf.check(visit("V1", "2021-04-20", "Zac", "Smith", "2018-08-08", mum, postcode="LS2 9JT"))
    result = sf.check(visit("V2", "2021-05-01", "Amy", "Smith", "2020-01-15", mum,
                            postcode="DN32 7QX"))
    assert result.match.person_id == "C1"
    w = sibling_warning(result)
    assert w is not None and w.confirmed is False


def test_a_wrong_mother_match_adds_that_mothers_children_only(sf):
    # Two mothers' children; one attendance wrongly names mother A (by NHS number) for a child
    # of mother B. That child joins A's children — but B's other children never do.
    a, b = kin("mother", "Ann", "Able", nhs=NHS_MUM), kin("mother", "Bel", "Best", nhs=NHS_OTHER)
    sf.check(visit("VA1", "2021-04-01", "Al", "Able", "2018-01-01", a))
    sf.check(visit("VB1", "2021-04-02", "Bo", "Best", "2017-01-01", b))
    sf.check(visit("VB2", "2021-04-03", "Bea", "Best", "2019-09-09", a))   # the wrong link
    result = sf.check(visit("VA2", "2021-05-01", "Ada", "Able", "2020-02-02", a))
    evidence = " ".join(sibling_warning(result).evidence)
    assert "VA1" in evidence and "VB2" in evidence
    assert "VB1" not in evidence                   # Bo, B's other child, is not pulled in


def test_an_a08_repeat_does_not_duplicate_parent_links(sf):
    mum = kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)
    sf.check(visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02", mum))
    sf.check(visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02", mum, event="A08"))
    links = sf.store.parents_of_attendees([1])
    assert len(links) == 1 and links[0].relationship == "mother"


def _rows(sf) -> dict[str, int]:
    return {t: sf.store._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("attendee", "parent", "attendee_parent", "attendance")}


def test_a_recheck_of_the_same_attendances_adds_no_rows(sf):
    # V2 names Tom's mother by name only and is linked to her node through V1; V3 then adds a
    # second "Kerry Lowe" at the same address (another NHS number), so on a re-check V2's
    # mother is no longer unique among the parent nodes — she is still the one V2 was linked to
    visits = [visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02",
                    kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)),
              visit("V2", "2021-04-01", "Tom", "Lowe", "2019-02-02",
                    kin("mother", "Kerry", "Lowe")),
              visit("V3", "2021-05-01", "Ivy", "Lowe", "2020-06-06",
                    kin("mother", "Kerry", "Lowe", nhs=NHS_OTHER))]
    for a in visits:
        sf.check(a)
    before, links = _rows(sf), sf.store.parents_of_attendees([1, 2])
    for a in visits:                                   # a rerun of the same extract
        sf.check(a)
    sf.check(visits[1].model_copy(update={"event": "A08"}))
    assert _rows(sf) == before
    assert sf.store.parents_of_attendees([1, 2]) == links
    # the other side: an A08 that names a parent the first check did not is still recorded
    dad = kin("father", "Dan", "Lowe", birth="1990-01-01", postcode="LS2 9JT")
    sf.check(visit("V2", "2021-04-01", "Tom", "Lowe", "2019-02-02", kin("mother", "Kerry", "Lowe"),
                   dad, event="A08"))
    assert _rows(sf) == before | {"parent": before["parent"] + 1,
                                  "attendee_parent": before["attendee_parent"] + 1}
    assert {(link.relationship, link.attendance_id)
            for link in sf.store.parents_of_attendees([1])} == {("mother", "V1"), ("father", "V2")}


def test_record_false_still_finds_siblings_without_writing(sf):
    mum = kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)
    sf.check(visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02", mum))
    result = sf.check(visit("V2", "2021-04-01", "Ivy", "Lowe", "2020-06-06", mum), record=False)
    assert sibling_warning(result) is not None
    assert len(sf.store.children_of_parents([1])) == 1


def _sibling_names(result) -> str:
    w = sibling_warning(result)
    return " ".join(w.evidence) if w else ""


def test_a_newborn_seen_again_under_her_name_is_not_her_own_sibling(sf):
    mum = kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)
    first = visit("V1", "2021-03-01", "BABY", "Lowe", "2021-02-20", mum, dx=("S00.0",))
    sf.check(first)
    result = sf.check(visit("V2", "2021-03-20", "Ivy", "Lowe", "2021-02-20", mum))
    assert "V1" not in _sibling_names(result)
    assert sibling_warning(result) is None


@pytest.mark.parametrize("second_given, linked", [
    ("Ivy", False),     # the same first name, no birth date today: may be the child itself
    ("Ivey", False),    # one letter off
    ("Amy", True),      # another first name: a sister
])
def test_a_child_without_a_birth_date_today_is_not_its_own_sibling(sf, second_given, linked):
    mum = kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)
    sf.check(visit("V1", "2021-03-01", "Ivy", "Lowe", "2019-02-20", mum, dx=("S42.0",)))
    result = sf.check(visit("V2", "2021-03-20", second_given, "Lowe", "", mum))
    assert ("V1" in _sibling_names(result)) is linked


@pytest.mark.parametrize("twin_nhs, second_given, linked", [
    (("9434765900", "9434765935"), "Tia", True),   # different NHS numbers: two children, twins
    ((None, None), "Tia", True),       # another first name and the other sex: twins
    ((None, None), "Ben", False),      # another first name, same sex: a child may go by a
                                       # middle name, or a name carry two slips
    ((None, None), "BABY", False),     # a placeholder: nothing to tell them apart
])
def test_same_birthday_siblings_from_attendances_need_something_to_tell_them_apart(
        sf, twin_nhs, second_given, linked):
    mum = kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)
    a = visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02", mum)
    b = visit("V2", "2021-04-01", second_given, "Lowe", "2019-02-02", mum)
    sexes = {"Tom": Sex.male, "Ben": Sex.male, "Tia": Sex.female, "BABY": Sex.female}
    a = a.model_copy(update={"patient": a.patient.model_copy(update={"sex": Sex.male})})
    b = b.model_copy(update={"patient": b.patient.model_copy(
        update={"sex": sexes[second_given]})})
    a = a.model_copy(update={"patient": a.patient.model_copy(update={"nhs_number": twin_nhs[0]})})
    b = b.model_copy(update={"patient": b.patient.model_copy(update={"nhs_number": twin_nhs[1]})})
    sf.check(a)
    result = sf.check(b)
    assert "REPEAT_INJURY" not in {w.code for w in result.warnings}     # never merged
    assert (sibling_warning(result) is not None) is linked


@pytest.mark.parametrize("other_given, other_sex, is_self", [
    ("Oscar", "male", False),     # same birthday and surname, other name and sex: twins
    ("Oscar", "unknown", True),   # sex not recorded: may be self
    ("Ava", "female", True),      # same sex: may be self (a middle name)
    ("Ivvy", "male", True),       # one edit from her name, sex keyed wrongly: herself
    ("", "male", True),           # no first name tells nothing
])
def test_other_sex_twins_are_not_self(other_given, other_sex, is_self):
    from safeflag.algo.compare import Identity
    from safeflag.algo.dates import PartialDate
    from safeflag.family import may_be_self
    child = Identity(ref="q", givens=("ivy",), families=("lowe",), sex="female",
                     birth=PartialDate.parse("2020-06-06"))
    other = Identity(ref="A9", givens=(other_given.lower(),) if other_given else (),
                     families=("lowe",), sex=other_sex, birth=PartialDate.parse("2020-06-06"))
    assert may_be_self(child, other) is is_self


@pytest.mark.parametrize("other_given, other_family, other_birth, is_self", [
    ("Ivy", "dunn", "2020-06-06", True),      # the same child, another surname
    ("Ava", "dunn", "2020-06-06", True),      # same birthday, nothing else agrees: may be self
    ("Sofia", "lowe", "2020-06-06", True),    # same birthday and surname, another first name:
                                              # a twin, or the child by a middle name the
                                              # register does not hold, so may be self
    ("Ivvy", "lowe", "2020-06-06", True),     # one edit from her own first name: herself
    ("Ivy", "lowe", "2020-06-06", True),      # everything agrees
    ("Ivy", "dunn", "2020-07-06", True),      # one digit slipped, same first name
    ("Ava", "dunn", "2020-07-06", False),     # one digit away but another first name: a sibling
    ("Ivy", "dunn", "2018-01-01", False),     # same first name, a different birthday: a sibling
])
def test_may_be_self(other_given, other_family, other_birth, is_self):
    from safeflag.algo.compare import Identity
    from safeflag.algo.dates import PartialDate
    from safeflag.family import may_be_self
    child = Identity(ref="q", givens=("ivy",), families=("lowe",),
                     birth=PartialDate.parse("2020-06-06"))
    other = Identity(ref="A9", givens=(other_given.lower(),), families=(other_family,),
                     birth=PartialDate.parse(other_birth))
    assert may_be_self(child, other) is is_self


def test_a_register_child_finds_a_baby_whose_attendance_named_their_register_mother(sf):
    load(sf, [person("C1", "Amy", "Ward", "2018-01-15", postcode="DN33 1HG"),
              person("ML", "Leanne", "Ward", "1990-07-19", postcode="DN33 1HG")],
         [rel("C1", "ML", "mother")])
    # the baby, not on the register, attends first naming the mother
    sf.check(visit("V1", "2021-04-20", "Rio", "Ward", "2021-03-03",
                   kin("mother", "Leanne", "Ward", postcode="DN33 1HG"), postcode="DN33 1HG",
                   dx=("S00.0",)))
    # Amy attends with no next of kin at all
    result = sf.check(visit("V2", "2021-05-01", "Amy", "Ward", "2018-01-15",
                            postcode="DN33 1HG"))
    assert result.match.person_id == "C1"
    w = sibling_warning(result)
    assert w is not None and w.confirmed is False and any("V1" in e for e in w.evidence)


@pytest.mark.parametrize("named_mother, subject", [(True, "sibling"), (False, "household")])
def test_a_sibling_through_the_mother_named_outranks_the_same_child_at_the_address(
        sf, named_mother, subject):
    """A register child found both through the mother named and at the address given is
    shown as the sibling; at the address alone, as a co-resident of the household."""
    load(sf, [person("C1", "Amy", "Ward", "2018-01-15", postcode="DN33 1HG"),
              person("ML", "Leanne", "Ward", "1990-07-19", postcode="DN33 1HG")],
         [rel("C1", "ML", "mother")], [plan("C1", "CP", "2021-01-01")],
         addresses=[AddressPeriod(person_id="C1", address_line="27 Birch Road",
                                  postcode="DN33 1HG", from_date=None)])
    kins = (kin("mother", "Leanne", "Ward", postcode="DN33 1HG"),) if named_mother else ()
    baby = visit("V1", "2021-05-01", "Rio", "Ward", "2021-03-03", *kins, postcode="DN33 1HG",
                 dx=("S00.0",))
    home = Address(line="27 Birch Road", city="Grimsby", postcode="DN33 1HG")
    result = sf.check(baby.model_copy(update={
        "patient": baby.patient.model_copy(update={"addresses": (home,)})}))
    flags = [f for f in result.flags if f.person_id == "C1"]
    assert [(f.code, f.subject, f.confirmed) for f in flags] == [("CP", subject, False)]


@pytest.mark.parametrize("second_mum, second_child, second_home, linked", [
    # the Child L pattern: the mother married; her children keep their surname
    (kin("mother", "Evelyn", "Hill"), ("Jacqueline", "Thornmere"), "QA8 5XG", True),
    # a nickname of her first name is still her (found through her birth date: first-name
    # keys are phonetic, and Evie is not Evelyn's sound)
    (kin("mother", "Evie", "Hill", birth="1990-03-03"), ("Jacqueline", "Thornmere"), "QA8 5XG",
     True),
    # another first name: another woman
    (kin("mother", "Evangeline", "Hill"), ("Jacqueline", "Thornmere"), "QA8 5XG", False),
    # the child has another family name: nothing ties the two women but a first name
    (kin("mother", "Evelyn", "Hill"), ("Jacqueline", "Hill"), "QA8 5XG", False),
    # another postcode unit (the family moved): a first name and a surname of a child only
    (kin("mother", "Evelyn", "Hill"), ("Jacqueline", "Thornmere"), "QA8 5XH", False),
    # a birth date that disagrees: two women
    (kin("mother", "Evelyn", "Hill", birth="1979-02-02"), ("Jacqueline", "Thornmere"),
     "QA8 5XG", False),
    # named as father, where the first child named her as mother
    (kin("father", "Evelyn", "Hill"), ("Jacqueline", "Thornmere"), "QA8 5XG", False),
])
def test_a_mother_named_under_a_new_surname(sf, second_mum, second_child, second_home, linked):
    """Child L's mother married and changed her name mid-timeline. A mother named by name
    and address is the known mother under her new surname only when her first name and
    postcode unit agree, nothing disagrees, and she was named for a child of this child's
    family name at this address."""
    sf.check(visit("V1", "2020-03-08", "Kieran", "Thornmere", "2018-05-07",
                   kin("mother", "Evelyn", "Jones", birth="1990-03-03"), postcode="QA8 5XG",
                   dx=("S93.4",)))
    given, family = second_child
    result = sf.check(visit("V2", "2020-05-13", given, family, "2020-01-11", second_mum,
                            postcode=second_home))
    w = sibling_warning(result)
    assert (w is not None) is linked
    if linked:
        assert w.confirmed is False and any("V1" in e for e in w.evidence)
        # the node now carries both names: a third child named with the new name finds it
        third = sf.check(visit("V3", "2020-06-01", "Ava", "Thornmere", "2019-02-02",
                               kin("mother", "Evelyn", "Hill"), postcode="QA8 5XG"))
        assert {"V1", "V2"} <= {a for e in sibling_warning(third).evidence
                                for a in ("V1", "V2") if a in e}


def test_a_renamed_mother_is_not_merged_when_two_nodes_could_be_her(sf):
    """Two women of the same first name at one address, each named for a child of the same
    family name: a new surname cannot say which, so neither is linked."""
    for aid, mum in (("V1", kin("mother", "Evelyn", "Jones", birth="1990-03-03")),
                     ("V2", kin("mother", "Evelyn", "Price", birth="1985-07-07"))):
        sf.check(visit(aid, "2020-03-08", "Kieran" if aid == "V1" else "Noah", "Thornmere",
                       "2018-05-07" if aid == "V1" else "2016-09-09", mum, postcode="QA8 5XG"))
    result = sf.check(visit("V3", "2020-05-13", "Jacqueline", "Thornmere", "2020-01-11",
                            kin("mother", "Evelyn", "Hill"), postcode="QA8 5XG"))
    assert sibling_warning(result) is None


@pytest.mark.parametrize("given, expected", [("exact", True), ("nickname", True),
                                             ("one edit", False), ("otherwise", False)])
def test_renamed_needs_the_first_name(given, expected):
    from safeflag.family.kin import renamed
    from safeflag.models import FieldComparison
    levels = {"given_name": given, "family_name": "otherwise", "postcode": "unit",
              "birth_date": "no data", "sex": "exact"}
    assert renamed([FieldComparison(field=f, level=lv, weight=0.0)
                    for f, lv in levels.items()]) is expected


@pytest.mark.parametrize("field, level, expected", [
    ("postcode", "sector", False), ("postcode", "no data", False),
    ("birth_date", "exact", True), ("birth_date", "otherwise", False),
    ("nhs_number", "exact", True), ("nhs_number", "otherwise", False),
    ("sex", "otherwise", False)])
def test_renamed_asks_the_address_and_nothing_against(field, level, expected):
    from safeflag.family.kin import renamed
    from safeflag.models import FieldComparison
    levels = {"given_name": "exact", "family_name": "otherwise", "postcode": "unit",
              "sex": "exact", field: level}
    assert renamed([FieldComparison(field=f, level=lv, weight=0.0)
                    for f, lv in levels.items()]) is expected


@pytest.mark.parametrize("birth, sibling", [("2021-03-03", False), ("2019-08-08", True)])
def test_a_record_that_may_be_the_child_is_never_its_sibling_whatever_its_keys(sf, birth,
                                                                               sibling):
    """The same mother (by NHS number) named for a record with the child's own birth date
    is not listed as a sibling even when the two records share no blocking key (another
    first name, family name and district): it may be the child itself. Another birth date:
    a sibling."""
    mum = kin("mother", "Leanne", "Ward", nhs=NHS_MUM)
    sf.check(visit("V1", "2021-04-20", "Rio", "Ward", birth, mum, postcode="DN33 1HG",
                   dx=("S00.0",)))
    result = sf.check(visit("V2", "2021-05-01", "Amelia", "Turner", "2021-03-03", mum,
                            postcode="HU1 2AA"))
    assert (sibling_warning(result) is not None) is sibling


@pytest.mark.parametrize("named_nhs, shown", [
    (NHS_MUM, True),      # the mother named is the register's MUM: her pre-birth plan shows
    (NHS_OTHER, False),   # another woman of the same name: nothing of MUM's
])
def test_a_register_mother_named_on_the_attendance_is_household(sf, named_nhs, shown):
    """A newborn the register does not hold yet: the pre-birth plan sits on the mother, and
    the only link to her is the mother named on the attendance (NK1 / RelatedPerson)."""
    load(sf, [person("MUM", "Kerry", "Lowe", "1992-04-04", nhs=NHS_MUM, postcode="ZZ1 1ZZ")],
         plans=[plan("MUM", "CP-UNBORN", "2021-01-10")])
    result = sf.check(visit("V1", "2021-04-01", "Baby", "Lowe", "2021-03-20",
                            kin("mother", "Kerry", "Lowe", nhs=named_nhs), postcode=HOME,
                            dx=("R50.9",)))
    assert result.match.band == "none"
    unborn = [f for f in result.flags if f.code == "CP-UNBORN"]
    assert bool(unborn) is shown
    if shown:
        (flag,) = unborn
        assert (flag.person_id, flag.subject, flag.status, flag.confirmed) == (
            "MUM", "household", "active", False)


@pytest.mark.parametrize("named, linked", [
    (kin("mother", "Ann", "Able", nhs=NHS_MUM), True),     # her number and her name
    (kin("mother", "Bel", "Best", nhs=NHS_MUM), False),    # her number, another woman's name
    (kin("mother", "Ann", "Best", nhs=NHS_MUM), True),     # her first name: a married name
    (kin("mother", "Ann", "Able", nhs=NHS_MUM, birth="1999-09-09"), False),  # birth date against
])
def test_a_parent_is_not_taken_on_her_nhs_number_alone(sf, named, linked):
    """A number keyed from the wrong record must not make one family's mother another's: the
    NHS number counts only when her names or birth date do not say otherwise."""
    sf.check(visit("VA1", "2021-04-01", "Al", "Able", "2018-01-01",
                   kin("mother", "Ann", "Able", nhs=NHS_MUM, birth="1985-05-05"), dx=("S42.0",),
                   postcode=ELSEWHERE))
    result = sf.check(visit("VB1", "2021-04-20", "Bea", "Best", "2019-09-09", named))
    assert (sibling_warning(result) is not None) is linked


def test_one_wrong_nhs_number_does_not_merge_two_families(sf):
    """The wrong link must not teach Ann's node Bel's name and home: Bel's other children,
    named correctly by name and address, stay out of Ann's family."""
    ann, bel = kin("mother", "Ann", "Able", nhs=NHS_MUM), kin("mother", "Bel", "Best")
    sf.check(visit("VA1", "2023-01-05", "Al", "Able", "2018-01-01", ann, postcode=ELSEWHERE))
    sf.check(visit("VB1", "2023-02-01", "Bea", "Best", "2019-09-09",
                   kin("mother", "Bel", "Best", nhs=NHS_MUM)))            # the wrong number
    sf.check(visit("VB2", "2023-03-01", "Bo", "Best", "2017-03-03", bel))
    ada = sf.check(visit("VA2", "2023-03-20", "Ada", "Able", "2020-02-02", ann,
                         postcode=ELSEWHERE))
    assert "VB" not in _sibling_names(ada) and "VA1" in _sibling_names(ada)
    bix = sf.check(visit("VB3", "2023-03-25", "Bix", "Best", "2021-05-05", bel))
    assert "VA" not in _sibling_names(bix) and "VB2" in _sibling_names(bix)


@pytest.mark.parametrize("record", [True, False])
def test_a_register_mothers_children_are_found_with_or_without_recording(sf, record):
    """A dry run (``record=False``) has no parent node yet; the register mother it matched
    must still bring her register children."""
    load(sf, [person("MUM", "Leanne", "Ward", "1990-01-01", nhs=NHS_MUM, postcode="ZZ1 1ZZ"),
              person("C1", "Amy", "Ward", "2018-01-01", postcode="ZZ1 1ZZ")],
         [rel("C1", "MUM", "mother")], [plan("C1", "CP", "2020-06-01")])
    result = sf.check(visit("V1", "2021-04-01", "BABY", "Ward", "2021-03-20",
                            kin("mother", "Leanne", "Ward", nhs=NHS_MUM), dx=("S00.8",)),
                      record=record)
    assert {(f.person_id, f.subject, f.confirmed) for f in result.flags if f.code == "CP"} == {
        ("C1", "sibling", False)}


def _at(result_visit, line: str):
    """The visit with an address line at its postcode (the mother named without an address
    lives at the child's)."""
    patient = result_visit.patient
    address = Address(line=line, postcode=patient.addresses[0].postcode)
    return result_visit.model_copy(update={"patient": patient.model_copy(
        update={"addresses": (address,)})})


@pytest.mark.parametrize("first_line, second_line, linked", [
    ("Flat 1, 14 Fern Close", "Flat 7, 14 Fern Close", False),   # two homes of one block
    ("Flat 1, 14 Fern Close", "Flat 1, 14 Fern Close", True),    # one home
    ("14 Fern Close", "Flat 1, 14 Fern Close", True),            # the flat left out once
    ("Fern Close", "Flat 7, 14 Fern Close", True),               # no number to tell apart
])
def test_a_mothers_name_at_one_postcode_unit_is_one_home(sf, first_line, second_line, linked):
    """Two women of one name in one block of flats are two mothers: the postcode unit (about
    fifteen homes) corroborates a name only when nothing says the homes differ."""
    mum = kin("mother", "Sarah", "Smith")
    sf.check(_at(visit("V1", "2021-03-01", "Tom", "Smith", "2019-02-02", mum,
                       dx=("S42.0",)), first_line))
    result = sf.check(_at(visit("V2", "2021-04-01", "Amy", "Smith", "2020-06-06", mum),
                          second_line))
    assert (sibling_warning(result) is not None) is linked


@pytest.mark.parametrize("second_line, linked", [
    ("Flat 7, 14 Fern Close", False), ("Flat 1, 14 Fern Close", True)])
def test_a_renamed_mother_is_taken_only_at_her_own_home(sf, second_line, linked):
    """The renamed route (first name and postcode unit, a child of the family's name) does not
    reach a woman of the same first name in another flat of the block."""
    sf.check(_at(visit("V1", "2021-03-01", "Tom", "Smith", "2019-02-02",
                       kin("mother", "Sarah", "Smith"), dx=("S42.0",)), "Flat 1, 14 Fern Close"))
    result = sf.check(_at(visit("V2", "2021-04-01", "Amy", "Smith", "2020-06-06",
                                kin("mother", "Sarah", "Khan")), second_line))
    assert (sibling_warning(result) is not None) is linked


def test_an_a08_that_corrects_the_mother_links_the_mother_it_names(sf):
    """The re-check's own earlier link is used only for a node that may still be the parent
    named: an A08 naming another woman (another NHS number) links her."""
    ann = kin("mother", "Ann", "Able", nhs=NHS_MUM)
    kerry = kin("mother", "Kerry", "Lowe", nhs=NHS_OTHER)
    sf.check(visit("VK1", "2021-03-05", "Kim", "Lowe", "2017-01-01", kerry, dx=("S42.0",)))
    sf.check(visit("VT1", "2021-04-01", "Tom", "Lowe", "2019-02-02", ann))
    again = sf.check(visit("VT1", "2021-04-01", "Tom", "Lowe", "2019-02-02", ann, event="A08"))
    assert sibling_warning(again) is None                  # the same mother: nothing new
    fixed = sf.check(visit("VT1", "2021-04-01", "Tom", "Lowe", "2019-02-02", kerry,
                           event="A04"))
    assert "VK1" in _sibling_names(fixed)


@pytest.mark.parametrize("update, ann_kept", [
    (kin("mother", "Kerry", "Lowe", nhs=NHS_OTHER), False),   # the mother corrected
    (None, True),                                             # an update naming nobody
    (kin("father", "Dan", "Lowe"), True),                     # another role added
])
def test_an_a08_that_corrects_the_mother_drops_the_mother_it_replaced(sf, update, ann_kept):
    """Left linked, the mother first named wrongly would keep the child in her family: her
    children's injuries shown as his siblings' at every later attendance."""
    ann = kin("mother", "Ann", "Able", nhs=NHS_MUM)
    sf.check(visit("VA1", "2021-03-01", "Al", "Able", "2016-05-05", ann, dx=("S42.0",),
                   postcode=ELSEWHERE))
    sf.check(visit("VT1", "2021-04-01", "Tom", "Lowe", "2019-02-02", ann))
    kins = (update,) if update is not None else ()
    sf.check(visit("VT1", "2021-04-01", "Tom", "Lowe", "2019-02-02", *kins, event="A08"))
    later = sf.check(visit("VT2", "2021-05-01", "Tom", "Lowe", "2019-02-02"))
    assert ("VA1" in _sibling_names(later)) is ann_kept


def test_a_refused_nhs_number_is_not_kept_on_the_new_parent(sf):
    """Bel named with Ann's number is a new node without it: when Bel is later named with
    her own number, her children are still one family."""
    sf.check(visit("VA1", "2023-01-05", "Al", "Able", "2018-01-01",
                   kin("mother", "Ann", "Able", nhs=NHS_MUM), postcode=ELSEWHERE))
    sf.check(visit("VB1", "2023-02-01", "Bea", "Best", "2019-09-09",
                   kin("mother", "Bel", "Best", nhs=NHS_MUM)))
    bo = sf.check(visit("VB2", "2023-03-01", "Bo", "Best", "2017-03-03",
                        kin("mother", "Bel", "Best", nhs=NHS_OTHER)))
    assert "VB1" in _sibling_names(bo) and "VA1" not in _sibling_names(bo)


RENAMED = "named under another family name: matched by first name and postcode unit"


def _evidence_of(result, sibling: str) -> str:
    """The evidence line that names ``sibling`` (``attendee:N``)."""
    return next(e for e in sibling_warning(result).evidence if e.startswith(f"sibling {sibling} "))


def _links(sf, parent_id: int = 1) -> list[tuple[str, str]]:
    return [(link.attendance_id, link.how) for link in sf.store.children_of_parents([parent_id])]


@pytest.mark.parametrize("record, where", [(True, "V2"), (False, "this attendance")])
def test_a_sibling_through_a_renamed_mother_says_how_she_was_found(sf, record, where):
    """Found only by her first name and postcode unit (and a child of the family's name
    there), a mother named under another family name is a weaker link than her NHS number:
    the evidence says on which attendance she was named so, and how she was matched."""
    sf.check(visit("V1", "2020-03-08", "Kieran", "Thornmere", "2018-05-07",
                   kin("mother", "Evelyn", "Jones", birth="1990-03-03"), postcode="QA8 5XG",
                   dx=("S93.4",)))
    result = sf.check(visit("V2", "2020-05-13", "Jacqueline", "Thornmere", "2020-01-11",
                            kin("mother", "Evelyn", "Hill"), postcode="QA8 5XG"), record=record)
    assert _evidence_of(result, "attendee:1") == (
        "sibling attendee:1 (attendances: same mother named on attendance(s) V1 "
        f"(on {where} {RENAMED}))")
    if not record:
        return
    assert _links(sf) == [("V1", "new"), ("V2", "renamed")]
    # a third child names her by the new name, now the node's: Jacqueline's link is still the
    # renamed one, Kieran's is not
    third = sf.check(visit("V3", "2020-06-01", "Ava", "Thornmere", "2019-02-02",
                           kin("mother", "Evelyn", "Hill"), postcode="QA8 5XG"))
    assert _evidence_of(third, "attendee:2") == (
        "sibling attendee:2 (attendances: same mother named on attendance(s) V2 "
        f"(on V2 {RENAMED}))")
    assert _evidence_of(third, "attendee:1") == (
        "sibling attendee:1 (attendances: same mother named on attendance(s) V1)")


def test_a_sibling_through_her_nhs_number_reads_as_before_and_the_link_knows_how(sf):
    mum = kin("mother", "Kerry", "Lowe", nhs=NHS_MUM)
    sf.check(visit("V1", "2021-03-01", "Tom", "Lowe", "2019-02-02", mum, dx=("S42.0",)))
    result = sf.check(visit("V2", "2021-04-01", "Ivy", "Dunn", "2020-06-06",
                            kin("mother", "Kerry", "Dunn", nhs=NHS_MUM), postcode=ELSEWHERE))
    assert _evidence_of(result, "attendee:1") == (
        "sibling attendee:1 (attendances: same mother named on attendance(s) V1)")
    assert _links(sf) == [("V1", "new"), ("V2", "nhs number")]


def test_with_both_parents_shared_the_evidence_says_which_was_found_under_another_name(sf):
    dad = kin("father", "Dan", "Thornmere", birth="1988-08-08", postcode="QA8 5XG")
    sf.check(visit("V1", "2020-03-08", "Kieran", "Thornmere", "2018-05-07",
                   kin("mother", "Evelyn", "Jones", birth="1990-03-03"), dad, postcode="QA8 5XG",
                   dx=("S93.4",)))
    result = sf.check(visit("V2", "2020-05-13", "Jacqueline", "Thornmere", "2020-01-11",
                            kin("mother", "Evelyn", "Hill"), dad, postcode="QA8 5XG"))
    assert _evidence_of(result, "attendee:1") == (
        "sibling attendee:1 (attendances: same father, mother named on attendance(s) V1 "
        f"(the mother on V2 {RENAMED}))")


@pytest.mark.parametrize("first, update, kept", [
    # first found under another family name; the update names her so again, and the node now
    # carries that name (a certain match): the link stays the renamed one
    (kin("mother", "Evelyn", "Hill"), kin("mother", "Evelyn", "Hill"), "renamed"),
    # first found by her NHS number; an update that leaves the number out finds her only under
    # another family name: the link stays the NHS number's
    (kin("mother", "Evelyn", "Jones", nhs=NHS_MUM), kin("mother", "Evelyn", "Hill"),
     "nhs number"),
])
def test_a_recheck_keeps_how_the_link_was_first_made(sf, first, update, kept):
    """A link row keeps its first attendance, and with it how that attendance found the
    parent: an A08 neither weakens nor strengthens it."""
    sf.check(visit("V1", "2020-03-08", "Kieran", "Thornmere", "2018-05-07",
                   kin("mother", "Evelyn", "Jones", nhs=NHS_MUM, birth="1990-03-03"),
                   postcode="QA8 5XG", dx=("S93.4",)))
    sf.check(visit("V2", "2020-05-13", "Jacqueline", "Thornmere", "2020-01-11", first,
                   postcode="QA8 5XG"))
    assert _links(sf) == [("V1", "new"), ("V2", kept)]
    sf.check(visit("V2", "2020-05-13", "Jacqueline", "Thornmere", "2020-01-11", update,
                   postcode="QA8 5XG", event="A08"))
    assert _links(sf) == [("V1", "new"), ("V2", kept)]
    later = sf.check(visit("V3", "2020-05-30", "Jacqueline", "Thornmere", "2020-01-11",
                           postcode="QA8 5XG"))             # her next attendance names nobody
    assert (f"(on V2 {RENAMED})" in _evidence_of(later, "attendee:1")) is (kept == "renamed")
