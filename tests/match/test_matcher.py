"""The matcher on small registers: bands, explanations and the guards that keep one child's
plans from being shown to another family."""

from __future__ import annotations

import pytest

from safeflag.models import Demographics, Name, NextOfKin, Sex
from safeflag.models import Address as Addr
from safeflag.algo.dates import PartialDate
from safeflag.algo.compare import blocking_keys
from safeflag.match import Matcher, demographics_identity
from safeflag.pipeline import index_register
from safeflag.settings import MatchSettings
from safeflag.store.sqlite import SqliteStore
from safeflag.models import Register
from tests.conftest import person, rel

MUM_NHS = "4010232137"
CHILD_NHS = "9434765919"


def demo(given="Olivia", family="Smith", birth="2019-03-14", sex="female", postcode="DN32 7QX",
         nhs=None, middle="") -> Demographics:
    return Demographics(nhs_number=nhs, names=(Name(given=given, family=family, middle=middle),),
                        birth_date=PartialDate.parse(birth) if birth else None,
                        sex=Sex(sex), addresses=(Addr(postcode=postcode),) if postcode else ())


def mother(given="Kerry", family="Smith", nhs=None) -> tuple[NextOfKin, ...]:
    return (NextOfKin(relationship="mother", code="MTH",
                      demographics=Demographics(nhs_number=nhs,
                                                names=(Name(given=given, family=family),))),)


def _matcher(persons, relationships=(), settings=None) -> Matcher:
    store = SqliteStore(":memory:")
    register = Register(persons=tuple(persons), relationships=tuple(relationships))
    store.replace_register(register, index_register(register, store), source="test")
    # a register of a few people gives a generous prior; size it like a real one
    from safeflag.match.weights import META_KEY, MatchModel, prior_for
    model = MatchModel.from_json(store.get_meta(META_KEY))
    from dataclasses import replace
    store.set_meta(META_KEY, replace(model, prior=prior_for(20_000)).to_json())
    return Matcher(store, settings or MatchSettings())


@pytest.fixture
def family() -> Matcher:
    return _matcher([
        person("C1", "Olivia", "Smith", "2019-03-14", nhs=CHILD_NHS),
        person("C2", "Amelia", "Smith", "2019-03-14"),                   # Olivia's twin
        person("C3", "Jack", "Smith", "2016-08-01", sex="male"),          # a brother
        person("M1", "Kerry", "Smith", "1990-05-05", nhs=MUM_NHS),
        person("X1", "Olivia", "Smith", "2012-01-01", postcode="HU1 2AA"),  # a namesake
    ], [rel("C1", "M1", "mother"), rel("C2", "M1", "mother"), rel("C3", "M1", "mother")])


def test_exact_demographics_are_certain_and_explained(family):
    result = family.match(demo())
    assert (result.person_id, result.band) == ("C1", "certain")
    fields = {c.field: c.level for c in result.comparisons}
    assert fields["given_name"] == "exact" and fields["birth_date"] == "exact"
    assert all(isinstance(c.weight, float) for c in result.comparisons)


def test_the_co_twin_is_never_matched(family):
    """Amelia's attendance must not find Olivia, and Olivia's must not find Amelia."""
    assert family.match(demo(given="Amelia")).person_id == "C2"
    for given in ("Amelia", "Olivia"):
        result = family.match(demo(given=given))
        other = "C1" if given == "Amelia" else "C2"
        assert result.person_id != other
        assert other not in {c.person_id for c in result.candidates}


def test_a_twin_not_on_the_register_matches_nobody():
    only_one = _matcher([person("C1", "Olivia", "Smith", "2019-03-14")])
    result = only_one.match(demo(given="Isla"))
    assert result.person_id is None and result.band == "none"


def test_twin_placeholder_without_nhs_number_is_at_most_possible():
    only_one = _matcher([person("C1", "Olivia", "Smith", "2019-03-14")])
    assert only_one.match(demo(given="TWIN 2")).band in ("possible", "none")
    assert only_one.match(demo(given="TWIN 2")).person_id is None


def test_placeholder_newborn_with_nhs_number_is_matched():
    baby = _matcher([person("B1", "Ava", "Jones", "2024-05-01", nhs=CHILD_NHS)])
    result = baby.match(demo(given="BABY GIRL", family="Jones", birth="2024-05-01",
                             nhs=CHILD_NHS))
    assert result.person_id == "B1"


