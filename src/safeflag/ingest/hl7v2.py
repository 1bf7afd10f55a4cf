"""HL7 v2 ADT arrivals (A01, A04, A08; v2.3–2.8) into :class:`~safeflag.models.Attendance`.

The fast path is a hand-written ER7 reader (:mod:`safeflag.ingest.er7`) that reads only the
fields safeflag uses (see ``docs/formats.md``). :func:`validate_hl7_strict` runs hl7apy's
validating parser for a slower, stricter check of the message structure.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Iterator

from ..algo.dates import PartialDate, parse_hl7_datetime
from ..algo.nhs import is_valid_nhs_number, normalise_nhs_number
from ..errors import MessageError, NotAnArrival
from ..models import Address, Attendance, Coded, Demographics, Identifier, Name, NextOfKin
from ._common import (MAX_MESSAGE_CHARS, checked_arrival, coded, date_only_arrival,
                      local_wall_time, optional, relationship_of, sex_of)
from .er7 import Delimiters, iter_hl7_messages, message_ref, split_segments

__all__ = ["iter_hl7_messages", "parse_hl7", "iter_hl7_attendances", "validate_hl7_strict",
           "ARRIVAL_EVENTS"]

#: ADT trigger events that report an arrival (A08 updates the same attendance).
ARRIVAL_EVENTS = frozenset({"A01", "A04", "A08"})
_NHS_OID = "2.16.840.1.113883.2.1.4.1"
_TS = re.compile(r"^(\d{4,14})(\d*)(?:\.(\d+))?([+-]\d{4})?$")
# DT or TS: YYYY[MM[DD[HH[MM[SS]]]]][.S][+ZZZZ] — digits come in pairs after the year, so a
# seven-digit value is refused rather than read as a year.
_DAY_ONLY = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[+-]\d{4})?$")
_DATE = re.compile(r"^(\d{4})(?:(\d{2})(?:(\d{2})(?:\d{2}){0,3})?)?(?:\.\d+)?(?:[+-]\d{4})?$")


class _Msg:
    """One message split into segments and fields, with typed accessors."""

    __slots__ = ("d", "segs", "ref", "source")

    def __init__(self, raw: str, ref: str, source: str) -> None:
        self.ref = ref
        self.source = source
        lines = split_segments(raw)
        if not lines or not lines[0].startswith("MSH"):
            raise self.error("the message does not start with an MSH segment; each message "
                             "must begin with MSH|^~\\&|...", "MSH")
        try:
            self.d = Delimiters.from_msh(lines[0])
        except ValueError as exc:
            where, _, why = str(exc).partition("|")
            raise self.error(why, where) from exc
        fs = self.d.field
        msh = lines[0].split(fs)
        segs: dict[str, list[list[str]]] = {"MSH": [["MSH", fs] + msh[1:]]}
        for line in lines[1:]:
            parts = line.split(fs)
            segs.setdefault(parts[0].strip(), []).append(parts)
        self.segs = segs

    def error(self, reason: str, location: str, cls: type[MessageError] = MessageError
              ) -> MessageError:
        """The error at ``location``, carrying the visit number (PV1-19) once the segments
        are read and when it is there."""
        visit = self.value(self.first("PV1"), 19) if hasattr(self, "segs") else ""
        return cls(reason, message=self.ref, location=location, source=self.source,
                   attendance_id=visit or None)

    # --- access --------------------------------------------------------------------------
    def first(self, seg: str) -> list[str] | None:
        found = self.segs.get(seg)
        return found[0] if found else None

    def all(self, seg: str) -> list[list[str]]:
        return self.segs.get(seg, [])

    def reps(self, fields: list[str] | None, n: int) -> list[list[str]]:
        """Repetitions of field n, each split into components (escapes not yet decoded)."""
        if fields is None or n >= len(fields) or not fields[n]:
            return []
        d = self.d
        value = fields[n]
        out = value.split(d.repetition) if d.repetition else [value]
        return [r.split(d.component) if d.component else [r] for r in out if r.strip()]

    def comp(self, comps: list[str], i: int, whole_sub: bool = False) -> str:
        """Component i (1-based), first subcomponent, escapes decoded, ``""`` null blanked."""
        if i > len(comps):
            return ""
        value = comps[i - 1]
        if not value:
            return ""
        d = self.d
        sub = d.subcomponent
        if sub and not whole_sub and sub in value:
            value = value.split(sub, 1)[0]
        if d.escape and d.escape in value:
            value = d.unescape(value)
        value = value.strip()
        return "" if value == '""' else value

    def value(self, fields: list[str] | None, n: int, i: int = 1) -> str:
        """Component i of the first (non-blank) repetition of field n."""
        if fields is None or n >= len(fields):
            return ""
        text = fields[n]
        if not text:
            return ""
        d = self.d
        if d.repetition and d.repetition in text:
            reps = self.reps(fields, n)
            return self.comp(reps[0], i) if reps else ""
        return self.comp(text.split(d.component) if d.component else [text], i)


# --- field readers ---------------------------------------------------------------------------
def _timestamp(value: str) -> datetime:
    """An HL7 TS/DTM as UK wall time (:func:`_hl7_time`); ``ValueError`` when unreadable."""
    try:
        return local_wall_time(_hl7_time(value))
    except OverflowError as exc:         # an offset on a date at the edge of the calendar
        raise ValueError("out of range") from exc


def _hl7_time(value: str) -> datetime:
    """An HL7 TS/DTM with tolerance for spaces, >14 digits and long fractions, as sent (with
    its offset, if any)."""
    m = _TS.match(value.replace(" ", ""))
    if not m or len(m.group(1)) < 8:
        raise ValueError("expected YYYYMMDD[HHMM[SS]][+ZZZZ]")
    main, extra, frac, tz = m.groups()
    frac = (extra + (frac or ""))[:4] if len(main) == 14 else (frac or "")[:4]
    if extra and len(main) < 14:
        raise ValueError("expected YYYYMMDD[HHMM[SS]][+ZZZZ]")
    text = main + (f".{frac}" if frac else "") + (tz or "")
    return parse_hl7_datetime(text)


#: TS.2, the degree of precision of a time stamp (HL7 v2.3 to 2.5, table 0529): a birth date
#: sent as ``20140101^Y`` is known to the year, ``20140301^L`` to the month.
_PRECISION_PARTS = {"Y": 1, "L": 2}


def _birth_date(msg: _Msg, fields: list[str] | None, loc: str) -> PartialDate | None:
    n = 7 if loc == "PID-7" else 16
    value = msg.value(fields, n).replace(" ", "")
    if not value:
        return None
    m = _DATE.match(value)
    try:
        if not m:
            raise ValueError("bad shape")
        y, mo, d = m.groups()
        parts = _PRECISION_PARTS.get(msg.value(fields, n, 2).strip().upper(), 3)
        return PartialDate(int(y), int(mo) if mo and parts > 1 else None,
                           int(d) if d and parts > 2 else None)
    except ValueError as exc:
        raise msg.error("the birth date is not a valid date; send YYYYMMDD (or YYYYMM / "
                        "YYYY when only part is known)", loc) from exc


def _names(msg: _Msg, fields: list[str] | None, n: int) -> tuple[Name, ...]:
    out = []
    for rep in msg.reps(fields, n):
        name = Name(family=msg.comp(rep, 1), given=msg.comp(rep, 2), middle=msg.comp(rep, 3))
        if name.family or name.given or name.middle:
            out.append(name)
    return tuple(out)


def _addresses(msg: _Msg, fields: list[str] | None, n: int) -> tuple[Address, ...]:
    out = []
    for rep in msg.reps(fields, n):
        line = ", ".join(p for p in (msg.comp(rep, 1), msg.comp(rep, 2)) if p)
        addr = Address(line=line, city=msg.comp(rep, 3), postcode=msg.comp(rep, 5))
        if addr.line or addr.city or addr.postcode:
            out.append(addr)
    return tuple(out)


def _is_nhs(msg: _Msg, rep: list[str]) -> bool:
    authority = msg.comp(rep, 4, whole_sub=True).upper()
    first_sub = authority.split(msg.d.subcomponent.upper(), 1)[0] if msg.d.subcomponent else \
        authority
    return (first_sub.strip() == "NHS" or _NHS_OID in authority
            or msg.comp(rep, 5).upper() == "NH")


def _identifiers(msg: _Msg, fields: list[str] | None, n: int
                 ) -> tuple[list[Identifier], str | None]:
    """All CX repetitions of field n, and the NHS number among them (if marked as one)."""
    ids: list[Identifier] = []
    nhs = None
    for rep in msg.reps(fields, n):
        value = msg.comp(rep, 1)
        if value.upper() == "NHS" and msg.comp(rep, 2):   # component-level "NHS^943..."
            value, marked = msg.comp(rep, 2), True
        else:
            marked = _is_nhs(msg, rep)
        if not value:
            continue
        ids.append(Identifier(value=value, system=msg.comp(rep, 4), type=msg.comp(rep, 5)))
        if marked and nhs is None:
            nhs = normalise_nhs_number(value)
    return ids, nhs


def _demographics(msg: _Msg, pid: list[str]) -> Demographics:
    ids, nhs = _identifiers(msg, pid, 3)
    for legacy in (2, 4):
        more, legacy_nhs = _identifiers(msg, pid, legacy)
        ids.extend(more)
        nhs = nhs or legacy_nhs
    if nhs is None:
        bare = normalise_nhs_number(msg.value(pid, 2))
        if bare and is_valid_nhs_number(bare):
            nhs = bare                                  # legacy NHS placement: bare PID-2
    status = msg.value(pid, 32).upper()
    verified = None if not status or nhs is None else status.endswith("01")
    return Demographics(
        nhs_number=nhs, nhs_verified=verified, identifiers=tuple(ids),
        names=_names(msg, pid, 5), birth_date=_birth_date(msg, pid, "PID-7"),
        sex=sex_of(msg.value(pid, 8)), addresses=_addresses(msg, pid, 11))


def _next_of_kin(msg: _Msg, nk1: list[str], n: int) -> tuple[NextOfKin | None, tuple[str, ...]]:
    """The ``n``-th NK1 as next of kin, and a note when its birth date could not be read: a
    relative's unreadable birth date is left out, not made the attendance's error."""
    reps = msg.reps(nk1, 3)
    code = msg.comp(reps[0], 1) if reps else ""
    text = msg.comp(reps[0], 2) if reps else ""
    ids, nhs = _identifiers(msg, nk1, 33)
    notes: tuple[str, ...] = ()
    try:
        born = _birth_date(msg, nk1, "NK1-16")
    except MessageError as exc:
        born, notes = None, (f"NK1-16 (NK1 segment {n}): {exc.reason}; not used",)
    demo = Demographics(nhs_number=nhs, identifiers=tuple(ids), names=_names(msg, nk1, 2),
                        addresses=_addresses(msg, nk1, 4), birth_date=born,
                        sex=sex_of(msg.value(nk1, 15)))
    if not (code or text or demo.names or demo.identifiers):
        return None, ()
    return NextOfKin(relationship=relationship_of(code, text), code=code or text,
                     demographics=demo), notes


_KNOWN_SYSTEMS = ("ICD10", "SNOMED")


def _ce(msg: _Msg, fields: list[str] | None, n: int) -> Coded | None:
    reps = msg.reps(fields, n)
    if not reps:
        return None
    rep = reps[0]
    first = coded(msg.comp(rep, 1), msg.comp(rep, 2), msg.comp(rep, 3))
    if first is not None and first.system in _KNOWN_SYSTEMS:
        return first
    # CE/CWE 4-6: the alternate code, where a feed sends its local code first and the
    # ICD-10 or SNOMED CT code second
    alternate = coded(msg.comp(rep, 4), msg.comp(rep, 5), msg.comp(rep, 6))
    if alternate is not None and alternate.code and alternate.system in _KNOWN_SYSTEMS:
        return alternate if alternate.text or first is None else alternate.model_copy(
            update={"text": first.text})
    return first or alternate


def _diagnoses(msg: _Msg) -> tuple[Coded, ...]:
    out = []
    for dg1 in msg.all("DG1"):
        item = _ce(msg, dg1, 3) or coded("", msg.value(dg1, 4), "")
        if item is not None:
            out.append(item)
    return tuple(out)


def _arrival(msg: _Msg, pv1: list[str] | None) -> tuple[datetime, tuple[str, ...]]:
    """The arrival, and the note to carry when it came as a date alone. An empty PV1-44 falls
    back to MSH-7 (the contract); a PV1-44 that is present but unreadable is an error, not
    silently replaced by the message time."""
    for fields, n, loc in ((pv1, 44, "PV1-44"), (msg.first("MSH"), 7, "MSH-7")):
        value = msg.value(fields, n)
        if value:
            try:
                sent = _hl7_time(value)
            except ValueError as exc:
                raise msg.error("the arrival time is not an HL7 date/time; send "
                                "YYYYMMDDHHMM[SS][+ZZZZ]", loc) from exc
            date_only = len(_TS.match(value.replace(" ", "")).group(1)) == 8
            return (checked_arrival(sent, loc, msg.error),
                    (date_only_arrival(loc),) if date_only else ())
    raise msg.error("no arrival time: PV1-44 and MSH-7 are both empty; send the arrival in "
                    "PV1-44", "PV1-44")


def _injury_time(msg: _Msg) -> datetime | date | None:
    # ACC-1 (accident date/time) of the first ACC segment, read like PV1-44: an offset is
    # converted to UK wall time, none means UK wall time already; a date alone stays a date.
    # Blank or no ACC is no data; a value that is there but unreadable is an error (which the
    # caller turns into a note: the field is optional).
    acc = msg.segs.get("ACC")
    if acc is None:
        return None
    value = msg.value(acc[0], 1)
    if not value:
        return None
    try:
        day = _DAY_ONLY.match(value.replace(" ", ""))
        if day:
            return date(int(day[1]), int(day[2]), int(day[3]))
        return _timestamp(value)
    except ValueError as exc:
        raise msg.error("the accident date/time is not an HL7 date/time; send "
                        "YYYYMMDD[HHMM[SS]][+ZZZZ] or leave ACC-1 empty", "ACC-1") from exc


def _event(msg: _Msg) -> tuple[str, str]:
    msh9 = msg.reps(msg.first("MSH"), 9)
    if not msh9:
        raise msg.error("the message type is missing; send e.g. ADT^A04", "MSH-9")
    kind, event = msg.comp(msh9[0], 1).upper(), msg.comp(msh9[0], 2).upper()
    if kind == "ADT" and not event:
        event = msg.value(msg.first("EVN"), 1).upper()
    return kind, event


def parse_hl7(raw: str, position: int = 1, source: str = "", *,
              strict: bool = False) -> Attendance:
    """Read one ER7 message into an :class:`Attendance`.

    Raises :class:`NotAnArrival` for readable messages that are not ADT A01/A04/A08 and
    :class:`MessageError` (naming the message and the segment/field) for unreadable ones, and,
    with ``strict``, for messages that fail validation against their version's structure.
    """
    ref = message_ref(raw, position)
    if len(raw) > MAX_MESSAGE_CHARS:
        raise MessageError(f"the message is over {MAX_MESSAGE_CHARS:,} characters; split it "
                           "or check the file is HL7 v2", message=ref, location="MSH",
                           source=source)
    if strict:
        problems = validate_hl7_strict(raw)
        if problems:
            raise MessageError(f"fails strict validation against its HL7 version "
                               f"({problems[0]}); fix the sending interface, or run "
                               "without --strict", message=ref, location="structure",
                               source=source)
    try:
        return _parse(raw, ref, source)
    except MessageError:
        raise
    except Exception as exc:   # never let odd input escape as anything but a MessageError
        raise MessageError(f"unreadable message ({type(exc).__name__}); check the ER7 "
                           "structure", message=ref, source=source) from exc


def _parse(raw: str, ref: str, source: str) -> Attendance:
    msg = _Msg(raw, ref, source)
    kind, event = _event(msg)
    if kind != "ADT" or event not in ARRIVAL_EVENTS:
        label = f"{kind}^{event}" if event else kind
        raise msg.error(f"{label} is not an arrival (only ADT^A01, A04 and A08 are read); "
                        "nothing to check", "MSH-9", NotAnArrival)
    pid = msg.first("PID")
    if pid is None:
        raise msg.error("there is no PID segment; the patient cannot be identified", "PID")
    msh, pv1, pv2 = msg.first("MSH"), msg.first("PV1"), msg.first("PV2")
    control = msg.value(msh, 10)
    attendance_id = msg.value(pv1, 19) or control
    if not attendance_id:
        raise msg.error("no visit number (PV1-19) and no message control id (MSH-10); send "
                        "the attendance number in PV1-19", "PV1-19")
    kin_read = [_next_of_kin(msg, nk1, n) for n, nk1 in enumerate(msg.all("NK1"), start=1)]
    arrival, arrival_notes = _arrival(msg, pv1)
    injured, notes = optional(lambda: _injury_time(msg))
    return Attendance(
        attendance_id=attendance_id, message_id=control, event=event,
        arrival=arrival, arrival_time_given=not arrival_notes,
        patient_class=msg.value(pv1, 2).upper(),
        patient=_demographics(msg, pid),
        next_of_kin=tuple(k for k, _ in kin_read if k is not None),
        complaint=_ce(msg, pv2, 3), diagnoses=_diagnoses(msg), injury_time=injured,
        source=source, notes=(*arrival_notes, *notes, *(n for _, ns in kin_read for n in ns)))


def iter_hl7_attendances(text: str, source: str = "-", *,
                         strict: bool = False) -> Iterator[Attendance | MessageError]:
    """Every message in ER7 text as an Attendance or a MessageError, in order; with
    ``strict``, a message hl7apy finds invalid for its version is refused."""
    for position, raw in iter_hl7_messages(text):
        yield read_hl7(raw, position, source, strict=strict)


def read_hl7(raw: str, position: int, source: str, *,
             strict: bool = False) -> Attendance | MessageError:
    """One message as an Attendance, or the MessageError that says why it cannot be used."""
    try:
        return parse_hl7(raw, position, source, strict=strict)
    except MessageError as exc:
        return exc


def validate_hl7_strict(raw: str) -> list[str]:
    """Problems hl7apy's validating parser finds in one message (``[]`` when it is valid).

    Slow (milliseconds per message); for checking an interface, not for the triage path.
    Problems name segments/fields only, never values.
    """
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    text = "\r".join(s for s in raw.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s)
    try:
        msg = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
        msg.validate()
    except Exception as exc:   # hl7apy raises many unrelated classes
        return [f"{type(exc).__name__}: {_scrub(exc)}"]
    return []


#: hl7apy's messages that start with the value itself ("20231301 is not an HL7 valid date
#: value"): only the part after the value is kept.
_VALUE_FIRST = re.compile(r"\b(is not an HL7 valid \w+ value)\s*$")
#: hl7apy's messages that carry a value after these words ("The value X exceed the max
#: length: 20", "Invalid date offset: +99"): the words are kept, with the limit if any.
_VALUE_AFTER = (("The value ", "a value exceeds the maximum length"),
                ("Invalid date offset", "invalid date offset"),
                ("Invalid date format", "invalid date format"))


def _scrub(exc: Exception) -> str:
    """hl7apy's message without the values it quotes (which may be a patient's name or birth
    date): the problem and the element it names, never what was sent; bounded in length."""
    text = str(exc)
    m = _VALUE_FIRST.search(text)
    if m:
        return f"a value {m.group(1)}"
    for start, said in _VALUE_AFTER:
        if text.startswith(start):
            limit = getattr(exc, "limit", None)
            return f"{said} ({limit})" if isinstance(limit, int) else said
    return text.split(" value ", 1)[0][:300]
