"""FHIR R4 JSON (UK Core) reader: bundles, NDJSON, references and errors."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from safeflag.algo.dates import PartialDate
from safeflag.errors import MessageError
from safeflag.ingest import read_attendances, read_text
from safeflag.ingest.fhir import parse_fhir, validate_fhir_strict
from safeflag.models import Attendance, Sex

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir"


def test_bundle_fixture_all_fields():
    [att] = list(read_attendances(FIXTURES / "encounter_bundle.json"))
    assert isinstance(att, Attendance)
    assert att.attendance_id == "V00123" and att.event == "fhir"
    assert att.message_id == "bundle-001"
    assert att.arrival == datetime(2014, 1, 3, 10, 15) and att.patient_class == "E"
    p = att.patient
    assert p.nhs_number == "9434765919" and p.nhs_verified is True
    assert p.names[0].given == "Lily" and p.names[0].middle == "Mae"
    assert p.birth_date == PartialDate(2013, 3, 1) and p.sex is Sex.female
    assert p.addresses[0].line == "12 Acacia Avenue, Flat 2"
    [mother] = att.next_of_kin
    assert mother.relationship == "mother" and mother.code == "MTH"
    assert mother.demographics.nhs_number == "9990000018"
    assert [(d.code, d.system) for d in att.diagnoses] == [("S06.0", "ICD10"),
                                                           ("91302008", "SNOMED")]
    assert att.complaint.code == "217082002" and att.complaint.system == "SNOMED"


def test_ndjson_one_item_per_line_with_errors():
    items = list(read_attendances(FIXTURES / "bundles.ndjson"))
    assert len(items) == 4
    assert isinstance(items[0], Attendance) and items[0].attendance_id == "V00301"
    assert items[0].arrival == datetime(2014, 6, 3, 10, 15)     # Z → BST wall time
    assert isinstance(items[1], MessageError)
    assert items[1].location == "Encounter.period.start" and "#2" in str(items[1])
    assert isinstance(items[2], MessageError) and "#3" in str(items[2])
    assert isinstance(items[3], Attendance)
    assert items[3].patient.birth_date == PartialDate(2013, 6)


def _bundle() -> dict:
    return json.loads((FIXTURES / "encounter_bundle.json").read_text())


def test_bare_array_and_relative_references_and_r5_period():
    b = _bundle()
    resources = [e["resource"] for e in b["entry"]]
    enc = next(r for r in resources if r["resourceType"] == "Encounter")
    enc["subject"] = {"reference": "Patient/pat-1"}
    enc["actualPeriod"] = enc.pop("period")
    [att] = parse_fhir(resources)
    assert att.patient.nhs_number == "9434765919"
    assert att.arrival == datetime(2014, 1, 3, 10, 15)


def test_encounter_with_contained_patient_and_id_fallback():
    b = _bundle()
    pat = b["entry"][0]["resource"]
    enc = b["entry"][1]["resource"]
    enc.pop("identifier")
    enc["contained"] = [pat]
    enc["subject"] = {"reference": "#pat-1"}
    [att] = parse_fhir(enc)
    assert att.attendance_id == "enc-1" and att.patient.names[0].given == "Lily"


def test_errors_name_bundle_and_path_not_patient():
    b = _bundle()
    b["entry"][0]["resource"]["birthDate"] = "01/03/2013"
    [err] = list(read_text(json.dumps(b), fmt="fhir"))
    assert isinstance(err, MessageError) and err.location == "Patient.birthDate"
    assert "bundle-001" in str(err) and "Lily" not in str(err)
    b = _bundle()
    b["entry"] = [e for e in b["entry"] if e["resource"]["resourceType"] != "Encounter"]
    [err] = list(read_text(json.dumps(b), fmt="fhir"))
    assert isinstance(err, MessageError) and "Encounter" in str(err)


def test_xml_reported_as_unsupported():
    [err] = list(read_text('<Bundle xmlns="http://hl7.org/fhir"/>', fmt="fhir"))
    assert isinstance(err, MessageError) and "XML" in str(err)


def test_not_json_and_not_a_resource():
    [err] = list(read_text("{nope", fmt="fhir"))
    assert isinstance(err, MessageError)
    [err] = list(read_text('{"a": 1}', fmt="fhir"))
    assert isinstance(err, MessageError) and "resourceType" in str(err)


def test_strict_validation():
    b = _bundle()
    assert validate_fhir_strict(b) == []
    b["entry"][1]["resource"]["status"] = 12
    problems = validate_fhir_strict(b)
    assert problems and all("Lily" not in p for p in problems)


# --- Condition onset: the injury time for DELAYED_PRESENTATION ---------------------------------
def _conditions(b: dict) -> list[dict]:
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Condition"]


def _injury_time(b: dict):
    [att] = parse_fhir(b)
    return att.injury_time


@pytest.mark.parametrize("start, given", [("2014-01-03", False), ("2014-01-03T00:00:00Z", True),
                                          ("2014-01-03T10:15:00+00:00", True)])
def test_an_arrival_sent_as_a_date_alone_is_noted(start, given):
    b = _bundle()
    enc = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Encounter")
    enc["period"]["start"] = start
    [att] = parse_fhir(b)
    assert att.arrival.date() == date(2014, 1, 3) and att.arrival_time_given is given
    noted = [n for n in att.notes if "no time of day" in n]
    assert noted == ([] if given else ["Encounter.period.start: the arrival has a date but no "
                                       "time of day; taken as the start of that day (send "
                                       "the time too)"])


def test_no_onset_is_no_injury_time():
    assert _injury_time(_bundle()) is None


@pytest.mark.parametrize("onset, expected", [
    ("2013-12-31T22:15:00+00:00", datetime(2013, 12, 31, 22, 15)),
    ("2014-07-03T09:15:00Z", datetime(2014, 7, 3, 10, 15)),         # UTC → UK summer time
    ("2014-01-03T09:15:00-05:00", datetime(2014, 1, 3, 14, 15)),
    ("2013-12-31T22:15:00", datetime(2013, 12, 31, 22, 15)),       # no zone: taken as UK time
    ("2013-12-31", date(2013, 12, 31)),                     # a date stays a date, not midnight
])
def test_onset_date_time_is_the_injury_time_in_uk_wall_time(onset, expected):
    b = _bundle()
    _conditions(b)[0]["onsetDateTime"] = onset
    assert _injury_time(b) == expected
    b = _bundle()
    _conditions(b)[1]["onsetPeriod"] = {"start": onset, "end": "2014-01-03T10:00:00Z"}
    assert _injury_time(b) == expected


def test_the_earliest_onset_of_the_injury_conditions_wins():
    b = _bundle()
    first, second = _conditions(b)
    first["onsetDateTime"] = "2014-01-02T08:00:00Z"
    second["onsetPeriod"] = {"start": "2014-01-01T20:00:00Z"}
    assert _injury_time(b) == datetime(2014, 1, 1, 20, 0)
    second["onsetPeriod"] = {"start": "2014-01-02T09:00:00Z"}
    assert _injury_time(b) == datetime(2014, 1, 2, 8, 0)
    second["onsetDateTime"] = "2014-01-02T07:00:00Z"              # onsetDateTime before period
    assert _injury_time(b) == datetime(2014, 1, 2, 7, 0)


def test_onsets_of_other_conditions_and_other_encounters_are_not_the_injury_time():
    b = _bundle()
    first, second = _conditions(b)
    first["onsetDateTime"] = "2014-01-03T08:00:00Z"
    asthma = {"resourceType": "Condition", "id": "cond-2", "onsetDateTime": "2010-05-01",
              "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J45.9"}]},
              "encounter": second["encounter"]}
    elsewhere = dict(second, id="cond-3", onsetDateTime="2013-01-01T08:00:00Z",
                     encounter={"reference": "Encounter/another"})
    b["entry"] += [{"resource": asthma}, {"resource": elsewhere}]
    [att] = parse_fhir(b)
    assert att.injury_time == datetime(2014, 1, 3, 8, 0)
    assert "J45.9" in [d.code for d in att.diagnoses]             # still a diagnosis
    asthma["onsetDateTime"] = "in childhood"                       # nor is its onset read
    assert _injury_time(b) == datetime(2014, 1, 3, 8, 0)


@pytest.mark.parametrize("field, value, location", [
    ("onsetDateTime", "yesterday", "Condition.onsetDateTime"),
    ("onsetDateTime", "03/01/2014", "Condition.onsetDateTime"),
    ("onsetDateTime", "2014-13-03T10:00:00Z", "Condition.onsetDateTime"),
    ("onsetDateTime", "2014-01", "Condition.onsetDateTime"),        # partial: no day
    ("onsetDateTime", 20140103, "Condition.onsetDateTime"),
    ("onsetPeriod", {"start": "2014"}, "Condition.onsetPeriod.start"),
])
def test_a_malformed_onset_is_not_used_and_noted_naming_the_path(field, value, location):
    """The onset is optional: the attendance is still checked (an unreadable onset must not
    hide the child's flags), with a note naming the path and never the value."""
    b = _bundle()
    _conditions(b)[0][field] = value
    [att] = list(read_text(json.dumps(b), fmt="fhir"))
    assert isinstance(att, Attendance) and att.injury_time is None
    [note] = att.notes
    assert note.startswith(location + ":") and "not used" in note
    assert "Lily" not in note and str(value) not in note
