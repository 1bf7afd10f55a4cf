"""Batch runs over attendance extracts: stream, check, write one NDJSON line per record.

- **Bounded memory**: inputs are streamed; a fixed window of records is in flight.
- **Arrival order**: several inputs are merged by arrival time (each is expected in arrival
  order); an unreadable record keeps its place in its input. A record that arrived before one
  read earlier in its input is counted (:mod:`safeflag.arrivals`): a warning and the summary
  say so.
- **Every record accounted for**: one output line per input record, errors included; unreadable
  records also go, raw, to a quarantine file (mode 0600, created only when needed).
- **Both cores**: worker processes read HL7 / NDJSON records and match them to the register
  (work that depends on the register only); this process checks every record in arrival order
  (attendee index, history, rules, audit), so results and history equal a one-at-a-time replay.
- **Crash safety**: checks are committed in groups (a savepoint each) with a checkpoint of the
  output written so far; a killed run, run again, resumes there and ends as an unstopped run
  would, recording nothing twice. OUT appears (renamed from ``OUT.partial``) only when complete.
- **One run per output**: a run holds an exclusive lock on ``OUT.lock`` and on its quarantine
  file's ``.lock`` from before it touches anything; another run on the same files is refused at
  once, changing nothing. The lock ends with the batch process, however it ends. A caller
  that opens (or creates) its database for the run takes the locks first
  (:func:`claim_output`), so a refused run does not make a database either.
- **Progress** on standard error: a live line on a terminal, a plain line every few seconds
  otherwise. See ``docs/operations.md``.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import io
import itertools
import json
import logging
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO, TypeVar

from .arrivals import ADVICE, ArrivalOrder, input_name
from .errors import InputError, MessageError, NotAnArrival, StoreError
from .ingest import IngestItem, blank_input, check_inputs, detect_format, read_attendances
from .models import Attendance, CheckResult
from .output import to_json_line
from .pipeline import Prepared, Safeflag
from .settings import Settings
from .store import Store, open_store

try:
    import fcntl
except ImportError:            # Windows: no flock; runs on one output are not kept apart
    fcntl = None               # type: ignore[assignment]

__all__ = ["BatchSummary", "BatchItem", "Quarantine", "run_batch", "read_batch_items",
           "merge_by_arrival", "default_workers", "quarantine_path", "lock_path",
           "claim_output", "OutputClaim"]

log = logging.getLogger("safeflag.batch")

_CHUNK = 256                 # records per worker task
_WINDOW = 8                  # tasks in flight per input (bounds memory)
_HEAD = 64 * 1024
T = TypeVar("T")


def default_workers() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:       # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def quarantine_path(out: str | Path) -> Path:
    """The default quarantine file for an output file: ``OUT.quarantine.ndjson``."""
    return Path(str(out) + ".quarantine.ndjson")


@dataclass(frozen=True)
class BatchItem:
    """One input record, read: the attendance or error, its raw text when it could not be read
    (for the quarantine; a CSV row's with the header it was read under), and the register-only
    part of its check when a worker already made it."""

    item: IngestItem
    raw: str | None = None
    prepared: Prepared | None = None
    header: str | None = None     # a CSV row's: the header line it was read under


# --- summary -----------------------------------------------------------------------------------
@dataclass
class BatchSummary:
    records: int = 0            # output lines = input records
    attendances: int = 0        # records checked
    errors: int = 0             # unreadable records (quarantined)
    not_arrivals: int = 0       # readable messages that are not arrivals (A03, ...)
    bands: Counter = field(default_factory=Counter)
    flags: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    quarantined: int = 0
    quarantine: str = ""
    workers: int = 1
    seconds: float = 0.0
    # per input: records that arrived before a record read earlier in it (arrivals.py)
    out_of_order: Counter = field(default_factory=Counter)

    def add(self, record: dict, item: IngestItem) -> None:
        """Count one output record (the contract's JSON object) read from ``item``."""
        self.records += 1
        if isinstance(item, NotAnArrival):
            self.not_arrivals += 1
            return
        if record["errors"]:
            self.errors += 1
            return
        self.attendances += 1
        self.bands[record["match"]["band"]] += 1
        self.flags.update(f["code"] for f in record["flags"])
        self.warnings.update(w["code"] for w in record["warnings"])

    def as_dict(self) -> dict[str, object]:
        return {"records": self.records, "attendances": self.attendances,
                "errors": self.errors, "not_arrivals": self.not_arrivals,
                "out_of_order": self.out_of_order.total(),
                "out_of_order_inputs": dict(sorted(self.out_of_order.items())),
                "matches": dict(sorted(self.bands.items())),
                "flags": dict(sorted(self.flags.items())),
                "warnings": dict(sorted(self.warnings.items())),
                "quarantined": self.quarantined, "quarantine": self.quarantine or None,
                "workers": self.workers, "seconds": round(self.seconds, 3)}

    def describe(self) -> str:
        rate = self.records / self.seconds if self.seconds > 0 else 0.0

        def counts(c: Counter) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"
        lines = [f"{self.records:,} records in {self.seconds:.1f}s ({rate:,.0f}/s, "
                 f"{self.workers} worker{'s' if self.workers != 1 else ''}): "
                 f"{self.attendances:,} attendances checked, {self.errors:,} unreadable, "
                 f"{self.not_arrivals:,} not arrivals",
                 f"matches: {counts(self.bands)}",
                 f"flags: {counts(self.flags)}",
                 f"warnings: {counts(self.warnings)}"]
        if self.out_of_order.total():
            where = ", ".join(f"{input_name(k)} {v:,}"
                              for k, v in sorted(self.out_of_order.items()))
            lines.append(f"not in arrival order: {self.out_of_order.total():,} records ({where}) "
                         "arrived before records read earlier in their input; the checks of "
                         f"those could not see them, so warnings may be missing: {ADVICE}")
        if self.quarantined:
            lines.append(f"quarantined: {self.quarantined:,} unreadable records in "
                         f"{self.quarantine}")
        return "\n".join(lines)


# --- quarantine --------------------------------------------------------------------------------
class Quarantine:
    """Unreadable records with their raw text, one JSON object per line, for repair and resend.

    The file is created on the first record (mode 0600: it holds patient data) and a stale one
    from an earlier run is removed at the start, so it always belongs to the latest run.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        self._handle: TextIO | None = None
        self.path.unlink(missing_ok=True)

    def add(self, error: MessageError, raw: str | None, header: str | None = None) -> None:
        """One record; ``header`` is a CSV row's header line (``header + raw`` reads again as
        an extract of that one row)."""
        if self._handle is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._handle = open(fd, "w", encoding="utf-8")
        record = {"source": error.source, "message": error.message_ref,
                  "attendance_id": error.attendance_id, "location": error.location,
                  "reason": error.reason, "error": error.describe(), "raw": raw}
        if header is not None:
            record["header"] = header
        self._handle.write(json.dumps(record) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


# --- reading -----------------------------------------------------------------------------------
def _peek(fp: BinaryIO) -> bytes:
    if isinstance(fp, io.BufferedReader):
        return fp.peek(_HEAD)[:_HEAD]
    head = fp.read(_HEAD)
    fp.seek(0)
    return head


def _ndjson_units(fp: BinaryIO) -> Iterator[tuple[int, str]]:
    from .ingest import fhir, text_lines
    for number, line in enumerate(text_lines(fp, fhir.MAX_LINE_CHARS), start=1):
        if line.strip():
            yield number, line


def _raw_text(latin1: str) -> str:
    """A message read byte-transparently, as text: UTF-8 where it decodes, escapes elsewhere."""
    return latin1.encode("latin-1").decode("utf-8", "surrogateescape")


def parse_units(kind: str, source: str, units: list[tuple[int, str]],
                preparer: Safeflag | None = None, *, strict: bool = False) -> list[BatchItem]:
    """Read a run of raw HL7 messages or NDJSON lines, as :func:`read_attendances` would (with
    ``strict`` as there); with a ``preparer``, make each attendance's register-only part of the
    check too (:meth:`Safeflag.prepare`)."""
    from .ingest import er7, fhir, hl7v2
    out: list[BatchItem] = []
    for position, text in units:
        try:
            if kind == "hl7":
                items: list[IngestItem] = [hl7v2.parse_hl7(
                    er7.decode_message_bytes(text, position, source), position, source,
                    strict=strict)]
            else:
                items = list(fhir.parse_ndjson_line(text, position, source, strict=strict))
        except MessageError as exc:
            raw = _raw_text(text) if kind == "hl7" else text
            out.append(BatchItem(exc, raw=raw))
            continue
        for item in items:      # an NDJSON line holds one item per Encounter
            if isinstance(item, MessageError):
                out.append(BatchItem(item, raw=text))
                continue
            prepared = preparer.prepare(item) if preparer is not None else None
            out.append(BatchItem(item, prepared=prepared))
    return out


def _csv_items(fp: BinaryIO, source: str) -> Iterator[BatchItem]:
    from .ingest import csv_extract, text_lines
    from .ingest._common import MAX_MESSAGE_CHARS
    for item, raw, header in csv_extract.iter_csv_records(text_lines(fp, MAX_MESSAGE_CHARS),
                                                         source):
        yield (BatchItem(item, raw=raw, header=header) if isinstance(item, MessageError)
               else BatchItem(item))


def _fhir_items(fp: BinaryIO, source: str, strict: bool) -> Iterator[BatchItem]:
    """A FHIR JSON document's items as :func:`read_attendances` reads them, each error with
    its raw text: the document's, or the entry's when the error is one Encounter's."""
    from .ingest import _MAX_JSON_BYTES, _fhir_document, fhir
    data = fp.read(_MAX_JSON_BYTES + 1)
    try:
        text = data.decode("utf-8-sig") if len(data) <= _MAX_JSON_BYTES else None
    except UnicodeDecodeError:
        text = None
    if text is None:        # refused whole, as the reader refuses it; over 256 MB: not copied
        raw = (data.decode("utf-8-sig", "surrogateescape") if len(data) <= _MAX_JSON_BYTES
               else None)
        for item in _fhir_document(data, source, strict):
            yield BatchItem(item, raw=raw)
        return
    for item, raw in fhir.parse_fhir_document(text, "#1", source, strict=strict):
        yield BatchItem(item, raw=raw)


def read_batch_items(path: str, *, fmt: str | None = None, pool: "_Pool | None" = None,
                     strict: bool = False) -> Iterator[BatchItem]:
    """Every record of one input, in input order, with raw text for unreadable ones.

    HL7 and NDJSON records are read and prepared (:meth:`Safeflag.prepare`) by ``pool``
    workers when one is given, in bounded windows; CSV rows and FHIR JSON documents are read
    here and prepared by the workers. ``strict`` validates HL7 and FHIR records as
    :func:`~safeflag.ingest.read_attendances` does (CSV has no schema to validate against).
    """
    from .ingest import er7
    source = "-" if path == "-" else str(path)
    try:
        fp: BinaryIO = sys.stdin.buffer if source == "-" else open(path, "rb")
    except OSError as exc:
        yield BatchItem(MessageError(f"cannot open the file ({exc.strerror or type(exc).__name__})",
                                     source=source))
        return
    try:
        head = _peek(fp)
        if not head or (source != "-" and blank_input(head)
                        and os.fstat(fp.fileno()).st_size < _HEAD):
            return        # an input with no record in it: zero records, not an unreadable one
        try:
            kind = fmt or detect_format(head, name=source)
        except MessageError as exc:
            yield BatchItem(exc)
            return
        if kind in ("hl7", "ndjson"):
            units = er7.iter_hl7_stream(fp) if kind == "hl7" else _ndjson_units(fp)
            if pool is None:
                for chunk in _chunked(units, _CHUNK):
                    yield from parse_units(kind, source, chunk, strict=strict)
            else:
                yield from pool.map_ordered(kind, source, _chunked(units, _CHUNK), strict)
        else:
            entries = (_csv_items(fp, source) if kind == "csv" else
                       _fhir_items(fp, source, strict) if kind == "fhir" else
                       (BatchItem(item) for item in read_attendances(path, fmt=kind,
                                                                     strict=strict)))
            yield from pool.prepare_ordered(entries) if pool is not None else entries
    finally:
        if fp is not sys.stdin.buffer:
            fp.close()


def _chunked(units: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for unit in units:
        chunk.append(unit)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- worker processes --------------------------------------------------------------------------
_WORKER: dict[str, Safeflag | None] = {}


def _watch_parent(parent: int) -> None:
    """End this worker when the batch that started it is gone (killed, even with SIGKILL):
    its task pipe stays open in sibling workers, so it would otherwise wait for ever."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


#: Cyclic garbage collector thresholds for a worker (Python's defaults: 700, 10, 10). A run
#: keeps a large heap of long-lived objects (the history in memory, register reads, match
#: identities) that collections would scan again and again for cycles the pipeline hardly
#: makes: at the defaults they took 40% of the batch process's CPU over 30,000 attendances
#: (docs/performance.md).
_WORKER_GC_THRESHOLDS = (50_000, 50, 100)
#: The batch process collects between groups, outside the write lock
#: (:func:`_collect_between_groups`): its young generation once this many objects have survived
#: since the last collection, and the middle one every :data:`_MIDDLE_EVERY` young ones. A young
#: collection at 500,000 takes about half a second, which a triage check would otherwise wait
#: on inside a group's write transaction; collecting ten times less often than at 50,000 took
#: the collector from 6 % of the batch process's CPU to about 1.5 % (docs/performance.md).
_YOUNG_BETWEEN_GROUPS = 500_000
_MIDDLE_EVERY = 50
#: The batch process's automatic thresholds meanwhile: a backstop far above what one group
#: allocates, so that no collection starts inside a group.
_GC_THRESHOLDS = (5_000_000, 50, 100)


@contextmanager
def _collector_for_a_long_run() -> Iterator[None]:
    """The run's garbage-collector thresholds, the caller's restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _collect_between_groups() -> None:
    """The collections the run's thresholds hold back (:data:`_YOUNG_BETWEEN_GROUPS`), made
    now, between two groups: the write lock is not held, so no check waits on them. Nothing
    when the caller has turned the collector off."""
    if not gc.isenabled():
        return
    young, middle, _ = gc.get_count()
    if middle >= _MIDDLE_EVERY:
        gc.collect(1)
    elif young >= _YOUNG_BETWEEN_GROUPS:
        gc.collect(0)


def _init_worker(db: str, settings: Settings, match: bool) -> None:
    gc.set_threshold(*_WORKER_GC_THRESHOLDS)     # a worker process lives for one run only
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    logging.getLogger("safeflag").setLevel(logging.ERROR)
    store = open_store(db) if match else None
    _WORKER["preparer"] = (Safeflag(store, settings, user="batch worker")
                           if store and store.register_info() else None)


def _work(kind: str, source: str, units: list[tuple[int, str]],
          strict: bool) -> list[BatchItem]:
    """Read and prepare a chunk in a worker; the chunk travels back pickled as one list."""
    return parse_units(kind, source, units, _WORKER.get("preparer"), strict=strict)


def _prepare_items(items: list[Attendance | None]) -> list[Prepared | None]:
    """Prepare attendances read in the batch process (CSV rows, FHIR JSON documents)."""
    preparer = _WORKER.get("preparer")
    return [preparer.prepare(item) if preparer is not None and item is not None else None
            for item in items]


class _Pool:
    """Worker processes that read and prepare chunks of records; results come back in order,
    at most ``_WINDOW`` chunks in flight."""

    def __init__(self, workers: int, db: str, settings: Settings, match: bool) -> None:
        self.executor = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                            initargs=(db, settings, match))

    def map_ordered(self, kind: str, source: str, chunks: Iterator[list[tuple[int, str]]],
                    strict: bool = False) -> Iterator[BatchItem]:
        pending: deque[Future] = deque()
        for chunk in chunks:
            pending.append(self.executor.submit(_work, kind, source, chunk, strict))
            if len(pending) >= _WINDOW:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

    def prepare_ordered(self, entries: Iterable[BatchItem]) -> Iterator[BatchItem]:
        """``entries`` read here, each attendance with its register-only part made by a worker."""
        pending: deque[tuple[list[BatchItem], Future]] = deque()

        def joined(chunk: list[BatchItem], future: Future) -> list[BatchItem]:
            return [replace(e, prepared=p) for e, p in zip(chunk, future.result())]
        for chunk in _chunked(entries, _CHUNK):
            items = [e.item if isinstance(e.item, Attendance) else None for e in chunk]
            pending.append((chunk, self.executor.submit(_prepare_items, items)))
            if len(pending) >= _WINDOW:
                yield from joined(*pending.popleft())
        while pending:
            yield from joined(*pending.popleft())

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


# --- merging and running -----------------------------------------------------------------------
def merge_by_arrival(streams: Iterable[Iterator[BatchItem]]) -> Iterator[BatchItem]:
    """Merge per-input streams by arrival; an error keeps the place it had in its input.

    Each input keeps its own order: a record is placed by the latest arrival of its input so
    far. So a record the merge gives after a later arrival (of any input) is always one that
    arrived before a record read earlier in its own input: :func:`_read_inputs` counts those,
    and with them every record out of order in the merged order."""
    def keyed(index: int, stream: Iterator[BatchItem]) -> Iterator[tuple]:
        last = datetime.min
        for position, entry in enumerate(stream):
            item = entry.item if isinstance(entry, BatchItem) else entry
            if isinstance(item, Attendance):
                last = max(last, item.arrival.replace(tzinfo=None))
            yield (last, index, position, entry)
    iterators = [keyed(i, s) for i, s in enumerate(streams)]
    for *_, entry in heapq.merge(*iterators, key=lambda t: t[:3]):
        yield entry


def _read_inputs(inputs: list[str], summary: BatchSummary, *, fmt: str | None,
                 strict: bool, pool: "_Pool | None" = None) -> Iterator[BatchItem]:
    """Every input's records merged by arrival; each input's records that arrived before one
    read earlier in it are counted in ``summary.out_of_order`` as they are read."""
    def watched(path: str) -> Iterator[BatchItem]:
        order = ArrivalOrder(path)
        entries = read_batch_items(path, fmt=fmt, pool=pool, strict=strict)
        for position, entry in enumerate(entries, start=1):
            if order.see(entry.item, position):
                summary.out_of_order[path] += 1
            yield entry
    return merge_by_arrival([watched(path) for path in inputs])


class _Progress:
    """A rich live line on a terminal; a plain line every ``every`` seconds otherwise."""

    def __init__(self, every: float = 5.0, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every
        self.start = self.last = time.monotonic()
        self._bar = None
        if self.tty:
            from rich.console import Console
            from rich.progress import (Progress, SpinnerColumn, TextColumn, TimeElapsedColumn)
            self._bar = Progress(SpinnerColumn(), TextColumn("safeflag batch"),
                                 TextColumn("{task.completed:,} records"),
                                 TextColumn("{task.fields[rate]:,.0f}/s"),
                                 TextColumn("{task.fields[errors]:,} unreadable"),
                                 TimeElapsedColumn(), console=Console(file=self.stream),
                                 transient=True)
            self._task = self._bar.add_task("batch", total=None, rate=0.0, errors=0)
            self._bar.start()

    def tick(self, summary: BatchSummary) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else self.every):
            return
        self.last = now
        rate = summary.records / max(now - self.start, 1e-9)
        if self._bar is not None:
            self._bar.update(self._task, completed=summary.records, rate=rate,
                             errors=summary.errors)
        else:
            self.stream.write(f"safeflag batch: {summary.records:,} records ({rate:,.0f}/s), "
                              f"{summary.errors:,} unreadable\n")
            self.stream.flush()

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _check(sf: Safeflag, entry: BatchItem, user: str | None, trust_match: bool) -> CheckResult:
    """One record's result; a record that breaks the pipeline gets an error line, not a crash
    (its savepoint is rolled back); a database failure stops the run."""
    item = entry.item
    if isinstance(item, MessageError):
        return sf.check_item(item, user=user)
    try:
        return sf.check(item, user=user, prepared=entry.prepared if trust_match else None)
    except StoreError:
        raise
    except Exception as exc:  # one odd record must not stop a region's year
        # identifiers only at ERROR (an exception's text could quote the record); the
        # traceback, for a developer, at DEBUG
        log.error("attendance %s could not be checked (%s)", item.attendance_id,
                  type(exc).__name__)
        log.debug("attendance %s: traceback", item.attendance_id, exc_info=True)
        error = MessageError(f"could not be checked ({type(exc).__name__}); reported in the log",
                             message=item.attendance_id, source=item.source or None)
        return CheckResult(attendance_id=item.attendance_id, arrival=item.arrival,
                           errors=(error.describe(),), message_id=item.message_id)


def _check_output(out: Path, quarantine: Path) -> None:
    """Refuse the run before it starts when its output or quarantine file cannot be made
    where asked (a folder of that name, no such folder, one file for both)."""
    for path, option in ((out, "--out"), (quarantine, "--quarantine")):
        if path.is_dir():
            raise InputError(f"{option} {path} is a folder; name a file; nothing was checked")
        if not path.parent.is_dir():
            raise InputError(f"{option} {path}: the folder {path.parent} does not exist; "
                             "nothing was checked")
    if out.resolve() == quarantine.resolve():
        raise InputError(f"--quarantine {quarantine} is the --out file; name another file; "
                         "nothing was checked")


# --- one run per output ------------------------------------------------------------------------
#: Descriptors of the lock files this process holds: a forked worker closes its copies at
#: once, so a lock ends with the batch process itself (even killed), not with its last worker.
_HELD_LOCKS: set[int] = set()


def _forget_locks_in_child() -> None:
    for fd in _HELD_LOCKS:        # closed, not unlocked: unlocking would free the parent's lock
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks_in_child)


