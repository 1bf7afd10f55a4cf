"""`safeflag audit` and `check --user`: who looked at which child's flags, identifiers only."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from safeflag.audit import os_user
from safeflag.cli import EXIT_CANNOT_RUN, EXIT_OK, app
from safeflag.demo import demo_data

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "a.db"
    with demo_data() as (register, attendances):
        assert runner.invoke(app, ["register", "load", str(register), "--db", str(path)]
                             ).exit_code == EXIT_OK
        for user in ("nurse1", None):
            args = ["check", str(attendances), "--db", str(path)] + (["--user", user] if user else [])
            assert runner.invoke(app, args).exit_code == EXIT_OK
    return path


def _audit(db, *args: str):
    result = runner.invoke(app, ["audit", "--db", str(db), *args])
    assert result.exit_code == EXIT_OK, result.output
    return result.stdout


def test_csv_lists_every_check_with_user_attendance_and_persons(db):
    rows = list(csv.DictReader(io.StringIO(_audit(db))))
    assert len(rows) == 10
    assert {r["user"] for r in rows} == {"nurse1", os_user()}
    assert {r["channel"] for r in rows} == {"check"}
    first = rows[0]
    assert first["attendance_id"] == "V12050201" and first["person_ids"] == "CL-M"
    assert any("CL-ML" in r["person_ids"].split(";") for r in rows)   # the mother's CP-UNBORN


def test_json_export_filtered_by_user(db):
    entries = json.loads(_audit(db, "--format", "json", "--user", "nurse1"))
    assert len(entries) == 5 and {e["user"] for e in entries} == {"nurse1"}
    assert set(entries[0]) == {"at", "user", "attendance_id", "person_ids", "channel"}


def test_since_includes_today_and_excludes_tomorrow(db):
    from datetime import datetime, timedelta, timezone
    today = datetime.now(timezone.utc).date()
    assert len(json.loads(_audit(db, "--format", "json", "--since", str(today)))) == 10
    later = (today + timedelta(days=1)).isoformat()
    assert json.loads(_audit(db, "--format", "json", "--since", later)) == []


def test_audit_holds_identifiers_only(db):
    text = _audit(db, "--format", "json")
    for detail in ("WARD", "MEGAN", "Birch", "DN33", "2008-11-15", "20081115"):
        assert detail not in text


def test_export_to_a_file(db, tmp_path):
    out = tmp_path / "audit.csv"
    result = runner.invoke(app, ["audit", "--db", str(db), "--out", str(out)])
    assert result.exit_code == EXIT_OK
    assert len(out.read_text(encoding="utf-8").splitlines()) == 11


def test_an_export_to_a_folder_that_does_not_exist_is_a_one_line_error(db, tmp_path):
    out = tmp_path / "no-such-folder" / "audit.csv"
    result = runner.invoke(app, ["audit", "--db", str(db), "--out", str(out)])
    assert result.exit_code == EXIT_CANNOT_RUN
    assert result.output.startswith(f"safeflag: --out {out}: not a file in an existing folder")
    assert "Errno" not in result.output and not out.parent.exists()


@pytest.mark.parametrize("args", [["--since", "last tuesday"], ["--format", "xml"]])
def test_bad_options_cannot_run(db, args):
    assert runner.invoke(app, ["audit", "--db", str(db), *args]).exit_code == EXIT_CANNOT_RUN


def test_an_audit_of_a_database_that_does_not_exist_cannot_run(db, tmp_path):
    """A mistyped --db must not answer with an empty audit (and leave an empty database)."""
    missing = tmp_path / "typo" / "a.db"
    result = runner.invoke(app, ["audit", "--db", str(missing)])
    assert result.exit_code == EXIT_CANNOT_RUN and "no database" in result.output
    assert not missing.parent.exists()
    assert runner.invoke(app, ["audit", "--db", str(db)]).exit_code == EXIT_OK


@pytest.mark.parametrize("command", [["audit"], ["audit", "--format", "json"]])
def test_a_reader_that_stops_reading_ends_the_command_quietly(db, command):
    """``safeflag audit | head``: the pipe closes before the output is written; the command
    stops with the status of one killed by SIGPIPE, and says nothing on stderr."""
    import subprocess
    import sys

    from safeflag.cli import EXIT_READER_GONE
    proc = subprocess.Popen([sys.executable, "-m", "safeflag.cli", *command, "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                       # the reader goes away before anything is read
    assert proc.wait(timeout=60) == EXIT_READER_GONE == 141
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_a_check_whose_reader_stops_reading_ends_quietly_with_its_checks_recorded(tmp_path):
    import subprocess
    import sys

    from safeflag.cli import EXIT_READER_GONE
    from safeflag.store.sqlite import SqliteStore
    db = tmp_path / "c.db"
    with demo_data() as (register, attendances):
        assert runner.invoke(app, ["register", "load", str(register), "--db", str(db)]
                             ).exit_code == EXIT_OK
        proc = subprocess.Popen([sys.executable, "-m", "safeflag.cli", "check",
                                 str(attendances), "--db", str(db)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()
        assert proc.wait(timeout=60) == EXIT_READER_GONE
        assert proc.stderr.read() == b""
        proc.stderr.close()
    store = SqliteStore(db)
    try:
        assert len(list(store.audit_entries())) == 1    # the first check ran, then it stopped
    finally:
        store.close()
