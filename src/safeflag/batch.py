"""Batch runs over attendance extracts: stream, check, write one NDJSON line per record.

Inputs are read lazily, so memory stays bounded whatever their size. Several inputs are merged
by arrival time (each input is expected in arrival order, as extracts are); an unreadable record
keeps its place in its input. Progress goes to standard error: a live bar on a terminal, a plain
line every few seconds otherwise.
"""

from __future__ import annotations

import heapq
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .ingest import IngestItem, read_attendances
from .models import Attendance, CheckResult
from .output import to_json_line
from .pipeline import Safeflag

__all__ = ["BatchSummary", "run_batch", "merge_by_arrival"]


@dataclass
class BatchSummary:
    records: int = 0
    errors: int = 0
    not_arrivals: int = 0
    bands: Counter = field(default_factory=Counter)
    flags: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, result: CheckResult) -> None:
        self.records += 1
        if result.errors:
            self.errors += 1
            return
        self.bands[result.match.band] += 1
        self.flags.update(f"{f.code}/{f.subject}/{f.status}" for f in result.flags)
        self.warnings.update(w.code for w in result.warnings)

    def describe(self) -> str:
        rate = self.records / self.seconds if self.seconds > 0 else 0.0
        lines = [f"{self.records} records in {self.seconds:.1f}s ({rate:,.0f}/s); "
                 f"{self.errors} with errors",
                 "matches: " + (", ".join(f"{k} {v}" for k, v in sorted(self.bands.items())) or "none"),
                 "flags: " + (", ".join(f"{k} {v}" for k, v in sorted(self.flags.items())) or "none"),
                 "warnings: " + (", ".join(f"{k} {v}" for k, v in sorted(self.warnings.items()))
                                 or "none")]
        return "\n".join(lines)


def merge_by_arrival(streams: Iterable[Iterator[IngestItem]]) -> Iterator[IngestItem]:
    """Merge per-input streams by arrival; an error keeps the place it had in its input."""
    def keyed(index: int, stream: Iterator[IngestItem]) -> Iterator[tuple]:
        last = datetime.min
        for position, item in enumerate(stream):
            if isinstance(item, Attendance):
                last = max(last, item.arrival.replace(tzinfo=None))
            yield (last, index, position, item)
    iterators = [keyed(i, s) for i, s in enumerate(streams)]
    for *_, item in heapq.merge(*iterators, key=lambda t: t[:3]):
        yield item


class _Progress:
    def __init__(self, every: float = 5.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every
        self.start = self.last = time.monotonic()

    def tick(self, count: int) -> None:
        now = time.monotonic()
        if self.tty and now - self.last >= 0.2:
            rate = count / max(now - self.start, 1e-9)
            sys.stderr.write(f"\rsafeflag batch: {count:,} records ({rate:,.0f}/s)")
            sys.stderr.flush()
            self.last = now
        elif not self.tty and now - self.last >= self.every:
            rate = count / max(now - self.start, 1e-9)
            sys.stderr.write(f"safeflag batch: {count:,} records ({rate:,.0f}/s)\n")
            self.last = now

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def run_batch(sf: Safeflag, inputs: list[str], out: str | Path,
              *, fmt: str | None = None) -> BatchSummary:
    """Check every record of ``inputs`` into ``out`` (NDJSON); return the run's summary."""
    summary = BatchSummary()
    progress = _Progress()
    started = time.monotonic()
    items = merge_by_arrival(read_attendances(p, fmt=fmt) for p in inputs)
    with open(out, "w", encoding="utf-8") as handle:
        for result in sf.check_items(items):
            handle.write(to_json_line(result) + "\n")
            summary.add(result)
            progress.tick(summary.records)
    progress.done()
    summary.seconds = time.monotonic() - started
    return summary
