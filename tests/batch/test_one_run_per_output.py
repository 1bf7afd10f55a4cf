"""One run at a time per output: a second batch on the same OUT (overlapping cron jobs) or the
same quarantine file is refused at once and changes nothing; the lock ends with the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import safeflag.batch as batch
from safeflag import InputError, Safeflag
from safeflag.store.sqlite import SqliteStore

from .worlds import Stopped, ndjson_bundle, new_db, small_world, stop_after, write_hl7

CLI = [sys.executable, "-m", "safeflag.cli"]
GARBAGE = '{"resourceType": "Bundle", "entry": [\n'     # an unreadable line
FIRST = 300         # records sent before a one-process run waits for more (it reads 256 at a time)


@pytest.fixture(scope="module")
def world():
    return small_world(attendances=400, children=120, seed=7)


@pytest.fixture
def files(world, tmp_path):
    return (new_db(tmp_path / "o.db", world), write_hl7(world.attendances, tmp_path / "day.hl7"),
            tmp_path / "d.ndjson")


def _waiting_run(db: Path, out: Path, messages: list[str], workers: int = 1) -> subprocess.Popen:
    """A batch reading NDJSON lines on standard input, sent ``messages`` and then kept waiting
    for more: it holds its output until its input ends. Returned once it has written and
    quarantined what it could."""
    proc = subprocess.Popen([*CLI, "batch", "-", "--db", str(db), "--out", str(out),
                             "--workers", str(workers)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write("".join(messages).encode("utf-8"))
    proc.stdin.flush()
    partial, held = out.with_name(out.name + ".partial"), batch.quarantine_path(out)
    deadline, size, since = time.monotonic() + 120, -1, time.monotonic()
    while time.monotonic() < deadline and proc.poll() is None:
        now = partial.stat().st_size if partial.exists() else 0
        if now != size:
            size, since = now, time.monotonic()
        elif size and held.exists() and time.monotonic() - since > 1.0:
            return proc                        # written what it could, waiting for input
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the first run did not start writing: {proc.communicate()[1]!r}")


def _snapshot(out: Path) -> dict[str, bytes | None]:
    names = [out.name + s for s in ("", ".partial", ".quarantine.ndjson", ".lock")]
    return {n: (out.parent / n).read_bytes() if (out.parent / n).exists() else None
            for n in names}


def test_a_second_run_on_the_same_out_is_refused_and_changes_nothing(world, files):
    db, extract, out = files
    messages = [ndjson_bundle(a) + "\n" for a in world.attendances]
    first = _waiting_run(db, out, [messages[0], GARBAGE, *messages[1:FIRST]])
    try:
        before = _snapshot(out)
        second = subprocess.run([*CLI, "batch", str(extract), "--db", str(db), "--out",
                                 str(out), "--workers", "1"],
                                capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 2, second.stderr
        assert (f"another safeflag batch (process {first.pid}) is writing {out}; wait for it "
                "to finish or choose another --out") in second.stderr
        assert _snapshot(out) == before         # its partial output, quarantine and lock
        assert before[out.name + ".lock"] == f"{first.pid}\n".encode()
        _, err = first.communicate("".join(messages[FIRST:]).encode("utf-8"), timeout=120)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 1, err          # the one unreadable record
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(messages) + 1
    assert [x["attendance_id"] for x in lines if not x["errors"]] == [
        a.attendance_id for a in world.attendances]
    assert not batch.lock_path(out).exists()
    assert not batch.lock_path(batch.quarantine_path(out)).exists()

    # the first run finished: the same command now runs
    third = subprocess.run([*CLI, "batch", str(extract), "--db", str(db), "--out", str(out),
                            "--workers", "1"],
                           capture_output=True, text=True, timeout=120, check=False)
    assert third.returncode == 0, third.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(messages)
    assert not batch.lock_path(out).exists()


def _children(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1]
                                           .split()[1]) == pid:
                found.append(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_the_lock_ends_with_the_batch_process_not_its_workers(world, files):
    """A run killed with SIGKILL leaves its lock file, but not its lock, even while its worker
    processes (which notice their parent's death within half a second) still live."""
    db, _, out = files
    # with workers, a run reads 8 chunks of 256 ahead before checking the first: send more
    messages = [ndjson_bundle(a) + "\n" for a in world.attendances] * 6
    first = _waiting_run(db, out, [messages[0], GARBAGE, *messages[1:]], workers=2)
    workers = _children(first.pid)
    assert workers, "the run has worker processes"
    first.kill()
    first.wait(timeout=30)
    assert batch.lock_path(out).exists()        # left behind by the killed run
    with batch._one_run_writing((out, "--out"), (batch.quarantine_path(out), "--quarantine")):
        still = [pid for pid in workers if _alive(pid)]
        assert batch.lock_path(out).read_text() == f"{os.getpid()}\n"
    assert not batch.lock_path(out).exists()
    if not still:
        pytest.skip("the workers ended before the lock was tried")


def test_a_quarantine_file_another_run_is_writing_is_refused(world, files, tmp_path):
    """Two runs with other outputs but one --quarantine would remove and overwrite each
    other's unreadable records."""
    db, extract, out = files
    held = tmp_path / "held.ndjson"
    held.write_text('{"raw": "an earlier run\'s record"}\n', encoding="utf-8")
    with Safeflag(SqliteStore(db)) as sf:
        with batch._one_run_writing((tmp_path / "other.ndjson", "--out"),
                                    (held, "--quarantine")):
            with pytest.raises(InputError, match=f"is writing {held}; wait for it to finish "
                                                 "or choose another --quarantine"):
                batch.run_batch(sf, [str(extract)], out, quarantine=held, progress=False)
            assert held.read_text(encoding="utf-8").startswith('{"raw": "an earlier')
            made = {p.name for p in tmp_path.iterdir()} - {"held.ndjson.lock",
                                                            "other.ndjson.lock"}
            assert not [name for name in made if name.startswith(out.name)]
        summary = batch.run_batch(sf, [str(extract)], out, quarantine=held, progress=False)
    assert summary.records == len(world.attendances)
    assert not held.exists()                    # this run's: nothing unreadable
    assert not list(tmp_path.glob("*.lock"))


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_a_claim_taken_before_the_database_is_opened_is_the_run_s_lock(world, files, tmp_path):
    """`safeflag batch` takes the output's locks before it opens (or makes) the database, and
    hands them to the run; meanwhile no other run can have them."""
    db, extract, out = files
    with batch.claim_output(out) as claim:
        with pytest.raises(InputError, match=f"is writing {out}; wait for it to finish"):
            with batch.claim_output(out):
                pass
        with Safeflag(SqliteStore(db)) as sf:
            with pytest.raises(InputError, match="claim"):      # another run's output
                batch.run_batch(sf, [str(extract)], tmp_path / "other.ndjson", claim=claim,
                                progress=False)
            summary = batch.run_batch(sf, [str(extract)], out, claim=claim, progress=False)
            assert batch.lock_path(out).exists()               # still the caller's
    assert summary.records == len(world.attendances)
    assert not list(out.parent.glob("*.lock"))
    with Safeflag(SqliteStore(db)) as sf, pytest.raises(InputError, match="claim"):
        batch.run_batch(sf, [str(extract)], out, claim=claim, progress=False)   # given back


def test_a_lock_file_left_by_a_killed_run_does_not_stop_the_next(world, files):
    db, extract, out = files
    batch.lock_path(out).write_text("999999\n")
    with Safeflag(SqliteStore(db)) as sf:
        summary = batch.run_batch(sf, [str(extract)], out, progress=False)
    assert summary.records == len(world.attendances)
    assert not batch.lock_path(out).exists()


def test_without_flock_runs_are_not_kept_apart(world, files, monkeypatch):
    """Windows has no fcntl: the run goes ahead, unlocked (docs/operations.md says so)."""
    db, extract, out = files
    monkeypatch.setattr(batch, "fcntl", None)
    with Safeflag(SqliteStore(db)) as sf:
        with batch._one_run_writing((out, "--out")):
            summary = batch.run_batch(sf, [str(extract)], out, progress=False)
    assert summary.records == len(world.attendances)
    assert not batch.lock_path(out).exists()


def test_a_run_stopped_by_an_error_gives_its_lock_back_and_resumes(world, files, monkeypatch):
    db, extract, out = files
    with Safeflag(SqliteStore(db)) as sf:
        real = stop_after(monkeypatch, 25)
        with pytest.raises(Stopped):
            batch.run_batch(sf, [str(extract)], out, commit_every=10, progress=False)
        assert out.with_name(out.name + ".partial").exists()
        assert not list(out.parent.glob("*.lock"))
        monkeypatch.setattr(batch, "_check", real)
        summary = batch.run_batch(sf, [str(extract)], out, commit_every=10, progress=False)
    assert summary.records == len(world.attendances)
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(world.attendances)
