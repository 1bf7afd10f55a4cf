"""Batch throughput and peak memory from HL7, FHIR NDJSON and CSV, and in-process check latency.

    python bench/bench_batch.py                                   # 100,000 attendances, 20,000 persons
    python bench/bench_batch.py --attendances 1000000 --persons 100000
    python bench/bench_batch.py --formats hl7 --workers 1,2       # compare worker counts

A world is generated with :func:`safeflag.synth.generate_world` and written once under
``bench/out/`` (git-ignored; reused while the sizes and seed are the same). Each batch then runs
in a fresh process against a fresh copy of a database holding only the register, end to end:
read, match, family, rules, history and audit writes, NDJSON output. Printed per run: records,
seconds, attendances per second, and peak resident memory of the batch process and of its
largest worker (``resource.getrusage``), the peak of the run's total proportional set size
(PSS, sampled each half second: each shared page counted once across the processes; needs
``psutil``, ``pip install -e '.[bench]'``), CPU seconds (all processes, and the batch process
alone) and the rate the run would reach with the CPUs to itself (the machine may be shared: the
batch process is the serial part, so records / max(its CPU time, total CPU / CPUs)). Then the
p50/p99 latency of ``Safeflag.check`` in
process, on attendances not seen before, against the database the HL7 run left (so with history).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
FILES = {"hl7": "attendances.hl7", "ndjson": "attendances.ndjson", "csv": "attendances.csv"}
PERSONS_PER_CHILD = 2.25        # the generator adds parents and carers to each registered child


def _world_folder(attendances: int, persons: int, seed: int) -> Path:
    return OUT / f"world-{attendances}-{persons}-{seed}"


def prepare(attendances: int, persons: int, seed: int, latency: int) -> Path:
    """Generate and write the world once; later runs with the same sizes reuse it."""
    from safeflag.pipeline import index_register
    from safeflag.store.sqlite import SqliteStore
    from safeflag.synth import generate_world

    folder = _world_folder(attendances, persons, seed)
    done = folder / "ready.json"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    children = max(1, round(persons / PERSONS_PER_CHILD))
    world = generate_world(children=children, attendances=attendances + latency, seed=seed)
    body, tail = world.attendances[:attendances], world.attendances[attendances:]
    world.attendances = body
    world.write_hl7(folder / FILES["hl7"])
    world.write_fhir_ndjson(folder / FILES["ndjson"])
    world.write_csv(folder / FILES["csv"])
    world.attendances = tail
    world.write_hl7(folder / "latency.hl7")
    store = SqliteStore(folder / "register.db")
    store.replace_register(world.register, index_register(world.register), source="generated")
    store.close()
    done.write_text(json.dumps({"persons": len(world.register.persons),
                                "attendances": len(body), "latency": len(tail),
                                "seconds": round(time.perf_counter() - started, 1)}))
    return folder


def _child(path: str, db: str, out: str, workers: int) -> None:
    """Run one batch in this (fresh) process and print its figures as JSON."""
    from safeflag import Safeflag
    from safeflag.batch import run_batch

    with Safeflag.open(db, user="bench") as sf:
        started = time.perf_counter()
        summary = run_batch(sf, [path], out, workers=workers, progress=False)
        seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"records": summary.records, "errors": summary.errors,
                      "seconds": seconds, "maxrss_kb": own.ru_maxrss,
                      "worker_maxrss_kb": kids.ru_maxrss,
                      "cpu_parent": own.ru_utime + own.ru_stime,
                      "cpu_workers": kids.ru_utime + kids.ru_stime,
                      "bands": dict(summary.bands), "warnings": sum(summary.warnings.values())}))


class PeakMemory(threading.Thread):
    """Samples the proportional set size (PSS) of a process and all its descendants every
    ``every`` seconds while it runs, and keeps the peak of their sum: the memory the run holds,
    each shared page (libraries, pages a forked worker has not written) counted once. The sum
    of each process's own peak RSS counts shared pages in every process and adds peaks that
    may not coincide, so it is an upper bound. ``peak_mib`` is None without ``psutil`` or
    where it cannot read PSS (Linux has it)."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_mib: float | None = None
        self._done = threading.Event()

    def run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._done.wait(self.every):
            total = 0
            try:
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                return                              # the run has ended
            for process in processes:
                try:
                    total += process.memory_full_info().pss
                except (psutil.Error, AttributeError):
                    continue                        # a worker ended between the two calls
            self.peak_mib = max(self.peak_mib or 0.0, total / 2**20)

    def stop(self) -> float | None:
        self._done.set()
        self.join()
        return self.peak_mib


