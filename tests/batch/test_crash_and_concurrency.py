"""Real processes: a batch killed with SIGKILL and rerun, and several writers on one database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safeflag.batch import lock_path

from .worlds import history_snapshot, new_db, small_world, table_counts, write_hl7

CLI = [sys.executable, "-m", "safeflag.cli"]
TOTAL = 1200


@pytest.fixture(scope="module")
def world():
    return small_world(attendances=TOTAL + 120, children=300, seed=23)


@pytest.fixture(scope="module")
def extract(world, tmp_path_factory) -> Path:
    return write_hl7(world.attendances[:TOTAL], tmp_path_factory.mktemp("x") / "day.hl7")


def _batch(db: Path, extract: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "batch", str(extract), "--db", str(db), "--out", str(out),
                             "--user", "sys:nightly", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _recorded(db: Path) -> int:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM attendance").fetchone()[0]
    finally:
        con.close()


def _assert_no_process_uses(db: Path, wait: float = 5.0) -> None:
    """No worker of a killed batch is left running (they watch for their parent's death)."""
    deadline = time.monotonic() + wait
    while True:
        alive = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and str(db).encode() in (proc / "cmdline").read_bytes():
                    alive.append(proc.name)
            except OSError:
                continue
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not alive, f"processes of the killed batch still running: {alive}"


@pytest.fixture(scope="module")
def clean_run(world, extract, tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    db = new_db(folder / "clean.db", world)
    proc = _batch(db, extract, folder / "out.ndjson")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return db, (folder / "out.ndjson").read_text(encoding="utf-8")


@pytest.mark.parametrize("kill_after", [1, 500])
def test_kill_and_rerun_records_everything_once(world, extract, clean_run, tmp_path, kill_after):
    clean_db, clean_out = clean_run
    db = new_db(tmp_path / "k.db", world)
    out = tmp_path / "out.ndjson"
    proc = _batch(db, extract, out, "--workers", "2")
    deadline = time.monotonic() + 120
    while _recorded(db) < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    killed_at = _recorded(db)
    assert proc.returncode == -signal.SIGKILL
    assert kill_after <= killed_at < TOTAL, "the run must be killed part way"
    assert not out.exists(), "a killed run must not leave an output that looks complete"
    assert lock_path(out).exists()              # its lock file is left, its lock is not
    _assert_no_process_uses(db)

    rerun = _batch(db, extract, out, "--workers", "2")
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    # nothing lost, nothing twice: the history, its attendees and the audit
    assert history_snapshot(db) == history_snapshot(clean_db)
    assert out.read_text(encoding="utf-8") == clean_out
    assert not lock_path(out).exists()
    con = sqlite3.connect(db)
    audited = {r[0] for r in con.execute("SELECT attendance_id FROM audit")}
    con.close()
    assert len(audited) == TOTAL


def test_second_full_run_links_the_same_children_and_parents(world, extract, clean_run, tmp_path):
    """Rerunning a whole extract records nothing twice: the same attendances of the same
    children with the same parents. Only the prompts already shown may grow — the second run
    knows the family from attendances the first run met later (and shows it)."""
    clean_db, _ = clean_run
    db = new_db(tmp_path / "p.db", world)
    for _ in range(2):
        proc = _batch(db, extract, tmp_path / "out.ndjson", "--workers", "2")
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    history, partition, parents = history_snapshot(db, parents=True)
    clean_history, clean_partition, clean_parents = history_snapshot(clean_db, parents=True)
    assert partition == clean_partition and parents == clean_parents
    without_shown = lambda rows: [r[:5] + r[6:] for r in rows]
    assert without_shown(history) == without_shown(clean_history)
    for row, clean in zip(history, clean_history):
        assert set(json.loads(clean[5])) <= set(json.loads(row[5]))
    assert table_counts(db) == table_counts(clean_db) | {"audit": 2 * TOTAL}


def test_checks_and_a_batch_write_the_same_database_at_once(world, extract, tmp_path):
    db = new_db(tmp_path / "c.db", world)
    singles = world.attendances[TOTAL:TOTAL + 120]
    files = [write_hl7(singles[i::4], tmp_path / f"terminal{i}.hl7") for i in range(4)]
    batch = _batch(db, extract, tmp_path / "out.ndjson", "--workers", "2")
    checks = [subprocess.Popen([*CLI, "check", str(f), "--db", str(db), "--user", f"nurse{i}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for i, f in enumerate(files)]
    for proc in [batch, *checks]:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    counts = table_counts(db)
    assert counts["attendance"] == TOTAL + len(singles)
    assert counts["audit"] == TOTAL + len(singles)
    con = sqlite3.connect(db)
    users = dict(con.execute("SELECT user, COUNT(*) FROM audit GROUP BY user").fetchall())
    con.close()
    assert users == {"sys:nightly": TOTAL, **{f"nurse{i}": 30 for i in range(4)}}
