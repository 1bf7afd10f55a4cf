"""Ingest: attendance records from HL7 v2, FHIR and CSV extracts into :class:`Attendance`.

Every reader yields, in input order, one item per record: an :class:`~safeflag.models.Attendance`
or a :class:`~safeflag.errors.MessageError` naming the record and the field that could not be
read (a :class:`~safeflag.errors.NotAnArrival` for readable messages that are not arrivals).
Nothing is dropped silently.

Entry points: :func:`read_attendances` (a file path, or ``"-"`` for stdin, read as a stream)
and :func:`read_text` (text already in memory); :func:`detect_format` tells the formats apart.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import InputError, MessageError
from ..models import Attendance
from ._common import MAX_MESSAGE_CHARS
from .er7 import SEGMENT_JUNK

IngestItem = Attendance | MessageError

__all__ = ["IngestItem", "FORMATS", "blank_input", "check_inputs", "detect_format",
           "read_attendances", "read_text", "text_lines"]

#: The format names :func:`detect_format` returns and ``fmt=`` accepts.
FORMATS = ("hl7", "fhir", "ndjson", "csv")
_HEAD_BYTES = 64 * 1024
_MAX_JSON_BYTES = 256 * 1024 * 1024
#: An MSH, FHS or BHS segment starting a line (after any control characters, white space or
#: byte-order mark), followed by its field separator: never a letter, digit or space, so that
#: a CSV row such as ``BHS0002,...`` or ``MSHARI,...`` is not taken for one.
_HL7_START = re.compile(rf"(?:^|[\r\n\x0b\x1c]){SEGMENT_JUNK}*(?:MSH|FHS|BHS)[^A-Za-z0-9\s]")
_SEGMENT_LINE = re.compile(r"^[A-Z][A-Z0-9]{2}\|")
_EXT = {".hl7": "hl7", ".er7": "hl7", ".json": "fhir", ".ndjson": "ndjson", ".jsonl": "ndjson",
        ".csv": "csv", ".tsv": "csv", ".xml": "fhir"}


def _head_text(head: str | bytes) -> str:
    if isinstance(head, bytes):
        head = head.decode("utf-8", errors="replace")
    return head.lstrip("\ufeff")


def detect_format(path_or_head: str | os.PathLike | bytes, *, name: str = "") -> str:
    """``"hl7"``, ``"fhir"``, ``"ndjson"`` or ``"csv"`` from a file path or the start of the text.

    A :class:`~pathlib.Path` (or a string naming an existing file) is opened and its first
    64 KB read; other strings and bytes are taken as the head itself. Content decides; the file
    extension only breaks ties. Raises :class:`MessageError` when the format cannot be told.
    """
    source = name
    if isinstance(path_or_head, os.PathLike) or (
            isinstance(path_or_head, str) and "\n" not in path_or_head and "\r" not in
            path_or_head and len(path_or_head) < 4096 and os.path.isfile(path_or_head)):
        source = os.fspath(path_or_head)
        with open(source, "rb") as fp:
            head = _head_text(fp.read(_HEAD_BYTES))
    else:
        head = _head_text(path_or_head)
    return _detect(head, source)


def _detect(head: str, source: str) -> str:
    stripped = head.lstrip(" \t\r\n\x0b")
    if _HL7_START.search(head[:_HEAD_BYTES]):
        return "hl7"
    if stripped.startswith(("[", "<")):
        return "fhir"
    ext = _EXT.get(Path(source).suffix.lower()) if source else None
    if stripped.startswith("{"):
        return "ndjson" if ext == "ndjson" or _one_object_per_line(stripped) else "fhir"
    first = stripped.split("\n", 1)[0].split("\r", 1)[0]
    if ext == "hl7" or (_SEGMENT_LINE.match(first) and ext != "csv"):
        return "hl7"
    if any(d in first for d in (",", ";", "\t", "|")):
        return "csv"
    if ext:
        return ext
    raise MessageError("cannot tell the format (not HL7 v2, FHIR JSON, NDJSON or CSV); pass "
                       "the format explicitly", message="#1", source=source or None)


def _one_object_per_line(head: str) -> bool:
    """Does ``head`` (the start of a text beginning ``{``) hold one JSON object per line? Its
    first line is a whole JSON object with another line after it; or, when that first line is
    not valid JSON, it and the next line each open and close braces on their own line (a
    pretty-printed document's first line is ``{`` or ends in a comma). Lines end only at LF
    (a CR before it is white space): U+2028 and the like are characters inside strings."""
    lines = [ln.strip() for ln in head.split("\n") if ln.strip()]
    if len(lines) < 2:
        return False
    if _is_json_object(lines[0]):
        return True
    return all(ln.startswith("{") and ln.endswith("}") for ln in lines[:2])


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):     # not JSON, or nested too deeply to tell
        return False


def blank_input(head: bytes) -> bool:
    """Is this the whole of an input with no record in it: nothing, or only a byte-order mark,
    white space and MLLP framing? Such an input holds zero records, whatever its format (a
    day's extract with no attendances), rather than one unreadable one."""
    return len(head) < _HEAD_BYTES and not head.removeprefix(b"\xef\xbb\xbf").strip(
        b" \t\r\n\x0b\x1c")


def check_inputs(inputs: list[str]) -> None:
    """Refuse a run before it starts when an input cannot be opened at all (raise
    :class:`~safeflag.errors.InputError`); ``"-"`` is standard input."""
    if not inputs:
        raise InputError("no inputs given; name one or more attendance files (or - for stdin)")
    for path in inputs:
        if path == "-":
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise InputError(f"{path}: cannot open the input ({exc.strerror or type(exc).__name__})"
                             "; nothing was checked") from exc


def read_attendances(path: str | Path, *, fmt: str | None = None,
                     column_map: dict[str, str] | None = None,
                     strict: bool = False) -> Iterator[IngestItem]:
    """Every attendance record in a file (``"-"`` = stdin), in order, as a stream.

    HL7 is read message by message and NDJSON/CSV line by line, so large files are not held
    in memory; a FHIR JSON file (one document) is read whole, up to 256 MB. With ``strict``,
    HL7 messages are also validated against their version's structure (hl7apy) and FHIR
    resources with fhir.resources; a message that fails is refused with an error line.
    """
    source = "-" if str(path) == "-" else str(path)
    try:
        fp: BinaryIO = sys.stdin.buffer if source == "-" else open(path, "rb")
    except OSError as exc:
        yield MessageError(f"cannot open the file ({exc.strerror or type(exc).__name__})",
                           source=source)
        return
    try:
        head = fp.read(_HEAD_BYTES)
        if blank_input(head):
            return
        stream = _Rejoined(head, fp)
        try:
            kind = fmt or _detect(_head_text(head), source)
        except MessageError as exc:
            yield exc
            return
        yield from _read_stream(kind, stream, source, column_map, strict)
    finally:
        if fp is not sys.stdin.buffer:
            fp.close()


class _Rejoined(io.RawIOBase):
    """A binary stream that replays an already-read head before the rest of ``fp``."""

    def __init__(self, head: bytes, fp: BinaryIO) -> None:
        super().__init__()
        self._head, self._fp = head, fp

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:   # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._fp.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _read_stream(kind: str, stream: io.RawIOBase, source: str,
                 column_map: dict[str, str] | None, strict: bool = False) -> Iterator[IngestItem]:
    from . import csv_extract, er7, fhir, hl7v2

    if kind == "hl7":
        for position, latin1 in er7.iter_hl7_stream(io.BufferedReader(stream)):
            try:
                raw = er7.decode_message_bytes(latin1, position, source)
            except MessageError as exc:
                yield exc
                continue
            yield hl7v2.read_hl7(raw, position, source, strict=strict)
    elif kind == "ndjson":
        yield from fhir.iter_ndjson_lines(text_lines(stream, fhir.MAX_LINE_CHARS), source,
                                          strict=strict)
    elif kind == "csv":
        yield from csv_extract.iter_csv_rows(text_lines(stream, MAX_MESSAGE_CHARS), source,
                                             column_map=column_map)
    elif kind == "fhir":
        data = io.BufferedReader(stream).read(_MAX_JSON_BYTES + 1)
        yield from _fhir_document(data, source, strict)
    else:
        yield MessageError(f"unknown format {kind!r}; use one of {', '.join(FORMATS)}",
                           source=source)


def text_lines(stream: io.RawIOBase | BinaryIO, limit: int) -> Iterator[str]:
    """Lines of a binary stream (NDJSON, CSV), decoded as UTF-8 (BOM dropped); undecodable
    bytes survive as surrogates so that the reader can report the row they are in. A line
    longer than ``limit`` is cut there (the reader then reports it as too long) and the rest of
    it skipped, so memory stays bounded."""
    text = io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8-sig",
                            errors="surrogateescape", newline="")
    while True:
        line = text.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(("\n", "\r")):
            while True:
                rest = text.readline(limit)
                if not rest or rest.endswith(("\n", "\r")):
                    break
        yield line


def _fhir_document(data: bytes, source: str, strict: bool = False) -> Iterator[IngestItem]:
    if len(data) > _MAX_JSON_BYTES:
        yield MessageError("the FHIR JSON document is over 256 MB; send NDJSON (one Bundle "
                           "per line) instead", message="#1", source=source)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield MessageError(f"bytes at offset {exc.start} are not UTF-8; FHIR JSON must be "
                           "UTF-8", message="#1", source=source)
        return
    yield from _fhir_text(text, source, strict)


def _fhir_text(text: str, source: str, strict: bool = False) -> Iterator[IngestItem]:
    from . import fhir

    try:
        yield from fhir.parse_fhir_text(text, "#1", source, strict=strict)
    except MessageError as exc:
        yield exc


def read_text(text: str, *, source: str = "-", fmt: str | None = None,
              column_map: dict[str, str] | None = None,
              strict: bool = False) -> Iterator[IngestItem]:
    """Every attendance record in text already in memory (e.g. one message from a script);
    ``strict`` as in :func:`read_attendances`."""
    from . import csv_extract, fhir, hl7v2

    try:
        kind = fmt or _detect(text.lstrip("\ufeff"), source)
    except MessageError as exc:
        yield exc
        return
    if kind == "hl7":
        yield from hl7v2.iter_hl7_attendances(text, source, strict=strict)
    elif kind == "ndjson":
        yield from fhir.iter_ndjson_lines(text.lstrip("\ufeff").split("\n"), source,
                                          strict=strict)
    elif kind == "csv":
        yield from csv_extract.iter_csv_rows(
            io.StringIO(text.lstrip("\ufeff"), newline=""), source, column_map=column_map)
    elif kind == "fhir":
        yield from _fhir_text(text, source, strict)
    else:
        yield MessageError(f"unknown format {kind!r}; use one of {', '.join(FORMATS)}",
                           source=source)
