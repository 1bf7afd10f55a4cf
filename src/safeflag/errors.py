"""Errors raised by safeflag.

Every error the library raises on purpose derives from one root, so a caller can catch
``SafeflagError`` and know it came from here::

    SafeflagError
    ├── ConfigError            settings or a rules file that cannot be used
    ├── InputError             something the caller gave us cannot be read
    │   ├── MessageError       one attendance message (HL7 v2, FHIR, CSV row) is unreadable
    │   │   └── NotAnArrival   a readable message that is not an arrival (A03, ORU, ...)
    │   └── RegisterError      a register file has a bad row; nothing was loaded
    └── StoreError             the database cannot be opened, read or written

Errors carry *identifiers and locations only* — a message control id, a position in a file,
an HL7 path such as ``PID-7``, a CSV file/line/column — never names, dates of birth or
addresses, because error text ends up in logs. Each message says what to do next.
"""

from __future__ import annotations

__all__ = [
    "SafeflagError",
    "ConfigError",
    "InputError",
    "MessageError",
    "NotAnArrival",
    "RegisterError",
    "StoreError",
]


class SafeflagError(Exception):
    """Root of every error safeflag raises on purpose."""


class ConfigError(SafeflagError):
    """Settings or a rules file that cannot be used."""


class InputError(SafeflagError):
    """Input given by the caller cannot be read."""


class MessageError(InputError):
    """One attendance record could not be read.

    ``message`` identifies the record (control id, or ``#position`` in its file), ``location``
    the segment/field or column (``PID-7``, ``Encounter.period.start``, ``column arrival``);
    ``attendance_id`` is the record's own attendance id when it could be read (PV1-19, the
    Encounter's identifier, the ``attendance_id`` column), so its error line joins back to it.
    """

    def __init__(self, reason: str, *, message: str | None = None, location: str | None = None,
                 source: str | None = None, attendance_id: str | None = None) -> None:
        self.reason = reason
        self.message_ref = message
        self.location = location
        self.source = source
        self.attendance_id = attendance_id
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.message_ref:
            where.append(f"message {self.message_ref}")
        if self.location:
            where.append(self.location)
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class NotAnArrival(MessageError):
    """A readable message that does not report an arrival (e.g. ADT^A03 discharge, ORU)."""


class RegisterError(InputError):
    """A register file has a bad record; the load was refused and the old register kept."""

    def __init__(self, reason: str, *, file: str, line: int | None = None,
                 column: str | None = None, path: str | None = None) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
        self.path = path          # a FHIR path, for register Bundles
        where = file
        if line is not None:
            where += f", line {line}"
        if column:
            where += f", column {column}"
        if path:
            where += f", at {path}"
        super().__init__(f"{where}: {reason}. Nothing was loaded; the previous register is kept.")


class StoreError(SafeflagError):
    """The database cannot be opened, read or written."""