def test_a_sibling_sharing_only_the_household_is_not_matched(family):
    """Same family name, address and mother; another first name and birth date: a sibling."""
    result = family.match(demo(given="Noah", birth="2021-02-02", sex="male"), mother())
    assert result.person_id is None
    assert {c.person_id for c in result.candidates} == set()


def test_household_evidence_is_capped_and_shown(family):
    result = family.match(demo(), mother(nhs=MUM_NHS))
    assert result.person_id == "C1"
    household = [c for c in result.comparisons if c.field == "household"]
    assert household and household[0].weight < 0


def test_wrong_valid_nhs_number_is_strong_evidence_against_but_not_a_veto(family):
    wrong = "4857773457"            # valid check digit, another child's
    result = family.match(demo(nhs=wrong))
    levels = {c.field: (c.level, c.weight) for c in result.comparisons}
    assert levels["nhs_number"][0] == "otherwise" and levels["nhs_number"][1] < -5
    assert result.person_id == "C1"             # everything else agrees
    weaker = family.match(demo(nhs=wrong, postcode="HU9 9ZZ"))
    assert weaker.score < result.score


def test_invalid_nhs_number_is_ignored(family):
    result = family.match(demo(nhs="9434765918"))          # check digit wrong
    assert {c.field: c.level for c in result.comparisons}["nhs_number"] == "no data"
    assert result.person_id == "C1"


@pytest.mark.parametrize("variant", [
    dict(given="Livvy"),                                  # nickname
    dict(given="Oliiva"),                                 # one keying error
    dict(family="Dunn"),                                  # mother's new surname
    dict(birth="2019-14-03".replace("14-03", "03-14")),   # unchanged: control
    dict(birth="2019-03-04"),                             # one digit
    dict(postcode="HU1 9XX"),                             # moved
    dict(birth="2019-03"),                                # partial date
])
def test_one_recording_error_still_finds_the_child(family, variant):
    result = family.match(demo(**variant), mother())
    assert result.person_id == "C1"


def test_placeholder_name_finds_a_child_without_a_twin():
    m = _matcher([person("C1", "Olivia", "Smith", "2019-03-14"),
                  person("C3", "Jack", "Smith", "2016-08-01", sex="male")])
    assert m.match(demo(given="BABY"), mother()).person_id == "C1"


@pytest.mark.parametrize("postcode, nhs, matched", [
    ("DN32 7QX", None, True),        # the same home: the register's baby
    ("DN32 9AB", None, False),       # another street of the district: another family's baby
    ("DN32 9AB", CHILD_NHS, True),   # another home, but the baby's own NHS number
])
@pytest.mark.parametrize("register_given", ["", "Ava"])
def test_a_newborn_without_a_first_name_needs_the_home_or_the_nhs_number(
        postcode, nhs, matched, register_given):
    """Family name and birth date alone fit another family's baby born the same day: "BABY
    SMITH" elsewhere in the district is offered for a person to confirm, never matched."""
    m = _matcher([person("B1", register_given, "Smith", "2023-03-01", nhs=CHILD_NHS)])
    result = m.match(demo(given="BABY", birth="2023-03-01", postcode=postcode, nhs=nhs,
                          sex="unknown"))
    assert (result.person_id == "B1") is matched
    assert result.band in (("certain", "probable") if matched else ("possible", "none"))
    if not matched and result.candidates:
        assert "no first name to compare" in result.candidates[0].note


def _jack_at(line: str, birth: str) -> tuple[str, float]:
    jack = person("J1", "Jack", "Smith", "2019-04-02", sex="male")
    m = _matcher([jack.model_copy(update={"address_line": "12 Fern Close"})])
    query = Demographics(names=(Name(given="Jack", family="Smith"),),
                         birth_date=PartialDate.parse(birth), sex=Sex.male,
                         addresses=(Addr(line=line, postcode="DN32 7QX"),))
    [scored] = m.rank(demographics_identity(query), m.store.person_candidates(
        blocking_keys(demographics_identity(query), query=True)))
    return dict((c.field, c.level) for c in scored.comparisons)["postcode"], scored.probability


