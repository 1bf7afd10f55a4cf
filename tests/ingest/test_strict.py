"""--strict: hl7apy and fhir.resources validate each message; one that fails is refused with
an error naming it, and the fast reader alone still reads it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from safeflag import MessageError, read_text
from safeflag.cli import EXIT_OK, EXIT_RECORD_ERRORS, app
from safeflag.demo import demo_data

ENCOUNTER = {"resourceType": "Encounter", "id": "e1", "status": "finished",
             "class": {"code": "EMER"}, "period": {"start": "2014-01-03T10:00:00Z"},
             "subject": {"reference": "Patient/p1"}}
BUNDLE = {"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": ENCOUNTER}, {"resource": {"resourceType": "Patient", "id": "p1",
                                           "birthDate": "2012-03-14"}}]}


def demo_messages() -> str:
    with demo_data() as (_, attendances):
        return attendances.read_text()


def test_valid_hl7_passes_strict():
    items = list(read_text(demo_messages(), strict=True))
    assert len(items) == 5 and not any(isinstance(i, MessageError) for i in items)


def test_hl7_missing_a_required_segment_is_refused_only_in_strict():
    first = demo_messages().split("\nMSH")[0]
    broken = "\n".join(line for line in first.splitlines() if not line.startswith("EVN"))
    [strict] = read_text(broken, strict=True)
    assert isinstance(strict, MessageError) and strict.location == "structure"
    assert "CL0001" in str(strict) and "EVN" in str(strict)
    assert "MEGAN" not in str(strict)
    [lenient] = read_text(broken)
    assert not isinstance(lenient, MessageError)


def test_fhir_strict_refuses_what_fhir_resources_rejects():
    bad = json.loads(json.dumps(BUNDLE))
    bad["entry"][0]["resource"]["unknownField"] = 1
    [strict] = read_text(json.dumps(bad), strict=True)
    assert isinstance(strict, MessageError) and "unknownField" in str(strict)
    [lenient] = read_text(json.dumps(bad))
    assert not isinstance(lenient, MessageError)
    [good] = read_text(json.dumps(BUNDLE), strict=True)
    assert not isinstance(good, MessageError)
    ndjson = json.dumps(BUNDLE) + "\n" + json.dumps(bad) + "\n"
    items = list(read_text(ndjson, fmt="ndjson", strict=True))
    assert [isinstance(i, MessageError) for i in items] == [False, True]
    assert items[1].message_ref == "#2"


def test_check_strict_flag(tmp_path):
    first = demo_messages().split("\nMSH")[0]
    broken = "\n".join(line for line in first.splitlines() if not line.startswith("EVN"))
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(app, ["check", "-", "--db", db], input=broken).exit_code == EXIT_OK
    result = runner.invoke(app, ["check", "-", "--db", db, "--strict"], input=broken)
    assert result.exit_code == EXIT_RECORD_ERRORS
    assert "strict validation" in json.loads(result.output)["errors"][0]
