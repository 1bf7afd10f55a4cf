"""Register input: the CSV folder of the interface contract, read into a :class:`Register`.

The whole folder is validated before anything is stored: one bad row raises a
:class:`~safeflag.errors.RegisterError` naming the file, line and column, and the caller's
previous register stays as it was.

Files (UTF-8, header row, any column order): ``persons.csv`` (required), ``relationships.csv``,
``plans.csv``, ``addresses.csv`` (optional). A file is found whatever the case of its name
(``Plans.csv``). A missing required column is an error (``plans.csv`` must say ``end_date``:
without it every plan would read as still open). What would otherwise pass unseen is logged as
a warning, naming files and columns only: a missing ``relationships.csv`` or ``plans.csv``,
another CSV file in the folder, a contract column missing, a column the contract does not name
(with the contract's column it may mean: ``enddate`` → ``end_date``).
"""

from __future__ import annotations

import csv
import difflib
import logging
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TypeVar

from ..algo.dates import PartialDate
from ..algo.nhs import normalise_nhs_number
from ..errors import RegisterError
from ..models import (AddressPeriod, Person, Plan, PlanType, Register, Relationship,
                      RelationshipType, Sex)

__all__ = ["load_register", "load_register_csv", "CONTRACT_RELATIONSHIPS"]

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Each register file's columns in the interface contract.
COLUMNS = {
    "persons.csv": ("person_id", "nhs_number", "given_name", "family_name", "birth_date", "sex",
                    "address_line", "postcode", "aliases"),
    "relationships.csv": ("person_id", "related_person_id", "relationship", "from_date",
                          "to_date"),
    "plans.csv": ("person_id", "plan", "start_date", "end_date", "category", "local_authority",
                  "contact"),
    "addresses.csv": ("person_id", "address_line", "postcode", "from_date", "to_date"),
}
#: Contract columns whose absence is not worth a warning (the contract calls them optional).
_OPTIONAL_COLUMNS = {"aliases"}

CONTRACT_RELATIONSHIPS = {
    "mother", "father", "parent", "step-parent", "carer", "partner-of-parent", "sibling",
    "half-sibling", "household-member",
}
_SEX = {"": Sex.unknown, "unknown": Sex.unknown, "u": Sex.unknown, "female": Sex.female,
        "f": Sex.female, "male": Sex.male, "m": Sex.male}


class _Row:
    """One CSV row with its file and line, giving typed fields or a located RegisterError."""

    def __init__(self, file: str, line: int, data: dict[str, str]) -> None:
        self.file, self.line, self.data = file, line, data

    def fail(self, column: str, reason: str) -> RegisterError:
        return RegisterError(reason, file=self.file, line=self.line, column=column)

    def text(self, column: str) -> str:
        return (self.data.get(column) or "").strip()

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise self.fail(column, "a value is required")
        return value

    def date(self, column: str, *, required: bool = False) -> date | None:
        value = self.required(column) if required else self.text(column)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise self.fail(column, "expected a date as YYYY-MM-DD") from exc


def _file(folder: Path, name: str) -> Path | None:
    """The folder's file ``name``, whatever the case of its name; ``None`` when there is none.
    Two files of that name in different cases are an error: which one is meant?"""
    found = [p for p in folder.iterdir() if p.name.lower() == name]
    if len(found) > 1:
        raise RegisterError(f"{' and '.join(sorted(p.name for p in found))} are both here; "
                            f"keep one {name}", file=str(folder))
    return found[0] if found else None


def _check_header(path: Path, name: str, header: set[str]) -> None:
    """Warn of contract columns missing from ``header`` and of columns it does not name."""
    contract = COLUMNS[name]
    missing = [c for c in contract if c not in header and c not in _OPTIONAL_COLUMNS]
    if missing:
        log.warning("%s has no column %s: read as blank in every row", path,
                    ", ".join(missing))
    for column in sorted(header - set(contract)):
        close = difflib.get_close_matches(column.lower(), contract, n=1, cutoff=0.75)
        log.warning("%s: column %r is not one the register reads, and is ignored%s", path,
                    column, f" (did you mean {close[0]!r}?)" if close else "")


def _rows(folder: Path, name: str, required_columns: set[str],
          *, optional: bool) -> Iterator[_Row]:
    path = _file(folder, name)
    if path is None:
        if optional:
            return
        raise RegisterError("file not found; a register folder needs persons.csv",
                            file=str(folder / name))
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
        with handle:
            reader = csv.DictReader(handle)
            header = {h.strip() for h in (reader.fieldnames or [])}
            missing = required_columns - header
            if missing:
                raise RegisterError(f"missing column(s) {', '.join(sorted(missing))}",
                                    file=str(path), line=1)
            _check_header(path, name, header)
            for data in reader:
                if None in data:
                    raise RegisterError("more values than header columns",
                                        file=str(path), line=reader.line_num)
                clean = {k.strip(): v for k, v in data.items() if k is not None}
                if not any((v or "").strip() for v in clean.values()):
                    continue  # a blank line
                yield _Row(str(path), reader.line_num, clean)
    except UnicodeDecodeError as exc:
        raise RegisterError("not UTF-8 text; save the file as UTF-8", file=str(path)) from exc
    except csv.Error as exc:
        raise RegisterError(f"malformed CSV ({exc})", file=str(path)) from exc
    except OSError as exc:     # no permission, a folder of that name, a failing disk
        raise RegisterError(f"cannot be read ({exc.strerror or type(exc).__name__}); check "
                            "that it is a file this user may read", file=str(path)) from exc