@pytest.mark.parametrize("line, level", [
    ("12 Fern Close", "unit"),              # the register's home
    ("Flat 2, 12 Fern Close", "unit"),      # a flat of it
    ("Fern Close", "unit"),                 # no number: nothing says the homes differ
    ("30 Fern Close", "sector"),            # another house in the postcode unit
])
def test_another_house_in_the_postcode_unit_is_not_the_same_home(line, level):
    """The register's own address line tells two homes of one postcode unit apart, so a
    namesake three doors down weighs no more than one in the next street."""
    assert _jack_at(line, "2019-04-02")[0] == level


def test_a_namesake_cousin_three_doors_down_is_not_matched():
    """Jack Smith born five months after the register's Jack Smith, at number 30 of his
    street, was *probable* for him (and shown his CP plan): only the name agreed."""
    level, p = _jack_at("30 Fern Close", "2019-09-17")
    assert level == "sector" and p < MatchSettings().probable
    assert _jack_at("12 Fern Close", "2019-09-17")[1] > p


@pytest.mark.parametrize("registered, attending", [("Mia", "Millie"), ("Daisy", "Maisie")])
def test_a_twin_named_another_diminutive_of_one_formal_name_is_not_matched(registered,
                                                                         attending):
    """Twins Mia and Millie (both diminutives of Amelia): Millie, not on the register, was
    matched *certain* to her sister and shown her CP plan as her own."""
    m = _matcher([person("T1", registered, "Smith", "2019-03-14")])
    result = m.match(demo(given=attending))
    assert result.person_id is None and result.band == "none"
    assert m.match(demo(given=registered)).person_id == "T1"


def test_placeholder_name_cannot_tell_twins_apart(family):
    """No first name and no NHS number: Olivia and her twin Amelia fit equally well, so a
    person must confirm which (both offered as possible), never one chosen."""
    result = family.match(demo(given="BABY"), mother())
    assert result.person_id is None and result.band == "possible"
    assert {c.person_id for c in result.candidates} == {"C1", "C2"}


def test_day_month_swap_finds_the_child():
    m = _matcher([person("C1", "Olivia", "Smith", "2019-03-04")])
    result = m.match(demo(given="Livvy", birth="2019-04-03"), mother())
    assert result.person_id == "C1"
    assert {c.field: c.level for c in result.comparisons}["birth_date"] == "day/month swapped"


def test_a_father_is_not_matched_to_his_namesake_son():
    m = _matcher([person("F1", "Oliver", "Davies", None, sex="male"),
                  person("S1", "Noah", "Davies", "2018-01-01", sex="male")],
                 [rel("S1", "F1", "father")])
    result = m.match(demo(given="Oliver", family="Davies", birth="2020-06-25", sex="male"))
    assert result.person_id is None


def test_two_equal_records_give_possible_candidates_not_a_match():
    dup = _matcher([person("D1", "Olivia", "Smith", "2019-03-14"),
                    person("D2", "Olivia", "Smith", "2019-03-14")])
    result = dup.match(demo())
    assert result.person_id is None and result.band == "possible"
    assert {c.person_id for c in result.candidates} == {"D1", "D2"}
    assert all(c.comparisons for c in result.candidates)


def test_bands_follow_the_thresholds(family):
    lax = _matcher([person("C1", "Olivia", "Smith", "2019-03-14")],
                   settings=MatchSettings(certain=0.999999, probable=0.9, possible=0.5))
    q = demo(postcode=None, birth="2019-03")
    strict_band = lax.match(q).band
    default_band = _matcher([person("C1", "Olivia", "Smith", "2019-03-14")]).match(q).band
    order = ["none", "possible", "probable", "certain"]
    assert order.index(strict_band) <= order.index(default_band)


def test_nothing_in_common_is_none(family):
    result = family.match(demo(given="Henry", family="Jones", birth="2011-07-01", sex="male",
                               postcode="HU1 2AA"))
    assert result.band == "none" and result.person_id is None


