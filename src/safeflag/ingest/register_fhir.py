"""Register input as a FHIR R4 Bundle (JSON): Patient, RelatedPerson, EpisodeOfCare, Flag.

Mapping (documented in ``docs/formats.md``):

- ``Patient`` → a person. ``person_id`` is ``Patient.id``; the NHS number is the identifier with
  system ``https://fhir.nhs.uk/Id/nhs-number``; the first ``official``/``usual`` name (else the
  first name) gives given and family names, other names become aliases; ``birthDate`` keeps its
  precision; an address without ``period.end`` is the current address, every address with a
  period is address history.
- ``RelatedPerson`` → a relationship *to* the patient in ``RelatedPerson.patient``: the code in
  ``relationship`` (v3-RoleCode such as MTH, FTH, PRN, STPPRN, SIB, HSIB, or the contract's own
  words in ``https://safeflag.example/CodeSystem/relationship``) says what the related person is
  to the patient; ``period`` gives from/to. The related person is the register person named by
  the identifier with system ``https://safeflag.example/Id/person-id``; without one, the
  RelatedPerson itself becomes a person (``person_id`` = its ``id``).
- ``EpisodeOfCare`` → a plan of ``EpisodeOfCare.patient``: ``type`` coded CP, LAC, CIN or
  CP-UNBORN in ``https://safeflag.example/CodeSystem/plan`` (or the SNOMED CT flag codes below);
  ``type.text`` is the category; ``period``; ``managingOrganization.display`` is the local
  authority and ``careManager.display`` the contact.
- ``Flag`` → a plan of ``Flag.subject`` from its SNOMED CT code (342191000000101 CP,
  764841000000100 LAC, 818901000000100 CP-UNBORN) or the plan code system; ``period``;
  ``author.display`` is the local authority. A Flag with neither (another kind of alert) is
  not a plan: left out and logged.
- ``status`` of a plan: ``entered-in-error`` and ``cancelled`` (and an EpisodeOfCare still
  ``planned`` or on the ``waitlist``) are not plans: left out, each logged with its FHIR path.
  A plan that has ended (Flag ``inactive``, EpisodeOfCare ``finished``) must say when, in
  ``period.end``; without it the load fails rather than show an ended plan as open.
- References are ``Patient/ID`` (relative or absolute) or an entry's ``fullUrl`` (such as
  ``urn:uuid:…``); a Patient without an ``id`` takes the ``urn:uuid`` of its ``fullUrl``.

The whole Bundle is validated before anything is stored; a bad entry raises
:class:`~safeflag.errors.RegisterError` naming the file and the FHIR path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from ..algo.dates import PartialDate
from ..algo.nhs import normalise_nhs_number
from ..errors import RegisterError
from ..models import (AddressPeriod, Person, Plan, PlanType, Register, Relationship,
                      RelationshipType, Sex)
from ._common import relationship_of

__all__ = ["load_register_fhir", "PERSON_ID_SYSTEM", "PLAN_SYSTEM", "RELATIONSHIP_SYSTEM"]

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
PERSON_ID_SYSTEM = "https://safeflag.example/Id/person-id"
PLAN_SYSTEM = "https://safeflag.example/CodeSystem/plan"
RELATIONSHIP_SYSTEM = "https://safeflag.example/CodeSystem/relationship"
_SNOMED_PLANS = {"342191000000101": "CP", "764841000000100": "LAC", "818901000000100": "CP-UNBORN"}
_ROLE_CODES = {
    "MTH": "mother", "NMTH": "mother", "FTH": "father", "NFTH": "father", "PRN": "parent",
    "NPRN": "parent", "STPPRN": "step-parent", "STPMTH": "step-parent", "STPFTH": "step-parent",
    "SIB": "sibling", "NSIB": "sibling", "BRO": "sibling", "SIS": "sibling", "TWIN": "sibling",
    "HSIB": "half-sibling", "HBRO": "half-sibling", "HSIS": "half-sibling",
    "GUARD": "carer", "FSTPRN": "carer", "CGV": "carer", "DOMPART": "partner-of-parent",
    "ROOM": "household-member",
}
_GENDER = {"female": Sex.female, "male": Sex.male}
#: Plan statuses that are not plans in effect (EpisodeOfCare and Flag value sets).
_NOT_PLANS = frozenset({"entered-in-error", "cancelled", "planned", "waitlist"})
#: Plan statuses that say the plan has ended, so ``period.end`` must say when.
_ENDED = frozenset({"inactive", "finished"})

_log = logging.getLogger(__name__)


class _Entry:
    """One Bundle entry's resource with its FHIR path, for located errors."""

    def __init__(self, file: str, index: int, resource: dict[str, Any], full_url: str,
                 ids: dict[str, str]) -> None:
        self.file, self.index, self.res, self.full_url = file, index, resource, full_url
        self.ids = ids            # fullUrl -> person_id, shared by the Bundle's entries
        self.path = f"Bundle.entry[{index}].resource"

    def fail(self, field: str, reason: str) -> RegisterError:
        return RegisterError(reason, file=self.file, path=f"{self.path}.{field}")

    def own_id(self) -> str:
        """The resource's id; else the ``urn:uuid`` of its ``fullUrl``; else ""."""
        if self.res.get("id"):
            return str(self.res["id"])
        return self.full_url[len("urn:uuid:"):] if self.full_url.startswith("urn:uuid:") else ""

    def ref(self, field: str) -> str:
        """The person id a ``{"reference": ...}`` field names: ``Patient/ID`` (relative or
        absolute), or the ``fullUrl`` of an entry of this Bundle (``urn:uuid:...``)."""
        value = (self.res.get(field) or {}).get("reference", "")
        if value in self.ids:
            return self.ids[value]
        if value.startswith(("urn:uuid:", "urn:oid:")):
            raise self.fail(f"{field}.reference", "names no entry's fullUrl in this Bundle")
        if not value or "/" not in value:
            raise self.fail(f"{field}.reference", "expected a reference such as Patient/ID "
                                                  "or an entry's fullUrl")
        return value.rsplit("/", 1)[1]

    def period(self, field: str = "period", *, start_required: bool = False
               ) -> tuple[date | None, date | None]:
        period = self.res.get(field) or {}
        out = []
        for key in ("start", "end"):
            text = period.get(key)
            if not text:
                out.append(None)
                continue
            try:
                out.append(date.fromisoformat(str(text)[:10]))
            except ValueError as exc:
                raise self.fail(f"{field}.{key}", "expected a date YYYY-MM-DD") from exc
        if start_required and out[0] is None:
            raise self.fail(f"{field}.start", "a start date is required")
        return out[0], out[1]


