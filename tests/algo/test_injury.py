"""Injury classification: ICD-10 by structure, curated SNOMED CT, free text marked as such."""

from __future__ import annotations

import pytest

from safeflag.algo.injury import SNOMED_INJURIES, classify, normalise_icd10


@pytest.mark.parametrize("code, kind, region, site", [
    ("S00.4", "superficial", "head", "ear"),
    ("S005", "superficial", "head", "mouth-frenulum"),
    ("S00.8", "superficial", "head", "cheek"),
    ("S00.1", "superficial", "head", "eyelid"),
    ("S00.0", "superficial", "head", ""),
    ("S10.9", "superficial", "neck", "neck"),
    ("S20.2", "superficial", "thorax", "torso"),
    ("S30.0", "superficial", "abdomen-pelvis", "torso"),
    ("S80.0", "superficial", "lower-leg", ""),
    ("S06.5", "intracranial", "head", ""),
    ("S02.0", "fracture", "head", ""),
    ("S52.50", "fracture", "forearm", ""),
    ("S01.8", "open-wound", "head", ""),
    ("T14.2", "fracture", "unspecified", ""),
    ("T08", "fracture", "unspecified", ""),
    ("T14.0", "superficial-multiple", "unspecified", ""),
    ("T21.3", "burn", "unspecified", ""),
    ("T32.0", "burn", "unspecified", ""),
])
def test_icd10_injuries(code, kind, region, site):
    f = classify(code, "I10")
    assert (f.kind, f.region, f.ten4_site, f.confidence) == (kind, region, site, "coded")


@pytest.mark.parametrize("code", ["T15.0", "T19.9", "T33.0", "T36.0", "J21.9", "R51", "Z04.5"])
def test_non_injury_codes(code):
    assert classify(code, "ICD10") is None


def test_normalise_icd10():
    assert normalise_icd10("s065") == normalise_icd10("S06.5") == normalise_icd10("S06.50") == "S06.5"


def test_snomed_subset_and_unknown_snomed_falls_back_to_text():
    for code, (kind, _, _) in SNOMED_INJURIES.items():
        assert classify(code, "SCT").kind == kind
    assert classify("999999", "SNOMED") is None
    assert classify("999999", "SNOMED", "bruise to ear").confidence == "free-text"


@pytest.mark.parametrize("text, kind, site", [
    ("bruising to left ear", "superficial", "ear"),
    ("Bruise on cheek", "superficial", "cheek"),
    ("?fracture left arm", "fracture", ""),
    ("scald to hand", "burn", ""),
    ("fell down stairs", "other", ""),
])
def test_free_text_is_marked_lower_confidence(text, kind, site):
    f = classify("", "", text)
    assert (f.kind, f.ten4_site, f.confidence) == (kind, site, "free-text")


def test_free_text_that_is_not_an_injury():
    assert classify("", "", "cough and fever for three days") is None


def test_old_or_healing_is_delayed():
    assert classify("S52.9", "I10", "Fracture of forearm, estimated 1-2 weeks old").delayed
    assert not classify("S52.9", "I10", "Fracture of forearm").delayed
