"""The blocking-key tables' layout: a rowid table with a covering index (schema version 1)
against one table keyed by (key, id) without a rowid (version 2, today's).

    python bench/bench_key_tables.py                 # 3,000,000 keys already held
    python bench/bench_key_tables.py --held 5400000  # about what 1,000,000 attendances leave

A batch writes about 5.4 attendee keys per attendance (measured on the full-size world) and
commits them in groups; each key lands on a random page of the key index, so a group's commit
writes a page per key. For each layout the script fills a fresh WAL database with ``--held``
random keys, then writes ``--groups`` groups of 70 attendances' keys (378 keys, one commit each,
as a batch's group of about 0.1 s holds) and, after each, runs 70 candidate searches of 20 keys.
Printed: CPU and wall-clock seconds of the writes and commits, wall-clock seconds of the
searches, and the file's size.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from pathlib import Path

LAYOUTS = {
    "rowid table + covering index (v1)":
        "CREATE TABLE attendee_key (key TEXT NOT NULL, attendee_id INTEGER NOT NULL);"
        "CREATE INDEX attendee_key_cover ON attendee_key(key, attendee_id);",
    "keyed by (key, id), no rowid (v2)":
        "CREATE TABLE attendee_key (key TEXT NOT NULL, attendee_id INTEGER NOT NULL, "
        "PRIMARY KEY (key, attendee_id)) WITHOUT ROWID;",
}
KEYS_PER_GROUP = 378          # 70 attendances x 5.4 keys
SEARCHES_PER_GROUP = 70
KEYS_PER_SEARCH = 20


def _key(rng: random.Random) -> str:
    return f"GFD:{rng.randrange(10**6):06d}X:{rng.randrange(10**5)}"


def run(schema: str, path: Path, held: int, groups: int) -> tuple[float, float, float, int]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(schema)
    rng = random.Random(1)
    db.execute("BEGIN")
    db.executemany("INSERT OR IGNORE INTO attendee_key VALUES (?, ?)",
                   ((_key(rng), i // 5) for i in range(held)))
    db.execute("COMMIT")
    rng = random.Random(2)
    write_cpu = write_wall = search_wall = 0.0
    marks = ",".join("?" * KEYS_PER_SEARCH)
    for g in range(groups):
        cpu, wall = time.process_time(), time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR IGNORE INTO attendee_key VALUES (?, ?)",
                       ((_key(rng), 10**8 + g * 70 + i // 6) for i in range(KEYS_PER_GROUP)))
        db.execute("COMMIT")
        write_cpu += time.process_time() - cpu
        write_wall += time.perf_counter() - wall
        wall = time.perf_counter()
        for _ in range(SEARCHES_PER_GROUP):
            keys = [_key(rng) for _ in range(KEYS_PER_SEARCH)]
            db.execute(f"SELECT attendee_id FROM attendee_key WHERE key IN ({marks})",
                       keys).fetchall()
        search_wall += time.perf_counter() - wall
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return write_cpu, write_wall, search_wall, path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--held", type=int, default=3_000_000, help="keys already in the table")
    ap.add_argument("--groups", type=int, default=300, help="groups of 70 attendances written")
    args = ap.parse_args()
    print(f"{args.held:,} keys held; {args.groups} groups of {KEYS_PER_GROUP} keys written, "
          f"each followed by {SEARCHES_PER_GROUP} searches of {KEYS_PER_SEARCH} keys")
    print(f"{'layout':36} {'write CPU s':>11} {'write wall s':>12} {'search wall s':>13} "
          f"{'file MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, schema) in enumerate(LAYOUTS.items()):
            cpu, wall, search, size = run(schema, Path(tmp) / f"keys{n}.db", args.held,
                                          args.groups)
            print(f"{name:36} {cpu:11.2f} {wall:12.2f} {search:13.2f} {size / 1e6:8.0f}")


if __name__ == "__main__":
    main()