def _codes(concepts: list[dict[str, Any]] | dict[str, Any] | None) -> list[tuple[str, str]]:
    if isinstance(concepts, dict):
        concepts = [concepts]
    return [(c.get("system", ""), str(c.get("code", ""))) for concept in concepts or []
            for c in concept.get("coding", [])]


def _person(e: _Entry, pid: str) -> tuple[Person, list[AddressPeriod]]:
    res = e.res
    nhs = next((normalise_nhs_number(i.get("value")) for i in res.get("identifier", [])
                if i.get("system") == NHS_SYSTEM), None)
    if nhs is not None and (len(nhs) != 10 or not nhs.isdigit()):
        raise e.fail("identifier", "the NHS number is not 10 digits")
    names = res.get("name", [])
    names = sorted(names, key=lambda n: n.get("use") not in ("official", "usual"))
    parsed = [(" ".join(n.get("given", [])[:1]), n.get("family", "")) for n in names]
    birth = None
    if res.get("birthDate"):
        try:
            birth = PartialDate.parse(res["birthDate"])
        except ValueError as exc:
            raise e.fail("birthDate", "expected YYYY, YYYY-MM or YYYY-MM-DD") from exc
    current, history = ("", ""), []
    for i, addr in enumerate(res.get("address", [])):
        line = ", ".join([*addr.get("line", []), addr.get("city", "")]).strip(", ")
        postcode = addr.get("postalCode", "")
        sub = _Entry(e.file, e.index, addr, "", e.ids)
        sub.path = f"{e.path}.address[{i}]"
        start, end = sub.period()
        if end is None and current == ("", ""):
            current = (line, postcode)
        if start or end:
            history.append(AddressPeriod(person_id=pid, address_line=line, postcode=postcode,
                                         from_date=start, to_date=end))
    person = Person(person_id=pid, nhs_number=nhs, given_name=parsed[0][0] if parsed else "",
                    family_name=parsed[0][1] if parsed else "", birth_date=birth,
                    sex=_GENDER.get(res.get("gender", ""), Sex.unknown),
                    address_line=current[0], postcode=current[1], aliases=tuple(parsed[1:]))
    return person, history


