"""FHIR R4 (UK Core) attendances into :class:`~safeflag.models.Attendance`.

The fast path reads plain JSON (``json`` module, dict walking): a Bundle of any type holding
Encounter(s) with their Patient and optionally RelatedPerson and Condition resources; a JSON
array of resources; or a bare Encounter with a contained Patient. NDJSON files hold one such
object per line. :func:`validate_fhir_strict` checks a resource with ``fhir.resources``.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Iterable, Iterator

from ..algo.dates import PartialDate, parse_iso_datetime
from ..algo.injury import classify
from ..algo.nhs import is_valid_nhs_number, normalise_nhs_number
from ..errors import MessageError
from ..models import Address, Attendance, Coded, Demographics, Identifier, Name, NextOfKin
from ._common import (checked_arrival, coded, date_only_arrival, iso_date_alone,
                      local_wall_time, optional, relationship_of, sex_of)

__all__ = ["NHS_NUMBER_SYSTEM", "parse_fhir", "parse_fhir_text", "parse_fhir_document",
           "iter_ndjson_lines", "parse_ndjson_line",
           "validate_fhir_strict", "MAX_LINE_CHARS"]

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
#: An NDJSON line (one Bundle) longer than this is refused.
MAX_LINE_CHARS = 64 * 1024 * 1024
_CLASS = {"EMER": "E", "IMP": "I", "ACUTE": "I", "AMB": "O", "OBSENC": "O", "SS": "O"}
#: A lone surrogate: a byte that was not UTF-8, kept by the line reader (surrogateescape).
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


class _Ctx:
    """Where we are: the bundle reference and source, for error messages."""

    def __init__(self, ref: str, source: str, attendance_id: str | None = None) -> None:
        self.ref, self.source, self.attendance_id = ref, source, attendance_id

    def error(self, reason: str, location: str) -> MessageError:
        return MessageError(reason, message=self.ref, location=location, source=self.source,
                            attendance_id=self.attendance_id)


class _WrongType(Exception):
    """A FHIR element of the wrong JSON type; the Encounter's reader turns it into a
    :class:`MessageError` at ``path`` (the value itself is never quoted)."""

    def __init__(self, path: str, expected: str, value: Any) -> None:
        super().__init__(path)
        self.path = path
        self.reason = f"expected {expected}, not a JSON {_json_kind(value)}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "value"


def _list(value: Any) -> list:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _str(value: Any, path: str) -> str:
    """A string element, stripped; ``""`` when absent; :class:`_WrongType` otherwise."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    raise _WrongType(path, "a string", value)


def _strs(value: Any, path: str) -> list[str]:
    """The non-blank strings of a repeating string element."""
    return [text for text in (_str(v, path) for v in _list(value)) if text]


