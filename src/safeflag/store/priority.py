"""Triage writes go before batch writes: a lock file beside the database.

SQLite's write lock has no queue. A batch that commits a group and at once begins the next can
take the lock again before a triage check, asleep in SQLite's busy handler, wakes up to try; on
a busy run a check then waited seconds (``bench/bench_concurrent.py``). So:

- every write transaction of an ordinary connection (a check, a register load) holds an
  exclusive ``flock`` on ``<database>-priority`` from before it asks SQLite for the write lock
  until it commits or rolls back;
- a connection that gives way (a batch: :meth:`~safeflag.store.sqlite.SqliteStore.give_way`)
  takes and at once drops a shared lock on the same file before each of its transactions, so it
  waits while any check is waiting for the write lock or holding it.

Checks still take turns among themselves, and a batch still holds the write lock for about a
quarter of a second per group (``batch._GroupSize``), so a check waits at most about that long
for the batch. The lock file is empty and left in place, as SQLite leaves ``-wal`` and
``-shm``. Where ``fcntl`` is missing (Windows) or the file cannot be made (a read-only folder),
nothing is locked and writers take turns as SQLite lets them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:                       # Windows: no flock; writers take turns as SQLite lets
    fcntl = None                          # type: ignore[assignment]

__all__ = ["WritePriority"]

log = logging.getLogger("safeflag.store")


class WritePriority:
    """The ``<database>-priority`` lock of one connection (see the module docstring)."""

    def __init__(self, database: str) -> None:
        self._fd: int | None = None
        if fcntl is None or database == ":memory:":
            return
        try:
            self._fd = os.open(f"{database}-priority", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            log.debug("no write-priority lock beside the database (%s): writers take turns "
                      "as SQLite lets them", exc.strerror)

    @contextmanager
    def first(self) -> Iterator[None]:
        """Hold the lock exclusively: batches wait until this writer has finished."""
        if self._fd is None:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def wait_for_others(self) -> None:
        """Wait until no writer holds the lock exclusively (a check waiting or writing)."""
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