def lock_path(path: str | Path) -> Path:
    """The lock file of a batch's output or quarantine file: ``PATH.lock``."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def _take_lock(path: Path, option: str) -> int | None:
    """Hold ``PATH.lock`` exclusively, without waiting; its descriptor, or ``None`` where
    nothing can be locked (no ``fcntl``: Windows; a file system without ``flock``).

    Raises :class:`InputError` when another process holds it."""
    if fcntl is None:
        return None
    lock = lock_path(path)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (process {holder})" if holder.isdigit() else ""
            raise InputError(f"another safeflag batch{who} is writing {path}; wait for it to "
                             f"finish or choose another {option}; nothing was checked") from None
        except OSError as exc:
            os.close(fd)
            log.warning("%s cannot be locked (%s): a second batch writing %s at the same time "
                        "would not be refused", lock, exc.strerror, path)
            return None
        # the run that held it may have ended and removed it since we opened it: then ours is
        # a file nobody else will open; take the one at the path now
        try:
            current = os.stat(lock)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current is not None and (current.st_dev, current.st_ino) == (mine.st_dev,
                                                                        mine.st_ino):
            try:                  # who holds it, for a run refused meanwhile
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            except OSError:
                pass
            return fd
        os.close(fd)


def _give_back_lock(path: Path, fd: int) -> None:
    """Remove ``PATH.lock`` and release it (removed while still held: a run that opened it
    meanwhile sees it is gone and takes a new one)."""
    try:
        os.unlink(lock_path(path))
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def _one_run_writing(*paths: tuple[Path, str]) -> Iterator[None]:
    """Hold the lock of each (path, option) for the length of the block; refuse the run with
    an :class:`InputError` when another run holds any of them (those already taken are
    given back, so the refused run leaves nothing behind)."""
    held: list[tuple[Path, int]] = []
    try:
        for path, option in paths:
            fd = _take_lock(path, option)
            if fd is not None:
                held.append((path, fd))
                _HELD_LOCKS.add(fd)
        yield
    finally:
        for path, fd in reversed(held):
            _HELD_LOCKS.discard(fd)
            _give_back_lock(path, fd)


@dataclass
class OutputClaim:
    """The output and quarantine file a run may write, their locks held by
    :func:`claim_output` (``held`` until its block ends)."""

    out: Path
    quarantine: Path
    held: bool = True


@contextmanager
def claim_output(out: str | Path, quarantine: str | Path | None = None
                 ) -> Iterator[OutputClaim]:
    """Make sure a run may write ``out`` and its quarantine file (``quarantine``, by default
    :func:`quarantine_path`), and hold their locks for the length of the block: for a caller
    that opens or creates the database only once the run can go ahead (``safeflag batch``).
    Pass the claim to :func:`run_batch`. Raises :class:`~safeflag.errors.InputError`, having
    changed nothing, when they cannot be made where asked or another run holds either lock."""
    out = Path(out)
    held = Path(quarantine or quarantine_path(out))
    _check_output(out, held)
    with _one_run_writing((out, "--out"), (held, "--quarantine")):
        claim = OutputClaim(out, held)
        try:
            yield claim
        finally:
            claim.held = False


class _Checkpoint:
    """Where a run over the same inputs and output got to: records done, output bytes and
    their SHA-256.

    Saved in the database in the same transaction as each group's history, after the group's
    output lines are on disk, so a rerun after a kill resumes exactly where the history stops:
    the output is cut back to the saved length and the records before are not checked again.
    The run then ends as a run that was never stopped would have. Standard input is not resumed.

    There is one checkpoint per output file: a run with other inputs or settings into the same
    output replaces it (its own output replaces the partial file), and the partial file is
    resumed only when its bytes are the ones the checkpoint saved.
    """

    def __init__(self, store: Store, inputs: list[str], out: Path, fmt: str | None,
                 strict: bool = False) -> None:
        self.store = store
        self.key = self.run = ""
        if "-" not in inputs:
            files = [(str(Path(p).resolve()), os.stat(p).st_size, os.stat(p).st_mtime_ns)
                     for p in inputs]
            # a run with other reading settings is another run: it does not resume this one
            ident = json.dumps([files, fmt, str(out.resolve()), *(["strict"] if strict else [])])
            self.run = hashlib.sha256(ident.encode()).hexdigest()[:32]
            self.key = ("batch-output:"
                        + hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:32])

    def load(self) -> tuple[int, int, str]:
        """(records done, output bytes, their SHA-256) of this run, stopped earlier;
        (0, 0, "") if none."""
        value = self.store.get_meta(self.key) if self.key else None
        if value is None:
            return 0, 0, ""
        saved = json.loads(value)
        if saved.get("run") != self.run:
            log.warning("the output's checkpoint is another run's (other inputs or settings); "
                        "this run starts from its first record")
            return 0, 0, ""
        return int(saved["records"]), int(saved["bytes"]), str(saved["sha256"])

    def save(self, records: int, size: int, digest: str) -> None:
        if self.key:
            self.store.set_meta(self.key, json.dumps({"run": self.run, "records": records,
                                                      "bytes": size, "sha256": digest}))

    def clear(self) -> None:
        if self.key:
            with self.store.transaction() as db:
                db.execute("DELETE FROM meta WHERE key = ?", (self.key,))


def _digest_of(path: Path, size: int) -> "hashlib._Hash | None":
    """SHA-256 of the first ``size`` bytes of ``path``, still open for more; ``None`` when
    the file is missing or shorter."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fp:
            left = size
            while left:
                block = fp.read(min(left, 1 << 20))
                if not block:
                    return None
                digest.update(block)
                left -= len(block)
    except OSError:
        return None
    return digest