def _obj(value: Any, path: str) -> dict:
    """An object element; ``{}`` when absent; :class:`_WrongType` otherwise."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise _WrongType(path, "an object", value)


def _objs(value: Any, path: str) -> list[dict]:
    """The objects of a repeating element (a single object counts as a list of one)."""
    return [_obj(v, path) for v in _list(value) if v is not None]


def _key(value: Any) -> str:
    """An id, type or fullUrl used only to index resources: blank unless a string."""
    return value.strip() if isinstance(value, str) else ""


# --- resource collection -----------------------------------------------------------------------
def _entries(obj: Any, ctx: _Ctx) -> list[dict]:
    """The entries of a Bundle / array / single resource (with its contained resources), in
    place: an entry that is not an object stays as ``{}`` so that positions count from the
    source."""
    if isinstance(obj, list):
        return [{"resource": r} for r in obj]
    if isinstance(obj, dict) and obj.get("resourceType") == "Bundle":
        return [e if isinstance(e, dict) else {} for e in _list(obj.get("entry"))]
    if isinstance(obj, dict) and "resourceType" in obj:
        return [{"resource": obj}] + [{"resource": c} for c in _list(obj.get("contained"))]
    raise ctx.error("not a FHIR resource or Bundle (no resourceType)", "resourceType")


def _resources(obj: Any, ctx: _Ctx) -> tuple[list[tuple[int, dict]], dict[str, dict]]:
    """All resources of a Bundle / array / single resource, each with its entry position, and
    an index by reference."""
    resources: list[tuple[int, dict]] = []
    index: dict[str, dict] = {}
    for position, entry in enumerate(_entries(obj, ctx)):
        res = entry.get("resource")
        if not isinstance(res, dict):
            continue
        resources.append((position, res))
        rtype, rid = _key(res.get("resourceType")), _key(res.get("id"))
        if rid:
            index[f"{rtype}/{rid}"] = res
            index[f"#{rid}"] = res
        full = _key(entry.get("fullUrl"))
        if full:
            index[full] = res
            if rid and "/" in full:
                index[f"{rtype}/{rid}"] = res
    return resources, index


def _resolve(ref: Any, index: dict[str, dict], path: str) -> dict | None:
    target = _str(_obj(ref, path).get("reference"), f"{path}.reference")
    if not target:
        return None
    if target in index:
        return index[target]
    parts = target.rstrip("/").split("/")
    tail = "/".join(parts[-2:]) if len(parts) >= 2 else target
    return index.get(tail)


def _refers_to(ref: Any, res: dict, index: dict[str, dict], path: str) -> bool:
    return _resolve(ref, index, path) is res


# --- datatypes -----------------------------------------------------------------------------------
def _name(hn: dict, path: str) -> Name:
    given = _strs(hn.get("given"), f"{path}.given")
    family = _str(hn.get("family"), f"{path}.family")
    text = _str(hn.get("text"), f"{path}.text")
    if not family and not given and text:
        words = text.split()
        given, family = words[:-1], words[-1]
    return Name(given=given[0] if given else "", family=family, middle=" ".join(given[1:]))


def _names(res: dict, where: str) -> tuple[Name, ...]:
    path = f"{where}.name"
    names = [_name(n, path) for n in _objs(res.get("name"), path)]
    return tuple(n for n in names if n.given or n.family)


def _address(a: dict, path: str) -> Address:
    lines = ", ".join(_strs(a.get("line"), f"{path}.line"))
    return Address(line=lines, city=_str(a.get("city"), f"{path}.city"),
                   postcode=_str(a.get("postalCode"), f"{path}.postalCode"))


def _addresses(res: dict, where: str) -> tuple[Address, ...]:
    path = f"{where}.address"
    out = [_address(a, path) for a in _objs(res.get("address"), path)]
    return tuple(a for a in out if a.line or a.city or a.postcode)


def _verified(ident: dict, path: str) -> bool | None:
    for ext in _objs(ident.get("extension"), f"{path}.extension"):
        if "NHSNumberVerificationStatus" in _str(ext.get("url"), f"{path}.extension.url"):
            where = f"{path}.extension.valueCodeableConcept"
            codings = _objs(_obj(ext.get("valueCodeableConcept"), where).get("coding"),
                            f"{where}.coding")
            codes = [_str(c.get("code"), f"{where}.coding.code") for c in codings]
            return any(c in ("01", "1") for c in codes) if codes else None
    return None


def _identifier(ident: dict, path: str) -> Identifier:
    codings = _objs(_obj(ident.get("type"), f"{path}.type").get("coding"),
                    f"{path}.type.coding")
    itype = next((_str(c.get("code"), f"{path}.type.coding.code") for c in codings), "")
    return Identifier(value=_str(ident.get("value"), f"{path}.value"),
                      system=_str(ident.get("system"), f"{path}.system"), type=itype)


def _identity(res: dict, where: str) -> tuple[tuple[Identifier, ...], str | None, bool | None]:
    path = f"{where}.identifier"
    ids, nhs, verified = [], None, None
    for ident in _objs(res.get("identifier"), path):
        found = _identifier(ident, path)
        if not found.value:
            continue
        ids.append(found)
        if found.system == NHS_NUMBER_SYSTEM and nhs is None:
            nhs, verified = normalise_nhs_number(found.value), _verified(ident, path)
    return tuple(ids), nhs, verified


def _birth(res: dict, ctx: _Ctx, where: str, strict: bool = True) -> PartialDate | None:
    """The birth date; not strict (a relative's): unreadable → ``None``."""
    try:
        raw = _str(res.get("birthDate"), where)
        return PartialDate.parse(raw) if raw else None
    except _WrongType:
        if not strict:
            return None
        raise
    except ValueError as exc:
        if not strict:
            return None
        raise ctx.error("not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)", where) from exc


def _demographics(res: dict, ctx: _Ctx, where: str, strict: bool = True) -> Demographics:
    ids, nhs, verified = _identity(res, where)
    return Demographics(nhs_number=nhs, nhs_verified=verified, identifiers=ids,
                        names=_names(res, where),
                        birth_date=_birth(res, ctx, f"{where}.birthDate", strict),
                        sex=sex_of(_str(res.get("gender"), f"{where}.gender")),
                        addresses=_addresses(res, where))


def _coding(c: dict, text: str, path: str) -> Coded | None:
    return coded(_str(c.get("code"), f"{path}.code"),
                 _str(c.get("display"), f"{path}.display") or text,
                 _str(c.get("system"), f"{path}.system"))


def _concept(cc: Any, path: str) -> Coded | None:
    """A CodeableConcept: the ICD-10 coding if any, else SNOMED, else the first, else text."""
    if cc is None:
        return None
    cc = _obj(cc, path)
    text = _str(cc.get("text"), f"{path}.text")
    options = [_coding(c, text, f"{path}.coding")
               for c in _objs(cc.get("coding"), f"{path}.coding")]
    options = [o for o in options if o is not None]
    for wanted in ("ICD10", "SNOMED"):
        for option in options:
            if option.system == wanted:
                return option
    return options[0] if options else coded("", text, "")


# --- the attendance ------------------------------------------------------------------------------
def _arrival(enc: dict, ctx: _Ctx) -> tuple[datetime, tuple[str, ...]]:
    """The arrival, and the note to carry when it came as a date alone."""
    for key in ("period", "actualPeriod"):
        where = f"Encounter.{key}.start"
        start = _str(_obj(enc.get(key), f"Encounter.{key}").get("start"), where)
        if start:
            try:
                parsed = parse_iso_datetime(start)
            except ValueError as exc:
                raise ctx.error("not a FHIR dateTime", where) from exc
            return (checked_arrival(parsed, where, ctx.error),
                    (date_only_arrival(where),) if iso_date_alone(start) else ())
    raise ctx.error("the Encounter has no period.start (arrival time); send it",
                    "Encounter.period.start")


def _attendance_id(enc: dict, ctx: _Ctx) -> str:
    for ident in _objs(enc.get("identifier"), "Encounter.identifier"):
        value = _str(ident.get("value"), "Encounter.identifier.value")
        if value:
            return value
    if _str(enc.get("id"), "Encounter.id"):
        return _str(enc.get("id"), "Encounter.id")
    raise ctx.error("the Encounter has neither an identifier nor an id", "Encounter.identifier")


def _patient_class(enc: dict) -> str:
    codes = []
    for item in _objs(enc.get("class"), "Encounter.class"):
        codes.append(_str(item.get("code"), "Encounter.class.code"))
        codes += [_str(c.get("code"), "Encounter.class.coding.code")
                  for c in _objs(item.get("coding"), "Encounter.class.coding")]
    code = next((c for c in codes if c), "")
    return _CLASS.get(code.upper(), code)


def _complaint(enc: dict) -> Coded | None:
    for reason in _objs(enc.get("reasonCode"), "Encounter.reasonCode"):
        found = _concept(reason, "Encounter.reasonCode")
        if found:
            return found
    for reason in _objs(enc.get("reason"), "Encounter.reason"):     # R5: reason[].value[].concept
        for value in _objs(reason.get("value"), "Encounter.reason.value"):
            found = _concept(value.get("concept"), "Encounter.reason.value.concept")
            if found:
                return found
    return None


def _kin(patient: dict, resources: list[dict], index: dict,
         ctx: _Ctx) -> tuple[tuple[NextOfKin, ...], tuple[str, ...]]:
    """The next of kin, and a note for each one that could not be read: they are optional,
    so a bad one is left out (and said) rather than hide the child's own flags."""
    readers = [(res, lambda res=res: _related_of(res, patient, index, ctx))
               for res in resources if res.get("resourceType") == "RelatedPerson"]
    readers += [({}, lambda c=c: _contact(_obj(c, "Patient.contact")))
                for c in _list(patient.get("contact"))]
    out, notes = [], []
    for res, read in readers:
        try:
            kin = read()
        except _WrongType as exc:
            notes.append(f"{exc.path}: {exc.reason}; this next of kin not used")
            continue
        if kin is not None and (kin.relationship or kin.demographics.names):
            out.append(kin)
            if res.get("birthDate") and kin.demographics.birth_date is None:
                notes.append("RelatedPerson.birthDate: not a FHIR date (YYYY, YYYY-MM or "
                             "YYYY-MM-DD); not used")
    return tuple(out), tuple(notes)


def _related_of(res: dict, patient: dict, index: dict, ctx: _Ctx) -> NextOfKin | None:
    """A RelatedPerson of this patient (or of no patient named) as next of kin."""
    if res.get("patient") and not _refers_to(res.get("patient"), patient, index,
                                             "RelatedPerson.patient"):
        return None
    return _related(res, ctx)


def _relationship_code(concepts: Iterable[dict], path: str) -> tuple[str, str]:
    for cc in concepts:
        text = _str(cc.get("text"), f"{path}.text")
        for c in _objs(cc.get("coding"), f"{path}.coding"):
            code = _str(c.get("code"), f"{path}.coding.code")
            if code:
                return code, _str(c.get("display"), f"{path}.coding.display") or text
        if text:
            return "", text
    return "", ""


def _related(res: dict, ctx: _Ctx) -> NextOfKin:
    path = "RelatedPerson.relationship"
    code, text = _relationship_code(_objs(res.get("relationship"), path), path)
    return NextOfKin(relationship=relationship_of(code, text), code=code or text,
                     demographics=_demographics(res, ctx, "RelatedPerson", strict=False))


def _contact(contact: dict) -> NextOfKin:
    path = "Patient.contact"
    code, text = _relationship_code(_objs(contact.get("relationship"), f"{path}.relationship"),
                                    f"{path}.relationship")
    name, address = contact.get("name"), contact.get("address")
    names = (_name(_obj(name, f"{path}.name"), f"{path}.name"),) if name is not None else ()
    addrs = ((_address(_obj(address, f"{path}.address"), f"{path}.address"),)
             if address is not None else ())
    demo = Demographics(names=tuple(n for n in names if n.given or n.family), addresses=addrs,
                        sex=sex_of(_str(contact.get("gender"), f"{path}.gender")))
    return NextOfKin(relationship=relationship_of(code, text), code=code or text,
                     demographics=demo)


def _conditions(enc: dict, patient: dict, resources: list[dict], index: dict, single: bool
                ) -> list[tuple[dict, Coded]]:
    """The Encounter's Conditions (linked to it, or to its Patient in a one-Encounter bundle)
    with the diagnosis each codes for."""
    out = []
    for res in resources:
        if res.get("resourceType") != "Condition" or not _for_encounter(
                res, enc, patient, index, single):
            continue
        found = _concept(res.get("code"), "Condition.code")
        if found:
            out.append((res, found))
    return out


def _for_encounter(res: dict, enc: dict, patient: dict, index: dict, single: bool) -> bool:
    key = "encounter" if res.get("encounter") else "context"
    link = res.get(key)
    if link is not None:
        return _refers_to(link, enc, index, f"Condition.{key}")
    return single and (not res.get("subject") or _refers_to(
        res.get("subject"), patient, index, "Condition.subject"))


def _onset(res: dict, ctx: _Ctx) -> datetime | date | None:
    """Condition.onsetDateTime, else onsetPeriod.start, as UK wall time (``None`` if neither).
    A FHIR date (no time) stays a date."""
    period = res.get("onsetPeriod")
    if period is not None and not isinstance(period, dict):
        raise ctx.error(f"expected an object, not a JSON {_json_kind(period)}",
                        "Condition.onsetPeriod")
    for raw, where in ((res.get("onsetDateTime"), "Condition.onsetDateTime"),
                       (period.get("start") if period else None,
                        "Condition.onsetPeriod.start")):
        if raw is None or raw == "":
            continue
        try:
            if not isinstance(raw, str):
                raise TypeError("not a string")
            if len(raw) == 10:
                return date.fromisoformat(raw)
            return local_wall_time(parse_iso_datetime(raw))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ctx.error("not a FHIR dateTime with at least a full date (YYYY-MM-DD or "
                            "YYYY-MM-DDThh:mm:ss+zz:zz)", where) from exc
    return None


@lru_cache(maxsize=4096)
def _is_injury(code: str, system: str, text: str) -> bool:
    return classify(code, system, text) is not None     # the same few codes recur; cache them


def _injury_time(conditions: list[tuple[dict, Coded]], ctx: _Ctx) -> datetime | date | None:
    """The earliest onset among the Encounter's injury Conditions; other Conditions' onsets
    (an asthma diagnosed years ago) say nothing about when this injury happened."""
    onsets = [_onset(res, ctx) for res, dx in conditions
              if ("onsetDateTime" in res or "onsetPeriod" in res)     # classify only if needed
              and _is_injury(dx.code, dx.system, dx.text)]
    return min((t for t in onsets if t is not None), default=None, key=_earliest)


def _earliest(when: datetime | date) -> datetime:
    return when if isinstance(when, datetime) else datetime.combine(when, time())


def _patient_for(enc: dict, resources: list[dict], index: dict, ctx: _Ctx) -> dict:
    subject = "subject" if enc.get("subject") else "patient"
    found = _resolve(enc.get(subject), index, f"Encounter.{subject}")
    if found is not None and found.get("resourceType") == "Patient":
        return found
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if len(patients) == 1:
        return patients[0]
    raise ctx.error("the Encounter's subject does not resolve to a Patient in the bundle; "
                    "include the Patient resource", "Encounter.subject")


def parse_fhir(obj: Any, ref: str = "#1", source: str = "") -> list[Attendance | MessageError]:
    """One item per Encounter in a parsed FHIR JSON object: its :class:`Attendance`, or a
    :class:`MessageError` naming the bundle, the Encounter and the FHIR path when that
    Encounter cannot be read (the other Encounters are still read).

    Raises :class:`MessageError` naming the bundle (``ref``) when the object as a whole cannot
    be used (not a resource or Bundle, no Encounter).
    """
    return [item for item, _ in _encounter_items(obj, ref, source)]


def _encounter_items(obj: Any, ref: str, source: str
                     ) -> list[tuple[Attendance | MessageError, int]]:
    """:func:`parse_fhir`'s items, each with its Encounter's position among the entries."""
    ctx = _Ctx(_bundle_ref(obj, ref), source)
    try:
        resources, index = _resources(obj, ctx)
    except MessageError:
        raise
    except Exception as exc:     # never let odd input escape as anything but a MessageError
        raise ctx.error(f"unreadable FHIR content ({type(exc).__name__})", "Bundle") from exc
    encounters = [(p, r) for p, r in resources if r.get("resourceType") == "Encounter"]
    if not encounters:
        kinds = sorted({_key(r.get("resourceType")) for _, r in resources})[:5]
        raise ctx.error(f"no Encounter resource (found {', '.join(kinds) or 'nothing'}); "
                        "an attendance needs an Encounter and its Patient", "Bundle.entry")
    bundle = _Bundle(obj, [r for _, r in resources], index, single=len(encounters) == 1)
    return [(_encounter_item(enc, position, bundle, ctx), position)
            for position, enc in encounters]


class _Bundle:
    """What every Encounter of one bundle is read against."""

    def __init__(self, obj: Any, resources: list[dict], index: dict[str, dict],
                 single: bool) -> None:
        self.resources, self.index, self.single = resources, index, single
        self.message_id = _safe_id(obj.get("id")) if _is_bundle(obj) else _bare_id(obj)


def _bundle_ref(obj: Any, ref: str) -> str:
    """``#N``, with the Bundle's (or bare Encounter's) id before it. Another resource's id
    may be a patient's NHS number (PDS Patients), so it is never used."""
    bid = _safe_id(obj.get("id")) if _is_bundle(obj) else _bare_id(obj)
    return f"{bid} ({ref})" if bid else ref


def _is_bundle(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("resourceType") == "Bundle"


def _bare_id(obj: Any) -> str:
    return (_safe_id(obj.get("id")) if isinstance(obj, dict)
            and obj.get("resourceType") == "Encounter" else "")


def _safe_id(value: Any) -> str:
    """An id fit to name a record in errors and logs: a string, and not an NHS number."""
    text = _key(value)
    return "" if is_valid_nhs_number(text) else text


def _encounter_item(enc: dict, position: int, bundle: _Bundle,
                    ctx: _Ctx) -> Attendance | MessageError:
    """One Encounter's attendance, or the error naming it and the FHIR path."""
    name = _encounter_name(enc, position)
    here = _Ctx(f"{ctx.ref}, Encounter {name}", ctx.source,
                None if name == f"entry[{position}]" else name)
    try:
        return _attendance(enc, bundle, here)
    except MessageError as exc:
        return exc
    except _WrongType as exc:
        return here.error(exc.reason, exc.path)
    except Exception as exc:     # never let odd input escape as anything but a MessageError
        return here.error(f"unreadable FHIR content ({type(exc).__name__})", "Encounter")


def _encounter_name(enc: dict, position: int) -> str:
    """The Encounter's first identifier value, else its id, else ``entry[N]`` (from 0); never
    an NHS number."""
    values = (_safe_id(i.get("value")) for i in _list(enc.get("identifier"))
              if isinstance(i, dict))
    return next((v for v in values if v), "") or _safe_id(enc.get("id")) \
        or f"entry[{position}]"


def _attendance(enc: dict, bundle: _Bundle, ctx: _Ctx) -> Attendance:
    resources, index = bundle.resources, bundle.index
    patient = _patient_for(enc, resources, index, ctx)
    conditions = _conditions(enc, patient, resources, index, bundle.single)
    injured, notes = optional(lambda: _injury_time(conditions, ctx))
    kin, kin_notes = _kin(patient, resources, index, ctx)
    arrival, arrival_notes = _arrival(enc, ctx)
    return Attendance(
        attendance_id=_attendance_id(enc, ctx), message_id=bundle.message_id, event="fhir",
        arrival=arrival, arrival_time_given=not arrival_notes,
        patient_class=_patient_class(enc),
        patient=_demographics(patient, ctx, "Patient"),
        next_of_kin=kin, complaint=_complaint(enc),
        diagnoses=tuple(dx for _, dx in conditions),
        injury_time=injured, source=ctx.source, notes=(*arrival_notes, *notes, *kin_notes))


def parse_fhir_text(text: str, ref: str = "#1", source: str = "", *,
                    strict: bool = False) -> list[Attendance | MessageError]:
    """Parse FHIR JSON text (one Bundle/resource/array) as :func:`parse_fhir` does; XML, text
    that is not UTF-8 or not JSON (or nested too deeply to read) is refused with a clear error.
    With ``strict``, a resource fhir.resources finds invalid is refused."""
    return parse_fhir(_load_document(text, ref, source, strict), ref, source)


def parse_fhir_document(text: str, ref: str = "#1", source: str = "", *,
                        strict: bool = False
                        ) -> list[tuple[Attendance | MessageError, str | None]]:
    """The items of FHIR JSON text, as :func:`parse_fhir_text` gives them, each error with the
    text a batch quarantines for it (``None`` for an attendance): for an error of the text as
    a whole (returned, not raised) the text itself; for an error in one Encounter that
    Encounter's entry (its ``Bundle.entry``, array item or contained resource) as JSON, or
    the text when the Encounter is the bare resource the text holds."""
    try:
        obj = _load_document(text, ref, source, strict)
        items = _encounter_items(obj, ref, source)
    except MessageError as exc:
        return [(exc, text)]
    return [(item, _entry_text(obj, position, text) if isinstance(item, MessageError) else None)
            for item, position in items]


def _entry_text(obj: Any, position: int, text: str) -> str:
    """Entry ``position`` of :func:`_entries` as sent (re-serialised); ``text`` for a bare
    resource itself (position 0), or when the entry cannot be written back as JSON."""
    if _is_bundle(obj):
        entry = _list(obj.get("entry"))[position]
    elif isinstance(obj, list):
        entry = obj[position]
    elif position:
        entry = _list(obj.get("contained"))[position - 1]
    else:
        return text
    try:
        return json.dumps(entry, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return text


def _load_document(text: str, ref: str, source: str, strict: bool) -> Any:
    """FHIR JSON text, parsed (and with ``strict``, validated); XML and text that is not
    UTF-8 or not JSON raise :class:`MessageError`."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        raise MessageError("FHIR XML is not supported; send FHIR JSON (application/fhir+json)",
                           message=ref, location="Bundle", source=source)
    obj = _load_json(stripped, ref, source)
    if strict:
        _validate_strict(obj, ref, source)
    return obj


def _load_json(text: str, ref: str, source: str) -> Any:
    bad = _NOT_UTF8.search(text)
    if bad:
        raise MessageError(f"bytes that are not UTF-8 (at character {bad.start() + 1}); FHIR "
                           "JSON must be UTF-8", message=ref, location="Bundle", source=source)
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise MessageError("JSON nested too deeply to read; check the file", message=ref,
                           location="Bundle", source=source) from exc
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f"JSON line {line}" if line else "JSON"
        raise MessageError(f"not valid JSON ({type(exc).__name__} at {where}); check the file",
                           message=ref, location="Bundle", source=source) from exc


def _validate_strict(obj: Any, ref: str, source: str) -> None:
    for item in obj if isinstance(obj, list) else [obj]:
        problems = validate_fhir_strict(item)
        if problems:
            raise MessageError(f"fails strict FHIR R4 validation ({problems[0]}); fix the "
                               "sending system, or run without --strict",
                               message=ref, location="Bundle", source=source)


def iter_ndjson_lines(lines: Iterable[str], source: str = "", *,
                      strict: bool = False) -> Iterator[Attendance | MessageError]:
    """NDJSON: one Bundle (or resource) per line; blank lines skipped; ``#line`` references."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield from parse_ndjson_line(line, number, source, strict=strict)
        except MessageError as exc:
            yield exc


def parse_ndjson_line(line: str, number: int, source: str = "", *,
                      strict: bool = False) -> list[Attendance | MessageError]:
    """The items of NDJSON line ``number`` (referred to as ``#number``), one per Encounter as
    :func:`parse_fhir`; raises :class:`MessageError` for a line over :data:`MAX_LINE_CHARS`
    or one that cannot be read as a whole."""
    if len(line) > MAX_LINE_CHARS:
        raise MessageError(f"the line is over {MAX_LINE_CHARS:,} characters; split the Bundle",
                           message=f"#{number}", location="Bundle", source=source)
    return parse_fhir_text(line, f"#{number}", source, strict=strict)


def validate_fhir_strict(obj: Any) -> list[str]:
    """Problems ``fhir.resources`` (R4B models, R4-compatible) finds in a resource/Bundle.

    Each problem is a FHIR path and a reason; input values are left out.
    """
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
        return ["resourceType: missing"]
    try:
        model = get_fhir_model_class(obj["resourceType"])
    except (KeyError, ValueError) as exc:
        return [f"resourceType: unknown ({type(exc).__name__})"]
    try:
        model.model_validate(obj)
    except ValidationError as exc:
        return [".".join(str(p) for p in err.get("loc", ())) + ": " + err.get("msg", "")
                for err in exc.errors(include_input=False, include_url=False)]
    except Exception as exc:    # fhir.resources raises its own classes too
        return [f"{type(exc).__name__}"]
    return []
