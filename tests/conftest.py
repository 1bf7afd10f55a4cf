"""Shared builders: small registers and attendances made in code, checked in memory."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from safeflag import Safeflag
from safeflag.models import (Address, AddressPeriod, Attendance, Coded, Demographics, Name, Person, Plan,
                             PlanType, Register, Relationship, RelationshipType, Sex)
from safeflag.algo.dates import PartialDate
from safeflag.pipeline import index_register
from safeflag.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def person(pid: str, given: str, family: str, birth: str | None, sex: str = "female",
           postcode: str = "DN32 7QX", nhs: str | None = None) -> Person:
    return Person(person_id=pid, given_name=given, family_name=family,
                  birth_date=PartialDate.parse(birth) if birth else None, sex=Sex(sex),
                  postcode=postcode, nhs_number=nhs, address_line="1 Test Street")


def rel(pid: str, other: str, kind: str, start: str | None = None, end: str | None = None) -> Relationship:
    return Relationship(person_id=pid, related_person_id=other, relationship=RelationshipType(kind),
                        from_date=date.fromisoformat(start) if start else None,
                        to_date=date.fromisoformat(end) if end else None)


def plan(pid: str, kind: str, start: str, end: str | None = None) -> Plan:
    return Plan(person_id=pid, plan=PlanType(kind), start_date=date.fromisoformat(start),
                end_date=date.fromisoformat(end) if end else None,
                local_authority="Test Council", contact="duty team")


def attendance(aid: str, arrival: str, *, given: str = "Amy", family: str = "Smith",
               birth: str | None = "2020-01-15", sex: str = "female", postcode: str = "DN32 7QX",
               dx: tuple[str, ...] = ("S52.5",), complaint: str = "", nhs: str | None = None,
               event: str = "A04") -> Attendance:
    when = datetime.fromisoformat(arrival if "T" in arrival else arrival + "T10:00:00")
    patient = Demographics(nhs_number=nhs, names=(Name(given=given, family=family),),
                           birth_date=PartialDate.parse(birth) if birth else None, sex=Sex(sex),
                           addresses=(Address(postcode=postcode),) if postcode else ())
    return Attendance(attendance_id=aid, message_id=aid, event=event, arrival=when,
                      patient_class="E", patient=patient,
                      complaint=Coded(text=complaint) if complaint else None,
                      diagnoses=tuple(Coded(code=c, system="ICD10") for c in dx))


def load(sf: Safeflag, persons: list[Person], relationships: list[Relationship] = (),
         plans: list[Plan] = (), addresses: list[AddressPeriod] = ()) -> None:
    register = Register(persons=tuple(persons), relationships=tuple(relationships),
                        plans=tuple(plans), addresses=tuple(addresses))
    sf.store.replace_register(register, index_register(register), source="test")


@pytest.fixture
def sf() -> Safeflag:
    s = Safeflag(SqliteStore(":memory:"))
    yield s
    s.close()
