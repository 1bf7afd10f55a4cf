"""Matching benchmark: safeflag against Splink on one generated world, and check latency.

    python bench/bench_match.py                         # 50,000 attendances, 10,000 children
    python bench/bench_match.py --no-splink --latency 10000,100000
    python bench/bench_match.py --skip-accuracy --latency 1000000

1. Accuracy and time. A world from :func:`safeflag.synth.generate_world` (registered children
   plus the parents and carers on the register; most attendees are *not* on the register).
   Each attendance is matched to a register person or to none. A prediction is a person id
   (bands certain/probable for safeflag; Splink's best candidate above its threshold).
   Printed: precision, recall and F1 against the generator's truth, twin false merges (an
   attendance matched to the co-twin), and seconds from the register in memory to every
   attendance decided, on one core.
   Splink 5 (DuckDB backend) is given the same normalised fields, standard comparisons with
   term-frequency adjustment, u by random sampling, m by EM, and its F1-best threshold
   (chosen with the truth, which favours Splink). It is a benchmark-only dependency: if it
   is not installed the run says so and skips it.
2. Attendee index: every attendance in arrival order through ``Matcher.attendee_for`` (the
   index of children whether or not on the register); pairwise precision/recall of "same
   child" links among attendances of children not on the register, and twin merges.
3. Latency: p50/p99 of single ``Matcher.match`` and in-process ``Safeflag.check`` calls
   against registers of the given sizes (persons, parents included), and the cold
   ``safeflag check`` command. Registers are generated once and cached under ``bench/out/``
   (git-ignored).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import json
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
PERSONS_PER_CHILD = 2.25


# --- scoring the predictions -------------------------------------------------------------------
def evaluate(world, predicted: dict[str, str | None]) -> dict:
    tp = fp = fn = twins = 0
    for attendance in world.attendances:
        aid = attendance.attendance_id
        truth, guess = world.truth[aid], predicted.get(aid)
        if guess is not None:
            if guess == truth:
                tp += 1
            else:
                fp += 1
                if guess == world.twin_of(world.child_of[aid]):
                    twins += 1
        if truth is not None and guess != truth:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
            "twin_merges": twins}


def _row(name: str, r: dict) -> str:
    return (f"{name:<22} {r['precision']:>9.5f} {r['recall']:>9.5f} {r['f1']:>9.5f} "
            f"{r['twin_merges']:>6d} {r['fp']:>6d} {r['fn']:>6d} {r['seconds']:>9.1f} "
            f"{r['cpu']:>9.1f}")


# --- safeflag ----------------------------------------------------------------------------------
def run_safeflag(world, train: bool, workers: int, defaults: bool = False
                 ) -> tuple[dict[str, str | None], dict]:
    """safeflag's batch linkage: register in memory, EM on the extract, then every
    attendance through the same matcher as ``safeflag check``, in ``workers`` processes.
    With ``defaults``, the documented default weights only (no estimation at all)."""
    from safeflag.match import Linker, MatchModel

    global _LINKER, _WORLD
    started, cpu = time.perf_counter(), time.process_time()
    linker = Linker(world.register, model=MatchModel.sized(len(world.register.persons))
                    if defaults else None)
    indexed = time.perf_counter()
    info: dict = {"index_seconds": indexed - started}
    if train:
        info["em_match_share"] = linker.train(world.attendances)
    trained = time.perf_counter()
    info["train_seconds"] = trained - indexed
    _LINKER, _WORLD = linker, world
    gc.freeze()         # the forked workers share these objects; keep them out of collections
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_match_part, [(k, workers) for k in range(workers)])
    else:
        parts = [_match_part((0, 1))]
    predicted: dict[str, str | None] = {}
    bands: Counter[str] = Counter()
    by_attendance: dict[str, tuple[str, str | None]] = {}
    worker_cpu = 0.0
    for part, part_cpu in parts:
        worker_cpu += part_cpu if workers > 1 else 0.0
        for aid, pid, band, top in part:
            predicted[aid] = pid
            bands[band] += 1
            by_attendance[aid] = (band, top)
    info["match_seconds"] = time.perf_counter() - trained
    info["seconds"] = time.perf_counter() - started
    info["cpu"] = time.process_time() - cpu + worker_cpu
    info.update(bands=dict(bands), workers=workers, model=linker.model,
                by_attendance=by_attendance)
    return predicted, info


_LINKER = None      # inherited by the forked matching workers
_WORLD = None


def _match_part(job: tuple[int, int]) -> tuple[list[tuple[str, str | None, str, str | None]],
                                              float]:
    """Match every ``workers``-th attendance, starting at ``part``."""
    part, workers = job
    cpu = time.process_time()
    out = []
    for attendance in _WORLD.attendances[part::workers]:
        result = _LINKER.match(attendance)
        top = result.person_id or (result.candidates[0].person_id if result.candidates else None)
        out.append((attendance.attendance_id, result.person_id, result.band, top))
    return out, time.process_time() - cpu


def calibration(world, matcher_bands: dict[str, tuple[str, str | None]]) -> list[str]:
    """How often each band's (top) person is the true child, on labelled data."""
    lines = []
    for band in ("certain", "probable", "possible", "none"):
        rows = [(aid, pid) for aid, (b, pid) in matcher_bands.items() if b == band]
        if not rows:
            continue
        right = sum(1 for aid, pid in rows if pid is not None and world.truth[aid] == pid)
        on_register = sum(1 for aid, _ in rows if world.truth[aid] is not None)
        lines.append(f"  {band:<9} {len(rows):>7,d} attendances; (top) person right "
                     f"{right / len(rows):.4f}; child on the register {on_register:,}")
    return lines


