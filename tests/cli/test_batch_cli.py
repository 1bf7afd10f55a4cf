"""`safeflag batch`: exit statuses, quarantine and summary, as a script would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeflag.batch import lock_path, quarantine_path
from safeflag.cli import EXIT_CANNOT_RUN, EXIT_OK, EXIT_RECORD_ERRORS, app

from ..batch.worlds import hl7_message, new_db, small_world

runner = CliRunner()
GARBAGE = "MSH|^~\\&|EDIS|RXX01\rPID|1||broken\r"


@pytest.fixture(scope="module")
def world():
    return small_world(attendances=30, children=20, seed=3)


@pytest.fixture
def db(world, tmp_path):
    return new_db(tmp_path / "b.db", world)


def _batch(*args: str):
    return runner.invoke(app, ["batch", *args])


def test_all_records_read_exits_0_with_a_summary(world, db, tmp_path):
    src = tmp_path / "day.hl7"
    src.write_text("".join(hl7_message(a) for a in world.attendances), encoding="utf-8")
    out, summary = tmp_path / "out.ndjson", tmp_path / "summary.json"
    result = _batch(str(src), "--db", str(db), "--out", str(out), "--workers", "2",
                    "--summary-json", str(summary))
    assert result.exit_code == EXIT_OK, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 30
    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["records"] == figures["attendances"] == 30 and figures["errors"] == 0
    assert sum(figures["matches"].values()) == 30
    assert "30 records" in result.output and "matches:" in result.output


def test_some_records_unreadable_exits_1_and_quarantines_them(world, db, tmp_path):
    src = tmp_path / "day.hl7"
    src.write_text(hl7_message(world.attendances[0]) + GARBAGE, encoding="utf-8")
    out, held = tmp_path / "out.ndjson", tmp_path / "held.ndjson"
    result = _batch(str(src), "--db", str(db), "--out", str(out), "--quarantine", str(held),
                    "--workers", "1")
    assert result.exit_code == EXIT_RECORD_ERRORS, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [bool(x["errors"]) for x in lines] == [False, True]
    assert json.loads(held.read_text(encoding="utf-8"))["raw"].startswith("MSH|^~\\&|EDIS")
    assert "quarantined: 1" in result.output


@pytest.mark.parametrize("problem", ["missing input", "bad database", "no inputs",
                                     "output is a folder", "output folder missing",
                                     "summary folder missing", "unknown input format",
                                     "quarantine is the output"])
def test_could_not_run_exits_2(db, tmp_path, problem):
    src = tmp_path / "day.hl7"
    src.write_text(GARBAGE, encoding="utf-8")
    (tmp_path / "folder").mkdir()
    out = {"output is a folder": tmp_path / "folder",
           "output folder missing": tmp_path / "nowhere" / "out.ndjson"}.get(
        problem, tmp_path / "out.ndjson")
    args = {"missing input": [str(tmp_path / "nope.hl7"), "--db", str(db)],
            "bad database": [str(src), "--db", str(src.parent / "day.hl7" / "x.db")],
            "no inputs": ["--db", str(db)]}.get(problem, [str(src), "--db", str(db)])
    extra = {"summary folder missing": ["--summary-json", str(tmp_path / "no" / "s.json")],
             "unknown input format": ["--input-format", "xml"],
             "quarantine is the output": ["--quarantine", str(out)]}.get(problem, [])
    result = _batch(*args, "--out", str(out), *extra)
    assert result.exit_code == EXIT_CANNOT_RUN, result.output
    assert not (tmp_path / "out.ndjson").exists()
    assert not list(tmp_path.rglob("*.partial"))     # refused before anything was checked


# Another process holding a lock file as a running batch holds its OUT.lock (flock, its pid in
# the file) until its standard input closes.
HOLD = ("import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "os.write(fd, f'{os.getpid()}\\n'.encode())\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
@pytest.mark.parametrize("locked", ["--out", "--quarantine"])
@pytest.mark.parametrize("database", ["new", "existing"])
def test_a_run_another_batch_holds_off_makes_and_changes_no_database(world, tmp_path, locked,
                                                                    database):
    """Overlapping cron jobs: the second run is refused before it opens its database, so a
    --db naming none yet is not made (an empty database answers "no flags") and one that
    exists is left as it was, its files and all."""
    src = tmp_path / "day.hl7"
    src.write_text("".join(hl7_message(a) for a in world.attendances), encoding="utf-8")
    out, db = tmp_path / "out.ndjson", tmp_path / "sf.db"
    if database == "existing":
        new_db(db, world)
    target = out if locked == "--out" else quarantine_path(out)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock_path(target))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        before = _files(tmp_path)
        result = _batch(str(src), "--db", str(db), "--out", str(out), "--workers", "1")
        after = _files(tmp_path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.exit_code == EXIT_CANNOT_RUN, result.output
    assert (f"another safeflag batch (process {holder.pid}) is writing {target}; wait for it "
            f"to finish or choose another {locked}; nothing was checked") in result.output
    assert after == before
    assert db.exists() is (database == "existing")


@pytest.mark.parametrize("problem", ["missing input", "output folder missing",
                                     "quarantine is the output"])
def test_a_run_refused_before_it_starts_makes_no_database(tmp_path, problem):
    src = tmp_path / "day.hl7"
    src.write_text(GARBAGE, encoding="utf-8")
    out = (tmp_path / "nowhere" / "out.ndjson" if problem == "output folder missing"
           else tmp_path / "out.ndjson")
    given = str(tmp_path / "nope.hl7") if problem == "missing input" else str(src)
    extra = ["--quarantine", str(out)] if problem == "quarantine is the output" else []
    result = _batch(given, "--db", str(tmp_path / "sf.db"), "--out", str(out), *extra)
    assert result.exit_code == EXIT_CANNOT_RUN, result.output
    assert "nothing was checked" in result.output
    assert list(_files(tmp_path)) == ["day.hl7"]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\r\n", b"\x0b\x1c\r"])
@pytest.mark.parametrize("name", ["day.hl7", "day.csv", "day.json", "day.txt"])
def test_an_input_with_no_record_is_zero_records(db, tmp_path, name, content):
    """A day with no attendances: zero records, exit 0, whatever the file's name."""
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out.ndjson"
    result = _batch(str(src), "--db", str(db), "--out", str(out), "--workers", "1")
    assert result.exit_code == EXIT_OK, result.output
    assert out.read_text(encoding="utf-8") == ""
    assert "0 records" in result.output


