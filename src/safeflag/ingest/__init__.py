"""Ingest: attendance records from HL7 v2, FHIR and CSV extracts into :class:`Attendance`.

Every reader yields, in input order, one item per record: an :class:`~safeflag.models.Attendance`
or a :class:`~safeflag.errors.MessageError` naming the record and the field that could not be
read (a :class:`~safeflag.errors.NotAnArrival` for readable messages that are not arrivals).
Nothing is dropped silently.
"""

from __future__ import annotations

from ..errors import MessageError
from ..models import Attendance

IngestItem = Attendance | MessageError

__all__ = ["IngestItem"]
