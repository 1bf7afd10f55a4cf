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
            entries.append({"resourceType": "EpisodeOfCare", "id": f"eoc{i}", "status": "finished",
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
    (lambda b: b["entry"][0]["resource"].pop("id"), "entry[0].resource.id"),
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