class _GroupSize:
    """Records per commit: at most ``largest``, and few enough that the write lock is held for
    about ``seconds`` at the measured rate, so triage ``check`` processes never wait long."""

    def __init__(self, largest: int, seconds: float = 0.1) -> None:
        self.largest, self.seconds = largest, seconds
        self.size = min(largest, 50)
        self._started = 0.0

    def start(self) -> None:
        self._started = time.monotonic()

    def done(self, count: int) -> None:
        rate = count / max(time.monotonic() - self._started, 1e-6)
        self.size = max(1, min(self.largest, int(rate * self.seconds)))

    def groups(self, entries: Iterator[BatchItem]) -> Iterator[list[BatchItem]]:
        """Groups read before their transaction starts (no lock is held while reading)."""
        entries = iter(entries)
        while True:
            group = list(itertools.islice(entries, self.size))
            if not group:
                return
            yield group


def _counted(result: CheckResult) -> dict:
    """The parts of a result's output record that the summary counts."""
    return {"attendance_id": result.attendance_id, "errors": result.errors,
            "match": {"band": result.match.band},
            "flags": [{"code": f.code} for f in result.flags],
            "warnings": [{"code": w.code} for w in result.warnings]}


def _account(summary: BatchSummary, bad: Quarantine, entry: BatchItem, record: dict) -> None:
    if record["errors"] and not isinstance(entry.item, NotAnArrival):
        error = entry.item if isinstance(entry.item, MessageError) else MessageError(
            record["errors"][0], message=record["attendance_id"])
        bad.add(error, entry.raw, entry.header)
    summary.add(record, entry.item)


