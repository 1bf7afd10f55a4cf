"""FHIR output: Flags with the national SNOMED CT codes, period, author and category, and
warnings as DetectedIssue — every Bundle validated with fhir.resources."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.flag import Flag as FhirFlag

from safeflag.demo import run_demo
from safeflag.models import CheckResult, Flag, MatchResult, Warning
from safeflag.output.fhir import (ATTENDANCE_SYSTEM, CONFIRMED_URL, FAMILY_MEMBER_CP, LOCAL_SYSTEM, SNOMED,
                                  SNOMED_CODES, to_fhir_bundle)

ARRIVAL = datetime(2014, 1, 27, 20, 20)


def flag(code: str, subject: str = "self", *, status: str = "active", end: date | None = None,
         confirmed: bool = True, person_id: str = "P1") -> Flag:
    return Flag(code=code, status=status, subject=subject, person_id=person_id,
                start=date(2013, 3, 27), end=end, local_authority="Test Council",
                confirmed=confirmed)


def result(flags=(), warnings=(), person_id: str | None = "P1") -> CheckResult:
    match = MatchResult(person_id=person_id, score=0.99, band="certain") if person_id \
        else MatchResult()
    return CheckResult(attendance_id="V1", arrival=ARRIVAL, match=match, flags=tuple(flags),
                       warnings=tuple(warnings))


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def snomed(res: dict) -> str | None:
    return next((c["code"] for c in res["code"]["coding"] if c["system"] == SNOMED), None)


@pytest.mark.parametrize("code, subject, expected, local", [
    ("CP", "self", "342191000000101", "CP"),
    ("LAC", "self", "764841000000100", "LAC"),
    ("CP-UNBORN", "self", "818901000000100", "CP-UNBORN"),
    ("CP", "sibling", "375041000000100", "FAMILY-CP"),
    ("CP-UNBORN", "household", "375041000000100", "FAMILY-CP-UNBORN"),   # the mother's
    ("LAC", "sibling", None, "FAMILY-LAC"),            # never coded as the patient's own
    ("CIN", "self", None, "CIN"),
    ("CIN", "household", None, "FAMILY-CIN"),
])
def test_flag_codes(code, subject, expected, local):
    bundle = to_fhir_bundle(result([flag(code, subject)]))
    (res,) = resources(bundle, "Flag")
    assert snomed(res) == expected
    # whichever system a consumer reads, a relative's plan is never coded as the child's own
    assert [c["code"] for c in res["code"]["coding"] if c["system"] == LOCAL_SYSTEM] == [local]
    FhirFlag.model_validate(res)


def test_the_codes_are_the_national_ones():
    assert {k: v[0] for k, v in SNOMED_CODES.items()} == {
        "CP": "342191000000101", "LAC": "764841000000100", "CP-UNBORN": "818901000000100"}
    assert FAMILY_MEMBER_CP[0] == "375041000000100"


@pytest.mark.parametrize("status, end, fhir_status", [
    ("active", None, "active"), ("previous", date(2014, 1, 24), "inactive")])
def test_flag_period_author_category_and_status(status, end, fhir_status):
    (res,) = resources(to_fhir_bundle(result([flag("CP", status=status, end=end)])), "Flag")
    assert res["status"] == fhir_status
    assert res["period"]["start"] == "2013-03-27"
    assert res["period"].get("end") == (end.isoformat() if end else None)
    assert res["author"]["display"] == "Test Council"
    assert res["category"][0]["coding"][0]["code"] == "safety"
    assert res["subject"] == {"reference": "Patient/P1"}
    assert res["encounter"] == {"reference": "Encounter/V1"}


@pytest.mark.parametrize("confirmed", [True, False])
def test_an_unconfirmed_link_is_marked(confirmed):
    w = Warning(code="SIBLING_INJURY", level="consider", subject="sibling", message="m",
                evidence=("e",), source="s", confirmed=confirmed)
    bundle = to_fhir_bundle(result([flag("CP", "sibling", confirmed=confirmed)], [w]))
    for res in bundle["entry"]:
        ext = res["resource"].get("extension", [])
        assert (ext == [{"url": CONFIRMED_URL, "valueBoolean": False}]) is (not confirmed)


@pytest.mark.parametrize("level, severity", [("suspect", "high"), ("consider", "moderate"),
                                             ("info", "low")])
def test_warnings_are_detected_issues_with_evidence_and_source(level, severity):
    w = Warning(code="REPEAT_INJURY", level=level, message="Consider the pattern.",
                evidence=("attendance V0 on 2014-01-03", "age 22 months"),
                source="NICE CG89")
    (res,) = resources(to_fhir_bundle(result(warnings=[w])), "DetectedIssue")
    DetectedIssue.model_validate(res)
    assert res["severity"] == severity
    assert res["code"]["coding"][0]["code"] == "REPEAT_INJURY"
    assert [e["detail"][0]["display"] for e in res["evidence"]] == list(w.evidence)
    assert "NICE CG89" in res["detail"] and res["identifiedDateTime"] == "2014-01-27"


def test_a_child_not_on_the_register_is_named_by_the_attendance():
    bundle = to_fhir_bundle(result([flag("CP", "sibling", confirmed=False)], person_id=None))
    (res,) = resources(bundle, "Flag")
    assert "reference" not in res["subject"] and "V1" in res["subject"]["display"]
    Bundle.model_validate(bundle)


def test_the_same_result_gives_the_same_bundle():
    r = result([flag("CP")], [Warning(code="INFANT_INJURY", level="consider", message="m")])
    assert to_fhir_bundle(r) == to_fhir_bundle(r)
    ids = [e["resource"]["id"] for e in to_fhir_bundle(r)["entry"]]
    assert len(set(ids)) == len(ids)


def test_every_demo_result_is_a_valid_bundle(sf):
    seen = set()
    for _, res in run_demo(sf):
        bundle = to_fhir_bundle(res)
        Bundle.model_validate(bundle)
        seen |= {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert len(resources(bundle, "Flag")) == len(res.flags)
        assert len(resources(bundle, "DetectedIssue")) == len(res.warnings)
    assert seen == {"Flag", "DetectedIssue"}


def test_bundle_validation_looks_inside_each_entry():
    # what to_fhir_bundle relies on: a malformed Flag inside a Bundle is refused
    bad = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Flag", "status": "active", "subject": {"display": "y"},
        "code": {"text": "x"}, "not_a_flag_field": 1}}]}
    with pytest.raises(Exception):
        Bundle.model_validate(bad)
    del bad["entry"][0]["resource"]["not_a_flag_field"]
    Bundle.model_validate(bad)


@pytest.mark.parametrize("errors", [(), ("feed.hl7, message BAD1 (#2), PID-7: not a date",)])
def test_the_bundle_names_its_attendance_and_carries_errors(errors):
    """A Bundle with nothing found and one for a record that could not be read must differ,
    and both must say which attendance they answer."""
    r = CheckResult(attendance_id="BAD1" if errors else "V1", errors=errors)
    bundle = to_fhir_bundle(r)
    Bundle.model_validate(bundle)
    assert bundle["identifier"] == {"system": ATTENDANCE_SYSTEM, "value": r.attendance_id}
    outcomes = resources(bundle, "OperationOutcome")
    if errors:
        (outcome,) = outcomes
        assert [(i["severity"], i["diagnostics"]) for i in outcome["issue"]] == [
            ("error", errors[0])]
    else:
        assert outcomes == [] and bundle["entry"] == []


@pytest.mark.parametrize("not_arrival, severity, code", [
    (False, "error", "processing"), (True, "information", "informational")])
def test_a_message_that_is_not_an_arrival_is_information_not_an_error(not_arrival, severity,
                                                                       code):
    reason = "feed.hl7, message A3 (#2), MSH-9: ADT^A03 is not an arrival: nothing to check"
    r = CheckResult(attendance_id="A3", errors=(reason,), not_arrival=not_arrival)
    bundle = to_fhir_bundle(r)
    (outcome,) = resources(bundle, "OperationOutcome")
    assert [(i["severity"], i["code"]) for i in outcome["issue"]] == [(severity, code)]
