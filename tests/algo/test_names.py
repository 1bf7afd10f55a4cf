"""Name normalisation, placeholders, nicknames, keying errors and phonetic keys."""

from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st

from safeflag.algo.names import (are_nicknames, clean_family, clean_given, is_placeholder,
                                 name_parts, names_a_twin, normalise_name, one_edit_apart,
                                 phonetic)


@pytest.mark.parametrize("raw, expected", [
    ("O'Brien-Smyth ", "OBRIEN SMYTH"), ("Zoë", "ZOE"), ("  siân  ", "SIAN"),
    ("Ó Briain", "O BRIAIN"), ("St. John", "ST JOHN"), ("Wiśniewski", "WISNIEWSKI"),
    ("D\u2019Souza", "DSOUZA"), ("", ""), (None, ""),
])
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


def test_multi_part_names_split_into_parts():
    assert name_parts("Taylor-Bramcroft") == ("TAYLOR", "BRAMCROFT")
    assert name_parts("Van  Dyke") == ("VAN", "DYKE")


@pytest.mark.parametrize("text", ["BABY", "Baby Boy", "baby girl", "TWIN 1", "Twin-2", "Twin B",
                                  "Baby of Smith", "Infant of J Smith", "UNKNOWN", "", None])
def test_placeholders_are_missing_names(text):
    assert is_placeholder(text)
    assert clean_given(text) == ""


@pytest.mark.parametrize("text", ["Olivia", "Bo", "Babyface", "Twinkle", "Unity", "Boyd"])
def test_real_names_are_not_placeholders(text):
    assert not is_placeholder(text)
    assert clean_given(text) == normalise_name(text)


def test_only_twin_placeholders_name_a_twin():
    assert names_a_twin("TWIN 2") and names_a_twin("twin a")
    assert not names_a_twin("BABY BOY") and not names_a_twin("Twinkle")


def test_family_placeholders():
    assert clean_family("UNKNOWN") == "" and clean_family("Not Stated") == ""
    assert clean_family("Smith") == "SMITH"


def test_nicknames_from_the_table_both_ways():
    assert are_nicknames("WILLIAM", "BILL") and are_nicknames("BILL", "WILLIAM")
    assert are_nicknames("OLIVIA", "LIVVY")
    assert not are_nicknames("WILLIAM", "ROBERT")
    assert not are_nicknames("", "BILL")


@pytest.mark.parametrize("a, b, one_name", [
    ("AMELIA", "MIA", True), ("AMELIA", "MILLIE", True),      # the formal name and each
    ("MILLIE", "MILLY", True), ("BOB", "BOBBY", True),         # spellings of one diminutive
    ("KATHERINE", "CATHERINE", True), ("CATHERINE", "KATE", True),   # a formal spelling
    ("SOPHIE", "SOPHIA", True),
    ("MIA", "MILLIE", False), ("DAISY", "MAISIE", False),      # two diminutives: twins'
    ("ELLIE", "ELSIE", False), ("LIBBY", "LIZZIE", False),     # names, not one child's
    ("ANNA", "HANNAH", False),                                 # a name of its own
])
def test_two_diminutives_of_one_formal_name_are_two_names(a, b, one_name):
    assert are_nicknames(a, b) is one_name and are_nicknames(b, a) is one_name


def test_boy_and_girl_forms_are_not_nicknames_of_each_other():
    """A boy–girl twin pair (Alexander, Alexandra) must never look like one child."""
    assert not are_nicknames("ALEXANDER", "ALEXANDRA")
    assert not are_nicknames("SAMUEL", "SAMANTHA")
    assert are_nicknames("ALEXANDER", "ALEX") and are_nicknames("ALEXANDRA", "ALEX")


@pytest.mark.parametrize("a, b, expected", [
    ("ZOE", "OZE", True),          # adjacent letters swapped
    ("AVA", "AA", True),           # a letter dropped (the longer name has three letters)
    ("SOPHIA", "SJPHIA", True),    # one substituted
    ("EMILY", "EMMILY", True),     # one doubled
    ("ANN", "ANN", False),         # the same name is not an error
    ("OLIVIA", "OLIVER", False),   # two edits
    ("AL", "AB", False),           # two-letter names: too many are one edit apart
    ("JO", "JOE", True),
])
def test_one_edit_apart(a, b, expected):
    assert one_edit_apart(a, b) is expected
    assert one_edit_apart(b, a) is expected


def test_phonetic_codes_group_spellings():
    assert phonetic("KATHERINE") == phonetic("CATHERINE")
    assert phonetic("MACDONALD") == phonetic("MCDONALD")
    assert phonetic("SMITH") != phonetic("JONES")
    assert phonetic("") == ""


@given(st.text(max_size=40))
def test_normalise_is_idempotent_and_plain(text):
    once = normalise_name(text)
    assert normalise_name(once) == once
    assert set(once) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ ")
    assert "  " not in once and once == once.strip()


@given(st.text(alphabet=st.characters(categories=("Lu", "Ll")), min_size=1, max_size=12))
@example("ẞ")          # the capital sharp s: lower-cases to ß, which upper-cases to SS
def test_case_and_accents_do_not_matter(text):
    assert normalise_name(text.upper()) == normalise_name(text.lower()) or \
        normalise_name(text.upper()).upper() == normalise_name(text.lower())


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10),
       st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10))
def test_one_edit_is_symmetric(a, b):
    assert one_edit_apart(a, b) == one_edit_apart(b, a)