def _open_output(partial: Path, done: int, size: int, saved: str
                 ) -> tuple[BinaryIO, int, "hashlib._Hash"]:
    """The partial output and its running SHA-256, cut back to ``size`` bytes when resuming
    ``done`` records; a new, empty one when there is nothing to resume or the partial file's
    bytes are not the ones the checkpoint saved (another run wrote it, it was edited)."""
    if done:
        digest = _digest_of(partial, size)
        if digest is not None and digest.hexdigest() == saved:
            handle = open(partial, "r+b")
            handle.truncate(size)
            handle.seek(size)
            return handle, done, digest
        log.warning("%s is not the output the checkpoint describes; this run starts from its "
                    "first record", partial.name)
    return open(partial, "wb"), 0, hashlib.sha256()


def _finished_earlier(out: Path, partial: Path, done: int, size: int, saved: str) -> bool:
    """Did this run finish and rename its output before it was stopped (so only clearing the
    checkpoint was left)?"""
    if not done or partial.exists() or not out.is_file() or out.stat().st_size != size:
        return False
    digest = _digest_of(out, size)
    return digest is not None and digest.hexdigest() == saved


def run_batch(sf: Safeflag, inputs: list[str], out: str | Path, *, fmt: str | None = None,
              workers: int = 1, quarantine: str | Path | None = None, user: str | None = None,
              commit_every: int = 500, progress: bool = True,
              strict: bool = False, claim: OutputClaim | None = None) -> BatchSummary:
    """Check every record of ``inputs`` into ``out`` (NDJSON); return the run's summary.

    ``strict`` also validates each HL7 message against its version's structure (hl7apy) and
    each FHIR resource with fhir.resources; a record that fails is an error line and goes to
    the quarantine (for bringing up an interface: it is much slower).

    A run that was stopped (killed, power cut) resumes when run again with the same inputs and
    output: nothing is checked or recorded twice, and the output is the same as a run that was
    never stopped.

    For the length of the run the cyclic garbage collector runs less often, and between
    groups, outside the write lock (:func:`_collect_between_groups`; the caller's thresholds are
    restored at the end).

    Only one run at a time writes an output (and a quarantine file): the run holds
    ``OUT.lock`` and its quarantine file's ``.lock`` (:func:`lock_path`) from before it touches
    the partial output, the checkpoint or the quarantine until it ends, and removes them then;
    a killed run's are left, and taken over by the next run. Where ``fcntl`` is missing
    (Windows) nothing is locked. ``claim`` is :func:`claim_output`'s for the same files, when
    the caller took the locks before opening ``sf``'s database: the run uses them.

    Raises :class:`~safeflag.errors.InputError` when an input cannot be opened, another run
    is writing ``out`` or the quarantine file, or ``claim`` is not held on them (nothing is
    checked or changed),
    :class:`~safeflag.errors.StoreError` when the database fails and ``OSError`` when the
    output cannot be written; the run's committed history is kept either way.
    """
    check_inputs(inputs)
    if claim is not None and (not claim.held or (claim.out, claim.quarantine) != (
            Path(out), Path(quarantine or quarantine_path(out)))):
        raise InputError("claim is not one held on this run's output and quarantine file; "
                         "take it with claim_output(out, quarantine)")
    with claim_output(out, quarantine) if claim is None else nullcontext(claim) as mine:
        return _run_batch(sf, inputs, mine.out, mine.quarantine, fmt=fmt, workers=workers,
                          user=user, commit_every=commit_every, progress=progress,
                          strict=strict)