def _person(row: _Row) -> Person:
    nhs = normalise_nhs_number(row.text("nhs_number"))
    if nhs is not None and (len(nhs) != 10 or not nhs.isdigit()):
        raise row.fail("nhs_number", "expected 10 digits or blank")
    birth = None
    if row.text("birth_date"):
        try:
            birth = PartialDate.parse(row.text("birth_date"))
        except ValueError as exc:
            raise row.fail("birth_date", "expected YYYY-MM-DD (or YYYY-MM / YYYY)") from exc
    sex_text = row.text("sex").lower()
    if sex_text not in _SEX:
        raise row.fail("sex", "expected female, male, unknown or blank")
    aliases = []
    for alias in filter(None, (a.strip() for a in row.text("aliases").split(";"))):
        given, _, family = alias.rpartition(" ")
        aliases.append((given, family) if given else ("", family))
    return Person(person_id=row.required("person_id"), nhs_number=nhs,
                  given_name=row.text("given_name"), family_name=row.text("family_name"),
                  birth_date=birth, sex=_SEX[sex_text], address_line=row.text("address_line"),
                  postcode=row.text("postcode"), aliases=tuple(aliases))


def _relationship(row: _Row) -> Relationship:
    kind = row.required("relationship").lower()
    if kind not in CONTRACT_RELATIONSHIPS:
        raise row.fail("relationship",
                       "expected one of " + ", ".join(sorted(CONTRACT_RELATIONSHIPS)))
    return Relationship(person_id=row.required("person_id"),
                        related_person_id=row.required("related_person_id"),
                        relationship=RelationshipType(kind), from_date=row.date("from_date"),
                        to_date=row.date("to_date"))


def _plan(row: _Row) -> Plan:
    kind = row.required("plan").upper()
    try:
        plan_type = PlanType(kind)
    except ValueError as exc:
        raise row.fail("plan", "expected CP, LAC, CIN or CP-UNBORN") from exc
    start = row.date("start_date", required=True)
    end = row.date("end_date")
    if start is not None and end is not None and end < start:
        raise row.fail("end_date", "the plan ends before it starts")
    return Plan(person_id=row.required("person_id"), plan=plan_type, start_date=start,
                end_date=end, category=row.text("category"),
                local_authority=row.text("local_authority"), contact=row.text("contact"))


def _address(row: _Row) -> AddressPeriod:
    return AddressPeriod(person_id=row.required("person_id"),
                         address_line=row.text("address_line"), postcode=row.text("postcode"),
                         from_date=row.date("from_date"), to_date=row.date("to_date"))


def _read(folder: Path, name: str, columns: set[str], build: Callable[[_Row], T],
          *, optional: bool, known: set[str] | None = None,
          ref_columns: tuple[str, ...] = ()) -> list[T]:
    items = []
    for row in _rows(folder, name, columns, optional=optional):
        for column in ref_columns:
            if known is not None and row.required(column) not in known:
                raise row.fail(column, "no person with this person_id in persons.csv")
        items.append(build(row))
    return items


def _other_files(folder: Path) -> None:
    """Warn of what the folder holds, or does not, that a load would otherwise pass over."""
    for name in ("relationships.csv", "plans.csv"):
        if _file(folder, name) is None:
            log.warning("%s has no %s: the register is loaded without %s", folder, name,
                        name.removesuffix(".csv"))
    for path in sorted(folder.glob("*")):
        if path.suffix.lower() in (".csv", ".tsv") and path.name.lower() not in COLUMNS:
            log.warning("%s is not a register file (%s) and is not read", path,
                        ", ".join(COLUMNS))


def load_register_csv(folder: str | Path) -> Register:
    """Read and validate a register folder; raise :class:`RegisterError` on the first bad row."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RegisterError("not a folder; give the folder holding persons.csv", file=str(folder))
    seen: set[str] = set()

    def unique_person(row: _Row) -> Person:
        person = _person(row)
        if person.person_id in seen:
            raise row.fail("person_id", "duplicate person_id")
        seen.add(person.person_id)
        return person

    _other_files(folder)
    persons = _read(folder, "persons.csv", {"person_id"}, unique_person, optional=False)
    relationships = _read(folder, "relationships.csv",
                          {"person_id", "related_person_id", "relationship"}, _relationship,
                          optional=True, known=seen, ref_columns=("person_id", "related_person_id"))
    plans = _read(folder, "plans.csv", {"person_id", "plan", "start_date", "end_date"}, _plan,
                  optional=True, known=seen, ref_columns=("person_id",))
    addresses = _read(folder, "addresses.csv", {"person_id"}, _address, optional=True,
                      known=seen, ref_columns=("person_id",))
    return Register(persons=tuple(persons), relationships=tuple(relationships),
                    plans=tuple(plans), addresses=tuple(addresses))


def load_register(path: str | Path) -> Register:
    """A register from a CSV folder or a FHIR Bundle file (JSON), validated whole."""
    path = Path(path)
    if path.is_dir():
        return load_register_csv(path)
    if path.is_file():
        from .register_fhir import load_register_fhir
        return load_register_fhir(path)
    raise RegisterError("no such folder or file; give the register's CSV folder or a FHIR "
                        "Bundle (.json)", file=str(path))
