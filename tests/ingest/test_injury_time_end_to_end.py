"""The injury time read from HL7 ACC-1 and FHIR Condition.onsetDateTime reaches
DELAYED_PRESENTATION: ``safeflag check --strict`` on each format, either side of the 24 hours
of ``rules/defaults.toml``."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from safeflag import Safeflag
from safeflag.algo.dates import PartialDate
from safeflag.cli import EXIT_OK, app
from safeflag.ingest import read_text
from safeflag.models import Attendance, Person, Plan, PlanType, Register, Sex
from safeflag.pipeline import index_register
from safeflag.store.sqlite import SqliteStore

ARRIVAL = datetime(2014, 1, 6, 10, 15)
LONDON = ZoneInfo("Europe/London")


def hl7(injured: datetime | None) -> str:
    ts = ARRIVAL.strftime("%Y%m%d%H%M%S")
    segments = [
        f"MSH|^~\\&|ED|RXX|SF|RXX|{ts}||ADT^A04^ADT_A01|C1|P|2.4",
        f"EVN|A04|{ts}",
        "PID|1||R1^^^RXX^MR~9434765919^^^NHS^NH||Doe^Jane||20130301|F",
        "PV1|1|E" + "|" * 17 + "V1" + "|" * 25 + ts,
        "DG1|1||S52.5^Fracture of lower end of radius^I10||" + ts + "|W",
    ]
    if injured is not None:
        segments.append(f"ACC|{injured.strftime('%Y%m%d%H%M%S')}")
    return "\r".join(segments) + "\r"


def fhir(injured: datetime | None) -> str:
    condition = {"resourceType": "Condition", "id": "c1",
                 "subject": {"reference": "Patient/p1"}, "encounter": {"reference": "Encounter/e1"},
                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                      "code": "S52.5"}]}}
    if injured is not None:
        condition["onsetDateTime"] = injured.replace(tzinfo=LONDON).isoformat()
    bundle = {"resourceType": "Bundle", "id": "b1", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:e1", "resource": {
            "resourceType": "Encounter", "id": "e1", "status": "arrived",
            "identifier": [{"value": "V1"}], "class": {"code": "EMER"},
            "subject": {"reference": "Patient/p1"},
            "period": {"start": ARRIVAL.replace(tzinfo=LONDON).isoformat()}}},
        {"fullUrl": "urn:uuid:p1", "resource": {
            "resourceType": "Patient", "id": "p1", "birthDate": "2013-03-01",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
                            "value": "9434765919"}],
            "name": [{"family": "Doe", "given": ["Jane"]}], "gender": "female"}},
        {"fullUrl": "urn:uuid:c1", "resource": condition}]}
    return json.dumps(bundle)


def check(text: str, tmp_path) -> dict:
    result = CliRunner().invoke(app, ["check", "-", "--db", str(tmp_path / "t.db"), "--strict"],
                                input=text)
    assert result.exit_code == EXIT_OK, result.output
    out = json.loads(result.output)
    assert out["errors"] == [] and out["attendance_id"] == "V1"
    return out


@pytest.mark.parametrize("writer", [hl7, fhir])
@pytest.mark.parametrize("before, fires", [
    (timedelta(days=3), True),                      # three days after the injury
    (timedelta(hours=25), True),
    (timedelta(hours=23), False),
    (timedelta(hours=3), False),                    # the same day
])
def test_delayed_presentation_from_the_recorded_injury_time(writer, before, fires, tmp_path):
    out = check(writer(ARRIVAL - before), tmp_path)
    delayed = [w for w in out["warnings"] if w["code"] == "DELAYED_PRESENTATION"]
    assert bool(delayed) is fires
    if fires:
        [warning] = delayed
        assert warning["level"] == "consider"
        days, hours = divmod(int(before.total_seconds()) // 3600, 24)
        assert any(f"recorded {days} day(s) {hours} hour(s) before arrival" in e
                   for e in warning["evidence"])


@pytest.mark.parametrize("writer", [hl7, fhir])
def test_without_an_injury_time_there_is_no_delayed_presentation(writer, tmp_path):
    out = check(writer(None), tmp_path)
    assert "DELAYED_PRESENTATION" not in [w["code"] for w in out["warnings"]]


@pytest.mark.parametrize("writer, bad, field", [
    (hl7, lambda text: text + "ACC|yesterday\r", "ACC-1"),
    (fhir, lambda text: text.replace('"code": "S52.5"}]}',
                                     '"code": "S52.5"}]}, "onsetDateTime": "last week"'),
     "Condition.onsetDateTime"),
])
def test_an_unreadable_injury_time_does_not_hide_the_childs_flags(writer, bad, field):
    """The injury time is optional: when it cannot be read, the child is still checked
    against the register and the output notes which field was not used."""
    text = bad(writer(None))
    assert "yesterday" in text or "last week" in text       # the bad value is really there
    [att] = list(read_text(text))
    assert isinstance(att, Attendance) and att.injury_time is None
    register = Register(
        persons=(Person(person_id="P1", given_name="Jane", family_name="Doe",
                        birth_date=PartialDate(2013, 3, 1), sex=Sex.female,
                        nhs_number="9434765919"),),
        plans=(Plan(person_id="P1", plan=PlanType.CP, start_date=date(2013, 6, 1),
                    local_authority="Test Council"),))
    with Safeflag(SqliteStore(":memory:")) as sf:
        sf.store.replace_register(register, index_register(register), source="test")
        result = sf.check(att)
    assert result.match.person_id == "P1"
    assert [(f.code, f.subject) for f in result.flags] == [("CP", "self")]
    assert any(n.startswith(field + ":") and "not used" in n for n in result.notes)
