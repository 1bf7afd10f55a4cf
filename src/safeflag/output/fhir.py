"""FHIR output: a Bundle (type collection) of Flag resources and DetectedIssue resources.

Flags use the SNOMED CT codes of the national child protection flag where one exists:

- CP: 342191000000101 |Child is subject of child protection plan|
- LAC: 764841000000100 |Looked after child|
- CP-UNBORN: 818901000000100 |Unborn child subject of child protection plan|
- a relative's CP or CP-UNBORN: 375041000000100 |Family member subject of child protection plan|
- CIN has no such code: a local code in ``https://safeflag.example/CodeSystem/plan``.

Each warning is a DetectedIssue (severity: suspect → high, consider → moderate, info → low)
whose ``evidence`` carries the evidence lines and whose ``reference`` names the guidance.
Resources are built as JSON and validated with fhir.resources (R4B models, which share R4's
Flag, DetectedIssue and Bundle structure).
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from ..models import CheckResult, Flag, Warning

__all__ = ["to_fhir_bundle", "SNOMED", "LOCAL_SYSTEM"]

SNOMED = "http://snomed.info/sct"
LOCAL_SYSTEM = "https://safeflag.example/CodeSystem/plan"
_CODES = {
    "CP": ("342191000000101", "Child is subject of child protection plan"),
    "LAC": ("764841000000100", "Looked after child"),
    "CP-UNBORN": ("818901000000100", "Unborn child subject of child protection plan"),
}
_FAMILY = ("375041000000100", "Family member subject of child protection plan")
_SEVERITY = {"suspect": "high", "consider": "moderate", "info": "low"}


def _flag_code(flag: Flag) -> dict[str, Any]:
    if flag.subject != "self" and flag.code in ("CP", "CP-UNBORN"):
        code, display = _FAMILY
    elif flag.code in _CODES:
        code, display = _CODES[flag.code]
    else:
        return {"coding": [{"system": LOCAL_SYSTEM, "code": flag.code,
                            "display": "Child in need plan"}],
                "text": f"{flag.code} ({flag.subject} {flag.person_id})"}
    return {"coding": [{"system": SNOMED, "code": code, "display": display},
                       {"system": LOCAL_SYSTEM, "code": flag.code}],
            "text": f"{flag.code} ({flag.subject} {flag.person_id})"}


def _flag(flag: Flag, patient_ref: str) -> dict[str, Any]:
    period: dict[str, str] = {"start": flag.start.isoformat()}
    if flag.end:
        period["end"] = flag.end.isoformat()
    res: dict[str, Any] = {
        "resourceType": "Flag",
        "id": str(uuid.uuid4()),
        "status": "active" if flag.status == "active" else "inactive",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/flag-category",
            "code": "safety", "display": "Safety"}]}],
        "code": _flag_code(flag),
        "subject": {"reference": patient_ref},
        "period": period,
    }
    if flag.local_authority:
        res["author"] = {"display": flag.local_authority}
    return res


def _issue(warning: Warning, patient_ref: str, when: str | None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": str(uuid.uuid4()),
        "status": "preliminary",
        "code": {"coding": [{"system": "https://safeflag.example/CodeSystem/warning",
                             "code": warning.code}], "text": warning.message},
        "severity": _SEVERITY[warning.level],
        "patient": {"reference": patient_ref},
        "detail": warning.message,
        "reference": warning.source[:1000] if warning.source.startswith("http") else None,
        "evidence": [{"detail": [{"display": line}]} for line in warning.evidence],
    }
    if when:
        res["identifiedDateTime"] = when
    if res["reference"] is None:
        del res["reference"]
        res["detail"] = f"{warning.message} Source: {warning.source}"
    return res


def to_fhir_bundle(result: CheckResult) -> dict[str, Any]:
    """A validated FHIR Bundle (as JSON-ready dict) for one result."""
    patient_ref = (f"Patient/{result.match.person_id}" if result.match.person_id
                   else f"Encounter/{result.attendance_id}")
    when = None
    if result.arrival is not None:
        # FHIR dateTime with a time needs an offset; a wall-clock arrival is given as its date.
        when = (result.arrival.isoformat() if result.arrival.tzinfo
                else result.arrival.date().isoformat())
    entries = [_flag(f, patient_ref) for f in result.flags]
    entries += [_issue(w, patient_ref, when) for w in result.warnings]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{e['id']}", "resource": e} for e in entries]}
    Bundle.model_validate(bundle)
    return bundle
