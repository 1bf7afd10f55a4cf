"""--strict: hl7apy and fhir.resources validate each message; one that fails is refused with
an error naming it, and the fast reader alone still reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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


@pytest.mark.parametrize("field, value", [
    ("PID-7", "15-11-2008"),        # hl7apy: "15-11-2008 is not an HL7 valid date value"
    ("NK1-1", "WARD LEANNE"),       # hl7apy: "WARD LEANNE is not an HL7 valid SI value"
])
def test_strict_problems_never_quote_the_value_sent(field, value):
    from safeflag.ingest.hl7v2 import validate_hl7_strict

    # v2.5, where hl7apy checks date values (it does not in 2.4)
    first = demo_messages().split("\nMSH")[0].replace("\n", "\r").replace("|P|2.4", "|P|2.5")
    segments = first.split("\r")
    seg, n = field.split("-")
    for i, line in enumerate(segments):
        if line.startswith(seg + "|"):
            parts = line.split("|")
            parts += [""] * (int(n) + 1 - len(parts))
            parts[int(n)] = value
            segments[i] = "|".join(parts)
            break
    else:
        segments.append(f"{seg}|{value}")
    [problem] = validate_hl7_strict("\r".join(segments))
    assert "not an HL7 valid" in problem
    assert value not in problem and value.split()[0] not in problem


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


def _hl7_with_one_broken() -> str:
    """The demo's five messages with the first one's EVN segment removed: still readable, but
    not valid against ADT^A04's structure."""
    text = demo_messages().replace("\r\n", "\n")
    first, rest = text.split("\nMSH", 1)
    broken = "\n".join(line for line in first.splitlines() if not line.startswith("EVN"))
    return broken + "\nMSH" + rest


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_strict_quarantines_what_fails_validation(tmp_path, workers):
    src = tmp_path / "day.hl7"
    src.write_text(_hl7_with_one_broken(), encoding="utf-8")
    runner = CliRunner()
    lenient_out, strict_out = tmp_path / "lenient.ndjson", tmp_path / "strict.ndjson"
    lenient = runner.invoke(app, ["batch", str(src), "--db", str(tmp_path / "l.db"),
                                  "--out", str(lenient_out), "--workers", workers])
    assert lenient.exit_code == EXIT_OK, lenient.output
    strict = runner.invoke(app, ["batch", str(src), "--db", str(tmp_path / "s.db"),
                                 "--out", str(strict_out), "--workers", workers, "--strict"])
    assert strict.exit_code == EXIT_RECORD_ERRORS, strict.output
    lines = [json.loads(x) for x in strict_out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 5
    assert [bool(x["errors"]) for x in lines] == [True, False, False, False, False]
    assert "strict validation" in lines[0]["errors"][0] and "EVN" in lines[0]["errors"][0]
    held = [json.loads(x) for x in Path(str(strict_out) + ".quarantine.ndjson")
            .read_text(encoding="utf-8").splitlines()]
    assert len(held) == 1 and held[0]["raw"].startswith("MSH|")


def test_batch_strict_on_ndjson(tmp_path):
    bad = json.loads(json.dumps(BUNDLE))
    bad["entry"][0]["resource"]["unknownField"] = 1
    src = tmp_path / "day.ndjson"
    src.write_text(json.dumps(BUNDLE) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    out = tmp_path / "out.ndjson"
    result = CliRunner().invoke(app, ["batch", str(src), "--db", str(tmp_path / "n.db"),
                                      "--out", str(out), "--workers", "1", "--strict"])
    assert result.exit_code == EXIT_RECORD_ERRORS, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [bool(x["errors"]) for x in lines] == [False, True]
    assert "unknownField" in lines[1]["errors"][0]


def test_a_strict_run_does_not_resume_a_lenient_one(tmp_path):
    """The checkpoint of a stopped run is kept per reading settings: a strict run over the same
    inputs and output starts afresh rather than taking the lenient run's lines as its own."""
    from safeflag.batch import _Checkpoint
    from safeflag.store import open_store
    src = tmp_path / "day.hl7"
    src.write_text(_hl7_with_one_broken(), encoding="utf-8")
    store = open_store(tmp_path / "c.db")
    try:
        out = tmp_path / "out.ndjson"
        lenient = _Checkpoint(store, [str(src)], out, None)
        with store.transaction():
            lenient.save(3, 300, "ab" * 32)
        assert lenient.load() == (3, 300, "ab" * 32)
        assert _Checkpoint(store, [str(src)], out, None, strict=True).load() == (0, 0, "")
    finally:
        store.close()
