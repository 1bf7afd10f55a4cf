"""Resuming a stopped batch: only its own partial output is resumed, and a run stopped after
its output was complete is not checked again.

A stop is simulated in-process by an exception at the chosen point (a kill at the same point
leaves the same files and database: every group is committed with its checkpoint)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import safeflag.batch as batch
from safeflag import Safeflag
from safeflag.store.sqlite import SqliteStore

from .worlds import Stopped, new_db, small_world, write_csv, write_hl7


@pytest.fixture(scope="module")
def world():
    return small_world(attendances=120, children=60, seed=31)


@pytest.fixture
def files(world, tmp_path):
    first = write_hl7(world.attendances[:60], tmp_path / "a.hl7")
    other = write_csv(world.attendances[60:], tmp_path / "b.csv")
    return new_db(tmp_path / "r.db", world), first, other, tmp_path / "out.ndjson"


def _run(db: Path, src: Path, out: Path, *, stop_after: int | None = None):
    """A batch in groups of 10; with ``stop_after``, stopped once that many records are
    checked (after their group was committed)."""
    real = batch._check
    seen = [0]

    def check(*args):
        if stop_after is not None and seen[0] >= stop_after:
            raise Stopped()
        seen[0] += 1
        return real(*args)

    with Safeflag(SqliteStore(db)) as sf:
        batch._check = check
        try:
            return batch.run_batch(sf, [str(src)], out, commit_every=10, progress=False)
        finally:
            batch._check = real


def _lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _audited(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


def test_a_run_resumes_its_own_partial_output(files):
    db, first, _, out = files
    with pytest.raises(Stopped):
        _run(db, first, out, stop_after=25)
    summary = _run(db, first, out)
    assert summary.records == 60 and len(_lines(out)) == 60
    assert _audited(db) == 60                   # the first 20 were not checked again


def test_another_runs_partial_output_is_not_resumed(files):
    """Run A stopped, run B into the same output stopped, A again: A's checkpoint no longer
    describes the partial file (B's), so A starts from its first record."""
    db, first, other, out = files
    with pytest.raises(Stopped):
        _run(db, first, out, stop_after=25)
    with pytest.raises(Stopped):
        _run(db, other, out, stop_after=45)
    summary = _run(db, first, out)
    lines = _lines(out)                         # every line JSON, one per record of A
    assert summary.records == 60 and len(lines) == 60
    ids = [line["attendance_id"] for line in lines]
    assert len(set(ids)) == 60


def test_a_partial_output_changed_since_is_not_resumed(files):
    db, first, _, out = files
    with pytest.raises(Stopped):
        _run(db, first, out, stop_after=25)
    committed = _audited(db)    # 20 in groups of 10; fewer a group on a slow machine (the
    assert 0 < committed < 25   # size follows the rate), so counted rather than assumed
    partial = out.with_name(out.name + ".partial")
    text = partial.read_bytes()
    partial.write_bytes(text.replace(b'"arrival"', b'"ARRIVAL"', 1))   # same length
    summary = _run(db, first, out)
    assert summary.records == 60 and len(_lines(out)) == 60
    assert _audited(db) == committed + 60       # all 60 checked: the committed ones again


def test_a_run_stopped_after_its_output_was_complete_is_not_checked_again(files, monkeypatch):
    db, first, _, out = files

    def stop(self):
        raise Stopped()
    with monkeypatch.context() as m:            # stopped between the rename and the clear
        m.setattr(batch._Checkpoint, "clear", stop)
        with pytest.raises(Stopped):
            _run(db, first, out)
    done = out.read_bytes()
    summary = _run(db, first, out)
    assert summary.records == 60 and summary.attendances == 60
    assert out.read_bytes() == done and _audited(db) == 60
    again = _run(db, first, out)                # the checkpoint is gone: a new, full run
    assert again.records == 60 and _audited(db) == 120


@pytest.mark.parametrize("arrival", ["arrival", "arrival_time"])
def test_a_resumed_run_quarantines_every_row_of_a_csv_whose_header_cannot_be_used(
        files, arrival):
    """The rows a stopped run already wrote are quarantined again, with their text, on the
    rerun (the quarantine belongs to the latest run)."""
    db, _, other, out = files
    header, rows = other.read_text(encoding="utf-8").split("\n", 1)
    other.write_text(header.replace("arrival", arrival) + "\n" + rows, encoding="utf-8")
    with pytest.raises(Stopped):
        _run(db, other, out, stop_after=25)
    summary = _run(db, other, out)
    assert summary.records == 60 and len(_lines(out)) == 60
    held = batch.quarantine_path(out)
    if arrival == "arrival":
        assert summary.errors == 0 and not held.exists()
        return
    records = [json.loads(x) for x in held.read_text(encoding="utf-8").splitlines()]
    assert summary.errors == summary.quarantined == len(records) == 60
    assert "".join(r["raw"] for r in records) == rows
    assert all(r["header"] == header.replace("arrival", arrival) + "\n" for r in records)
