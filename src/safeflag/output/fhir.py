"""FHIR output: a Bundle (type collection) of Flag resources and DetectedIssue resources.

Flags use the SNOMED CT codes of the national child protection flag where one exists:

- CP: 342191000000101 |Child is subject of child protection plan|
- LAC: 764841000000100 |Looked after child|
- CP-UNBORN: 818901000000100 |Unborn child subject of child protection plan|
- a relative's CP or CP-UNBORN: 375041000000100 |Family member subject of child protection plan|
- CIN, and a relative's LAC or CIN, have no such code.

Every Flag also carries its code in ``https://safeflag.example/CodeSystem/plan``: the plan's
own (``CP``, ``LAC``, ``CIN``, ``CP-UNBORN``) for this child's plans, ``FAMILY-`` and the plan
for a relative's (``FAMILY-CP``, ``FAMILY-CP-UNBORN``, ``FAMILY-LAC``, ``FAMILY-CIN``): so a
sibling's plan is never coded as the patient's own, whichever of the two systems a consumer
reads.

Every Flag has ``category`` safety (HL7 flag-category), ``period`` (the plan's start and end),
``author`` (the local authority, as an Organization display), ``status`` active or inactive
(a previous plan), and ``subject`` the register person (``Patient/<person_id>``) or, for a
child not matched to the register, a display naming the attendance, with ``encounter``
``Encounter/<attendance_id>``. A flag or warning that rests on a link only the attendance
data suggests carries the extension ``…/StructureDefinition/link-confirmed`` = false.

Each warning is a DetectedIssue: ``code`` the rule id, ``severity`` (suspect → high,
consider → moderate, info → low), ``detail`` the prompt and its source, ``evidence`` one entry
per evidence line, ``identifiedDateTime`` the arrival. Resource ids are name-based UUIDs of
the attendance and position, so the same result always gives the same Bundle.

The Bundle's ``identifier`` is the attendance id (system ``…/Id/attendance``), so even a
Bundle with no entry says which attendance it answers. A record that could not be read (or
is not an arrival) gives an OperationOutcome with one issue per reason, its ``diagnostics``
the same located text as the JSON output's ``errors``: severity ``error`` (code
``processing``) for a record that could not be read, ``information`` (code
``informational``) for one that was read but is not an arrival (an A03, an ORU), which is
not a failure.

Resources are built as JSON and validated with fhir.resources (R4B models, which share R4's
Flag, DetectedIssue and Bundle structure); the Bundle model validates each entry by its
resource type. fhir.resources checks structure, types and cardinality, not code values (a
``status`` outside its value set passes), so the tests pin the codes.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..models import CheckResult, Flag, Warning

__all__ = ["to_fhir_bundle", "SNOMED", "LOCAL_SYSTEM", "WARNING_SYSTEM", "CONFIRMED_URL",
           "ATTENDANCE_SYSTEM", "SNOMED_CODES", "FAMILY_MEMBER_CP"]

SNOMED = "http://snomed.info/sct"
LOCAL_SYSTEM = "https://safeflag.example/CodeSystem/plan"
WARNING_SYSTEM = "https://safeflag.example/CodeSystem/warning"
CONFIRMED_URL = "https://safeflag.example/StructureDefinition/link-confirmed"
ATTENDANCE_SYSTEM = "https://safeflag.example/Id/attendance"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
SNOMED_CODES = {
    "CP": ("342191000000101", "Child is subject of child protection plan"),
    "LAC": ("764841000000100", "Looked after child"),
    "CP-UNBORN": ("818901000000100", "Unborn child subject of child protection plan"),
}
FAMILY_MEMBER_CP = ("375041000000100", "Family member subject of child protection plan")
_LOCAL = {
    ("CP", True): ("CP", "Child is subject of child protection plan"),
    ("CP", False): ("FAMILY-CP", "Family member subject of child protection plan"),
    ("CP-UNBORN", True): ("CP-UNBORN", "Unborn child subject of child protection plan"),
    ("CP-UNBORN", False): ("FAMILY-CP-UNBORN",
                           "Family member subject of a pre-birth child protection plan"),
    ("LAC", True): ("LAC", "Looked after child"),
    ("LAC", False): ("FAMILY-LAC", "Family member looked after"),
    ("CIN", True): ("CIN", "Child in need plan"),
    ("CIN", False): ("FAMILY-CIN", "Family member subject of child in need plan"),
}
_SEVERITY = {"suspect": "high", "consider": "moderate", "info": "low"}
_NAMESPACE = uuid.UUID("6f1c2a4e-1d0b-4c55-9a51-5afe0f1a9000")


def _id(result: CheckResult, kind: str, index: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{result.attendance_id}/{kind}/{index}"))


def _flag_code(flag: Flag) -> dict[str, Any]:
    own = flag.subject == "self"
    text = f"{flag.code} ({'this child' if own else f'{flag.subject} {flag.person_id}'})"
    local_code, local_display = _LOCAL[(flag.code, own)]
    local = {"system": LOCAL_SYSTEM, "code": local_code, "display": local_display}
    if not own and flag.code in ("CP", "CP-UNBORN"):
        code, display = FAMILY_MEMBER_CP
    elif own and flag.code in SNOMED_CODES:
        code, display = SNOMED_CODES[flag.code]
    else:
        return {"coding": [local], "text": text}
    return {"coding": [{"system": SNOMED, "code": code, "display": display}, local],
            "text": text}


def _confirmed(confirmed: bool) -> list[dict[str, Any]]:
    return [] if confirmed else [{"url": CONFIRMED_URL, "valueBoolean": False}]


def _subject(result: CheckResult) -> dict[str, Any]:
    if result.match.person_id:
        return {"reference": f"Patient/{result.match.person_id}"}
    return {"display": f"patient of ED attendance {result.attendance_id} "
                       "(not matched to the register)"}


def _flag(result: CheckResult, flag: Flag, index: int) -> dict[str, Any]:
    period: dict[str, str] = {"start": flag.start.isoformat()}
    if flag.end:
        period["end"] = flag.end.isoformat()
    res: dict[str, Any] = {
        "resourceType": "Flag",
        "id": _id(result, "flag", index),
        "status": "active" if flag.status == "active" else "inactive",
        "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "safety",
                                  "display": "Safety"}]}],
        "code": _flag_code(flag),
        "subject": _subject(result),
        "period": period,
        "encounter": {"reference": f"Encounter/{result.attendance_id}"},
    }
    if flag.local_authority:
        res["author"] = {"type": "Organization", "display": flag.local_authority}
    if extension := _confirmed(flag.confirmed):
        res["extension"] = extension
    return res


def _issue(result: CheckResult, warning: Warning, index: int) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": _id(result, "issue", index),
        "status": "preliminary",
        "code": {"coding": [{"system": WARNING_SYSTEM, "code": warning.code,
                             "display": warning.code.replace("_", " ").lower()}],
                 "text": warning.message},
        "severity": _SEVERITY[warning.level],
        "patient": _subject(result),
        "detail": f"[{warning.level}] {warning.message} Source: {warning.source}",
        "evidence": [{"detail": [{"display": line}]} for line in warning.evidence],
    }
    if result.arrival is not None:
        # FHIR dateTime with a time needs an offset; a wall-clock arrival is given as its date.
        res["identifiedDateTime"] = (result.arrival.isoformat() if result.arrival.tzinfo
                                     else result.arrival.date().isoformat())
    if extension := _confirmed(warning.confirmed):
        res["extension"] = extension
    return res


def _outcome(result: CheckResult) -> dict[str, Any]:
    # a message that is not an arrival was read, and is nothing to check: information
    severity, code = ("information", "informational") if result.not_arrival else (
        "error", "processing")
    return {"resourceType": "OperationOutcome", "id": _id(result, "outcome", 0),
            "issue": [{"severity": severity, "code": code, "diagnostics": error}
                      for error in result.errors]}


def to_fhir_bundle(result: CheckResult) -> dict[str, Any]:
    """A validated FHIR Bundle (as JSON-ready dict) for one result."""
    # imported here: fhir.resources takes about 50 ms to import, and a triage check that
    # prints JSON or text should not pay for it
    from fhir.resources.R4B.bundle import Bundle
    entries = [_outcome(result)] if result.errors else []
    entries += [_flag(result, f, i) for i, f in enumerate(result.flags)]
    entries += [_issue(result, w, i) for i, w in enumerate(result.warnings)]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    if result.attendance_id:
        bundle["identifier"] = {"system": ATTENDANCE_SYSTEM, "value": result.attendance_id}
    bundle["entry"] = [{"fullUrl": f"urn:uuid:{e['id']}", "resource": e} for e in entries]
    Bundle.model_validate(bundle)
    return bundle