@pytest.mark.parametrize("given, family_name, band, person_id", [
    ("Zara", "Jones", "possible", None),      # neither name agrees: birth date + address only
    ("Olivia", "Jones", "certain", "C1"),     # first name agrees, surname changed
    ("Zara", "Smith", "none", None),          # surname agrees, first name differs: the twin guard
])
def test_birth_date_and_address_without_a_name_are_never_matched_outright(
        family, given, family_name, band, person_id):
    result = family.match(demo(given=given, family=family_name))
    assert (result.band, result.person_id) == (band, person_id)
    if band == "possible":
        # both twins fit birth date and address: both offered, for a person to confirm
        assert {c.person_id for c in result.candidates} == {"C1", "C2"}


def _father(given="Omar", family="Black") -> tuple[NextOfKin, ...]:
    return (NextOfKin(relationship="father", code="FTH",
                      demographics=Demographics(names=(Name(given=given, family=family),))),)


def test_a_father_named_where_the_register_knows_the_mother_weighs_nothing(family):
    """The register records Olivia's mother only; her father brings her. Naming the other
    parent says nothing against the match (it used to count as a wrong parent); another
    mother named still counts against."""
    father = family.match(demo(), _father())
    assert {c.field: c.level for c in father.comparisons}["parents"] == "no data"
    assert (father.person_id, father.band) == ("C1", "certain")
    other_mother = family.match(demo(), mother(given="Zoe", family="King"))
    assert {c.field: c.level for c in other_mother.comparisons}["parents"] == "otherwise"


@pytest.mark.parametrize("variant, band, person_id", [
    # Olivia's own number with her details: certain
    (dict(nhs=CHILD_NHS), "certain", "C1"),
    # her number and one keying slip in the birth date: still her
    (dict(nhs=CHILD_NHS, birth="2019-03-04"), "certain", "C1"),
    # her number and another surname (a name change): still her
    (dict(nhs=CHILD_NHS, family="Dunn"), "certain", "C1"),
    # her number, her name, a birth date mistyped twice over in the right year: still her
    (dict(nhs=CHILD_NHS, birth="2019-01-05"), "certain", "C1"),
    # her number, birth date and home under names she is not registered by: still her
    (dict(nhs=CHILD_NHS, given="Zara", family="Dunn"), "certain", "C1"),
    # her number on another child born the same day elsewhere: both names differ
    (dict(nhs=CHILD_NHS, given="Oscar", family="Reid", sex="male", postcode="HU1 2AA"),
     "possible", None),
    # her number on her brother Jack, with his own name and birth date: not Olivia, and Jack
    # is found under his own record
    (dict(nhs=CHILD_NHS, given="Jack", birth="2016-08-01", sex="male"), "certain", "C3"),
    # her number with her first name but a birth date years from hers: offered, not matched
    (dict(nhs=CHILD_NHS, birth="2015-06-20"), "possible", None),
])
def test_an_nhs_number_the_child_s_own_details_contradict_is_not_a_match(
        family, variant, band, person_id):
    """A number keyed from another record (a sibling's, a swapped newborn's) must not show
    that child's plans as this child's own: it is offered for a person to confirm."""
    result = family.match(demo(**variant))
    assert (result.band, result.person_id) == (band, person_id)
    if band == "possible":
        assert any("NHS number agrees" in c.note for c in result.candidates)


@pytest.mark.parametrize("given, birth, nhs, person_id", [
    ("Millie", "2017-05-05", "9434765919", "D1"),   # her own number
    ("Millie", "2017-05-05", "4010232137", "D1"),   # her sister's number: still Millie
    ("Mia", "2021-08-08", "4010232137", "D2"),      # the sister, with her own number
])
def test_a_sisters_nhs_number_does_not_outweigh_the_childs_own_details(given, birth, nhs,
                                                                        person_id):
    """MILLIE and MIA share a nickname group and a home: a number keyed from the sister's
    record must not make Millie her sister (it counts for nothing once her birth year says
    otherwise), and Millie's own name, birth date and home still find her."""
    m = _matcher([person("D1", "Millie", "Reed", "2017-05-05", nhs="9434765919"),
                  person("D2", "Mia", "Reed", "2021-08-08", nhs="4010232137"),
                  person("X1", "Zoe", "Reed", "2010-01-01", postcode="HU1 2AA")])
    result = m.match(demo(given=given, family="Reed", birth=birth, nhs=nhs))
    assert (result.band, result.person_id) == ("certain", person_id)
