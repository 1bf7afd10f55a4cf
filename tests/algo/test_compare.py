"""Comparison levels, blocking keys, and the scorer's symmetry and monotonicity."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from safeflag.algo.compare import (Identity, blocking_keys, compare, is_generation_gap,
                                   is_twin_pattern, personal_evidence)
from safeflag.algo.dates import PartialDate
from safeflag.match import Matcher
from safeflag.match.weights import MatchModel
from safeflag.settings import MatchSettings

BASE = Identity(ref="P1", nhs="9434765919", givens=("OLIVIA GRACE",), families=("SMITH",),
                birth=PartialDate(2019, 3, 14), sex="female", postcodes=("DN32 7QX",),
                kin_nhs=("4010232137",), kin_names=(("KERRY", "SMITH"),))


def levels(a: Identity, b: Identity) -> dict[str, str]:
    return dict(compare(a, b))


# --- levels, each on both sides of its threshold ----------------------------------------------
@pytest.mark.parametrize("other, level", [
    ("OLIVIA", "exact"), ("LIVVY", "nickname"), ("OLIVAI", "one edit"), ("GRACE", "middle name"),
    ("OLIVEA MAY", "one edit"), ("OLIVERA", "jaro-winkler >= 0.9"), ("AMELIA", "otherwise"),
])
def test_given_name_levels(other, level):
    assert levels(BASE, replace(BASE, givens=(other,)))["given_name"] == level


@pytest.mark.parametrize("other, level", [
    (("SMITH",), "exact"), (("TAYLOR SMITH",), "shared part"), (("SMIHT",), "one edit"),
    (("SMITHSON",), "jaro-winkler >= 0.92"), (("SMALL",), "otherwise"), (("JONES",), "otherwise"),
    ((), "no data"),
])
def test_family_name_levels(other, level):
    assert levels(BASE, replace(BASE, families=other))["family_name"] == level


@pytest.mark.parametrize("other, level", [
    (PartialDate(2019, 3, 14), "exact"),
    (PartialDate(2019, 3, 4), "one digit differs"),
    (PartialDate(2019, 3, 24), "one digit differs"),
    (PartialDate(2019, 4, 24), "under 12 years apart"),           # two digits
    (PartialDate(2019, 3), "same year and month (partial)"),
    (PartialDate(2019, 4), "under 12 years apart"),               # partial, other month
    (PartialDate(2019), "same year (partial)"),
    (PartialDate(2018), "under 12 years apart"),
    (PartialDate(2008, 3, 15), "under 12 years apart"),           # 11 years
    (PartialDate(2007, 3, 15), "otherwise"),                      # 12 years: a generation
    (PartialDate(1990, 3, 14), "otherwise"),
    (None, "no data"),
])
def test_birth_date_levels(other, level):
    assert levels(BASE, replace(BASE, birth=other))["birth_date"] == level


def test_day_month_swap_only_when_it_is_a_swap():
    a = replace(BASE, birth=PartialDate(2019, 3, 4))
    assert levels(a, replace(BASE, birth=PartialDate(2019, 4, 3)))["birth_date"] == \
        "day/month swapped"
    assert levels(a, replace(BASE, birth=PartialDate(2018, 4, 3)))["birth_date"] == \
        "under 12 years apart"


@pytest.mark.parametrize("other, level", [
    ("DN32 7QX", "unit"), ("DN32 7AB", "sector"), ("DN32 9AB", "district"), ("DN33 7QX", "otherwise"),
])
def test_postcode_levels(other, level):
    assert levels(BASE, replace(BASE, postcodes=(other,)))["postcode"] == level


def test_postcode_history_counts():
    moved = replace(BASE, postcodes=("HU1 2AA", "DN32 7QX"))
    assert levels(BASE, moved)["postcode"] == "unit"


@pytest.mark.parametrize("kin_nhs, kin_names, level", [
    (("4010232137",), (), "nhs number"),
    ((), (("KERRY", "SMITH"),), "full name"),
    ((), (("KERRY", "JONES"),), "first name"),
    ((), (("DONNA", "JONES"),), "otherwise"),
    ((), (), "no data"),
])
def test_parents_levels(kin_nhs, kin_names, level):
    other = replace(BASE, kin_nhs=kin_nhs, kin_names=kin_names)
    assert levels(BASE, other)["parents"] == level


def test_nhs_number_levels():
    assert levels(BASE, BASE)["nhs_number"] == "exact"
    assert levels(BASE, replace(BASE, nhs="4010232137"))["nhs_number"] == "otherwise"
    assert levels(BASE, replace(BASE, nhs=None))["nhs_number"] == "no data"


def test_a_parent_never_matches_a_younger_namesake():
    father = Identity(ref="F", givens=("OLIVER",), families=("DAVIES",), sex="male",
                      parent_of=2018)
    son = Identity(ref="S", givens=("OLIVER",), families=("DAVIES",), sex="male",
                   birth=PartialDate(2020, 6, 25))
    assert levels(son, father)["age"] == "otherwise"
    assert levels(son, replace(father, parent_of=2040))["age"] == "compatible"


# --- guards -----------------------------------------------------------------------------------
def test_twin_pattern():
    twin = replace(BASE, nhs=None, givens=("AMELIA",))
    assert is_twin_pattern(levels(BASE, twin))
    assert not is_twin_pattern(levels(BASE, replace(twin, givens=("LIVVY",))))   # a nickname
    assert not is_twin_pattern(levels(BASE, replace(twin, nhs=BASE.nhs)))       # same NHS no.
    assert not is_twin_pattern(levels(BASE, replace(twin, birth=PartialDate(2017, 1, 2))))
    # a near name is still a twin when the sex or a valid NHS number differs
    near = replace(BASE, givens=("OLIVAI",))
    assert not is_twin_pattern(levels(replace(BASE, nhs=None), replace(near, nhs=None)))
    assert is_twin_pattern(levels(BASE, replace(near, nhs="4010232137")))
    assert is_twin_pattern(levels(BASE, replace(near, nhs=None, sex="male")))


def test_generation_gap():
    parent = replace(BASE, nhs=None, birth=PartialDate(1990, 3, 14))
    assert is_generation_gap(levels(BASE, parent))
    assert not is_generation_gap(levels(BASE, replace(parent, birth=PartialDate(2008, 3, 15))))
    assert not is_generation_gap(levels(BASE, replace(parent, nhs=BASE.nhs)))


def test_personal_evidence():
    sibling = replace(BASE, nhs=None, givens=("AMELIA",), birth=PartialDate(2016, 1, 2))
    assert personal_evidence(levels(BASE, sibling)) == "disagrees"
    assert personal_evidence(levels(BASE, replace(sibling, givens=("OLIVIA",)))) == "agrees"
    nothing = replace(BASE, nhs=None, givens=(), birth=None)
    assert personal_evidence(levels(BASE, nothing)) == "none"


# --- blocking: any single wrong field still finds the record ----------------------------------
_CORRUPTIONS = {
    "nhs": lambda i: replace(i, nhs=None),
    "given (nickname)": lambda i: replace(i, givens=("LIVVY",)),
    "given (placeholder)": lambda i: replace(i, givens=()),
    "family (changed)": lambda i: replace(i, families=("DUNN",)),
    "birth (one digit in year)": lambda i: replace(i, birth=PartialDate(2018, 3, 14)),
    "birth (one digit in month)": lambda i: replace(i, birth=PartialDate(2019, 8, 14)),
    "birth (one digit in day)": lambda i: replace(i, birth=PartialDate(2019, 3, 19)),
    "birth (year-month only)": lambda i: replace(i, birth=PartialDate(2019, 3)),
    "birth (year only)": lambda i: replace(i, birth=PartialDate(2019)),
    "birth (missing)": lambda i: replace(i, birth=None),
    "postcode (moved)": lambda i: replace(i, postcodes=("HU1 2AA",)),
    "sex": lambda i: replace(i, sex="male"),
    "middle name as first": lambda i: replace(i, givens=("GRACE",)),
}


@pytest.mark.parametrize("name", sorted(_CORRUPTIONS))
def test_any_single_corrupted_field_still_shares_a_key(name):
    stored = replace(BASE, nhs=None)
    query = _CORRUPTIONS[name](stored)
    assert blocking_keys(query, query=True) & blocking_keys(stored)


def test_day_month_swap_is_looked_up():
    stored = replace(BASE, nhs=None, birth=PartialDate(2019, 3, 4))
    query = replace(stored, birth=PartialDate(2019, 4, 3), givens=("LIVVY",))
    assert blocking_keys(query, query=True) & blocking_keys(stored)


def test_unrelated_records_share_no_key():
    other = Identity(ref="P2", givens=("HENRY",), families=("JONES",),
                     birth=PartialDate(2011, 7, 1), postcodes=("HU1 2AA",))
    assert not blocking_keys(replace(BASE, nhs=None), query=True) & blocking_keys(other)


# --- properties of the scorer -----------------------------------------------------------------
_GIVENS = ["OLIVIA", "OLIVIA GRACE", "LIVVY", "OLIVAI", "GRACE", "AMELIA", "ZOE", "OZE"]
_FAMILIES = [("SMITH",), ("SMIHT",), ("TAYLOR SMITH",), ("JONES",), ()]
_BIRTHS = [PartialDate(2019, 3, 14), PartialDate(2019, 3, 4), PartialDate(2019, 4, 3),
           PartialDate(2019, 3), PartialDate(2019), PartialDate(2012, 1, 1), None]
_POSTCODES = [("DN32 7QX",), ("DN32 7AB",), ("DN32 9ZZ",), ("HU1 2AA",), ()]
_NHS = ["9434765919", "4010232137", None]


@st.composite
def identities(draw, ref: str = "X") -> Identity:
    return Identity(
        ref=ref, nhs=draw(st.sampled_from(_NHS)),
        givens=tuple(draw(st.lists(st.sampled_from(_GIVENS), max_size=2, unique=True))),
        families=draw(st.sampled_from(_FAMILIES)), birth=draw(st.sampled_from(_BIRTHS)),
        sex=draw(st.sampled_from(["female", "male", "unknown"])),
        postcodes=draw(st.sampled_from(_POSTCODES)),
        kin_nhs=draw(st.sampled_from([(), ("4010232137",)])),
        kin_names=draw(st.sampled_from([(), (("KERRY", "SMITH"),), (("DONNA", "JONES"),)])),
        parent_of=draw(st.sampled_from([None, 2015])))


MATCHER = Matcher(None, MatchSettings(), MatchModel(tf={
    "given_name": {"OLIVIA": 0.05, "": 0.001}, "family_name": {"SMITH": 0.03, "": 0.001}}))


@given(identities("A"), identities("B"))
@settings(max_examples=400, deadline=None)
def test_comparison_and_score_are_symmetric(a, b):
    assert compare(a, b) == compare(b, a)
    assert MATCHER.score(a, b).weight == pytest.approx(MATCHER.score(b, a).weight)


_COPY = {
    "nhs": lambda a, b: replace(b, nhs=a.nhs),
    "givens": lambda a, b: replace(b, givens=a.givens),
    "families": lambda a, b: replace(b, families=a.families),
    "birth": lambda a, b: replace(b, birth=a.birth),
    "sex": lambda a, b: replace(b, sex=a.sex),
    "postcodes": lambda a, b: replace(b, postcodes=a.postcodes),
    "kin": lambda a, b: replace(b, kin_nhs=a.kin_nhs, kin_names=a.kin_names),
}


@given(identities("A"), identities("B"), st.sampled_from(sorted(_COPY)))
@settings(max_examples=600, deadline=None)
def test_more_agreement_never_lowers_the_match_weight(a, b, field_name):
    """Making one field of B agree with A (where both have it) never lowers the weight."""
    before = MATCHER.score(a, b)
    after_b = _COPY[field_name](a, b)
    after = MATCHER.score(a, after_b)
    before_levels = dict((f, lv) for f, lv, _ in before.levels)
    if any(before_levels.get(f) == "no data" for f in ("nhs_number", "given_name",
                                                        "family_name", "birth_date", "sex",
                                                        "postcode", "parents")
           if _FIELD_OF[field_name] == f):
        return          # filling in a missing value adds a comparison; not "more agreement"
    assert after.weight >= before.weight - 1e-9


_FIELD_OF = {"nhs": "nhs_number", "givens": "given_name", "families": "family_name",
             "birth": "birth_date", "sex": "sex", "postcodes": "postcode", "kin": "parents"}


@pytest.mark.parametrize("old, new, kept", [
    ("2016", "2016-09-24", "2016-09-24"),          # a fuller date that agrees completes it
    ("2016-09", "2016-09-24", "2016-09-24"),
    ("2016", "2016-09", "2016-09"),
    ("2016", "2015-09-24", "2016"),                # another year: the first kept
    ("2016-08", "2016-09-24", "2016-08"),          # another month: the first kept
    ("2016-09-24", "2016-09-25", "2016-09-24"),    # two full dates: the first kept
    ("2016-09-24", "2016", "2016-09-24"),          # a vaguer date never replaces a fuller one
    (None, "2016", "2016"),
    ("2016", None, "2016"),
])
def test_merged_identity_keeps_the_fullest_agreeing_birth_date(old, new, kept):
    from safeflag.algo.compare import merge_identities

    def ident(birth: str | None) -> Identity:
        return Identity(ref="A1", givens=("ELLA",), birth=PartialDate.parse(birth) if birth
                        else None)
    assert str(merge_identities(ident(old), ident(new)).birth) == kept


def _named(roles: tuple[str, ...], names: tuple[tuple[str, str], ...]) -> Identity:
    return Identity(ref="A1", givens=("ELLA",), kin_names=names, kin_roles=roles)


@pytest.mark.parametrize("a, b, level", [
    # one names only the mother, the other only the father: says nothing either way
    (_named(("mother",), (("AVA", "JENSEN"),)), _named(("father",), (("OMAR", "BLACK"),)),
     "no data"),
    # the same role named with another name: against
    (_named(("mother",), (("AVA", "JENSEN"),)), _named(("mother",), (("ZOE", "KING"),)),
     "otherwise"),
    # both parents known on one side, the father named differently on the other: against
    (_named(("mother", "father"), (("AVA", "JENSEN"), ("TOM", "JENSEN"))),
     _named(("father",), (("OMAR", "BLACK"),)), "otherwise"),
    # a carer is no parent of a known role: against, as before
    (_named(("other",), (("AVA", "JENSEN"),)), _named(("father",), (("OMAR", "BLACK"),)),
     "otherwise"),
    # names agree whatever the roles say (a role keyed wrongly)
    (_named(("mother",), (("AVA", "JENSEN"),)), _named(("father",), (("AVA", "JENSEN"),)),
     "full name"),
])
def test_naming_the_other_parent_says_nothing(a, b, level):
    assert dict(compare(a, b))["parents"] == level


def test_kin_roles_are_stored_and_older_identities_still_read():
    ident = _named(("mother",), (("AVA", "JENSEN"),))
    assert Identity.from_json(ident.to_json()).kin_roles == ("mother",)
    old = '{"ref":"A1","nhs":null,"g":["ELLA"],"f":[],"b":null,"s":"female","p":[]}'
    assert Identity.from_json(old).kin_roles == ()


@pytest.mark.parametrize("line, key", [
    ("Flat 2, 14 Fern Close", "LS2 9JT|2,14|14 FERN"),
    ("Flat 14, 2 Fern Close", "LS2 9JT|2,14|2 FERN"),      # the same numbers, another house
    ("14 Fern Close", "LS2 9JT|14|14 FERN"),
    ("14 Oak Road", "LS2 9JT|14|14 OAK"),                  # another street of the unit
    ("Fern Close", None),                       # no number: nothing to tell homes apart by
    ("Flat B, 12 Fern Close", "LS2 9JT|b,12|12 FERN"),  # a flat's letter
    ("flat b 12 fern close", "LS2 9JT|b,12|12 FERN"),
    ("12B Fern Close", "LS2 9JT|b,12|12 FERN"),         # a letter after the house number
    ("Apartment 3, 12 Fern Close", "LS2 9JT|3,12|12 FERN"),
    ("Flat 2 14 Fern Close", "LS2 9JT|2,14|14 FERN"),
    ("12 Fern Close, Block A", "LS2 9JT|12|12 FERN"),   # a lone letter elsewhere is not a flat
    ("Flat 3", "LS2 9JT|3"),                    # no house number said: the marks alone
])
def test_premise_key(line, key):
    from safeflag.algo.compare import premise_key
    assert premise_key("ls29jt", line) == key
    assert premise_key("not a postcode", line) is None


@pytest.mark.parametrize("a, b, different", [
    (("LS2 9JT|1,14",), ("LS2 9JT|7,14",), True),
    (("LS2 9JT|a,12",), ("LS2 9JT|b,12",), True),      # Flat A and Flat B of number 12
    (("LS2 9JT|12",), ("LS2 9JT|b,12",), False),       # the letter left out: may be one home
    (("LS2 9JT|1,14",), ("LS2 9JT|1,14",), False),
    (("LS2 9JT|14",), ("LS2 9JT|1,14",), False),     # one left the flat number out
    ((), ("LS2 9JT|7,14",), False),                  # one without numbers: cannot tell
    (("LS2 9JT|1,14", "LS2 9JT|7,14"), ("LS2 9JT|7,14",), False),   # she lived at both
])
def test_different_dwellings_in_one_postcode_unit(a, b, different):
    from safeflag.algo.compare import Identity, different_dwellings
    x = Identity(ref="a", postcodes=("LS2 9JT",), premises=a)
    y = Identity(ref="b", postcodes=("LS2 9JT", "HU1 2AA"), premises=b)
    assert different_dwellings(x, y) is different
    assert different_dwellings(y, x) is different
    assert different_dwellings(x, Identity(ref="c", postcodes=("HU1 2AA",), premises=b)) is False


def test_premises_survive_storage_and_merging():
    from safeflag.algo.compare import Identity, merge_identities
    a = Identity(ref="K1", postcodes=("LS2 9JT",), premises=("LS2 9JT|1,14",))
    assert Identity.from_json(a.to_json()).premises == a.premises
    b = Identity(ref="q", postcodes=("LS2 9JT",), premises=("LS2 9JT|7,14",))
    assert merge_identities(a, b).premises == ("LS2 9JT|1,14", "LS2 9JT|7,14")


@pytest.mark.parametrize("a, b, same", [
    (("LS2 9JT|14|14 FERN",), ("LS2 9JT|2,14|14 FERN",), True),   # the flat number left out
    (("LS2 9JT|14|14 FERN",), ("LS2 9JT|14|14 FEN",), True),      # a slip in the street
    (("LS2 9JT|14|14 FERN",), ("LS2 9JT|14|14 OAK",), False),     # two streets of one unit
    (("LS2 9JT|2,14|14 FERN",), ("LS2 9JT|2,14|2 FERN",), False),  # Flat 2 of 14, Flat 14 of 2
    (("LS2 9JT|2,14|14 FERN",), ("LS2 9JT|2|2 FERN",), False),   # flat 2 of 14, house 2
    (("LS2 9JT|14",), ("LS2 9JT|2,14|2 FERN",), True),   # a key stored before: its marks alone
    (("LS2 9JT|14",), ("LS2 9JT|2,14",), True),       # one left the flat number out
    (("LS2 9JT|a,14",), ("LS2 9JT|b,14",), False),    # two flats of one house
    (("LS2 9JT|14",), ("LS2 9JT|16",), False),        # two houses of one unit
    (("LS2 9JT|14",), ("LS2 9JU|14",), False),        # two units
    ((), ("LS2 9JT|14",), False),                     # no premises: no home to share
])
def test_same_dwelling(a, b, same):
    from safeflag.algo.compare import same_dwelling
    one, other = Identity(ref="a", premises=a), Identity(ref="b", premises=b)
    assert same_dwelling(one, other) is same and same_dwelling(other, one) is same
