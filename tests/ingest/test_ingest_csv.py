"""ECDS-like CSV extracts: columns, mapping, delimiter sniffing, encodings, row errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from safeflag.algo.dates import PartialDate
from safeflag.errors import MessageError
from safeflag.ingest import read_attendances, read_text
from safeflag.ingest.csv_extract import sniff_delimiter
from safeflag.models import Attendance, Sex

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "csv"


def test_extract_rows_and_row_errors():
    items = list(read_attendances(FIXTURES / "ecds_extract.csv"))
    assert len(items) == 4
    a, b, bad_arrival, bad_dob = items
    assert isinstance(a, Attendance) and a.attendance_id == "V00401" and a.event == "csv"
    assert a.patient.nhs_number == "9434765919" and a.patient.sex is Sex.female
    assert a.patient.addresses[0].line == "12 Acacia Avenue, Flat 2"
    assert [(d.code, d.system) for d in a.diagnoses] == [("S06.0", "ICD10"),
                                                         ("91302008", "SNOMED")]
    assert a.complaint.system == "SNOMED" and a.complaint.text == "Fall"
    [mother] = a.next_of_kin
    assert mother.relationship == "mother" and mother.demographics.nhs_number == "9990000018"
    assert a.injury_time == datetime(2014, 1, 3, 9, 50)
    assert b.patient.birth_date == PartialDate(2013, 1) and b.diagnoses[0].system == "ICD10"
    assert b.injury_time == datetime(2014, 1, 4, 10, 30) and b.patient_class == "E"
    assert isinstance(bad_arrival, MessageError)
    assert bad_arrival.location == "column arrival" and "line 4" in str(bad_arrival)
    assert "ecds_extract.csv" in str(bad_arrival) and "Sam" not in str(bad_arrival)
    assert isinstance(bad_dob, MessageError) and bad_dob.location == "column birth_date"
    assert "line 5" in str(bad_dob)


def test_column_map_and_semicolon():
    cmap = {"Attendance Number": "attendance_id", "Arrival Date Time": "arrival",
            "NHS No": "nhs_number", "Forename": "given_name", "Surname": "family_name",
            "DOB": "birth_date"}
    [att] = list(read_attendances(FIXTURES / "site_semicolon_mapped.csv", column_map=cmap))
    assert att.attendance_id == "A9" and att.patient.names[0].family == "Smith"
    [err] = list(read_attendances(FIXTURES / "site_semicolon_mapped.csv"))
    assert isinstance(err, MessageError) and "attendance_id" in str(err)


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_sniffing(delim):
    header = delim.join(["attendance_id", "arrival", "nhs_number"])
    assert sniff_delimiter(header) == delim
    text = header + "\nV1" + delim + "2014-01-03T10:00" + delim + "\n"
    [att] = list(read_text(text, fmt="csv"))
    assert att.attendance_id == "V1"


def test_ambiguous_delimiter_refused():
    with pytest.raises(MessageError, match="delimiter"):
        sniff_delimiter("a,b;c,d;e")


def test_not_utf8_row_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbfattendance_id,arrival,family_name\n"
                     b"V1,2014-01-03T10:00,Ok\nV2,2014-01-03T10:00,M\xfcller\n")
    ok, bad = list(read_attendances(path))
    assert isinstance(ok, Attendance)
    assert isinstance(bad, MessageError) and bad.location == "column family_name"
    assert "x.csv" in str(bad) and "line 3" in str(bad)


def test_quoted_newline_and_too_many_fields():
    text = 'attendance_id,arrival,complaint_text\nV1,2014-01-03T10:00,"two\nlines"\nV2,2014-01-03,a,b\n'
    first, second = list(read_text(text, fmt="csv"))
    assert first.complaint.text == "two\nlines"
    assert isinstance(second, MessageError) and "line 4" in str(second)


def test_bad_diagnosis_prefix():
    text = "attendance_id,arrival,diagnosis_codes\nV1,2014-01-03T10:00,READ:X1\n"
    [err] = list(read_text(text, fmt="csv"))
    assert isinstance(err, MessageError) and err.location == "column diagnosis_codes"


@pytest.mark.parametrize("value, expected, noted", [
    ("2014-01-02T21:40", datetime(2014, 1, 2, 21, 40), False),
    ("09:05", datetime(2014, 1, 3, 9, 5), False),             # a time alone: the arrival day
    ("2014-01-02", date(2014, 1, 2), False),                  # a date alone stays a date
    ("", None, False),
    ("yesterday", None, True),                                # unreadable: noted, not used
    ("2014-13-02", None, True),
])
def test_injury_time_column(value, expected, noted):
    text = ("attendance_id,arrival,family_name,given_name,birth_date,injury_time\n"
            f"V1,2014-01-03T10:00,Doe,Jane,2013-03-01,{value}\n")
    [att] = list(read_text(text, fmt="csv"))
    assert isinstance(att, Attendance) and att.injury_time == expected
    assert type(att.injury_time) is type(expected)
    assert bool(att.notes) is noted
    if noted:
        assert att.notes[0].startswith("column injury_time:") and value not in att.notes[0]


@pytest.mark.parametrize("arrival, given", [("2014-01-03", False), ("2014-01-03T00:00", True)])
def test_an_arrival_sent_as_a_date_alone_is_noted(arrival, given):
    text = ("attendance_id,arrival,family_name,given_name,birth_date\n"
            f"V1,{arrival},Doe,Jane,2013-03-01\n")
    [att] = list(read_text(text, fmt="csv"))
    assert att.arrival == datetime(2014, 1, 3) and att.arrival_time_given is given
    assert [n.split(";")[0] for n in att.notes] == (
        [] if given else ["column arrival: the arrival has a date but no time of day"])


_HEADER = "attendance_id,arrival,given_name,family_name,birth_date,postcode\n"


def test_an_unreadable_row_carries_its_attendance_id_only_when_its_fields_line_up():
    text = (_HEADER + "V1,2014-01-03T10:15:00,Ann,Lee,15/03/2012,DN32 7QX\n"
            "V2,2014-01-03T10:15:00,Ann,Lee,2012-03-15,DN32 7QX,extra\n")
    bad_date, too_many = list(read_text(text, fmt="csv"))
    assert bad_date.attendance_id == "V1" and bad_date.location == "column birth_date"
    assert isinstance(too_many, MessageError) and too_many.attendance_id is None


def _row(aid: str, given: str = "Ann") -> str:
    return f"{aid},2014-01-03T10:15:00,{given},Lee,2012-03-15,DN32 7QX\n"


def test_a_quote_never_closed_is_an_error_naming_the_lines_it_swallowed():
    """Without this the rows after the open quote vanish into one field, unseen."""
    text = _HEADER + _row("A1") + _row("A2", '"Ann') + _row("A3") + _row("A4")
    items = list(read_text(text, fmt="csv", source="day.csv"))
    first, bad = items
    assert isinstance(first, Attendance) and first.attendance_id == "A1"
    assert isinstance(bad, MessageError) and "line 3" in str(bad)
    assert "never closed" in str(bad) and "lines 3 to 5" in str(bad)
    assert "Ann" not in str(bad)


@pytest.mark.parametrize("given, readable", [
    ('"Ann, Marie"', True),      # quoted as CSV quotes: one field with a comma in it
    ('"Ann"Marie', False),       # text after the closing quote: refused, not guessed
])
def test_quoting_both_sides(given, readable):
    items = list(read_text(_HEADER + _row("A1", given) + _row("A2"), fmt="csv",
                           source="day.csv"))
    assert [isinstance(i, Attendance) for i in items] == [readable, True]
    if readable:
        assert items[0].patient.names[0].given == "Ann, Marie"
    else:
        assert "line 2" in str(items[0])


_PARENTS = ("attendance_id,arrival,given_name,family_name,birth_date,"
            "mother_given_name,mother_family_name,mother_birth_date,"
            "father_given_name,father_family_name,father_birth_date\n")


@pytest.mark.parametrize("who", ["mother", "father"])
@pytest.mark.parametrize("value, born", [
    ("1990-03-15", PartialDate(1990, 3, 15)),
    ("1990", PartialDate(1990)),
    ("15/03/1990", None),          # unreadable: not used, as NK1-16 and RelatedPerson.birthDate
    ("1990-02-30", None),
])
def test_a_parents_birth_date_is_used_or_left_out_but_never_voids_the_check(who, value, born):
    mother = value if who == "mother" else ""
    father = value if who == "father" else ""
    text = _PARENTS + f"V1,2014-01-03T10:00,Amy,Lee,2012-03-15,Ann,Lee,{mother},Bob,Lee,{father}\n"
    [att] = list(read_text(text, fmt="csv", source="day.csv"))
    assert isinstance(att, Attendance) and att.patient.birth_date == PartialDate(2012, 3, 15)
    kin = {k.relationship: k.demographics for k in att.next_of_kin}
    assert kin[who].birth_date == born and kin[who].names[0].given in ("Ann", "Bob")
    # left out, but never unseen: a note names the column, never the value
    assert att.notes == (() if born else (
        f"column {who}_birth_date: not a date (YYYY-MM-DD, YYYY-MM or YYYY); not used",))


def test_the_childs_own_unreadable_birth_date_is_still_an_error():
    text = _PARENTS + "V1,2014-01-03T10:00,Amy,Lee,15/03/2012,Ann,Lee,1990-03-15,,,\n"
    [err] = list(read_text(text, fmt="csv", source="day.csv"))
    assert isinstance(err, MessageError) and err.location == "column birth_date"
    assert "15/03/2012" not in str(err)


_RENAMED = "attendance_id,arrival_time,given_name,family_name,birth_date\n"


def _rows(n: int) -> str:
    return "".join(f"V{i},2014-01-0{i}T10:00,Amy,Lee,2012-03-15\n" for i in range(1, n + 1))


def test_a_header_lacking_a_required_column_is_an_error_for_every_row():
    """Each row gets its own error at its own line, so output lines equal rows."""
    items = list(read_text(_RENAMED + _rows(3), fmt="csv", source="day.csv"))
    assert len(items) == 3 and all(isinstance(i, MessageError) for i in items)
    assert [i.message_ref for i in items] == ["line 2", "line 3", "line 4"]
    for item in items:
        assert item.location == "column arrival" and item.source == "day.csv"
        assert "header (line 1)" in item.reason and "lacks the required" in item.reason
        assert "Amy" not in str(item) and "2012-03-15" not in str(item)


def test_the_same_rows_under_a_usable_header_are_read():
    items = list(read_text(_RENAMED + _rows(3), fmt="csv", source="day.csv",
                           column_map={"arrival_time": "arrival"}))
    assert [i.attendance_id for i in items] == ["V1", "V2", "V3"]


@pytest.mark.parametrize("header, rows", [(_RENAMED, 1), ("\n\n" + _RENAMED, 3)])
def test_a_header_lacking_a_required_column_and_no_rows_is_one_error_at_the_header(
        header, rows):
    [err] = list(read_text(header, fmt="csv", source="day.csv"))
    assert err.message_ref == f"line {rows}" and err.location == "column arrival"
    good = "attendance_id,arrival,given_name\n"       # a usable header and no row: nothing
    assert list(read_text(good, fmt="csv", source="day.csv")) == []


def test_a_header_whose_delimiter_cannot_be_told_is_an_error_for_every_row():
    text = ("attendance_id;arrival;given_name,family_name,birth_date\n"   # 2 known names each
            "V1;2014-01-03T10:00;Amy,Lee,2012\nV2;2014-01-04T10:00;Bo,Lee,2012\n")
    items = list(read_text(text, fmt="csv", source="day.csv"))
    assert [i.message_ref for i in items] == ["line 2", "line 3"]
    assert all("more than one delimiter (comma and semicolon)" in i.reason for i in items)
    from safeflag.ingest.csv_extract import iter_csv_rows
    told = list(iter_csv_rows(text.splitlines(keepends=True), "day.csv", delimiter=";"))
    assert [i.attendance_id for i in told] == ["V1", "V2"]


def test_records_carry_their_own_text_and_the_header_they_were_read_under():
    """For the batch quarantine: ``header + raw`` reads again as that row."""
    from safeflag.ingest.csv_extract import iter_csv_records
    lines = ["\r\n", _RENAMED, 'V1,2014-01-01T10:00,"A\n', 'my",Lee,2012\n', "\n",
             "V2,2014-01-02T10:00,Bo,Lee,2012\n"]
    records = list(iter_csv_records(lines, "day.csv"))
    assert [r.raw for r in records] == [lines[2] + lines[3], lines[5]]   # no blank row
    assert all(r.header == _RENAMED for r in records)
    assert [r.item.message_ref for r in records] == ["line 3", "line 6"]
    [again] = list(read_text(records[1].header + records[1].raw, fmt="csv",
                             column_map={"arrival_time": "arrival"}))
    assert again.attendance_id == "V2"


@pytest.mark.parametrize("header, cmap, problem", [
    ("attendance_id,arrival,birth_date,birth_date", None, "fields 3 and 4"),
    ("attendance_id,arrival,Birth Date,BIRTH_DATE", None, "fields 3 and 4"),
    ("attendance_id,arrival,DOB,birth_date", {"DOB": "birth_date"}, "fields 3 and 4"),
    ("attendance_id,attendance_id,arrival,birth_date", None, "fields 1 and 2"),
    ("attendance_id,arrival,birth_date,notes,notes", None, None),    # not ours: ignored
    ("attendance_id,arrival,birth_date,,", None, None),              # blank names: ignored
])
def test_a_column_named_twice_is_an_error_for_every_row_never_a_silent_choice(
        header, cmap, problem):
    """A blank second birth_date once erased the first; which one is meant is not guessed."""
    rows = "V1,2014-01-03T10:00,2012-03-15,,\nV2,2014-01-04T10:00,2012-04-15,,\n"
    items = list(read_text(f"{header}\n{rows}", fmt="csv", source="day.csv", column_map=cmap))
    if problem is None:
        assert [i.patient.birth_date for i in items] == [PartialDate(2012, 3, 15),
                                                          PartialDate(2012, 4, 15)]
        return
    assert [i.message_ref for i in items] == ["line 2", "line 3"]
    column = "attendance_id" if "attendance_id,attendance_id" in header else "birth_date"
    for item in items:
        assert isinstance(item, MessageError) and item.location == f"column {column}"
        assert f"the header (line 1) has the column {column} more than once" in item.reason
        assert problem in item.reason and "2012" not in str(item)


def test_a_header_hiding_what_it_holds_is_warned_of(caplog):
    text = ("attendance_id,arrival,family_name,given_name,birth_date,diagnosis_code,Forename\n"
            "V1,2014-01-03T10:00,Doe,Jane,2013-03-01,S06.0,Jane\n")
    with caplog.at_level("WARNING", logger="safeflag.ingest.csv_extract"):
        [att] = list(read_text(text, fmt="csv", source="day.csv"))
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "day.csv: column 'diagnosis_code' is not one safeflag reads, and is ignored (did you "
        "mean 'diagnosis_codes'?)",
        "day.csv: column 'forename' is not one safeflag reads, and is ignored; see "
        "docs/formats.md for the columns, or pass a column map",
        "day.csv: the header has none of the columns diagnosis_codes, complaint_code, "
        "complaint_text, so no attendance can be seen as an injury"]
    assert att.diagnoses == ()
    caplog.clear()
    bare = "attendance_id,arrival,ward\nV1,2014-01-03T10:00,A\n"
    with caplog.at_level("WARNING", logger="safeflag.ingest.csv_extract"):
        list(read_text(bare, fmt="csv", source="day.csv"))
    said = " | ".join(r.getMessage() for r in caplog.records)
    assert "so no row can be matched to the register" in said
    assert "so no attendance can be seen as an injury" in said
    caplog.clear()
    good = "attendance_id,arrival,family_name,diagnosis_codes\nV1,2014-01-03T10:00,Doe,S06.0\n"
    with caplog.at_level("WARNING", logger="safeflag.ingest.csv_extract"):
        [att] = list(read_text(good, fmt="csv", source="day.csv"))
    assert caplog.records == [] and att.diagnoses