# --- Splink ------------------------------------------------------------------------------------
def _splink_tables(world) -> tuple[dict, dict]:
    """The same normalised fields safeflag compares, one column each."""
    from safeflag.match import demographics_identity, register_identities

    def columns(idents, ids):
        cols: dict[str, list] = {k: [] for k in ("unique_id", "first_name", "surname", "dob",
                                                  "sex", "postcode", "nhs")}
        for uid, ident in zip(ids, idents):
            cols["unique_id"].append(uid)
            cols["first_name"].append(next(iter(sorted(ident.firsts)), None)
                                      if ident.firsts else None)
            cols["surname"].append(ident.families[0] if ident.families else None)
            b = ident.birth
            cols["dob"].append(str(b) if b is not None and b.is_full else None)
            cols["sex"].append(ident.sex if ident.sex in ("female", "male") else None)
            cols["postcode"].append(ident.postcodes[0] if ident.postcodes else None)
            cols["nhs"].append(ident.nhs)
        return cols

    reg = register_identities(world.register)
    left = columns(reg, [i.ref for i in reg])
    queries = [demographics_identity(a.patient) for a in world.attendances]
    right = columns(queries, [a.attendance_id for a in world.attendances])
    return left, right


def run_splink(world) -> tuple[dict[str, str | None], dict] | None:
    try:
        import splink  # noqa: F401
        import splink.comparison_library as cl
        from splink import Linker, SettingsCreator, block_on
        from splink.backends.duckdb import DuckDBAPI
    except ImportError:
        print("Splink is not installed: skipping it (pip install splink — a benchmark-only "
              "dependency, not one of safeflag's).")
        return None
    import logging
    logging.getLogger("splink").setLevel(logging.WARNING)

    prep_started = time.perf_counter()
    left, right = _splink_tables(world)
    started, cpu = time.perf_counter(), time.process_time()
    db_api = DuckDBAPI()
    sdf_left = db_api.register(left, table_name="register")
    sdf_right = db_api.register(right, table_name="attendances")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.ExactMatch("nhs"),
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.PostcodeComparison("postcode"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("nhs"), block_on("dob"), block_on("first_name", "surname"),
            block_on("surname", "postcode"), block_on("first_name", "postcode"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([sdf_left, sdf_right], settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs")], recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    rows = predictions.as_record_list()
    best: dict[str, tuple[float, str]] = {}
    for row in rows:
        left_id, right_id = row["unique_id_l"], row["unique_id_r"]
        if row.get("source_dataset_l") == "attendances":
            left_id, right_id = right_id, left_id
        p = row["match_probability"]
        if right_id not in best or p > best[right_id][0]:
            best[right_id] = (p, left_id)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    # its best threshold: the F1-maximising cut on the best candidate's probability
    thresholds = sorted({round(p, 4) for p, _ in best.values()} | {0.5, 0.9, 0.99})
    chosen, chosen_f1, chosen_pred = 0.5, -1.0, {}
    for t in thresholds[:: max(1, len(thresholds) // 400)]:
        pred = {aid: pid for aid, (p, pid) in best.items() if p >= t}
        f1 = evaluate(world, pred)["f1"]
        if f1 > chosen_f1:
            chosen, chosen_f1, chosen_pred = t, f1, pred
    return chosen_pred, {"seconds": seconds, "cpu": cpu, "prep_seconds": started - prep_started,
                         "threshold": chosen, "pairs": len(rows)}


# --- attendee index ----------------------------------------------------------------------------
def run_attendees(world) -> dict:
    from safeflag.match import Matcher
    from safeflag.pipeline import index_register
    from safeflag.settings import MatchSettings
    from safeflag.store.sqlite import SqliteStore

    store = SqliteStore(":memory:")
    store.replace_register(world.register, index_register(world.register, store),
                           source="bench")
    matcher = Matcher(store, MatchSettings())
    started = time.perf_counter()
    attendee: dict[str, int] = {}
    for attendance in world.attendances:
        result = matcher.match(attendance.patient, attendance.next_of_kin)
        attendee[attendance.attendance_id], _ = matcher.attendee_for(
            attendance.patient, result.person_id, attendance.next_of_kin)
    seconds = time.perf_counter() - started
    outside = [a.attendance_id for a in world.attendances if world.truth[a.attendance_id] is None]
    by_pair: Counter[tuple[int, str]] = Counter((attendee[a], world.child_of[a]) for a in outside)
    by_attendee: Counter[int] = Counter(attendee[a] for a in outside)
    by_child: Counter[str] = Counter(world.child_of[a] for a in outside)
    pairs = lambda n: n * (n - 1) // 2  # noqa: E731
    tp = sum(pairs(n) for n in by_pair.values())
    linked = sum(pairs(n) for n in by_attendee.values())
    true = sum(pairs(n) for n in by_child.values())
    children_of: dict[int, set[str]] = defaultdict(set)
    for a in outside:
        children_of[attendee[a]].add(world.child_of[a])
    twin_merges = sum(1 for kids in children_of.values() for k in kids
                      if world.twin_of(k) in kids) // 2
    store.close()
    return {"precision": tp / linked if linked else 1.0, "recall": tp / true if true else 1.0,
            "true_pairs": true, "linked_pairs": linked, "twin_merges": twin_merges,
            "attendances": len(outside), "seconds": seconds}


# --- latency -----------------------------------------------------------------------------------
def _latency_db(persons: int, seed: int, queries: int) -> tuple[Path, Path, int]:
    """A register of about ``persons`` persons and query attendances, built once and cached."""
    from safeflag.pipeline import index_register
    from safeflag.store.sqlite import SqliteStore
    from safeflag.synth import generate_world

    folder = OUT / f"latency-{persons}-{seed}"
    ready = folder / "ready.json"
    if ready.exists():
        meta = json.loads(ready.read_text())
        return folder / "register.db", folder / "queries.hl7", meta["persons"]
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    world = generate_world(children=max(1, round(persons / PERSONS_PER_CHILD)),
                           attendances=queries, seed=seed, outside_ratio=0.0)
    generated = time.perf_counter()
    db = folder / "register.db"
    db.unlink(missing_ok=True)
    store = SqliteStore(db)
    store.replace_register(world.register, index_register(world.register, store),
                           source="bench")
    store.close()
    world.write_hl7(folder / "queries.hl7")
    ready.write_text(json.dumps({"persons": len(world.register.persons),
                                 "generate_seconds": round(generated - started, 1),
                                 "load_seconds": round(time.perf_counter() - generated, 1)}))
    print(f"  built the {len(world.register.persons):,}-person register in "
          f"{time.perf_counter() - started:.0f} s (cached in {folder})")
    return db, folder / "queries.hl7", len(world.register.persons)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return statistics.median(ordered), p99


def run_latency(persons: int, seed: int, queries: int) -> dict:
    import shutil

    from safeflag import Safeflag
    from safeflag.ingest import read_attendances
    from safeflag.models import Attendance

    db, hl7, actual = _latency_db(persons, seed, queries)
    work = db.with_name("work.db")
    shutil.copyfile(db, work)
    items = [a for a in read_attendances(hl7) if isinstance(a, Attendance)]
    with Safeflag.open(work) as sf:
        sf.matcher.match(items[0].patient, items[0].next_of_kin)        # model loaded once
        match_ms, match_cpu_ms, check_ms = [], [], []
        for attendance in items:
            t, c = time.perf_counter(), time.thread_time()
            sf.matcher.match(attendance.patient, attendance.next_of_kin)
            match_ms.append((time.perf_counter() - t) * 1000)
            match_cpu_ms.append((time.thread_time() - c) * 1000)
        for attendance in items:
            t = time.perf_counter()
            sf.check(attendance, record=False)
            check_ms.append((time.perf_counter() - t) * 1000)
    one = db.with_name("one.hl7")
    one.write_bytes(hl7.read_bytes().split(b"\n", 1)[0] + b"\n")     # the first message
    cold = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("safeflag")), "check", str(one),
                        "--db", str(work), "--format", "json"], check=True,
                       capture_output=True)
        cold.append(time.perf_counter() - t)
    work.unlink(missing_ok=True)
    return {"persons": actual, "match": _percentiles(match_ms),
            "match_cpu": _percentiles(match_cpu_ms), "check": _percentiles(check_ms),
            "cold": cold, "queries": len(items)}


# --- main --------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--attendances", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--no-em", action="store_true", help="keep the register-estimated m")
    parser.add_argument("--workers", type=int, default=2,
                        help="matching processes (Splink's DuckDB uses every core too)")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-attendees", action="store_true")
    parser.add_argument("--latency", default="10000,100000,1000000",
                        help="register sizes in persons, comma-separated ('' to skip)")
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{platform.processor() or 'cpu'}")

    if not args.skip_accuracy:
        from safeflag.synth import generate_world
        t = time.perf_counter()
        world = generate_world(children=args.children, attendances=args.attendances,
                               seed=args.seed)
        gc.freeze()     # the world stays in memory: keep it out of every garbage collection
        registered = sum(1 for v in world.truth.values() if v is not None)
        registered_ids = {c.child_id for c in world.children.values() if c.registered}
        twins = sum(1 for c in world.child_of.values() if world.twin_of(c) in registered_ids)
        print(f"\nworld: {len(world.register.persons):,} register persons "
              f"({args.children:,} children), {len(world.attendances):,} attendances "
              f"({registered:,} of registered children, {twins:,} of twins whose co-twin is "
              f"registered); generated in {time.perf_counter() - t:.1f} s")
        predicted, info = run_safeflag(world, train=not args.no_em, workers=args.workers)
        ours = evaluate(world, predicted) | {"seconds": info["seconds"], "cpu": info["cpu"]}
        print(f"\n{'':<22} {'precision':>9} {'recall':>9} {'F1':>9} {'twins':>6} "
              f"{'FP':>6} {'FN':>6} {'wall s':>9} {'cpu s':>9}")
        print(_row("safeflag", ours))
        plain, pinfo = run_safeflag(world, train=False, workers=args.workers, defaults=True)
        print(_row("safeflag, defaults", evaluate(world, plain) | {"seconds": pinfo["seconds"],
                                                                   "cpu": pinfo["cpu"]}))
        splink = None if args.no_splink else run_splink(world)
        if splink is not None:
            pred, sinfo = splink
            theirs = evaluate(world, pred) | {"seconds": sinfo["seconds"], "cpu": sinfo["cpu"]}
            print(_row("splink 5 (duckdb)", theirs))
            # safeflag's wall time includes normalising the register (its index build) and
            # the attendances (inside matching); Splink's input preparation is that same
            # normalisation, so the like-for-like total adds it.
            print(_row("splink, with input prep", theirs | {
                "seconds": sinfo["seconds"] + sinfo["prep_seconds"],
                "cpu": sinfo["cpu"] + sinfo["prep_seconds"]}))
        print(f"\nsafeflag: index {info['index_seconds']:.1f} s, EM {info['train_seconds']:.1f} s"
              + (f" (match share of candidate pairs {info['em_match_share']:.3f})"
                 if "em_match_share" in info else "")
              + f", matching {info['match_seconds']:.1f} s "
              f"({info['match_seconds'] / len(world.attendances) * 1000:.2f} ms each); "
              f"bands {info['bands']}; model {info['model'].source}, "
              f"prior {info['model'].prior:.1f}")
        if splink is not None:
            print(f"splink: best threshold {sinfo['threshold']}, {sinfo['pairs']:,} scored "
                  f"pairs above 0.01; input preparation (the same normalisation safeflag's "
                  f"times include) {sinfo['prep_seconds']:.1f} s")
        print("\ncalibration (labelled generated data), safeflag:")
        print("\n".join(calibration(world, info["by_attendance"])))
        print("\nweights (log2 m/u) in use:")
        for field_name, levels in info["model"].weights.items():
            print(f"  {field_name:<12} " + ", ".join(f"{lv} {w:+.1f}" for lv, w in levels.items()))
        if not args.skip_attendees:
            a = run_attendees(world)
            print(f"\nattendee index (children not on the register): {a['attendances']:,} "
                  f"attendances, {a['true_pairs']:,} true same-child pairs, "
                  f"{a['linked_pairs']:,} linked; pairwise precision {a['precision']:.5f}, "
                  f"recall {a['recall']:.5f}, twin merges {a['twin_merges']}, "
                  f"{a['seconds']:.1f} s with matching ({a['seconds'] / len(world.attendances) * 1000:.2f} ms each)")

    sizes = [int(s) for s in args.latency.split(",") if s.strip()]
    if sizes:
        print(f"\nlatency ({args.queries} attendances of registered children, with their "
              "recording errors):")
        print(f"{'persons':>10} {'match p50':>10} {'match p99':>10} {'(cpu p99)':>10} "
              f"{'check p50':>10} {'check p99':>10}   cold `safeflag check` (3 runs, s)")
        for size in sizes:
            r = run_latency(size, args.seed, args.queries)
            print(f"{r['persons']:>10,} {r['match'][0]:>8.2f}ms {r['match'][1]:>8.2f}ms "
                  f"{r['match_cpu'][1]:>8.2f}ms {r['check'][0]:>8.2f}ms {r['check'][1]:>8.2f}ms   "
                  + " ".join(f"{c:.2f}" for c in r["cold"]))
        print("(wall times on a shared machine include waiting for a core; cpu p99 is the "
              "matching work itself)")


if __name__ == "__main__":
    main()