def _run_batch(sf: Safeflag, inputs: list[str], out: Path, held: Path, *, fmt: str | None,
               workers: int, user: str | None, commit_every: int, progress: bool,
               strict: bool) -> BatchSummary:
    """:func:`run_batch`, its output and quarantine file locked."""
    summary = BatchSummary(workers=max(1, workers))
    bad = Quarantine(held)
    summary.quarantine = str(bad.path)
    checkpoint = _Checkpoint(sf.store, inputs, out, fmt, strict)
    partial = out.with_name(out.name + ".partial")
    saved = checkpoint.load()
    if _finished_earlier(out, partial, *saved):
        return _report_finished(inputs, out, fmt, strict, checkpoint, saved[0], summary, bad)
    handle, done, digest = _open_output(partial, *saved)
    ticker = _Progress() if progress else None
    started = time.monotonic()
    db = getattr(sf.store, "path", ":memory:")
    pool = (_Pool(workers, db, sf.settings, match=db != ":memory:")
            if workers > 1 else None)
    try:
        entries = _read_inputs(inputs, summary, fmt=fmt, strict=strict, pool=pool)
        if done:
            _replay_done(partial, done, entries, summary, bad)
        sizer = _GroupSize(max(1, commit_every))
        register, trust = sf.store.register_info(), True
        # attendee, parent and history reads from memory; every write still goes to the database
        # triage checks against the same database go before each next group
        with sf.store.keep_history(), sf.store.give_way(), _collector_for_a_long_run():
            for group in sizer.groups(entries):
                with sf.store.transaction():      # one commit per group; a savepoint per check
                    sizer.start()
                    # a register reloaded during the run: workers may have matched against
                    # the old one
                    trust = trust and sf.store.register_info() == register
                    results = [_check(sf, entry, user, trust) for entry in group]
                    lines = [to_json_line(r) for r in results]
                    written = "".join(line + "\n" for line in lines).encode("utf-8")
                    handle.write(written)
                    handle.flush()
                    os.fsync(handle.fileno())
                    digest.update(written)
                    checkpoint.save(summary.records + len(group), handle.tell(),
                                    digest.hexdigest())
                    sizer.done(len(group))
                for entry, result in zip(group, results):
                    _account(summary, bad, entry, _counted(result))
                if ticker is not None:
                    ticker.tick(summary)
                _collect_between_groups()
        handle.close()
        os.replace(partial, out)
        checkpoint.clear()
    finally:
        handle.close()
        bad.close()
        _drop_if_empty(partial)
        if ticker is not None:
            ticker.done()
        if pool is not None:
            pool.close()
    summary.quarantined = bad.count
    summary.seconds = time.monotonic() - started
    return summary


