"""ECDS-like CSV attendance extracts into :class:`~safeflag.models.Attendance`.

One row per attendance, header row first, any column order. Column names are documented in
``docs/formats.md``; ``column_map`` renames a site's own headers (their name → ours). The
delimiter is sniffed among ``, ; TAB |`` from the header and refused when ambiguous. Files are
UTF-8 (a BOM is fine); a row holding other bytes gets its own error naming file, line, column.
A header that cannot be used (delimiter, required column, a column twice) makes every row an
error of its own.
"""

from __future__ import annotations

import csv
import difflib
import logging
from datetime import date, datetime, time
from typing import Callable, Iterable, Iterator, NamedTuple

from ..algo.dates import PartialDate, parse_iso_datetime
from ..algo.nhs import normalise_nhs_number
from ..errors import MessageError
from ..models import Address, Attendance, Coded, Demographics, Identifier, Name, NextOfKin
from ._common import (MAX_MESSAGE_CHARS, checked_arrival, coded, date_only_arrival,
                      iso_date_alone, local_wall_time, optional, sex_of)

__all__ = ["COLUMNS", "REQUIRED", "CsvRecord", "sniff_delimiter", "iter_csv_rows",
           "iter_csv_records", "parse_csv_row"]

#: Every column the reader understands (ours), in documentation order.
COLUMNS = (
    "attendance_id", "arrival", "nhs_number", "given_name", "middle_name", "family_name",
    "birth_date", "sex", "address_line", "city", "postcode", "complaint_code",
    "complaint_text", "complaint_system", "diagnosis_codes", "injury_time", "patient_class",
    "local_id",
    "mother_nhs_number", "mother_given_name", "mother_family_name", "mother_birth_date",
    "father_nhs_number", "father_given_name", "father_family_name", "father_birth_date",
)
REQUIRED = ("attendance_id", "arrival")
#: Columns that identify the child (one is needed to match anyone), and columns that can show
#: an injury (one is needed for any injury rule): a header with none of either is said.
_IDENTIFYING = ("nhs_number", "given_name", "family_name", "birth_date")
_INJURY = ("diagnosis_codes", "complaint_code", "complaint_text")

log = logging.getLogger(__name__)
_DELIMITERS = (",", ";", "\t", "|")
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_PREFIX = {"ICD10": "ICD10", "ICD-10": "ICD10", "I10": "ICD10", "SNOMED": "SNOMED",
           "SCT": "SNOMED", "SNOMEDCT": "SNOMED"}
_KIN = (("mother", "MTH"), ("father", "FTH"))


class _Row:
    """One data row with its file, line and the header mapping, for error messages."""

    def __init__(self, values: dict[str, str], source: str, line: int) -> None:
        self.values, self.source, self.line = values, source, line

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()

    def error(self, reason: str, column: str | None = None, *,
              aligned: bool = True) -> MessageError:
        """The error at ``column``, carrying the row's attendance id when it can be trusted:
        not when the row's fields do not line up with the header (``aligned``), nor when the
        id holds bytes that are not UTF-8."""
        own = self.get("attendance_id") if aligned else ""
        if any("\udc80" <= ch <= "\udcff" for ch in own):
            own = ""
        return MessageError(reason, message=f"line {self.line}",
                            location=f"column {column}" if column else None, source=self.source,
                            attendance_id=own or None)


def _canonical(name: str, column_map: dict[str, str]) -> str:
    raw = name.strip().lstrip("\ufeff")
    for key in (raw, raw.lower()):
        if key in column_map:
            return column_map[key]
    return raw.lower().replace(" ", "_")


def sniff_delimiter(header: str, column_map: dict[str, str] | None = None,
                    source: str = "") -> str:
    """The header's delimiter among ``, ; TAB |``.

    The candidate that splits the header into the most known column names wins; a tie, or
    several candidates with no known names, raises :class:`MessageError` (pass ``delimiter``).
    """
    found, candidates = _sniff(header, _lower_map(column_map))
    if found:
        return found
    if not candidates:
        raise MessageError("the header has no , ; tab or | delimiter; is this a CSV extract?",
                           message="line 1", source=source)
    names = " and ".join(_DELIM_NAMES[d] for d in candidates)
    raise MessageError(f"cannot tell the delimiter ({names} both fit the header); pass the "
                       "delimiter explicitly", message="line 1", source=source)