def run_one(folder: Path, fmt: str, workers: int) -> dict:
    db = folder / f"run-{fmt}-{workers}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(folder / "register.db", db)
    out = folder / f"out-{fmt}-{workers}.ndjson"
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(folder / FILES[fmt]),
                             str(db), str(out), str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = PeakMemory(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    peak_pss = sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"batch run failed ({fmt}, {workers} workers):\n{stderr}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    figures["db"] = str(db)
    figures["peak_pss_mib"] = peak_pss
    return figures


def latency(folder: Path, db: str, n: int) -> tuple[float, float, float]:
    from safeflag import Safeflag
    from safeflag.ingest import read_attendances
    from safeflag.models import Attendance

    items = [a for a in read_attendances(folder / "latency.hl7") if isinstance(a, Attendance)][:n]
    times = []
    with Safeflag.open(db, user="bench") as sf:
        for attendance in items:
            started = time.perf_counter()
            sf.check(attendance)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return statistics.median(times), p99, max(times)


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def machine() -> str:
    cpus = _cpus()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal"))
        ram = f"{mem / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return (f"{model or platform.processor()}, {cpus} CPUs usable, {ram}, "
            f"Python {platform.python_version()}, SQLite "
            f"{__import__('sqlite3').sqlite_version}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attendances", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default="hl7,ndjson,csv")
    parser.add_argument("--workers", default=str(_cpus()),
                        help="comma-separated worker counts to run (1 = in one process)")
    parser.add_argument("--latency", type=int, default=2000, help="checks timed in process")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, db, out, workers = args.child
        _child(path, db, out, int(workers))
        return
    if args.prepare_only:
        prepare(args.attendances, args.persons, args.seed, args.latency)
        return

    folder = _world_folder(args.attendances, args.persons, args.seed)
    if not (folder / "ready.json").exists():
        # the world is made in a process of its own: Linux carries a process's peak RSS
        # (ru_maxrss) across fork and exec, so a parent that had held the world (7 GB at full
        # size) would lend that peak to every batch it starts, and "peak MiB" would show it
        subprocess.run([sys.executable, __file__, "--prepare-only",
                        "--attendances", str(args.attendances), "--persons", str(args.persons),
                        "--seed", str(args.seed), "--latency", str(args.latency)], check=True)
    made = json.loads((folder / "ready.json").read_text())
    print(f"machine: {machine()}")
    print(f"world: {made['persons']:,} register persons, {made['attendances']:,} attendances "
          f"(seed {args.seed}; generated and written in {made['seconds']}s, cached in {folder})")
    print(f"{'input':<8}{'workers':>8}{'records':>10}{'errors':>8}{'seconds':>9}"
          f"{'att/s':>9}{'peak MiB':>9}{'worker MiB':>11}{'CPU s':>8}{'batch CPU s':>12}"
          f"{'att/s if uncontended':>22}{'run PSS MiB':>13}")
    hl7_db = None
    for fmt in args.formats.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            f = run_one(folder, fmt, workers)
            rate = f["records"] / f["seconds"]
            cpu = f["cpu_parent"] + f["cpu_workers"]
            # the batch process is the serial part: with the CPUs to itself, a run takes at
            # least its own CPU time, and at least the total CPU time over the CPUs used
            bound = f["records"] / max(f["cpu_parent"], cpu / max(1, min(workers + 1, _cpus())))
            print(f"{fmt:<8}{workers:>8}{f['records']:>10,}{f['errors']:>8}{f['seconds']:>9.1f}"
                  f"{rate:>9,.0f}{f['maxrss_kb'] / 1024:>9.0f}{f['worker_maxrss_kb'] / 1024:>11.0f}"
                  f"{cpu:>8.0f}{f['cpu_parent']:>12.0f}{bound:>22,.0f}"
                  f"{_mib(f['peak_pss_mib']):>13}", flush=True)
            if fmt == "hl7":
                hl7_db = f["db"]
    if hl7_db and args.latency:
        p50, p99, worst = latency(folder, hl7_db, args.latency)
        print(f"check latency in process ({args.latency} new attendances, register "
              f"{made['persons']:,} persons, history of {made['attendances']:,}): "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms")


if __name__ == "__main__":
    main()