def _relationship_kind(e: _Entry) -> RelationshipType:
    for system, code in _codes(e.res.get("relationship")):
        if system == RELATIONSHIP_SYSTEM and code in RelationshipType._value2member_map_:
            return RelationshipType(code)
        if code.upper() in _ROLE_CODES:
            return RelationshipType(_ROLE_CODES[code.upper()])
        mapped = relationship_of(code)
        if mapped in ("mother", "father", "parent", "step-parent", "carer", "sibling"):
            return RelationshipType(mapped)
        if mapped == "guardian":
            return RelationshipType.carer
    raise e.fail("relationship", "no relationship code safeflag knows (v3-RoleCode such as "
                                 "MTH, FTH, PRN, SIB, HSIB, or the contract's words)")


def _plan_kind(e: _Entry, field: str) -> PlanType:
    for system, code in _codes(e.res.get(field)):
        if system == PLAN_SYSTEM and code in PlanType._value2member_map_:
            return PlanType(code)
        if code in _SNOMED_PLANS:
            return PlanType(_SNOMED_PLANS[code])
    raise e.fail(field, "expected a plan code (CP, LAC, CIN, CP-UNBORN) or a SNOMED CT flag code")


def _display(res: dict[str, Any], field: str) -> str:
    value = res.get(field)
    if isinstance(value, list):
        value = value[0] if value else {}
    return (value or {}).get("display", "")


def _plan(e: _Entry) -> Plan:
    if e.res["resourceType"] == "EpisodeOfCare":
        kind, person_id = _plan_kind(e, "type"), e.ref("patient")
        types = e.res.get("type") or [{}]
        category, contact = types[0].get("text", ""), _display(e.res, "careManager")
        authority = _display(e.res, "managingOrganization")
    else:
        kind, person_id = _plan_kind(e, "code"), e.ref("subject")
        category, contact = (e.res.get("code") or {}).get("text", ""), ""
        authority = _display(e.res, "author")
    start, end = e.period(start_required=True)
    if start and end and end < start:
        raise e.fail("period.end", "the plan ends before it starts")
    if end is None and e.res.get("status") in _ENDED:
        raise e.fail("period.end", f"the plan's status is {e.res['status']} but it has no "
                                   "end date: give the date it ended")
    return Plan(person_id=person_id, plan=kind, start_date=start, end_date=end,
                category=category, local_authority=authority, contact=contact)


def _not_a_plan(e: _Entry) -> bool:
    """A plan resource withdrawn, recorded in error or not yet begun, or a Flag of some other
    kind (a clinical alert, a "sensitive record" flag): left out, and logged (file, FHIR path
    and status or code only), so nothing is dropped unseen. A code of safeflag's own plan
    system that it does not know stays an error (:func:`_plan_kind`): that is a plan."""
    status = e.res.get("status")
    if status in _NOT_PLANS:
        _log.warning("%s: %s is %s, so it is not loaded as a plan", e.file, e.path, status)
        return True
    if e.res.get("resourceType") == "Flag" and not any(
            system == PLAN_SYSTEM or code in _SNOMED_PLANS
            for system, code in _codes(e.res.get("code"))):
        _log.warning("%s: %s is a Flag with no safeguarding plan code (SNOMED CT %s or %s), so "
                     "it is not loaded as a plan", e.file, e.path, ", ".join(_SNOMED_PLANS),
                     PLAN_SYSTEM)
        return True
    return False