def _sniff(header: str, cmap: dict[str, str]) -> tuple[str | None, list[str]]:
    """The header's delimiter, or ``None`` and the candidates that fit it equally well (in
    :data:`_DELIMITERS` order; none when the header holds no delimiter)."""
    scores = {}
    for delim in _DELIMITERS:
        if delim in header:
            names = next(csv.reader([header], delimiter=delim))
            scores[delim] = sum(1 for n in names if _canonical(n, cmap) in COLUMNS)
    if not scores:
        return None, []
    best = max(scores.values())
    winners = [d for d, s in scores.items() if s == best]
    if len(winners) == 1 and (best > 0 or len(scores) == 1):
        return winners[0], winners
    return None, winners


def _lower_map(column_map: dict[str, str] | None) -> dict[str, str]:
    cmap = dict(column_map or {})
    cmap.update({k.strip().lower(): v for k, v in cmap.items()})
    return cmap


class CsvRecord(NamedTuple):
    """One record of an extract: its item, the text it was read from (its lines, line endings
    kept) and the header line it was read under (``None`` when the record is the header)."""

    item: Attendance | MessageError
    raw: str
    header: str | None


def iter_csv_rows(lines: Iterable[str], source: str = "", *,
                  column_map: dict[str, str] | None = None,
                  delimiter: str | None = None) -> Iterator[Attendance | MessageError]:
    """Read an extract line by line: one Attendance or MessageError per data row (a header
    that cannot be used makes every row an error; see :func:`iter_csv_records`)."""
    for record in iter_csv_records(lines, source, column_map=column_map, delimiter=delimiter):
        yield record.item


def iter_csv_records(lines: Iterable[str], source: str = "", *,
                     column_map: dict[str, str] | None = None,
                     delimiter: str | None = None) -> Iterator[CsvRecord]:
    """Read an extract line by line: one :class:`CsvRecord` per data row, with its text.

    A header that cannot be used (no delimiter can be told, a required column missing, a
    column named twice) is an error for every data row, at the row's line and naming the
    header's problem, so that each row is accounted for; a file with such a header and no data
    rows gets one error, at the header's line.
    """
    taken: list[str] = []             # the lines read for the record being read

    def recorded(source_lines: Iterable[str]) -> Iterator[str]:
        for text in source_lines:
            taken.append(text)
            yield text

    def took() -> str:
        text = "".join(taken)
        taken.clear()
        return text
    lines = recorded(lines)
    header = next(lines, None)
    header_line = 1
    while header is not None and not header.strip():
        header, header_line = next(lines, None), header_line + 1
    if header is None:
        return
    took()
    header = header.lstrip("\ufeff")
    cmap = _lower_map(column_map)
    delim, problem = _header(header, header_line, cmap, delimiter, source)
    names = [_canonical(n, cmap) for n in next(csv.reader([header], delimiter=delim))]
    if problem is None:
        _warn_of_header(names, source)
    rows = 0
    # strict: a quote never closed is an error at the end of the file, not one last field
    # that silently holds every row after it
    reader = csv.reader(lines, delimiter=delim, strict=True)
    previous = 0
    while True:
        line = previous + 1 + header_line
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:          # bad quoting, a field over the csv module's limit
            rows += 1
            yield CsvRecord(problem(line) if problem else MessageError(
                _unreadable_row(exc, line, reader.line_num + header_line),
                message=f"line {line}", source=source), took(), header)
            if reader.line_num == previous:
                return
            previous = reader.line_num
            continue
        previous = reader.line_num
        if not any(f.strip() for f in fields):
            took()                        # a blank row: no record
            continue
        rows += 1
        item = problem(line) if problem else _row_item(names, fields, source, line)
        yield CsvRecord(item, took(), header)
    if problem and not rows:
        yield CsvRecord(problem(header_line), header, None)


