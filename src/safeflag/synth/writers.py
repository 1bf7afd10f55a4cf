"""Writing a synthetic world in the project's input formats.

The register as the contract's CSV folder; the attendances as HL7 v2.4 ADT^A04 (ER7), as
FHIR R4 NDJSON (one Bundle per line) or as the CSV extract columns of
:mod:`safeflag.ingest.csv_extract`. Each file reads back through :mod:`safeflag.ingest`.

An injury time goes in the CSV ``injury_time`` column, in HL7 ACC-1 (accident date/time) and
as each FHIR Condition's ``onsetDateTime``; a delay of days is also in the presenting
complaint's words, which every format carries.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..models import Address, Attendance, Coded, Demographics, Sex

if TYPE_CHECKING:
    from .world import World

__all__ = ["write_register_csv", "write_hl7", "write_fhir_ndjson", "write_csv", "hl7_message"]

_HL7_SEX = {Sex.female: "F", Sex.male: "M", Sex.unknown: "U"}
_FHIR_SEX = {Sex.female: "female", Sex.male: "male", Sex.unknown: "unknown"}
_HL7_SYSTEM = {"ICD10": "I10", "SNOMED": "SCT", "": ""}
_FHIR_SYSTEM = {"ICD10": "http://hl7.org/fhir/sid/icd-10", "SNOMED": "http://snomed.info/sct"}
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
_LONDON = ZoneInfo("Europe/London")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _rows(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_text(v) for v in row] for row in rows)


def write_register_csv(world: "World", folder: str | Path) -> Path:
    """persons.csv, addresses.csv, relationships.csv and plans.csv in ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    reg = world.register
    _rows(out / "persons.csv", ("person_id", "nhs_number", "given_name", "family_name",
                                "birth_date", "sex", "address_line", "postcode", "aliases"),
          ((p.person_id, p.nhs_number, p.given_name, p.family_name, p.birth_date, p.sex.value,
            p.address_line, p.postcode, ";".join(f"{g} {f}".strip() for g, f in p.aliases))
           for p in reg.persons))
    _rows(out / "addresses.csv", ("person_id", "address_line", "postcode", "from_date",
                                  "to_date"),
          ((a.person_id, a.address_line, a.postcode, a.from_date, a.to_date)
           for a in reg.addresses))
    _rows(out / "relationships.csv", ("person_id", "related_person_id", "relationship",
                                      "from_date", "to_date"),
          ((r.person_id, r.related_person_id, r.relationship.value, r.from_date, r.to_date)
           for r in reg.relationships))
    _rows(out / "plans.csv", ("person_id", "plan", "start_date", "end_date", "category",
                              "local_authority", "contact"),
          ((p.person_id, p.plan.value, p.start_date, p.end_date, p.category, p.local_authority,
            p.contact) for p in reg.plans))
    return out


# --- HL7 v2 -----------------------------------------------------------------------------------
def _esc(text: str) -> str:
    """HL7 escape sequences for the default encoding characters."""
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\"))


def _segment(name: str, fields: dict[int, str]) -> str:
    top = max(fields)
    return "|".join([name, *(fields.get(i, "") for i in range(1, top + 1))])


def _xad(address: Address) -> str:
    return "^".join((_esc(address.line), "", _esc(address.city), "", _esc(address.postcode),
                     "GBR", "H"))


def _pid(demo: Demographics, local_id: str) -> str:
    ids = [f"{local_id}^^^SYN^MR"] if local_id else []
    if demo.nhs_number:
        ids.append(f"{demo.nhs_number}^^^NHS^NH")
    name = demo.names[0] if demo.names else None
    xpn = (f"{_esc(name.family)}^{_esc(name.given)}^{_esc(name.middle)}^^^^L" if name else "")
    return _segment("PID", {1: "1", 3: "~".join(ids), 5: xpn,
                            7: str(demo.birth_date).replace("-", "") if demo.birth_date else "",
                            8: _HL7_SEX[demo.sex],
                            11: "~".join(_xad(a) for a in demo.addresses)})