def test_standard_input_is_read_as_a_stream(world, db, tmp_path):
    import subprocess
    import sys
    text = "".join(hl7_message(a) for a in world.attendances[:5]) + GARBAGE
    out = tmp_path / "out.ndjson"
    proc = subprocess.run([sys.executable, "-m", "safeflag.cli", "batch", "-", "--db", str(db),
                           "--out", str(out), "--workers", "2"],
                          input=text.encode(), capture_output=True, check=False)
    assert proc.returncode == EXIT_RECORD_ERRORS, proc.stderr
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [bool(x["errors"]) for x in lines] == [False] * 5 + [True]


def test_not_arrivals_get_a_line_but_leave_the_status_at_0(world, db, tmp_path):
    discharge = ("MSH|^~\\&|EDIS|RXX01|SF|RXX01|20140103163020||ADT^A03^ADT_A03|D1|P|2.4\r"
                 "PID|1||X1^^^RXX^MR||PARKER^LILY||20120314|F\r"
                 "PV1|1|E|||||||||||||||||V9|||||||||||||||||||||||||20140103161500\r")
    src = tmp_path / "feed.hl7"
    src.write_text(hl7_message(world.attendances[0]) + discharge, encoding="utf-8")
    out = tmp_path / "out.ndjson"
    result = _batch(str(src), "--db", str(db), "--out", str(out), "--workers", "1")
    assert result.exit_code == EXIT_OK, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and lines[1]["errors"] and not lines[0]["errors"]
    assert "1 not arrivals" in result.output


@pytest.mark.parametrize("args, expected", [((), [10]), (("--nice", "3"), [3]),
                                            (("--nice", "0"), [])])
def test_batch_runs_at_a_lower_cpu_priority_unless_told(world, db, tmp_path, nice_calls,
                                                        args, expected):
    """Triage checks on the same machine answer first (bench/bench_concurrent.py)."""
    src = tmp_path / "day.hl7"
    src.write_text("".join(hl7_message(a) for a in world.attendances[:3]), encoding="utf-8")
    result = _batch(str(src), "--db", str(db), "--out", str(tmp_path / "out.ndjson"),
                    "--workers", "1", *args)
    assert result.exit_code == EXIT_OK, result.output
    assert nice_calls == expected


def test_batch_priority_out_of_range_cannot_run(db, tmp_path):
    result = _batch("x.hl7", "--db", str(db), "--out", str(tmp_path / "o"), "--nice", "20")
    assert result.exit_code == 2 and "--nice" in result.output


@pytest.mark.parametrize("text, records", [("", 0), (GARBAGE, 1)])
def test_empty_standard_input_is_zero_records(db, tmp_path, text, records):
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["batch", "-", "--db", str(db), "--out", str(out),
                                 "--workers", "1"], input=text)
    assert result.exit_code == (EXIT_OK if not records else EXIT_RECORD_ERRORS), result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == records
