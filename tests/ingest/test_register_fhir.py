"""Register as a FHIR Bundle: the same register as the CSV folder, and located errors."""

from __future__ import annotations

import json

import pytest

from safeflag import RegisterError, Safeflag
from safeflag.demo import demo_data
from safeflag.ingest.register import load_register, load_register_csv
from safeflag.ingest.register_fhir import PERSON_ID_SYSTEM, PLAN_SYSTEM, RELATIONSHIP_SYSTEM
from safeflag.store.sqlite import SqliteStore

_ROLE = {"mother": "MTH", "father": "FTH", "half-sibling": "HSIB", "carer": "GUARD"}
_SNOMED = {"CP": "342191000000101", "LAC": "764841000000100", "CP-UNBORN": "818901000000100"}


def bundle_of(reg) -> dict:
    """The demo register written the way docs/formats.md says a Bundle is read."""
    entries = []
    history = {}
    for a in reg.addresses:
        history.setdefault(a.person_id, []).append(a)
    for p in reg.persons:
        names = [{"use": "official", "given": [p.given_name], "family": p.family_name}]
        addresses = [{"line": [a.address_line], "postalCode": a.postcode,
                      "period": {k: v for k, v in (("start", str(a.from_date) if a.from_date else None),
                                                   ("end", str(a.to_date) if a.to_date else None)) if v}}
                     for a in history.get(p.person_id, [])]
        if not any(a.to_date is None for a in history.get(p.person_id, [])):
            addresses.insert(0, {"line": [p.address_line], "postalCode": p.postcode})
        res = {"resourceType": "Patient", "id": p.person_id, "name": names,
               "gender": p.sex.value, "address": addresses}
        if p.birth_date:
            res["birthDate"] = str(p.birth_date)
        if p.nhs_number:
            res["identifier"] = [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": p.nhs_number}]
        entries.append(res)
    for i, r in enumerate(reg.relationships):
        code = ({"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": _ROLE[r.relationship.value]}
                if r.relationship.value in _ROLE else
                {"system": RELATIONSHIP_SYSTEM, "code": r.relationship.value})
        period = {k: str(v) for k, v in (("start", r.from_date), ("end", r.to_date)) if v}
        entries.append({"resourceType": "RelatedPerson", "id": f"rp{i}",
                        "patient": {"reference": f"Patient/{r.person_id}"},
                        "identifier": [{"system": PERSON_ID_SYSTEM, "value": r.related_person_id}],
                        "relationship": [{"coding": [code]}], "period": period})
    for i, plan in enumerate(reg.plans):
        period = {k: str(v) for k, v in (("start", plan.start_date), ("end", plan.end_date)) if v}
        if plan.plan.value == "CIN":
            entries.append({"resourceType": "EpisodeOfCare", "id": f"eoc{i}",
                            "status": "finished" if plan.end_date else "active",
                            "type": [{"coding": [{"system": PLAN_SYSTEM, "code": "CIN"}],
                                      "text": plan.category}],
                            "patient": {"reference": f"Patient/{plan.person_id}"},
                            "managingOrganization": {"display": plan.local_authority},
                            "careManager": {"display": plan.contact}, "period": period})
        else:
            entries.append({"resourceType": "Flag", "id": f"flag{i}", "status": "active",
                            "code": {"coding": [{"system": "http://snomed.info/sct",
                                                 "code": _SNOMED[plan.plan.value]}], "text": plan.category},
                            "subject": {"reference": f"Patient/{plan.person_id}"},
                            "author": {"display": plan.local_authority}, "period": period})
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{e['id']}", "resource": e} for e in entries]}


@pytest.fixture
def csv_register():
    with demo_data() as (register, _):
        return load_register_csv(register)


def test_bundle_gives_the_same_register_as_the_csv_folder(tmp_path, csv_register):
    path = tmp_path / "register.json"
    path.write_text(json.dumps(bundle_of(csv_register)))
    reg = load_register(path)
    by_id = {p.person_id: p for p in reg.persons}
    for p in csv_register.persons:
        q = by_id[p.person_id]
        assert (q.given_name, q.family_name, q.birth_date, q.sex, q.nhs_number, q.postcode) == (
            p.given_name, p.family_name, p.birth_date, p.sex, p.nhs_number, p.postcode)
    assert set(reg.relationships) == set(csv_register.relationships)
    strip = lambda plans: {(p.person_id, p.plan, p.start_date, p.end_date, p.local_authority)
                           for p in plans}
    assert strip(reg.plans) == strip(csv_register.plans)
    assert {(a.person_id, a.postcode, a.from_date, a.to_date) for a in reg.addresses} == {
        (a.person_id, a.postcode, a.from_date, a.to_date) for a in csv_register.addresses}


def test_bundle_register_gives_the_same_results_as_the_csv_register(tmp_path, csv_register):
    path = tmp_path / "register.json"
    path.write_text(json.dumps(bundle_of(csv_register)))

    def run(register_path):
        sf = Safeflag(SqliteStore(":memory:"))
        sf.load_register(register_path)
        with demo_data() as (_, attendances):
            out = [(r.match.person_id, sorted((f.code, f.status, f.subject, f.person_id)
                                              for f in r.flags),
                    [w.code for w in r.warnings]) for r in sf.check_path(attendances)]
        sf.close()
        return out

    with demo_data() as (register, _):
        from_csv = run(register)
    assert run(path) == from_csv
    assert any(flags for _, flags, _ in from_csv)


@pytest.mark.parametrize("mutate, where", [
    (lambda b: b["entry"][0]["resource"].update(birthDate="14/03/2012"), "entry[0].resource.birthDate"),
    (lambda b: (b["entry"][0]["resource"].pop("id"), b["entry"][0].pop("fullUrl")),
     "entry[0].resource.id"),
    (lambda b: next(e for e in b["entry"] if e["resource"]["resourceType"] == "Flag")["resource"]
     .update(subject={"reference": "urn:uuid:not-in-this-bundle"}), "subject.reference"),
    (lambda b: next(e for e in b["entry"] if e["resource"]["resourceType"] == "Flag")["resource"]
     ["period"].pop("start"), "period.start"),
    (lambda b: next(e for e in b["entry"] if e["resource"]["resourceType"] == "RelatedPerson")
     ["resource"].update(patient={"reference": "Patient/NOPE"}), "patient"),
    (lambda b: next(e for e in b["entry"] if e["resource"]["resourceType"] == "RelatedPerson")
     ["resource"].update(relationship=[{"coding": [{"code": "ZZZ"}]}]), "relationship"),
])
def test_bad_entry_names_the_file_and_fhir_path(tmp_path, csv_register, mutate, where):
    bundle = bundle_of(csv_register)
    mutate(bundle)
    path = tmp_path / "register.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(RegisterError) as err:
        load_register(path)
    assert "register.json" in str(err.value) and where in str(err.value)
    assert "Lily" not in str(err.value)


def test_not_a_bundle(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"resourceType": "Patient"}')
    with pytest.raises(RegisterError, match="expected a FHIR Bundle"):
        load_register(path)
    with pytest.raises(RegisterError, match="no such folder or file"):
        load_register(tmp_path / "missing")


def _refs_as_full_urls(node):
    """Every ``Patient/ID`` reference rewritten to the entry's ``urn:uuid`` fullUrl."""
    if isinstance(node, dict):
        return {k: ("urn:uuid:" + v.split("/", 1)[1] if k == "reference" else _refs_as_full_urls(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_refs_as_full_urls(v) for v in node]
    return node


def test_references_by_full_url_give_the_same_register(tmp_path, csv_register):
    """R4 Bundles refer to their own entries by ``fullUrl`` (``urn:uuid:...``); a Patient
    without an ``id`` takes its fullUrl's uuid."""
    bundle = _refs_as_full_urls(bundle_of(csv_register))
    assert "Patient/" not in json.dumps(bundle)
    first = bundle["entry"][0]["resource"]
    first_id = first.pop("id")
    path = tmp_path / "register.json"
    path.write_text(json.dumps(bundle))
    reg = load_register(path)
    assert {p.person_id for p in reg.persons} == {p.person_id for p in csv_register.persons}
    assert first_id in {p.person_id for p in reg.persons}
    assert set(reg.relationships) == set(csv_register.relationships)
    assert {(p.person_id, p.plan, p.start_date, p.end_date) for p in reg.plans} == {
        (p.person_id, p.plan, p.start_date, p.end_date) for p in csv_register.plans}


def _one_plan_bundle(kind: str, status: str, end: str | None) -> dict:
    period = {"start": "2021-01-01", **({"end": end} if end else {})}
    plan = ({"resourceType": "Flag", "id": "f1", "status": status,
             "code": {"coding": [{"system": "http://snomed.info/sct", "code": _SNOMED["CP"]}]},
             "subject": {"reference": "Patient/C1"}, "period": period}
            if kind == "Flag" else
            {"resourceType": "EpisodeOfCare", "id": "e1", "status": status,
             "type": [{"coding": [{"system": PLAN_SYSTEM, "code": "CIN"}]}],
             "patient": {"reference": "Patient/C1"}, "period": period})
    child = {"resourceType": "Patient", "id": "C1", "birthDate": "2019-05-05",
             "name": [{"given": ["Lily"], "family": "Doe"}]}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": child}, {"resource": plan}]}


@pytest.mark.parametrize("kind, status, end, loaded", [
    ("Flag", "active", None, True),
    ("Flag", "inactive", "2022-01-01", True),
    ("Flag", "entered-in-error", None, False),
    ("EpisodeOfCare", "active", None, True),
    ("EpisodeOfCare", "onhold", None, True),
    ("EpisodeOfCare", "finished", "2022-01-01", True),
    ("EpisodeOfCare", "entered-in-error", None, False),
    ("EpisodeOfCare", "cancelled", "2022-01-01", False),
    ("EpisodeOfCare", "planned", None, False),
    ("EpisodeOfCare", "waitlist", None, False),
])
def test_plan_status_decides_whether_it_is_a_plan(tmp_path, caplog, kind, status, end, loaded):
    path = tmp_path / "register.json"
    path.write_text(json.dumps(_one_plan_bundle(kind, status, end)))
    with caplog.at_level("WARNING", logger="safeflag"):
        reg = load_register(path)
    assert [(p.person_id, str(p.end_date) if p.end_date else None) for p in reg.plans] == (
        [("C1", end)] if loaded else [])
    logged = [r.getMessage() for r in caplog.records]
    if loaded:
        assert not logged
    else:   # left out, but never unseen: the file, the FHIR path and the status, no names
        (line,) = logged
        assert "register.json" in line and "Bundle.entry[1].resource" in line and status in line
        assert "Lily" not in line and "Doe" not in line


@pytest.mark.parametrize("coding, loaded", [
    ({"system": "http://snomed.info/sct", "code": "342191000000101"}, True),
    ({"system": PLAN_SYSTEM, "code": "LAC"}, True),
    ({"system": "http://snomed.info/sct", "code": "15188001"}, False),    # another alert
    ({"system": "https://example.org/alerts", "code": "SENSITIVE"}, False),
])
def test_a_flag_of_another_kind_is_left_out_and_logged(tmp_path, caplog, coding, loaded):
    bundle = _one_plan_bundle("Flag", "active", None)
    bundle["entry"][1]["resource"]["code"] = {"coding": [coding]}
    path = tmp_path / "register.json"
    path.write_text(json.dumps(bundle))
    with caplog.at_level("WARNING", logger="safeflag"):
        reg = load_register(path)
    assert len(reg.plans) == int(loaded) and len(reg.persons) == 1
    logged = [r.getMessage() for r in caplog.records]
    assert bool(logged) is not loaded
    if logged:
        assert "Bundle.entry[1].resource is a Flag with no safeguarding plan code" in logged[0]


def test_an_unknown_code_of_the_plan_system_is_still_an_error(tmp_path):
    bundle = _one_plan_bundle("Flag", "active", None)
    bundle["entry"][1]["resource"]["code"] = {"coding": [{"system": PLAN_SYSTEM, "code": "CPP"}]}
    path = tmp_path / "register.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(RegisterError, match="expected a plan code"):
        load_register(path)


@pytest.mark.parametrize("kind, status", [("Flag", "inactive"), ("EpisodeOfCare", "finished")])
def test_an_ended_plan_without_an_end_date_is_refused(tmp_path, kind, status):
    """Shown as open, an ended plan would say "active"; the load fails and names the field."""
    path = tmp_path / "register.json"
    path.write_text(json.dumps(_one_plan_bundle(kind, status, None)))
    with pytest.raises(RegisterError) as err:
        load_register(path)
    assert "Bundle.entry[1].resource.period.end" in str(err.value)
    assert status in str(err.value)


@pytest.mark.parametrize("change", [
    {"status": ["active"]},                        # a list where FHIR has a code
    {"subject": {"reference": ["Patient/C1"]}},    # a list where FHIR has a string
    {"subject": 5},                                # a number where FHIR has an object
])
def test_a_value_of_the_wrong_json_type_is_a_register_error_at_its_entry(tmp_path, change):
    bundle = _one_plan_bundle("Flag", "active", None)
    bundle["entry"][1]["resource"].update(change)
    path = tmp_path / "register.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(RegisterError) as caught:
        load_register(path)
    assert "Bundle.entry[1].resource" in str(caught.value) and "Lily" not in str(caught.value)
    # the other side: the same Bundle as FHIR gives it loads
    path.write_text(json.dumps(_one_plan_bundle("Flag", "active", None)))
    assert len(load_register(path).plans) == 1