def _ce(coded: Coded) -> str:
    return f"{_esc(coded.code)}^{_esc(coded.text)}^{_HL7_SYSTEM.get(coded.system, coded.system)}"


def hl7_message(attendance: Attendance, local_id: str = "") -> str:
    """One ADT^A04 message (segments joined by CR) for an attendance."""
    ts = attendance.arrival.strftime("%Y%m%d%H%M%S")
    segments = [
        f"MSH|^~\\&|EDIS|SYNTH|SAFEFLAG|SYNTH|{ts}||ADT^A04^ADT_A01|"
        f"{attendance.message_id or attendance.attendance_id}|P|2.4",
        f"EVN|A04|{ts}",
        _pid(attendance.patient, local_id),
    ]
    for n, kin in enumerate(attendance.next_of_kin, 1):
        d = kin.demographics
        name = d.names[0] if d.names else None
        fields = {1: str(n), 2: f"{_esc(name.family)}^{_esc(name.given)}" if name else "",
                  3: f"{kin.code}^{kin.relationship.title()}^HL70063"}
        if d.nhs_number:
            fields[33] = f"{d.nhs_number}^^^NHS^NH"
        segments.append(_segment("NK1", fields))
    segments.append(_segment("PV1", {1: "1", 2: attendance.patient_class or "E",
                                     3: "ED^^^SYNTH", 19: attendance.attendance_id, 44: ts}))
    if attendance.complaint is not None:
        segments.append(_segment("PV2", {3: _ce(attendance.complaint)}))
    for n, dx in enumerate(attendance.diagnoses, 1):
        segments.append(_segment("DG1", {1: str(n), 3: _ce(dx), 5: ts, 6: "W"}))
    if attendance.injury_time is not None:
        segments.append(_segment("ACC", {1: attendance.injury_time.strftime("%Y%m%d%H%M%S")}))
    return "\r".join(segments) + "\r"


def write_hl7(world: "World", path: str | Path) -> Path:
    """Every attendance as an HL7 v2.4 ADT^A04 message, one after another (CR segments)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        for attendance in world.attendances:
            handle.write(hl7_message(attendance, _local_id(world, attendance)))
            handle.write("\n")
    return out


def _local_id(world: "World", attendance: Attendance) -> str:
    """The patient's hospital number (stable per true child or adult, as a hospital's own
    index gives)."""
    aid = attendance.attendance_id
    who = world.child_of.get(aid) or world.adult_of.get(aid, "")
    return world.hospital_number.get(who, "")


# --- FHIR -------------------------------------------------------------------------------------
def _human(demo: Demographics) -> list[dict]:
    out = []
    for name in demo.names:
        given = [g for g in (name.given, name.middle) if g]
        entry: dict = {"use": "official"}
        if name.family:
            entry["family"] = name.family
        if given:
            entry["given"] = given
        out.append(entry)
    return out


def _identifiers(demo: Demographics) -> list[dict]:
    return [{"system": NHS_SYSTEM, "value": demo.nhs_number}] if demo.nhs_number else []


def _concept(coded: Coded) -> dict:
    if coded.code and coded.system in _FHIR_SYSTEM:
        return {"coding": [{"system": _FHIR_SYSTEM[coded.system], "code": coded.code,
                            "display": coded.text}], "text": coded.text}
    return {"text": coded.text}


def _fhir_datetime(wall: datetime) -> str:
    """A UK wall-clock time as a FHIR dateTime with its Europe/London offset: FHIR requires a
    zone once a time is given, and the readers turn the offset back into the same wall time.
    (A time inside the spring-forward hour does not exist on UK clocks; it is written with
    the GMT offset, so it reads back an hour later.)"""
    aware = wall if wall.tzinfo is not None else wall.replace(tzinfo=_LONDON)
    return aware.isoformat()


def fhir_bundle(attendance: Attendance) -> dict:
    """A FHIR R4 collection Bundle: Encounter, Patient, RelatedPerson(s), Condition(s)."""
    aid = attendance.attendance_id
    demo = attendance.patient
    patient: dict = {"resourceType": "Patient", "id": f"pat-{aid}",
                     "identifier": _identifiers(demo), "name": _human(demo),
                     "gender": _FHIR_SEX[demo.sex]}
    if demo.birth_date:
        patient["birthDate"] = str(demo.birth_date)
    if demo.addresses:
        patient["address"] = [{"line": [a.line], "city": a.city, "postalCode": a.postcode}
                              for a in demo.addresses]
    encounter: dict = {
        "resourceType": "Encounter", "id": f"enc-{aid}", "status": "arrived",
        "identifier": [{"value": aid}],
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
        "subject": {"reference": f"Patient/pat-{aid}"},
        "period": {"start": _fhir_datetime(attendance.arrival)}}
    if attendance.complaint is not None:
        encounter["reasonCode"] = [_concept(attendance.complaint)]
    entries = [encounter, patient]
    for n, kin in enumerate(attendance.next_of_kin, 1):
        entries.append({
            "resourceType": "RelatedPerson", "id": f"rp{n}-{aid}",
            "patient": {"reference": f"Patient/pat-{aid}"},
            "identifier": _identifiers(kin.demographics), "name": _human(kin.demographics),
            "relationship": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                "code": kin.code}]}]})
    for n, dx in enumerate(attendance.diagnoses, 1):
        condition = {"resourceType": "Condition", "id": f"dx{n}-{aid}",
                     "subject": {"reference": f"Patient/pat-{aid}"},
                     "encounter": {"reference": f"Encounter/enc-{aid}"},
                     "code": _concept(dx)}
        if attendance.injury_time is not None:
            condition["onsetDateTime"] = _fhir_datetime(attendance.injury_time)
        entries.append(condition)
    return {"resourceType": "Bundle", "id": f"b-{aid}", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{e['id']}", "resource": e} for e in entries]}


def write_fhir_ndjson(world: "World", path: str | Path) -> Path:
    """Every attendance as one FHIR Bundle per line."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        for attendance in world.attendances:
            handle.write(json.dumps(fhir_bundle(attendance), separators=(",", ":")))
            handle.write("\n")
    return out


