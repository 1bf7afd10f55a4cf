"""Triage checks while a batch runs against the same database: how long a nurse's check waits.

    python bench/bench_concurrent.py                                  # 100,000 attendances
    python bench/bench_concurrent.py --attendances 30000 --persons 10000 --every 0.5

The world is the one ``bench/bench_batch.py`` generates and caches (``bench/out/``). A
``safeflag batch`` process (with its workers) runs over the world's HL7 attendances against a
fresh copy of the register database, at its default lower CPU priority (``--batch-nice``).
While it runs, every ``--every`` seconds:

- a ``safeflag check`` process checks one new attendance (as a triage script calls it, so the
  time includes starting Python), and
- a long-lived process holding its own connection (as an integrated A&E system would) checks
  the next one with ``Safeflag.check``.

Each check is a real write (history and audit) competing with the batch for SQLite's write lock.
Printed: the batch's rate, and the p50 / p99 / max wall-clock time of each kind of check, with
how many failed (there should be none: writers wait for the lock up to the busy timeout).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import FILES, machine, prepare  # noqa: E402  (the shared world)


def _split_messages(path: Path, count: int, folder: Path) -> list[Path]:
    """The first ``count`` messages of an HL7 file, one file each."""
    text = path.read_text(encoding="latin-1")
    messages = ["MSH|" + m for m in text.split("MSH|")[1:count + 1]]
    out = []
    for i, message in enumerate(messages):
        one = folder / f"check-{i}.hl7"
        one.write_text(message, encoding="latin-1")
        out.append(one)
    return out


def _summary(label: str, times: list[float], failed: int) -> str:
    if not times:
        return f"{label}: none completed ({failed} failed)"
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return (f"{label}: {len(times)} checks, p50 {statistics.median(times):.0f} ms, "
            f"p99 {p99:.0f} ms, max {times[-1]:.0f} ms, {failed} failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attendances", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=float, default=1.0,
                        help="seconds between one triage check and the next")
    parser.add_argument("--batch-nice", type=int, default=10,
                        help="the batch's --nice (its default, 10; 0 = the same priority as "
                             "the checks)")
    args = parser.parse_args()

    folder = prepare(args.attendances, args.persons, args.seed, latency=2000)
    print(f"machine: {machine()}")
    safeflag = str(Path(sys.executable).with_name("safeflag"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "run.db"
        shutil.copy(folder / "register.db", db)
        checks = _split_messages(folder / "latency.hl7", 2000, work)
        started = time.perf_counter()
        batch = subprocess.Popen(
            [safeflag, "batch", str(folder / FILES["hl7"]), "--db", str(db), "--out",
             str(work / "out.ndjson"), "--workers", str(args.workers), "--user", "bench-batch",
             "--nice", str(args.batch_nice)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # an integrated system: one process, one connection, one check per request
        from safeflag import Safeflag, SafeflagError
        from safeflag.ingest import read_attendances
        from safeflag.models import Attendance

        in_process: list[float] = []
        cli: list[float] = []
        failed = {"cli": 0, "in process": 0}
        with Safeflag.open(db, user="bench-ed", channel="bench") as sf:
            i = 0
            while batch.poll() is None and i + 1 < len(checks):
                t0 = time.perf_counter()
                done = subprocess.run([safeflag, "check", str(checks[i]), "--db", str(db),
                                       "--user", "bench-triage"],
                                      capture_output=True, text=True, check=False)
                took = (time.perf_counter() - t0) * 1000
                if done.returncode == 0:
                    cli.append(took)
                else:
                    failed["cli"] += 1
                item = next(a for a in read_attendances(checks[i + 1])
                            if isinstance(a, Attendance))
                t0 = time.perf_counter()
                try:
                    sf.check(item)
                    in_process.append((time.perf_counter() - t0) * 1000)
                except SafeflagError as exc:      # report, keep measuring
                    failed["in process"] += 1
                    print(f"in-process check failed: {type(exc).__name__}: {exc}")
                i += 2
                time.sleep(args.every)
        _, err = batch.communicate()
        seconds = time.perf_counter() - started
        if batch.returncode != 0:
            raise SystemExit(f"batch failed ({batch.returncode}):\n{err}")
    print(f"batch: {args.attendances:,} HL7 attendances, {args.workers} workers, "
          f"--nice {args.batch_nice}, {seconds:.1f} s, {args.attendances / seconds:,.0f} att/s, "
          f"with a check of each kind every {args.every} s")
    print(_summary("  safeflag check (new process each)", cli, failed["cli"]))
    print(_summary("  Safeflag.check (long-lived process)", in_process, failed["in process"]))


if __name__ == "__main__":
    main()
