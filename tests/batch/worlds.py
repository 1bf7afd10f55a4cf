"""Generated worlds written as HL7 / NDJSON / CSV extracts, and database snapshots to compare runs.

The HL7 here is rendered from the generated attendances directly (one ADT^A04 per attendance), so
the batch tests do not depend on any writer but the one below.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import safeflag.batch as batch
from safeflag.models import Attendance, Coded
from safeflag.pipeline import index_register
from safeflag.store.sqlite import SqliteStore
from safeflag.synth import generate_world

_SYSTEM = {"ICD10": "I10", "SNOMED": "SCT"}
_SEX = {"female": "F", "male": "M"}


def _esc(value: str) -> str:
    return (value.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("~", "\\R\\").replace("&", "\\T\\"))


def _ce(term: Coded) -> str:
    return f"{_esc(term.code)}^{_esc(term.text)}^{_SYSTEM.get(term.system, term.system)}"


def hl7_message(a: Attendance) -> str:
    """One ADT^A04 v2.4 for a generated attendance."""
    p = a.patient
    when = a.arrival.strftime("%Y%m%d%H%M%S")
    name = p.names[0] if p.names else None
    pid3 = f"{p.nhs_number}^^^NHS^NH" if p.nhs_number else f"L{a.attendance_id}^^^RXX^MR"
    birth = str(p.birth_date).replace("-", "") if p.birth_date else ""
    postcode = p.addresses[0].postcode if p.addresses else ""
    segments = [
        f"MSH|^~\\&|EDIS|RXX01|SAFEFLAG|RXX01|{when}||ADT^A04^ADT_A01|M{a.attendance_id}|P|2.4",
        f"PID|1||{pid3}||{_esc(name.family) if name else ''}^{_esc(name.given) if name else ''}"
        f"||{birth}|{_SEX.get(p.sex.value, 'U')}|||^^^^{_esc(postcode)}",
    ]
    for n, kin in enumerate(a.next_of_kin[:1], start=1):
        kn = kin.demographics.names[0] if kin.demographics.names else None
        code = {"mother": "MTH", "father": "FTH"}.get(kin.relationship, "PAR")
        segments.append(f"NK1|{n}|{_esc(kn.family) if kn else ''}^{_esc(kn.given) if kn else ''}"
                        f"|{code}")
    segments.append("PV1|1|E|ED^^^RXX01" + "|" * 16 + a.attendance_id + "|" * 25 + when)
    if a.complaint is not None:
        segments.append(f"PV2|||{_ce(a.complaint)}")
    segments += [f"DG1|{i}||{_ce(d)}" for i, d in enumerate(a.diagnoses, start=1)]
    return "\r".join(segments) + "\r"


def write_hl7(attendances: list[Attendance], path: Path) -> Path:
    path.write_text("".join(hl7_message(a) for a in attendances), encoding="utf-8")
    return path


def write_csv(attendances: list[Attendance], path: Path) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["attendance_id", "arrival", "nhs_number", "given_name", "family_name",
                      "birth_date", "sex", "postcode", "diagnosis_codes"])
        for a in attendances:
            p = a.patient
            name = p.names[0] if p.names else None
            out.writerow([a.attendance_id, a.arrival.isoformat(), p.nhs_number or "",
                          name.given if name else "", name.family if name else "",
                          str(p.birth_date) if p.birth_date else "", p.sex.value,
                          p.addresses[0].postcode if p.addresses else "",
                          ";".join(f"{d.system}:{d.code}" for d in a.diagnoses
                                   if d.code and d.system)])
    return path


def ndjson_bundle(a: Attendance) -> str:
    p = a.patient
    name = p.names[0] if p.names else None
    patient = {"resourceType": "Patient", "id": f"p{a.attendance_id}",
               "identifier": ([{"system": "https://fhir.nhs.uk/Id/nhs-number",
                                "value": p.nhs_number}] if p.nhs_number else []),
               "name": [{"family": name.family, "given": [name.given]}] if name else [],
               "gender": p.sex.value}
    if p.birth_date:
        patient["birthDate"] = str(p.birth_date)
    encounter = {"resourceType": "Encounter", "id": a.attendance_id,
                 "identifier": [{"value": a.attendance_id}], "status": "arrived",
                 "class": {"code": "EMER"}, "subject": {"reference": f"Patient/p{a.attendance_id}"},
                 "period": {"start": a.arrival.isoformat()}}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": encounter}, {"resource": patient}]}
    return json.dumps(bundle)


def write_ndjson(attendances: list[Attendance], path: Path) -> Path:
    path.write_text("".join(ndjson_bundle(a) + "\n" for a in attendances), encoding="utf-8")
    return path


def new_db(path: Path, world) -> Path:
    """A database at ``path`` holding the world's register."""
    store = SqliteStore(path)
    store.replace_register(world.register, index_register(world.register), source="generated")
    store.close()
    return path


def small_world(attendances: int = 400, children: int = 150, seed: int = 11):
    return generate_world(children=children, attendances=attendances, seed=seed)


def history_snapshot(db: Path, *, parents: bool = False) -> tuple:
    """What the database remembers, without surrogate ids or clock times.

    Each attendance's history row with the register person it is linked to, and which
    attendances the store holds as the same child (a partition of attendance ids: register
    person, else attendee). With ``parents``, also the parents named for each child and how
    each link was made.
    """
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT t.attendance_id, t.arrival, t.injury, t.findings, t.event, t.warnings, "
            "a.person_id, a.attendee_id FROM attendance t "
            "JOIN attendee a ON a.attendee_id = t.attendee_id ORDER BY t.attendance_id").fetchall()
        links: dict[int, list] = {}
        for attendee_id, rel, person, ident, how in con.execute(
                "SELECT l.attendee_id, l.relationship, p.person_id, "
                "json_remove(p.identity, '$.ref'), l.how FROM attendee_parent l "
                "JOIN parent p ON p.parent_id = l.parent_id"):
            links.setdefault(attendee_id, []).append((rel, person, ident, how))
    finally:
        con.close()
    children: dict[object, set[str]] = {}
    for r in rows:
        children.setdefault(r[6] or f"attendee {r[7]}", set()).add(r[0])
    partition = sorted(sorted(ids) for ids in children.values())
    history = [r[:7] for r in rows]
    if not parents:
        return history, partition
    named = sorted((r[0], tuple(sorted(links.get(r[7], []), key=repr))) for r in rows)
    return history, partition, named


def table_counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("attendance", "attendee", "parent", "attendee_parent", "audit")}
    finally:
        con.close()


class Stopped(BaseException):
    """Stands for the process being killed (not an Exception: nothing may catch it)."""


def stop_after(monkeypatch, checks: int):
    """Make ``safeflag.batch`` stop with :class:`Stopped` once ``checks`` records are checked
    (after the groups before were committed); returns the real check, to put back."""
    real, seen = batch._check, [0]

    def check(sf, entry, user, trust_match):
        if seen[0] >= checks:
            raise Stopped()
        seen[0] += 1
        return real(sf, entry, user, trust_match)
    monkeypatch.setattr(batch, "_check", check)
    return real