# --- CSV extract ------------------------------------------------------------------------------
_CSV_COLUMNS = ("attendance_id", "arrival", "nhs_number", "given_name", "middle_name",
                "family_name", "birth_date", "sex", "address_line", "city", "postcode",
                "complaint_text", "diagnosis_codes", "injury_time", "patient_class", "local_id",
                "mother_nhs_number", "mother_given_name", "mother_family_name",
                "father_nhs_number", "father_given_name", "father_family_name")
_CSV_PREFIX = {"ICD10": "ICD10:", "SNOMED": "SNOMED:", "": ""}


def _csv_row(world: "World", a: Attendance) -> list[str]:
    demo = a.patient
    name = demo.names[0] if demo.names else None
    addr = demo.addresses[0] if demo.addresses else Address()
    kin = {k.relationship: k.demographics for k in a.next_of_kin}
    row = [a.attendance_id, a.arrival.isoformat(timespec="minutes"), demo.nhs_number or "",
           name.given if name else "", name.middle if name else "", name.family if name else "",
           _text(demo.birth_date), demo.sex.value if demo.sex != Sex.unknown else "",
           addr.line, addr.city, addr.postcode, a.complaint.text if a.complaint else "",
           ";".join(f"{_CSV_PREFIX.get(d.system, '')}{d.code}" for d in a.diagnoses if d.code),
           a.injury_time.isoformat(timespec="minutes") if a.injury_time else "",
           a.patient_class, _local_id(world, a)]
    for who in ("mother", "father"):
        d = kin.get(who)
        kname = d.names[0] if d is not None and d.names else None
        row += [d.nhs_number or "" if d is not None else "", kname.given if kname else "",
                kname.family if kname else ""]
    return row


def write_csv(world: "World", path: str | Path) -> Path:
    """Every attendance as one row of the CSV extract (columns: ``_CSV_COLUMNS``)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _rows(out, _CSV_COLUMNS, (_csv_row(world, a) for a in world.attendances))
    return out
