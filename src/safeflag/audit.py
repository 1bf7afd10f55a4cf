"""The audit of look-ups: who asked for which child's flags, and when.

Every check records an :class:`~safeflag.store.AuditEntry` (see :meth:`Safeflag.check`): the
user or system id that asked, the time (UTC), the attendance id and the register person ids whose
flags or records were shown, and the channel (``check``, ``batch``, ``library``). The audit holds
identifiers only — no names, dates of birth or addresses.

This module reads the audit back out: :func:`parse_since` for the ``--since`` filter and
:func:`write_audit` to export entries as CSV or JSON, streaming, so that a long audit is never
held in memory.
"""

from __future__ import annotations

import csv
import getpass
import json
import os
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import TextIO

from .errors import InputError
from .store import AuditEntry

__all__ = ["AUDIT_FORMATS", "AUDIT_COLUMNS", "os_user", "parse_since", "audit_record",
           "write_audit"]

AUDIT_FORMATS = ("csv", "json")
AUDIT_COLUMNS = ("at", "user", "attendance_id", "person_ids", "channel")


def os_user() -> str:
    """The operating-system user running this process (``uid:N`` when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def parse_since(text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO date/time (naive = UTC) as an aware instant."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"--since {value!r} is not a date (YYYY-MM-DD) or ISO date/time "
                         "(YYYY-MM-DDTHH:MM[:SS][+HH:MM])") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def audit_record(entry: AuditEntry) -> dict[str, object]:
    """One entry as a plain mapping (the JSON export's object; CSV joins person ids with ``;``)."""
    return {"at": entry.at.isoformat(), "user": entry.user, "attendance_id": entry.attendance_id,
            "person_ids": list(entry.person_ids), "channel": entry.channel}


def write_audit(entries: Iterable[AuditEntry], out: TextIO, fmt: str = "csv") -> int:
    """Write ``entries`` to ``out`` as CSV (header row) or a JSON array; return how many."""
    if fmt not in AUDIT_FORMATS:
        raise InputError(f"audit format {fmt!r} is not one of {', '.join(AUDIT_FORMATS)}")
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(AUDIT_COLUMNS)
        for entry in entries:
            record = audit_record(entry)
            record["person_ids"] = ";".join(entry.person_ids)
            writer.writerow([record[c] for c in AUDIT_COLUMNS])
            count += 1
        return count
    out.write("[")
    for entry in entries:
        out.write(",\n " if count else "\n ")
        out.write(json.dumps(audit_record(entry)))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
