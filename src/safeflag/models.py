"""The data that flows through the pipeline, as typed models.

ingest → :class:`Attendance`;  register → :class:`Person`, :class:`Relationship`,
:class:`Plan`, :class:`AddressPeriod`;  match → :class:`MatchResult`;
rules → :class:`Flag`, :class:`Warning`;  output ← :class:`CheckResult`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from .algo.dates import PartialDate, local_wall_time


def _to_partial(value: Any) -> Any:
    if isinstance(value, PartialDate) or value is None:
        return value
    if isinstance(value, date):
        return PartialDate.of(value)
    if isinstance(value, str):
        return PartialDate.parse(value) if value.strip() else None
    raise TypeError("expected a date string")


PartialDateField = Annotated[
    PartialDate,
    BeforeValidator(_to_partial),
    PlainSerializer(lambda v: str(v), return_type=str),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")


# --- register -------------------------------------------------------------------------------
class Sex(str, Enum):
    female = "female"
    male = "male"
    unknown = "unknown"


class PlanType(str, Enum):
    CP = "CP"
    LAC = "LAC"
    CIN = "CIN"
    CP_UNBORN = "CP-UNBORN"


class RelationshipType(str, Enum):
    mother = "mother"
    father = "father"
    parent = "parent"
    step_parent = "step-parent"
    carer = "carer"
    partner_of_parent = "partner-of-parent"
    sibling = "sibling"
    half_sibling = "half-sibling"
    household_member = "household-member"
    # inverses the project infers from one-way records
    child = "child"
    step_child = "step-child"
    cared_for_child = "cared-for-child"
    partner_child = "partner-child"


class Person(_Frozen):
    person_id: str
    nhs_number: str | None = None
    given_name: str = ""
    family_name: str = ""
    birth_date: PartialDateField | None = None
    sex: Sex = Sex.unknown
    address_line: str = ""
    postcode: str = ""
    aliases: tuple[tuple[str, str], ...] = ()   # (given, family)


class AddressPeriod(_Frozen):
    person_id: str
    address_line: str = ""
    postcode: str = ""
    from_date: date | None = None
    to_date: date | None = None


class Relationship(_Frozen):
    """``related_person_id`` is ``relationship`` *to* ``person_id``."""

    person_id: str
    related_person_id: str
    relationship: RelationshipType
    from_date: date | None = None
    to_date: date | None = None
    inferred: bool = False

    def current_on(self, day: date) -> bool:
        if self.relationship in (RelationshipType.sibling, RelationshipType.half_sibling):
            return True
        return (self.from_date is None or self.from_date <= day) and (
            self.to_date is None or day <= self.to_date)


class Plan(_Frozen):
    person_id: str
    plan: PlanType
    start_date: date
    end_date: date | None = None
    category: str = ""
    local_authority: str = ""
    contact: str = ""


class Register(_Frozen):
    persons: tuple[Person, ...]
    relationships: tuple[Relationship, ...] = ()
    plans: tuple[Plan, ...] = ()
    addresses: tuple[AddressPeriod, ...] = ()


# --- attendance -------------------------------------------------------------------------------
class Coded(_Frozen):
    """A coded or free-text clinical term (HL7 CE/CWE, FHIR CodeableConcept)."""

    code: str = ""
    text: str = ""
    system: str = ""   # "ICD10", "SNOMED", or "" for free text


class Name(_Frozen):
    given: str = ""
    family: str = ""
    middle: str = ""


class Address(_Frozen):
    line: str = ""
    city: str = ""
    postcode: str = ""


class Identifier(_Frozen):
    value: str
    system: str = ""          # assigning authority / FHIR system
    type: str = ""            # identifier type code (NH, MR, ...)


class Demographics(_Frozen):
    nhs_number: str | None = None
    nhs_verified: bool | None = None
    identifiers: tuple[Identifier, ...] = ()
    names: tuple[Name, ...] = ()
    birth_date: PartialDateField | None = None
    sex: Sex = Sex.unknown
    addresses: tuple[Address, ...] = ()


class NextOfKin(_Frozen):
    # normalised: mother, father, parent, sibling, carer, step-parent, other
    relationship: str = ""
    code: str = ""              # the code as sent (HL7 table 0063, FHIR v3-RoleCode)
    demographics: Demographics = Demographics()


#: The earliest arrival an attendance may have. Older values are typing slips or placeholder
#: dates (``0001-01-01``), and a check's look-back arithmetic cannot run on them.
EARLIEST_ARRIVAL = datetime(1900, 1, 1)


class Attendance(_Frozen):
    attendance_id: str
    message_id: str = ""
    event: str = ""                      # A01/A04/A08, "fhir", "csv"
    arrival: datetime
    patient_class: str = ""
    patient: Demographics
    next_of_kin: tuple[NextOfKin, ...] = ()
    complaint: Coded | None = None
    diagnoses: tuple[Coded, ...] = ()
    # when the injury happened: a date alone when no time of day was sent (never its midnight)
    injury_time: datetime | date | None = None
    source: str = ""                     # file and position, for errors and audit
    # optional fields that could not be read and were not used, and values taken with less
    # precision than they seem to have, by field (no values)
    notes: tuple[str, ...] = ()
    # False when the arrival was sent as a date alone: ``arrival`` is then the start of that
    # day, the earliest it can have been, and no rule quotes hours from it
    arrival_time_given: bool = True

    @field_validator("arrival")
    @classmethod
    def _arrival_in_range(cls, value: datetime) -> datetime:
        """Held as UK wall-clock time, as the readers give it: an arrival with an offset (an
        Attendance built directly) is converted, so that it compares with the history."""
        try:
            value = local_wall_time(value)
        except OverflowError as exc:
            raise ValueError("the arrival cannot be converted to UK time") from exc
        if value < EARLIEST_ARRIVAL:
            raise ValueError("an arrival before 1900-01-01 cannot be checked")
        return value

    @field_validator("injury_time")
    @classmethod
    def _injury_time_in_uk(cls, value: datetime | date | None) -> datetime | date | None:
        if isinstance(value, datetime) and value.tzinfo is not None:
            try:
                return local_wall_time(value)
            except OverflowError as exc:
                raise ValueError("the injury time cannot be converted to UK time") from exc
        return value

    @property
    def arrival_date(self) -> date:
        return self.arrival.date()


# --- results ------------------------------------------------------------------------------------
Band = Literal["certain", "probable", "possible", "none"]
Level = Literal["info", "consider", "suspect"]


class FieldComparison(_Frozen):
    field: str
    level: str
    weight: float


class Candidate(_Frozen):
    person_id: str
    score: float
    band: Band
    comparisons: tuple[FieldComparison, ...] = ()
    note: str = ""


class MatchResult(_Frozen):
    person_id: str | None = None
    score: float = 0.0
    band: Band = "none"
    candidates: tuple[Candidate, ...] = ()
    comparisons: tuple[FieldComparison, ...] = ()
    method: str = ""


class Flag(_Frozen):
    code: str
    status: Literal["active", "previous"]
    subject: Literal["self", "sibling", "household"]
    person_id: str
    start: date
    end: date | None = None
    local_authority: str = ""
    contact: str = ""
    category: str = ""
    relationship: str = ""
    confirmed: bool = True


class Warning(_Frozen):
    code: str
    level: Level
    subject: Literal["self", "sibling", "household"] = "self"
    message: str = ""
    evidence: tuple[str, ...] = ()
    source: str = ""
    confirmed: bool = True


class CheckResult(_Frozen):
    attendance_id: str
    arrival: datetime | None = None
    match: MatchResult = MatchResult()
    flags: tuple[Flag, ...] = ()
    warnings: tuple[Warning, ...] = ()
    errors: tuple[str, ...] = ()
    #: the record was read but reports no arrival (an A03 discharge, an ORU result): nothing
    #: to check, and not a failure; ``errors`` says what it was
    not_arrival: bool = False
    message_id: str = ""
    injury: bool = False
    notes: tuple[str, ...] = Field(default=())
