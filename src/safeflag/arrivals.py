"""Inputs not in arrival order: found while they are read, and said.

A check sees the history of the child and family up to its own arrival, as far as it has been
recorded: the attendances checked before it. Records are checked in the order they are read, so
a record that arrived before a record read earlier in the same input was not yet in the history
when that earlier record was checked, and that check could not see it (a REPEAT_INJURY or a
family warning may be missing, its note saying no earlier attendance is on record). Sorting
an input would need all of it in memory, so the readers' callers (``safeflag batch``,
``safeflag check``, :meth:`~safeflag.Safeflag.check_path`) count such records with
:class:`ArrivalOrder` and say so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TypeVar

from .models import Attendance

__all__ = ["ArrivalOrder", "input_name"]

log = logging.getLogger("safeflag.arrivals")

T = TypeVar("T")

#: What to do, said with the count wherever it is reported.
ADVICE = "sort the input by arrival and run it again"


def input_name(path: str) -> str:
    """An input as messages name it: its path, or ``standard input`` for ``-``."""
    return "standard input" if path == "-" else str(path)


class ArrivalOrder:
    """The records of one input that arrived before a record read earlier in it.

    A record is out of order when its arrival is earlier than the latest arrival of the records
    read before it in the same input; an equal arrival is in order. Unreadable records and
    messages that are not arrivals have no arrival: they are passed over. The first time, one
    warning names the input and the two records, by position in the input and attendance id
    (identifiers only); :attr:`count` counts them all.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.count = 0
        self._latest: tuple[datetime, int, str] | None = None   # arrival, position, id

    def see(self, item: object, position: int) -> bool:
        """Note record number ``position`` (from 1) of the input, read: is it out of order?"""
        if not isinstance(item, Attendance):
            return False
        arrival = item.arrival.replace(tzinfo=None)
        if self._latest is None or arrival >= self._latest[0]:
            self._latest = (arrival, position, item.attendance_id)
            return False
        self.count += 1
        if self.count == 1:
            _, before, before_id = self._latest
            log.warning("%s is not in arrival order: record %d (attendance %s) arrived before "
                        "record %d (attendance %s), which was read and checked first: that "
                        "check could not see it (a REPEAT_INJURY or family warning may be "
                        "missing); %s", input_name(self.source), position, item.attendance_id,
                        before, before_id, ADVICE)
        return True

    def watch(self, items: Iterable[T], item_of: Callable[[T], object] | None = None
              ) -> Iterator[T]:
        """``items`` unchanged, each noted as read (``item_of`` gives the reader's item of
        an entry that wraps one)."""
        for position, entry in enumerate(items, start=1):
            self.see(entry if item_of is None else item_of(entry), position)
            yield entry