def _header(header: str, header_line: int, cmap: dict[str, str], delimiter: str | None,
            source: str) -> tuple[str, Callable[[int], MessageError] | None]:
    """The delimiter to read the rows with, and, when the header cannot be used, the error
    each row gets (given its line). When no delimiter can be told, the first candidate splits
    the rows, so that each row still gets its own error."""
    def problem(reason: str, column: str | None = None) -> Callable[[int], MessageError]:
        reason = f"the header (line {header_line}) {reason}"
        return lambda line: MessageError(reason, message=f"line {line}", source=source,
                                         location=f"column {column}" if column else None)
    delim, candidates = ((delimiter, [delimiter]) if delimiter
                         else _sniff(header.rstrip("\r\n"), cmap))
    if delim is None:
        if not candidates:
            return ",", problem("has no , ; tab or | delimiter, so no row was checked; is this "
                                "a CSV extract?")
        names = " and ".join(_DELIM_NAMES[d] for d in candidates)
        return candidates[0], problem(f"fits more than one delimiter ({names}), so no row was "
                                      "checked; pass the delimiter explicitly and send the "
                                      "file again")
    names = [_canonical(n, cmap) for n in next(csv.reader([header], delimiter=delim))]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        return delim, problem(f"lacks the required column(s) {', '.join(missing)}, so no row "
                              "was checked; rename the column or pass a column map, and send "
                              "the file again", missing[0])
    for column in COLUMNS:      # which of two birth_date columns holds the value? not guessed
        fields = [str(i) for i, name in enumerate(names, start=1) if name == column]
        if len(fields) > 1:
            return delim, problem(f"has the column {column} more than once (fields "
                                  f"{' and '.join(fields)}), so no row was checked; keep one "
                                  "and send the file again", column)
    return delim, None


def _warn_of_header(names: list[str], source: str) -> None:
    """Log what a usable header would otherwise hide: columns the reader does not read (with
    the one each may mean: ``diagnosis_code`` → ``diagnosis_codes``), and no column that
    identifies the child or can show an injury. Column names only, never values."""
    where = source or "the CSV extract"
    for name in dict.fromkeys(n for n in names if n and n not in COLUMNS):
        close = difflib.get_close_matches(name, COLUMNS, n=1, cutoff=0.75)
        log.warning("%s: column %r is not one safeflag reads, and is ignored%s", where, name,
                    f" (did you mean {close[0]!r}?)" if close else
                    "; see docs/formats.md for the columns, or pass a column map")
    for wanted, without in ((_IDENTIFYING, "no row can be matched to the register"),
                            (_INJURY, "no attendance can be seen as an injury")):
        if not any(c in names for c in wanted):
            log.warning("%s: the header has none of the columns %s, so %s", where,
                        ", ".join(wanted), without)


def _unreadable_row(exc: csv.Error, first: int, last: int) -> str:
    if "unexpected end of data" in str(exc):
        return (f"a quote opened on this row is never closed, so lines {first} to {last} "
                "read as one row and none of them was checked; close the quote and send "
                "them again")
    return f"unreadable CSV row ({exc}); check quoting and length"


def _row_item(names: list[str], fields: list[str], source: str, line: int
              ) -> Attendance | MessageError:
    row = _Row(dict(zip(names, fields)), source, line)
    try:
        if sum(map(len, fields)) > MAX_MESSAGE_CHARS:
            raise row.error("the row is too long", aligned=False)
        if len(fields) > len(names) and any(f.strip() for f in fields[len(names):]):
            raise row.error(f"the row has {len(fields)} fields but the header {len(names)}; "
                            "check quoting", aligned=False)
        return parse_csv_row(row)
    except MessageError as exc:
        return exc
    except Exception as exc:   # never let odd input escape as anything but a MessageError
        return row.error(f"unreadable row ({type(exc).__name__})", aligned=False)


def _check_bytes(row: _Row) -> None:
    for column, value in row.values.items():
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            raise row.error("bytes that are not UTF-8; save the extract as UTF-8", column)


def _datetime(row: _Row, column: str, required: bool = False) -> datetime | None:
    value = row.get(column)
    if not value:
        if required:
            raise row.error("empty; every attendance needs its arrival date/time", column)
        return None
    try:
        sent = parse_iso_datetime(value)
        if column == "arrival":
            return checked_arrival(sent, column, row.error)
        return local_wall_time(sent)
    except (ValueError, OverflowError) as exc:
        raise row.error("not an ISO date/time (YYYY-MM-DDTHH:MM[:SS])", column) from exc