def _drop_if_empty(partial: Path) -> None:
    """A partial output a failed run wrote nothing to: removed, so nothing is left to look
    like a run in progress (a run that wrote records keeps its partial file to resume)."""
    try:
        if partial.stat().st_size == 0:
            partial.unlink()
    except FileNotFoundError:
        pass


def _report_finished(inputs: list[str], out: Path, fmt: str | None, strict: bool,
                     checkpoint: _Checkpoint, done: int, summary: BatchSummary,
                     bad: Quarantine) -> BatchSummary:
    """A run stopped after its output was complete: nothing is checked again; its summary
    is made from the output, and the checkpoint cleared."""
    started = time.monotonic()
    try:
        entries = _read_inputs(inputs, summary, fmt=fmt, strict=strict)
        _replay_done(out, done, entries, summary, bad)
    finally:
        bad.close()
    checkpoint.clear()
    summary.quarantined = bad.count
    summary.seconds = time.monotonic() - started
    return summary


def _replay_done(partial: Path, done: int, entries: Iterator[BatchItem], summary: BatchSummary,
                 bad: Quarantine) -> None:
    """Count (and quarantine again) the records an earlier, stopped run already checked."""
    with open(partial, encoding="utf-8") as lines:
        for _, line, entry in zip(range(done), lines, entries):
            _account(summary, bad, entry, json.loads(line))
