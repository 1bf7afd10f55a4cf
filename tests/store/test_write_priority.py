"""Triage writes before batch writes (store.priority): a connection that gives way (a batch)
starts no transaction while another connection's writer waits for the write lock or holds it.
Ordering is asserted, not timing."""

from __future__ import annotations

import sys
import threading

import pytest

from safeflag.store.priority import WritePriority
from safeflag.store.sqlite import SqliteStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX only")


def _in_thread(work) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_a_batch_group_waits_while_a_check_waits_for_the_write_lock(two_connections):
    """A check waiting for SQLite's write lock holds the priority lock (as every ordinary
    write transaction does from before BEGIN): the batch's next group does not begin, even
    though SQLite's write lock itself is free, until the check has gone."""
    _, batch = two_connections
    check = WritePriority(batch.path)
    began = threading.Event()

    def batch_group() -> None:
        with batch.give_way(), batch.transaction():
            began.set()
            batch.set_meta("batch", "1")
    with check.first():
        thread, done = _in_thread(batch_group)
        assert not began.wait(0.3)                  # the batch waits for the check
    thread.join(5)
    assert began.is_set() and done.is_set() and batch.get_meta("batch") == "1"
    check.close()


def test_a_check_holds_the_priority_lock_through_its_transaction(two_connections):
    check, _ = two_connections
    other = WritePriority(check.path)
    with check.transaction():
        check.set_meta("check", "1")
        _, done = _in_thread(other.wait_for_others)
        assert not done.wait(0.3)                   # a batch would wait here
    assert done.wait(5)                             # and goes once the check has committed
    other.close()


def test_an_ordinary_writer_queues_for_the_priority_lock_a_batch_only_consults(two_connections):
    """An ordinary writer (a check, a register load) holds the lock exclusively for its
    transaction, so it queues behind another holder; giving way only matters for the
    transactions begun inside ``give_way``."""
    first, second = two_connections
    priority = WritePriority(first.path)
    with priority.first():                          # someone holds it, writing nothing
        def ordinary() -> None:
            with second.give_way():
                pass                                # giving way ends before the write
            second.set_meta("ordinary", "1")
        # an ordinary writer takes the lock itself, so it waits for the holder ...
        thread, done = _in_thread(ordinary)
        assert not done.wait(0.3)
    thread.join(5)                                  # ... and goes once it is released
    assert done.is_set() and first.get_meta("ordinary") == "1"
    priority.close()


def test_wait_for_others_returns_at_once_when_nobody_writes(tmp_path):
    lock = WritePriority(str(tmp_path / "s.db"))
    _, done = _in_thread(lock.wait_for_others)
    assert done.wait(5)
    lock.close()


def test_no_lock_file_for_a_database_in_memory_and_none_needed(tmp_path):
    store = SqliteStore(":memory:")
    with store.give_way(), store.transaction():
        store.set_meta("k", "v")
    assert store.get_meta("k") == "v"
    store.close()


def test_an_unwritable_folder_means_no_lock_not_an_error(tmp_path):
    lock = WritePriority(str(tmp_path / "missing-folder" / "s.db"))
    with lock.first():                              # nothing to lock: does not block or fail
        lock.wait_for_others()
    lock.close()


def test_opening_an_existing_database_writes_nothing(two_connections, tmp_path):
    """Opening a store (as each `safeflag check` process does) must not queue for the write
    lock behind a batch: with another connection holding it, a third opens at once."""
    holder, _ = two_connections
    with holder.transaction():
        holder.set_meta("busy", "1")
        opened = []
        thread, done = _in_thread(
            lambda: opened.append(SqliteStore(tmp_path / "s.db", timeout=0.1)))
        assert done.wait(5), "opening waited for the write lock"
    opened[0].close()


@pytest.mark.parametrize("what", ["garbage", "folder", "database"])
def test_the_priority_lock_file_is_made_only_beside_a_database(tmp_path, what):
    """A --db that is no database is refused and leaves nothing beside it."""
    from safeflag.errors import StoreError
    from safeflag.store.sqlite import SqliteStore
    path = tmp_path / "x.db"
    if what == "garbage":
        path.write_bytes(b"not a database at all" * 100)
    elif what == "folder":
        path.mkdir()
    if what == "database":
        SqliteStore(path).close()
    else:
        with pytest.raises(StoreError):
            SqliteStore(path)
    assert (tmp_path / "x.db-priority").exists() is (what == "database")