def _date(row: _Row, column: str) -> PartialDate | None:
    value = row.get(column)
    if not value:
        return None
    try:
        return PartialDate.parse(value)
    except ValueError as exc:
        raise row.error("not a date (YYYY-MM-DD, YYYY-MM or YYYY)", column) from exc


def _injury_time(row: _Row, arrival: datetime) -> datetime | date | None:
    """A time alone is on the arrival day; a date alone stays a date (no time of day known)."""
    value = row.get("injury_time")
    try:
        if value and len(value) <= 8 and ":" in value and "-" not in value:
            return datetime.combine(arrival.date(), time.fromisoformat(value))
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError as exc:
        raise row.error("not a time (HH:MM) or ISO date/time", "injury_time") from exc
    return _datetime(row, "injury_time")


def _diagnoses(row: _Row) -> tuple[Coded, ...]:
    out = []
    for item in row.get("diagnosis_codes").split(";"):
        item = item.strip()
        if not item:
            continue
        prefix, sep, code = item.partition(":")
        system = _PREFIX.get(prefix.strip().upper()) if sep else None
        if sep and system is None:
            raise row.error("a code prefix must be ICD10: or SNOMED: (or no prefix)",
                            "diagnosis_codes")
        found = coded(code if sep else item, "", system or "")
        if found:
            out.append(found)
    return tuple(out)


def _kin(row: _Row) -> tuple[tuple[NextOfKin, ...], tuple[str, ...]]:
    """The mother and father named, and a note for each birth date of theirs that could not
    be read: left out (as NK1-16 and RelatedPerson.birthDate), not the row's error."""
    out, notes = [], []
    for who, code in _KIN:
        name = Name(given=row.get(f"{who}_given_name"), family=row.get(f"{who}_family_name"))
        nhs = normalise_nhs_number(row.get(f"{who}_nhs_number"))
        born, unread = optional(lambda who=who: _date(row, f"{who}_birth_date"))
        if nhs or name.given or name.family:
            demo = Demographics(nhs_number=nhs, names=(name,) if name.given or name.family
                                else (), birth_date=born)
            out.append(NextOfKin(relationship=who, code=code, demographics=demo))
            notes.extend(unread)
    return tuple(out), tuple(notes)


def parse_csv_row(row: _Row) -> Attendance:
    """One row into an Attendance; :class:`MessageError` names the bad column."""
    _check_bytes(row)
    attendance_id = row.get("attendance_id")
    if not attendance_id:
        raise row.error("empty; every row needs its attendance id", "attendance_id")
    arrival = _datetime(row, "arrival", required=True)
    arrival_notes = ((date_only_arrival("column arrival"),)
                     if iso_date_alone(row.get("arrival")) else ())
    name = Name(given=row.get("given_name"), family=row.get("family_name"),
                middle=row.get("middle_name"))
    address = Address(line=row.get("address_line"), city=row.get("city"),
                      postcode=row.get("postcode"))
    local = row.get("local_id")
    patient = Demographics(
        nhs_number=normalise_nhs_number(row.get("nhs_number")),
        identifiers=(Identifier(value=local, type="MR"),) if local else (),
        names=(name,) if name.given or name.family else (),
        birth_date=_date(row, "birth_date"), sex=sex_of(row.get("sex")),
        addresses=(address,) if address.line or address.postcode or address.city else ())
    injured, notes = optional(lambda: _injury_time(row, arrival))
    kin, kin_notes = _kin(row)
    return Attendance(
        attendance_id=attendance_id, event="csv", arrival=arrival,
        patient_class=(row.get("patient_class") or "E").upper(), patient=patient,
        next_of_kin=kin,
        complaint=coded(row.get("complaint_code"), row.get("complaint_text"),
                        row.get("complaint_system")),
        diagnoses=_diagnoses(row), injury_time=injured,
        notes=(*arrival_notes, *notes, *kin_notes),
        arrival_time_given=not arrival_notes,
        source=f"{row.source}:{row.line}" if row.source else f"line {row.line}")
