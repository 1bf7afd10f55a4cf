"""Vocabulary shared by the HL7 v2, FHIR and CSV readers.

Coding systems, sex codes, next-of-kin relationship codes and date/time normalisation live
here so that the three formats map the same source values to the same model values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from ..algo.dates import local_wall_time
from ..errors import MessageError
from ..models import EARLIEST_ARRIVAL, Coded, Sex

T = TypeVar("T")

__all__ = ["coding_system", "coded", "sex_of", "relationship_of", "local_wall_time",
           "checked_arrival", "date_only_arrival", "iso_date_alone", "EARLIEST_ARRIVAL",
           "infer_system", "optional", "MAX_MESSAGE_CHARS"]

#: A single message (HL7 message, FHIR bundle line, CSV row) larger than this is refused.
MAX_MESSAGE_CHARS = 1_000_000


_ICD10 = {"I10", "I10C", "I10P", "ICD10", "ICD-10", "ICD10UK", "ICD-10-UK", "ICD10CM", "ICD-10-CM",
          "I10UK", "2.16.840.1.113883.6.3", "2.16.840.1.113883.6.90",
          "HTTP://HL7.ORG/FHIR/SID/ICD-10", "HTTP://HL7.ORG/FHIR/SID/ICD-10-UK",
          "HTTP://HL7.ORG/FHIR/SID/ICD-10-CM"}
_SNOMED = {"SCT", "SNOMED", "SNOMED CT", "SNOMEDCT", "SNOMED-CT", "SNM", "SNOMED_CT",
           "2.16.840.1.113883.6.96", "HTTP://SNOMED.INFO/SCT"}

_ICD_SHAPE = re.compile(r"^[A-Z]\d{2}(?:\.?[0-9A-Z]{1,4})?[-+*!A-Z]?$")
_SCT_SHAPE = re.compile(r"^\d{6,18}$")


def optional(read: Callable[[], T]) -> tuple[T | None, tuple[str, ...]]:
    """An optional field whose value cannot be read is not used, with a note naming the field
    and what to send: the attendance is still checked, because an unreadable accident time
    must not hide a child's flags. (Fields a check cannot do without stay errors.)"""
    try:
        return read(), ()
    except MessageError as exc:
        return None, (f"{exc.location}: {exc.reason}; not used",)


def coding_system(raw: str) -> str:
    """Our system name for a coding-system value: ``ICD10``, ``SNOMED`` or the raw value."""
    key = raw.strip().upper()
    if key in _ICD10:
        return "ICD10"
    if key in _SNOMED:
        return "SNOMED"
    return raw.strip()


def infer_system(code: str) -> str:
    """Guess a blank coding system from the code's shape (``S06.5`` → ICD10, digits →
    SNOMED)."""
    code = code.strip().upper()
    if _ICD_SHAPE.match(code):
        return "ICD10"
    if _SCT_SHAPE.match(code):
        return "SNOMED"
    return ""


def coded(code: str, text: str, system: str) -> Coded | None:
    """A :class:`Coded` from parts; ``None`` when all are blank. Blank systems are inferred."""
    code, text = code.strip(), text.strip()
    if not code and not text:
        return None
    sys_name = coding_system(system) if system.strip() else (infer_system(code) if code else "")
    return Coded(code=code, text=text, system=sys_name)


_SEX = {
    "F": Sex.female, "FEMALE": Sex.female, "2": Sex.female,
    "M": Sex.male, "MALE": Sex.male, "1": Sex.male,
}


def sex_of(raw: str) -> Sex:
    """HL7 table 0001 (F, M, U, O, A, N), FHIR gender, NHS codes (1, 2, 9, 0) → :class:`Sex`."""
    return _SEX.get(raw.strip().upper(), Sex.unknown)


# HL7 table 0063 (NK1-3) and FHIR v3-RoleCode (RelatedPerson.relationship) → our vocabulary.
_RELATIONSHIP = {
    "MTH": "mother", "NMTH": "mother", "MOTHER": "mother", "MUM": "mother",
    "BIRTH MOTHER": "mother",
    "FTH": "father", "NFTH": "father", "FATHER": "father", "DAD": "father",
    "BIRTH FATHER": "father",
    "PAR": "parent", "PRN": "parent", "NPRN": "parent", "PARENT": "parent",
    "SIB": "sibling", "BRO": "sibling", "SIS": "sibling", "NSIB": "sibling", "NBRO": "sibling",
    "NSIS": "sibling", "HSIB": "sibling", "HBRO": "sibling", "HSIS": "sibling",
    "SIBLING": "sibling", "BROTHER": "sibling", "SISTER": "sibling",
    "HALF-SIBLING": "sibling", "HALF SIBLING": "sibling",
    "STP": "step-parent", "STPPRN": "step-parent", "STPMTH": "step-parent",
    "STPFTH": "step-parent", "SMO": "step-parent", "SFA": "step-parent",
    "STEP-PARENT": "step-parent", "STEPPARENT": "step-parent", "STEP PARENT": "step-parent",
    "STEPMOTHER": "step-parent", "STEPFATHER": "step-parent", "STEP MOTHER": "step-parent",
    "STEP FATHER": "step-parent",
    "CGV": "carer", "CAREGIVER": "carer", "CARE GIVER": "carer", "CARER": "carer",
    "FSTPRN": "carer", "FMTH": "carer", "FFTH": "carer", "FOSTER PARENT": "carer",
    "FOSTER CARER": "carer", "FOSTER MOTHER": "carer", "FOSTER FATHER": "carer",
    "GRD": "guardian", "GUARD": "guardian", "GUARDIAN": "guardian",
    "LEGAL GUARDIAN": "guardian",
}


def relationship_of(code: str, text: str = "") -> str:
    """Normalise a relationship code (or, failing that, its text) to mother, father, parent,
    sibling, step-parent, carer, guardian or other; ``""`` when both are blank."""
    for value in (code, text):
        key = value.strip().upper()
        if key in _RELATIONSHIP:
            return _RELATIONSHIP[key]
    return "other" if (code.strip() or text.strip()) else ""


def iso_date_alone(text: str | None) -> bool:
    """Is this ISO date/time (FHIR ``dateTime``, a CSV column) a date alone (``YYYY-MM-DD``)?"""
    return text is not None and len(text.strip()) == 10


def date_only_arrival(field: str) -> str:
    """The note an attendance carries when its arrival came as a date without a time of day."""
    return (f"{field}: the arrival has a date but no time of day; taken as the start of that "
            "day (send the time too)")


def checked_arrival(dt: datetime, field: str,
                    error: Callable[[str, str], MessageError]) -> datetime:
    """An arrival date/time as naive UK wall time (:func:`local_wall_time`), checked.

    ``dt`` is the value as parsed (naive = UK time, or aware); ``field`` names where it came
    from (``PV1-44``, ``Encounter.period.start``, ``arrival``) and ``error`` is the reader's
    ``error(reason, field) -> MessageError``, so the error names the record too. Raises that
    error when the value cannot be converted to UK time (out of range) or falls before
    :data:`EARLIEST_ARRIVAL` (1900-01-01); the reason never quotes the value.
    """
    try:
        wall = local_wall_time(dt)
    except (OverflowError, ValueError) as exc:
        raise error("the arrival date/time is out of range (it cannot be converted to UK "
                    "time); send the real arrival", field) from exc
    if wall < EARLIEST_ARRIVAL:
        raise error("the arrival date/time is before 1900-01-01; send the real arrival",
                    field)
    return wall
