"""The command line: contract commands, formats and exit codes, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from safeflag.cli import EXIT_CANNOT_RUN, EXIT_OK, EXIT_RECORD_ERRORS, app
from safeflag.demo import demo_data

runner = CliRunner()

ARRIVAL = (
    "MSH|^~\\&|EDIS|RXX|SF|RXX|20140103163020||ADT^A04^ADT_A01|T1|P|2.4\r"
    "PID|1||X1^^^RXX^MR||PARKER^LILY||20120314|F|||14 Fern Close^^Grimsby^^DN32 7QX\r"
    "PV1|1|E|||||||||||||||||V1|||||||||||||||||||||||||20140103161500\r"
    "DG1|1||S89.9^Unspecified injury of lower leg^I10\r")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "sf.db"
    with demo_data() as (register, _):
        result = runner.invoke(app, ["register", "load", str(register), "--db", str(path)])
    assert result.exit_code == EXIT_OK, result.output
    assert "9 persons" in result.output
    return path


def test_check_json_from_stdin(db):
    result = runner.invoke(app, ["check", "-", "--db", str(db)], input=ARRIVAL)
    assert result.exit_code == EXIT_OK, result.output
    line = json.loads(result.output)
    assert list(line)[:6] == ["attendance_id", "arrival", "match", "flags", "warnings", "errors"]
    assert line["attendance_id"] == "V1" and line["arrival"] == "2014-01-03T16:15:00"
    assert line["match"]["person_id"] == "CL-L" and line["match"]["band"] in ("certain", "probable")
    assert {"code": "CIN", "status": "active", "subject": "self"}.items() <= line["flags"][0].items()


def test_check_text_and_fhir(db, tmp_path):
    f = tmp_path / "a.hl7"
    f.write_text(ARRIVAL)
    text = runner.invoke(app, ["check", str(f), "--db", str(db), "--format", "text"])
    assert text.exit_code == EXIT_OK and "INJURY_AFTER_CONCERN" in text.output
    assert "child in need plan" in text.output
    fhir = runner.invoke(app, ["check", str(f), "--db", str(db), "--format", "fhir"])
    bundle = json.loads(fhir.output)
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert bundle["resourceType"] == "Bundle" and kinds == {"Flag", "DetectedIssue"}
    # several records: one Bundle per line (NDJSON), not documents run together
    f.write_text(ARRIVAL + ARRIVAL.replace("|T1|", "|T2|").replace("|V1|", "|V2|"))
    fhir = runner.invoke(app, ["check", str(f), "--db", str(db), "--format", "fhir"])
    bundles = [json.loads(line) for line in fhir.output.splitlines()]
    assert [b["identifier"]["value"] for b in bundles] == ["V1", "V2"]


def test_check_unreadable_message_exits_1_with_an_error_line(db):
    bad = "MSH|^~\\&|EDIS|RXX|SF|RXX|20140103||ADT^A04|BAD1|P|2.4\rPID|1||X||P^L||2012139|F\r"
    result = runner.invoke(app, ["check", "-", "--db", str(db)], input=bad)
    assert result.exit_code == EXIT_RECORD_ERRORS
    line = json.loads(result.output.strip().splitlines()[0])
    assert line["errors"] and "BAD1" in line["errors"][0] and "PID-7" in line["errors"][0]


@pytest.mark.parametrize("what", ["missing", "folder", "empty", "blank stdin", "format"])
def test_check_with_nothing_to_check_exits_2(db, tmp_path, what):
    """A triage script expects one answer: no input, or an input with no record in it, is
    "could not run" (2), with a one-line reason and no made-up result."""
    target = {"missing": tmp_path / "nope.hl7", "folder": tmp_path,
              "empty": tmp_path / "empty.hl7", "blank stdin": "-", "format": "-"}[what]
    if what == "empty":
        target.write_bytes(b"")
    fmt = ["--input-format", "xml"] if what == "format" else []
    result = runner.invoke(app, ["check", str(target), "--db", str(db), *fmt],
                           input=ARRIVAL if what == "format" else "\r\n")
    assert result.exit_code == EXIT_CANNOT_RUN, result.output
    assert ("nothing was checked" if what != "format" else "--input-format") in result.output
    assert "attendance_id" not in result.output


def test_a_renumbering_reload_says_how_earlier_attendees_were_matched_again(db, tmp_path):
    assert runner.invoke(app, ["check", "-", "--db", str(db)], input=ARRIVAL).exit_code == 0
    with demo_data() as (register, _):
        folder = tmp_path / "renumbered"
        folder.mkdir()
        for src in register.iterdir():     # every person_id given another prefix
            (folder / src.name).write_text(src.read_text(encoding="utf-8").replace("CL-", "NE-"),
                                           encoding="utf-8")
    result = runner.invoke(app, ["register", "load", str(folder), "--db", str(db)])
    assert result.exit_code == EXIT_OK, result.output
    assert "matching earlier attendees again: 1 of 1" in result.output
    assert "1 matched again, 0 left unlinked" in result.output


def test_bad_register_exits_2_and_names_the_row(tmp_path):
    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / "persons.csv").write_text("person_id,birth_date\nP1,yesterday\n")
    result = runner.invoke(app, ["register", "load", str(folder), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == EXIT_CANNOT_RUN
    assert "persons.csv, line 2, column birth_date" in result.output


def test_batch_writes_one_line_per_record(db, tmp_path):
    src = tmp_path / "in.hl7"
    bad = "MSH|^~\\&|EDIS|RXX|SF|RXX|20140104||ADT^A04|BAD2|P|2.4\rPID|1||X||P^L||20121399|F\r"
    src.write_text(ARRIVAL + "\n" + bad)
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["batch", str(src), "--db", str(db), "--out", str(out)])
    assert result.exit_code == EXIT_RECORD_ERRORS
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [bool(x["errors"]) for x in lines] == [False, True]


@pytest.mark.parametrize("command", ["check", "batch"])
def test_a_database_path_in_a_folder_that_does_not_exist_is_refused(tmp_path, command):
    """A mistyped --db would otherwise make a new, empty database that answers "no flags"."""
    src = tmp_path / "a.hl7"
    src.write_text(ARRIVAL)
    missing = tmp_path / "no-such-folder" / "sf.db"
    args = [str(src), "--db", str(missing)]
    if command == "batch":
        args += ["--out", str(tmp_path / "out.ndjson")]
    result = runner.invoke(app, [command, *args])
    assert result.exit_code == EXIT_CANNOT_RUN
    assert "no folder" in result.output and "--db" in result.output
    assert not missing.parent.exists()


@pytest.mark.parametrize("what", ["blank stdin", "empty file"])
def test_check_with_nothing_to_check_makes_no_database(tmp_path, what):
    """Refused (exit 2) before the database is opened: a new --db is not made for it."""
    target = "-" if what == "blank stdin" else tmp_path / "empty.hl7"
    if what == "empty file":
        target.write_bytes(b"")
    fresh = tmp_path / "fresh.db"
    result = runner.invoke(app, ["check", str(target), "--db", str(fresh)], input="\r\n")
    assert result.exit_code == EXIT_CANNOT_RUN, result.output
    assert "holds no record; nothing was checked" in result.output
    assert not list(tmp_path.glob("fresh.db*"))


def test_a_new_database_or_one_without_a_register_is_said(tmp_path, db, caplog):
    fresh = tmp_path / "fresh.db"
    with caplog.at_level("WARNING", logger="safeflag.cli"):
        result = runner.invoke(app, ["check", "-", "--db", str(fresh)], input=ARRIVAL)
    assert result.exit_code == EXIT_OK, result.output
    said = " ".join(r.getMessage() for r in caplog.records)
    assert f"no database at {fresh}" in said and "no register is loaded" in said
    assert fresh.exists()
    caplog.clear()
    with caplog.at_level("WARNING", logger="safeflag.cli"):
        again = runner.invoke(app, ["check", "-", "--db", str(fresh)], input=ARRIVAL)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert again.exit_code == EXIT_OK and "no register is loaded" in said
    assert "no database at" not in said
    caplog.clear()
    with caplog.at_level("WARNING", logger="safeflag.cli"):
        loaded = runner.invoke(app, ["check", "-", "--db", str(db)], input=ARRIVAL)
    assert loaded.exit_code == EXIT_OK and not caplog.records


def test_the_demo_never_replaces_an_existing_database(db, tmp_path):
    before = db.read_bytes()
    result = runner.invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == EXIT_CANNOT_RUN and "already exists" in result.output
    assert db.read_bytes() == before
    kept = tmp_path / "demo-kept.db"
    result = runner.invoke(app, ["demo", "--db", str(kept), "--format", "json"])
    assert result.exit_code == EXIT_OK and kept.exists()
    assert len(result.output.splitlines()) == 5


def test_an_error_line_names_the_attendance_it_could_read(db):
    bad = ARRIVAL.replace("20120314", "20121399")
    result = runner.invoke(app, ["check", "-", "--db", str(db)], input=bad)
    assert result.exit_code == EXIT_RECORD_ERRORS
    line = json.loads(result.output)
    assert line["attendance_id"] == "V1" and "message T1" in line["errors"][0]


def test_demo_command_tells_the_story():
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == EXIT_OK, result.output
    for code in ("REPEAT_INJURY", "INJURY_AFTER_CONCERN", "HEAD_INJURY_UNDER_3"):
        assert code in result.output
    assert "ACTIVE child in need plan" in result.output


def test_installed_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "safeflag.cli", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "register" in result.stdout


def test_check_reports_a_non_arrival_without_failing(db):
    discharge = ("MSH|^~\\&|EDIS|RXX|SF|RXX|20140103||ADT^A03^ADT_A03|D1|P|2.4\r"
                 "PID|1||X1^^^RXX^MR||PARKER^LILY||20120314|F\r")
    result = runner.invoke(app, ["check", "-", "--db", str(db)], input=discharge)
    assert result.exit_code == EXIT_OK
    line = json.loads(result.output)
    assert line["errors"] and "A03" in line["errors"][0]
    assert line["not_arrival"] is True


def test_an_unreadable_message_is_not_marked_as_a_non_arrival(db):
    broken = ("MSH|^~\\&|EDIS|RXX|SF|RXX|20140103||ADT^A04^ADT_A01|B1|P|2.4\r"
              "PID|1||X1^^^RXX^MR||PARKER^LILY||2012031X|F\r")
    result = runner.invoke(app, ["check", "-", "--db", str(db)], input=broken)
    line = json.loads(result.output)
    assert line["errors"] and line["not_arrival"] is False


def test_an_unexpected_error_shows_no_patient_details(db, tmp_path):
    """A crash's traceback must not print the local variables (the message being read)."""
    f = tmp_path / "a.hl7"
    f.write_text(ARRIVAL)
    code = ("import sys, safeflag.pipeline as p\n"
            "path = sys.argv[1]\n"
            "def boom(self, item, record=True, user=None):\n"
            "    text = open(path).read()\n"
            "    raise RuntimeError('internal')\n"
            "p.Safeflag.check_item = boom\n"
            "from safeflag.cli import main\n"
            "sys.argv = ['safeflag', 'check', sys.argv[1], '--db', sys.argv[2]]\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code, str(f), str(db)], capture_output=True,
                          text=True, check=False, env={**__import__("os").environ,
                                                       "COLUMNS": "200", "TERM": "dumb"})
    assert proc.returncode != 0 and "RuntimeError" in proc.stderr
    assert "PARKER" not in proc.stderr and "Fern Close" not in proc.stderr
