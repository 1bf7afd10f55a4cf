"""FHIR reader faults: input that is malformed in ways the happy-path tests do not cover.

Each test gives the bad record and a good one beside it: the bad one is a located
:class:`MessageError`, the good one is still read.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import pytest

from safeflag.algo.dates import PartialDate
from safeflag.batch import parse_units, read_batch_items
from safeflag.errors import MessageError
from safeflag.ingest import detect_format, read_attendances, read_text
from safeflag.models import Attendance

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir"
DEEP = "[" * 100_000 + "]" * 100_000


def _bundle() -> dict:
    return json.loads((FIXTURES / "encounter_bundle.json").read_text())


def _line(bundle: dict, attendance: str) -> str:
    bundle = copy.deepcopy(bundle)
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Encounter":
            entry["resource"]["identifier"][0]["value"] = attendance
    return json.dumps(bundle)


def _kinds(items: list) -> list[str]:
    return [i.attendance_id if isinstance(i, Attendance) else f"error {i.message_ref}"
            for i in items]


# --- JSON nested too deeply to read ---------------------------------------------------------
def test_a_deeply_nested_document_is_an_error_for_the_document(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    [err] = list(read_attendances(path))
    assert isinstance(err, MessageError) and err.message_ref == "#1"
    assert "nested too deeply" in err.reason
    [att] = list(read_text(_line(_bundle(), "V00123"), fmt="fhir"))
    assert isinstance(att, Attendance)


def test_a_deeply_nested_ndjson_line_is_an_error_and_the_next_line_is_read(tmp_path):
    lines = [_line(_bundle(), "V00001"), DEEP, _line(_bundle(), "V00003")]
    path = tmp_path / "deep.ndjson"
    path.write_text("\n".join(lines) + "\n")
    assert _kinds(list(read_attendances(path))) == ["V00001", "error #2", "V00003"]
    batch = parse_units("ndjson", "deep.ndjson", list(enumerate(lines, start=1)))
    assert _kinds([b.item for b in batch]) == ["V00001", "error #2", "V00003"]
    assert batch[1].raw == DEEP


def test_a_deeply_nested_first_line_does_not_stop_format_detection():
    head = '{"a": ' + "[" * 50_000 + "\n" + '{"b": 1}\n'
    assert detect_format(head.encode()) == "fhir"


# --- arrivals out of range --------------------------------------------------------------------
@pytest.mark.parametrize("start", [
    "0001-01-01",
    "0001-01-01T00:00:00+01:00",       # cannot be converted to UK time
    "1899-12-31T23:59:59",
    "9999-12-31T23:30:00-05:00",       # past the last date after conversion
])
def test_an_arrival_out_of_range_is_an_error_naming_the_field(start):
    bad = _bundle()
    bad["entry"][1]["resource"]["period"]["start"] = start
    good = _bundle()
    good["entry"][1]["resource"]["period"]["start"] = "1900-01-01T00:00:00"
    err, att = read_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n", fmt="ndjson")
    assert isinstance(err, MessageError) and err.location == "Encounter.period.start"
    assert "#1" in err.message_ref and start not in str(err)
    assert isinstance(att, Attendance) and att.arrival == datetime(1900, 1, 1)


# --- record names never carry an NHS number ---------------------------------------------------
def test_a_patient_whose_id_is_the_nhs_number_is_named_by_its_position_only():
    pds = {"resourceType": "Patient", "id": "9434765919",
           "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
                           "value": "9434765919"}]}
    [err] = list(read_text(json.dumps(pds), fmt="fhir"))
    assert isinstance(err, MessageError) and err.message_ref == "#1"
    assert "9434765919" not in str(err)


def test_a_bundle_id_names_the_record_unless_it_is_an_nhs_number():
    b = _bundle()
    b["entry"][0]["resource"]["birthDate"] = "01/03/2013"
    [err] = list(read_text(json.dumps(b), fmt="fhir"))
    assert err.message_ref.startswith("bundle-001 (#1)")
    b["id"] = "9434765919"
    [err] = list(read_text(json.dumps(b), fmt="fhir"))
    assert err.message_ref.startswith("#1") and "9434765919" not in str(err)
    b = _bundle()
    b["id"] = "9434765919"
    [att] = list(read_text(json.dumps(b), fmt="fhir"))
    assert isinstance(att, Attendance) and att.message_id == ""


def test_the_pds_corpus_patient_puts_no_nhs_number_in_its_error():
    path = (Path(__file__).resolve().parents[3] / "shared" / "corpus" / "fhir"
            / "NHSDigital__personal-demographics-service-api__PDS_Patient.json")
    if not path.exists():
        pytest.skip("the shared corpus is not here")
    [err] = list(read_attendances(path))
    assert isinstance(err, MessageError) and "9000000009" not in str(err)


# --- one bad Encounter in a Bundle --------------------------------------------------------------
def _two_encounters() -> dict:
    """The fixture Bundle with a second Encounter (V00124) of a second Patient (pat-2)."""
    b = _bundle()
    patient = copy.deepcopy(b["entry"][0])
    patient["fullUrl"], patient["resource"]["id"] = "urn:uuid:pat-2", "pat-2"
    enc = copy.deepcopy(b["entry"][1])
    enc["fullUrl"], enc["resource"]["id"] = "urn:uuid:enc-2", "enc-2"
    enc["resource"]["identifier"][0]["value"] = "V00124"
    enc["resource"]["subject"] = {"reference": "urn:uuid:pat-2"}
    b["entry"] += [patient, enc]
    return b


def _second(b: dict, rtype: str) -> dict:
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == rtype][1]


def _no_start(b: dict) -> None:
    del _second(b, "Encounter")["period"]


def _bad_birth(b: dict) -> None:
    _second(b, "Patient")["birthDate"] = "2012-02-30"


@pytest.mark.parametrize("spoil, location", [(_no_start, "Encounter.period.start"),
                                             (_bad_birth, "Patient.birthDate")])
def test_one_bad_encounter_is_its_own_error_and_the_others_are_read(spoil, location):
    b = _two_encounters()
    spoil(b)
    att, err = read_text(json.dumps(b), fmt="fhir")
    assert isinstance(att, Attendance) and att.attendance_id == "V00123"
    assert isinstance(err, MessageError) and err.location == location
    assert err.message_ref == "bundle-001 (#1), Encounter V00124"


def test_an_encounter_with_no_usable_name_is_named_by_its_entry():
    b = _two_encounters()
    enc = _second(b, "Encounter")
    enc["identifier"] = [{"value": "9434765919"}]      # an NHS number: never a record name
    enc["id"] = "9434765919"
    del enc["period"]
    att, err = read_text(json.dumps(b), fmt="fhir")
    assert isinstance(att, Attendance)
    assert err.message_ref == "bundle-001 (#1), Encounter entry[6]"
    assert "9434765919" not in str(err)


def test_in_batch_an_ndjson_line_gives_one_item_per_encounter_errors_with_the_line():
    b = _two_encounters()
    _no_start(b)
    line = json.dumps(b)
    first, second = parse_units("ndjson", "x.ndjson", [(4, line)])
    assert isinstance(first.item, Attendance) and first.raw is None
    assert isinstance(second.item, MessageError) and second.raw == line
    assert second.item.message_ref == "bundle-001 (#4), Encounter V00124"


@pytest.mark.parametrize("shape", ["bundle", "array"])
def test_a_documents_encounter_error_carries_its_entry_and_an_attendance_no_text(shape):
    """For the batch quarantine: the entry of the Encounter in error, not the whole document
    (which may hold thousands), and nothing for one that was read."""
    from safeflag.ingest.fhir import parse_fhir_document
    b = _two_encounters()
    _no_start(b)
    if shape == "array":          # no fullUrl to refer by: Patient/id
        ids = {e.get("fullUrl"): e["resource"].get("id") for e in b["entry"]}
        for e in b["entry"]:
            subject = e["resource"].get("subject")
            if subject and subject["reference"] in ids:
                subject["reference"] = f"Patient/{ids[subject['reference']]}"
    obj = b if shape == "bundle" else [e["resource"] for e in b["entry"]]
    text = json.dumps(obj, indent=2)
    (first, no_text), (second, raw) = parse_fhir_document(text, "#1", "day.json")
    assert isinstance(first, Attendance) and no_text is None
    assert isinstance(second, MessageError) and second.location == "Encounter.period.start"
    sent = b["entry"][-1] if shape == "bundle" else b["entry"][-1]["resource"]
    assert json.loads(raw) == sent


@pytest.mark.parametrize("text", [
    '{"resourceType": "Bundle", "entry": [ }',
    '<Bundle xmlns="http://hl7.org/fhir"/>',
    '{"resourceType": "Patient", "id": "p1"}',
])
def test_an_error_of_the_whole_document_carries_the_document(text):
    from safeflag.ingest.fhir import parse_fhir_document
    [(err, raw)] = parse_fhir_document(text, "#1", "day.json")
    assert isinstance(err, MessageError) and err.message_ref == "#1" and raw == text


# --- NDJSON bytes that are not UTF-8 ----------------------------------------------------------
def test_an_ndjson_line_with_bytes_that_are_not_utf8_is_an_error_for_that_line(tmp_path):
    spoilt = _line(_bundle(), "V00002").replace("Lily", "L\x00ily").encode().replace(b"\x00",
                                                                                  b"\xff")
    path = tmp_path / "bytes.ndjson"
    path.write_bytes(_line(_bundle(), "V00001").encode() + b"\n" + spoilt + b"\n"
                     + _line(_bundle(), "V00003").encode() + b"\n")
    items = list(read_attendances(path))
    assert _kinds(items) == ["V00001", "error #2", "V00003"]
    assert "not UTF-8" in items[1].reason and "Lily" not in str(items[1])
    batch = list(read_batch_items(str(path)))
    assert _kinds([b.item for b in batch]) == ["V00001", "error #2", "V00003"]
    assert batch[1].raw.encode("utf-8", "surrogateescape") == spoilt + b"\n"


# --- values of the wrong JSON type ------------------------------------------------------------
def _set(rtype: str, path: str, value):
    def spoil(b: dict) -> None:
        *parents, last = path.split(".")
        node = _second(b, rtype)
        for step in parents:
            node = node[step][0] if isinstance(node[step], list) else node[step]
        node[last] = value
    return spoil


@pytest.mark.parametrize("spoil, location, expected", [
    (_set("Patient", "birthDate", 20130301), "Patient.birthDate", "a string"),
    (_set("Patient", "gender", 2), "Patient.gender", "a string"),
    (_set("Patient", "name.given", ["Lily", 7]), "Patient.name.given", "a string"),
    (_set("Patient", "identifier.value", 9434765919), "Patient.identifier.value", "a string"),
    (_set("Patient", "address", "12 Acacia Avenue"), "Patient.address", "an object"),
    (_set("Encounter", "period.start", 20140103), "Encounter.period.start", "a string"),
    (_set("Encounter", "identifier.value", 124), "Encounter.identifier.value", "a string"),
    (_set("Encounter", "class.code", True), "Encounter.class.code", "a string"),
    (_set("Encounter", "subject", "Patient/pat-2"), "Encounter.subject", "an object"),
])
def test_a_value_of_the_wrong_json_type_is_an_error_naming_the_path(spoil, location, expected):
    b = _two_encounters()
    spoil(b)
    att, err = read_text(json.dumps(b), fmt="fhir")
    assert isinstance(att, Attendance) and att.attendance_id == "V00123"
    assert isinstance(err, MessageError) and err.location == location
    assert err.reason.startswith(f"expected {expected}, not a JSON ")
    assert "Lily" not in str(err) and "Acacia" not in str(err)


def test_a_birth_date_sent_as_nan_is_an_error_not_a_missing_date():
    text = json.dumps(_bundle()).replace('"2013-03-01"', "NaN")
    [err] = list(read_text(text, fmt="fhir"))
    assert isinstance(err, MessageError) and err.location == "Patient.birthDate"


def _with_mother(*, gender: object = "female", birth: object = None) -> Attendance:
    """The fixture's attendance with a RelatedPerson, Kerry Lowe, mother, of this ``gender``
    and ``birthDate`` (left out when ``None``)."""
    b = _bundle()
    b["entry"].append({"resource": {
        "resourceType": "RelatedPerson", "id": "rp-1", "gender": gender,
        **({"birthDate": birth} if birth is not None else {}),
        "relationship": [{"coding": [{"code": "MTH"}]}],
        "name": [{"given": ["Kerry"], "family": "Lowe"}]}})
    [att] = list(read_text(json.dumps(b), fmt="fhir"))
    return att


@pytest.mark.parametrize("gender, kept", [("female", True), (2, False)])
def test_a_next_of_kin_of_the_wrong_json_type_is_left_out_with_a_note(gender, kept):
    """Next of kin are optional: a bad one must not make the child's own attendance (and
    flags) unreadable."""
    att = _with_mother(gender=gender)
    assert isinstance(att, Attendance)
    assert any(n.given == "Kerry" for k in att.next_of_kin for n in k.demographics.names) is kept
    notes = [n for n in att.notes if n.startswith("RelatedPerson.gender")]
    assert bool(notes) is not kept
    assert all("Kerry" not in n for n in att.notes)


@pytest.mark.parametrize("birth, born", [("1990-03-15", PartialDate(1990, 3, 15)),
                                         ("15/03/1990", None), ("1990-02-30", None)])
def test_a_relatives_unreadable_birth_date_is_left_out_and_noted(birth, born):
    att = _with_mother(birth=birth)
    [kerry] = [k for k in att.next_of_kin if k.demographics.names[0].given == "Kerry"]
    assert kerry.demographics.birth_date == born
    noted = [n for n in att.notes if n.startswith("RelatedPerson.birthDate")]
    assert noted == ([] if born else ["RelatedPerson.birthDate: not a FHIR date (YYYY, YYYY-MM "
                                      "or YYYY-MM-DD); not used"])