@contextmanager
def _reading(e: _Entry) -> Iterator[None]:
    """Anything in one entry that is not the JSON type FHIR gives it (a list for a string, a
    number for an object) is a :class:`RegisterError` at that entry, never a traceback."""
    try:
        yield
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise RegisterError(f"a value of the wrong JSON type ({type(exc).__name__}); check "
                            "this resource against FHIR R4", file=e.file, path=e.path) from exc


def load_register_fhir(path: str | Path) -> Register:
    """Read and validate a register Bundle; raise :class:`RegisterError` on the first bad entry."""
    file = str(path)
    try:
        bundle = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegisterError(f"not a readable JSON file ({type(exc).__name__})", file=file) from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise RegisterError("expected a FHIR Bundle", file=file, path="resourceType")
    ids: dict[str, str] = {}
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise RegisterError("expected a list of entries", file=file, path="Bundle.entry")
    entries = [_Entry(file, i, _resource_of(ent), _full_url_of(ent), ids)
               for i, ent in enumerate(raw)]
    persons: dict[str, Person] = {}
    addresses: list[AddressPeriod] = []
    related: list[tuple[_Entry, str]] = []
    for e in entries:
        with _reading(e):
            _read_person(e, ids, persons, addresses, related)
    relationships = []
    for e, other in related:
        with _reading(e):
            relationships.append(_relationship(e, other, persons))
    plans = []
    for e in entries:
        with _reading(e):
            if e.res.get("resourceType") not in ("EpisodeOfCare", "Flag") or _not_a_plan(e):
                continue
            plan = _plan(e)
            if plan.person_id not in persons:
                raise e.fail("patient" if e.res["resourceType"] == "EpisodeOfCare"
                             else "subject", "names no Patient of this Bundle")
            plans.append(plan)
    if not persons:
        raise RegisterError("the Bundle holds no Patient", file=file, path="Bundle.entry")
    return Register(persons=tuple(persons.values()), relationships=tuple(relationships),
                    plans=tuple(plans), addresses=tuple(addresses))


def _resource_of(entry: Any) -> dict[str, Any]:
    res = entry.get("resource") if isinstance(entry, dict) else None
    return res if isinstance(res, dict) else {}


def _full_url_of(entry: Any) -> str:
    url = entry.get("fullUrl") if isinstance(entry, dict) else None
    return url if isinstance(url, str) else ""


def _read_person(e: _Entry, ids: dict[str, str], persons: dict[str, Person],
                 addresses: list[AddressPeriod], related: list[tuple[_Entry, str]]) -> None:
    """A Patient (or a RelatedPerson standing for a person) into ``persons``; a RelatedPerson
    also into ``related``, with the person it names."""
    kind = e.res.get("resourceType")
    if kind not in ("Patient", "RelatedPerson"):
        return
    own_ref = next((i.get("value") for i in e.res.get("identifier", [])
                    if i.get("system") == PERSON_ID_SYSTEM), None)
    if kind == "RelatedPerson":
        related.append((e, own_ref or e.own_id()))
        if own_ref:
            if e.full_url:
                ids[e.full_url] = own_ref
            return
    pid = e.own_id()
    if not pid:
        raise e.fail("id", "every Patient (and RelatedPerson standing for a person) "
                           "needs an id or a urn:uuid fullUrl")
    if pid in persons:
        raise e.fail("id", "duplicate person id")
    person, history = _person(e, pid)
    persons[pid] = person
    if e.full_url:
        ids[e.full_url] = pid
    addresses.extend(history)


def _relationship(e: _Entry, other: str, persons: dict[str, Person]) -> Relationship:
    child = e.ref("patient")
    for pid, field in ((child, "patient"), (other, "identifier")):
        if pid not in persons:
            raise e.fail(field, "names no Patient of this Bundle")
    start, end = e.period()
    return Relationship(person_id=child, related_person_id=other,
                        relationship=_relationship_kind(e), from_date=start, to_date=end)
