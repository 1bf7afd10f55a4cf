"""HL7 v2 ER7 reader: framing, delimiters, escapes, field mapping and errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from safeflag.algo.dates import PartialDate
from safeflag.errors import MessageError, NotAnArrival
from safeflag.ingest import read_attendances, read_text
from safeflag.ingest.hl7v2 import iter_hl7_messages, parse_hl7, validate_hl7_strict
from safeflag.models import Attendance, Sex

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

MSH = "MSH|^~\\&|ED|RXX|SF|RXX|20140103101700||ADT^A04|C1|P|2.4"
PID = "PID|1||R1^^^RXX^MR~9434765919^^^NHS^NH||Doe^Jane||20130301|F"
PV1 = "PV1|1|E" + "|" * 17 + "V1" + "|" * 25 + "20140103101500"


def one(text: str) -> Attendance | MessageError:
    items = list(read_text(text, source="t.hl7", fmt="hl7"))
    assert len(items) == 1
    return items[0]


def msg(*segments: str, sep: str = "\r") -> str:
    return sep.join(segments) + sep


def test_fixture_a04_all_fields():
    [att] = list(read_attendances(FIXTURES / "hl7" / "adt_a04_child.hl7"))
    assert isinstance(att, Attendance)
    assert att.attendance_id == "V00123" and att.message_id == "MSG0001" and att.event == "A04"
    assert att.arrival == datetime(2014, 1, 3, 10, 15)
    assert att.patient_class == "E"
    p = att.patient
    assert p.nhs_number == "9434765919" and p.nhs_verified is True
    assert [i.value for i in p.identifiers] == ["RXX1234567", "9434765919"]
    assert p.names[0].family == "O&Brien" and p.names[0].given == "Lily"
    assert p.names[0].middle == "Mae" and p.names[1].family == "Smith"
    assert p.birth_date == PartialDate(2013, 3, 1) and p.sex is Sex.female
    assert p.addresses[0].line == "12 Acacia Avenue, Flat 2"
    assert p.addresses[0].city == "Leeds" and p.addresses[0].postcode == "LS6 2AB"
    mother, brother = att.next_of_kin
    assert (mother.relationship, mother.code) == ("mother", "MTH")
    assert mother.demographics.nhs_number == "9990000018"
    assert mother.demographics.birth_date == PartialDate(1990, 2, 14)
    assert mother.demographics.addresses[0].postcode == "LS6 2AB"
    assert (brother.relationship, brother.code) == ("sibling", "BRO")
    assert att.complaint.text == "Fall from furniture\nwitnessed"
    assert [(d.code, d.system) for d in att.diagnoses] == [("S06.0", "ICD10"),
                                                           ("91302008", "SNOMED")]


def test_mllp_stream_partial_dob_fallbacks_and_not_arrival():
    first, second = list(read_attendances(FIXTURES / "hl7" / "mllp_a01_partial_dob.hl7"))
    assert isinstance(first, Attendance)
    assert first.patient.birth_date == PartialDate(2013, 1)
    assert first.patient.birth_date.precision == "month"
    assert first.patient.nhs_number == "9434765870"          # bare PID-2, checksum valid
    assert first.attendance_id == "MSG0002"                  # PV1-19 empty → MSH-10
    assert first.arrival == datetime(2014, 1, 4, 9, 0)       # PV1-44 empty → MSH-7
    assert isinstance(second, NotAnArrival)
    assert "ADT^A03" in str(second) and "MSG0003" in str(second)


def test_batch_envelopes_and_errors_name_message_and_field():
    items = list(read_attendances(FIXTURES / "hl7" / "batch_with_errors.hl7"))
    assert len(items) == 2
    bad_dob, no_arrival = items
    assert isinstance(bad_dob, MessageError) and bad_dob.location == "PID-7"
    assert "MSG0004" in str(bad_dob) and "Ali" not in str(bad_dob)
    assert isinstance(no_arrival, MessageError)
    assert no_arrival.message_ref == "#2" and "PV1-44" in str(no_arrival)
    assert "Khan" not in str(no_arrival)


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"])
def test_segment_terminators(sep):
    att = one(msg(MSH, PID, PV1, sep=sep))
    assert isinstance(att, Attendance) and att.attendance_id == "V1"


def test_many_messages_mixed_framing_positions():
    text = ("\x0b" + msg(MSH, PID, PV1) + "\x1c\r" + "\n\n# comment\n"
            + msg(MSH.replace("C1", "C2"), PID, PV1.replace("|V1|", "|V2|"), sep="\n"))
    positions = [p for p, _ in iter_hl7_messages(text)]
    assert positions == [1, 2]
    items = list(read_text(text, fmt="hl7"))
    assert [i.attendance_id for i in items] == ["V1", "V2"]


@pytest.mark.parametrize("escaped, plain", [
    ("A\\F\\B", "A|B"), ("A\\S\\B", "A^B"), ("A\\T\\B", "A&B"), ("A\\R\\B", "A~B"),
    ("A\\E\\B", "A\\B"), ("A\\X41\\B", "AAB"), ("A\\.br\\B", "A\nB"), ("A\\XC3A9\\", "Aé"),
    ("\\H\\A\\N\\", "A"),
])
def test_escapes(escaped, plain):
    att = one(msg(MSH, PID.replace("Doe^Jane", escaped + "^Jane"), PV1))
    assert att.patient.names[0].family == plain


def test_custom_delimiters():
    text = msg("MSH!$r?@!ED!RXX!SF!RXX!20140103101700!!ADT$A04!C9!P!2.4",
               "PID!1!!9434765919$$$NHS$NH!!Doe$Ja?S?ne!!2013!F",
               "PV1!1!E" + "!" * 17 + "V9")
    att = one(text)
    assert att.patient.names[0].given == "Ja$ne"
    assert att.patient.birth_date == PartialDate(2013) and att.patient.birth_date.precision == "year"
    assert att.patient.nhs_number == "9434765919" and att.attendance_id == "V9"


def test_time_zone_converted_to_uk_wall_time():
    summer = PV1.replace("20140103101500", "20140703101500+0000")
    assert one(msg(MSH, PID, summer)).arrival == datetime(2014, 7, 3, 11, 15)
    winter = PV1.replace("20140103101500", "20140103101500-0500")
    assert one(msg(MSH, PID, winter)).arrival == datetime(2014, 1, 3, 15, 15)


def test_a08_is_an_arrival_update():
    att = one(msg(MSH.replace("ADT^A04", "ADT^A08"), PID, PV1))
    assert att.event == "A08" and att.attendance_id == "V1"


@pytest.mark.parametrize("kind", ["ADT^A03", "ADT^A11", "ADT^A13", "ADT^A40", "ORU^R01"])
def test_not_arrivals(kind):
    item = one(msg(MSH.replace("ADT^A04", kind), PID, PV1))
    assert isinstance(item, NotAnArrival) and kind in str(item) and "C1" in str(item)


def test_event_from_evn_when_msh9_has_none():
    att = one(msg(MSH.replace("ADT^A04", "ADT"), "EVN|A01|20140103", PID, PV1))
    assert att.event == "A01"


@pytest.mark.parametrize("segments, location", [
    ((MSH.replace("ADT^A04", ""), PID, PV1), "MSH-9"),
    ((MSH, PID.replace("20130301", "20131301"), PV1), "PID-7"),
    ((MSH, PID.replace("20130301", "March 2013"), PV1), "PID-7"),
    ((MSH, PV1), "PID"),
    ((MSH.replace("^~\\&", "^^\\&"), PID, PV1), "MSH-2"),
    ((PID, PV1), "MSH"),
])
def test_errors_name_field_and_message_never_patient(segments, location):
    item = one(msg(*segments))
    assert isinstance(item, MessageError) and not isinstance(item, NotAnArrival)
    assert item.location == location
    assert "C1" in str(item) or "#1" in str(item)
    assert "Doe" not in str(item) and "Jane" not in str(item)


def test_empty_pv1_44_falls_back_to_msh7_but_a_bad_one_is_an_error():
    empty = PV1.replace("20140103101500", "")
    assert one(msg(MSH, PID, empty)).arrival == datetime(2014, 1, 3, 10, 17)
    bad = PV1.replace("20140103101500", "yesterday")
    item = one(msg(MSH, PID, bad))
    assert isinstance(item, MessageError) and item.location == "PV1-44"
    item = one(msg(MSH.replace("20140103101700", "x"), PID, empty))
    assert isinstance(item, MessageError) and item.location == "MSH-7"


@pytest.mark.parametrize("value", ["2012139", "201213", "20120230", "12-03-2012"])
def test_bad_birth_date_is_an_error_not_a_guess(value):
    item = one(msg(MSH, PID.replace("20130301", value), PV1))
    assert isinstance(item, MessageError) and item.location == "PID-7"


def test_missing_name_is_fine():
    att = one(msg(MSH, PID.replace("Doe^Jane", ""), PV1))
    assert att.patient.names == ()


def test_oversize_message_refused():
    huge = msg(MSH, PID, "NTE|1||" + "x" * 1_100_000, PV1)
    item = one(huge)
    assert isinstance(item, MessageError) and "over" in str(item)
    with pytest.raises(MessageError):
        parse_hl7(huge, 1, "t")


def test_latin1_only_when_msh18_says_so(tmp_path):
    body = msg(MSH + "||||||8859/1", PID.replace("Doe", "Dö"), PV1).encode("latin-1")
    path = tmp_path / "l1.hl7"
    path.write_bytes(body)
    [att] = list(read_attendances(path))
    assert att.patient.names[0].family == "Dö"
    path.write_bytes(msg(MSH, PID.replace("Doe", "Dö"), PV1).encode("latin-1"))
    [err] = list(read_attendances(path))
    assert isinstance(err, MessageError) and err.location == "MSH-18" and "Dö" not in str(err)


def test_utf8_bom_and_streaming_small_chunks(tmp_path):
    from safeflag.ingest.er7 import iter_hl7_stream

    data = ("\ufeff" + msg(MSH, PID, PV1) * 3).encode("utf-8")
    path = tmp_path / "bom.hl7"
    path.write_bytes(data)
    assert [a.attendance_id for a in read_attendances(path)] == ["V1", "V1", "V1"]
    with open(path, "rb") as fp:
        assert len(list(iter_hl7_stream(fp, chunk_size=7))) == 3


# What concatenating files saved on other systems leaves between two messages: a UTF-8
# byte-order mark (text, or bytes read as latin-1), a NUL, DOS's end-of-file Ctrl-Z, a BOM
# inside an MLLP frame. Each must still start a message of its own, never let the next
# message's segments (its DG1, its NK1) join the one before.
@pytest.mark.parametrize("junk", ["\ufeff", "\x00", "\x1a", " \x1a\ufeff", "\x0b\ufeff"])
def test_junk_before_a_later_msh_still_starts_a_message(junk, tmp_path):
    from safeflag.ingest.er7 import iter_hl7_stream

    second = msg(MSH.replace("C1", "C2"), PID.replace("Doe^Jane", "Roe^Tom"),
                 PV1.replace("|V1|", "|V2|"), "DG1|1||S06.5^Head^I10", "NK1|1|Roe^Ann|MTH")
    text = msg(MSH, PID, PV1, "DG1|1||R51^Headache^I10") + junk + second
    first, other = list(read_text(text, fmt="hl7"))
    assert (first.attendance_id, [d.code for d in first.diagnoses]) == ("V1", ["R51"])
    assert first.next_of_kin == ()
    assert (other.attendance_id, [d.code for d in other.diagnoses]) == ("V2", ["S06.5"])
    path = tmp_path / "joined.hl7"
    path.write_bytes(text.encode("utf-8"))
    assert [a.attendance_id for a in read_attendances(path)] == ["V1", "V2"]
    with open(path, "rb") as fp:
        assert len(list(iter_hl7_stream(fp, chunk_size=5))) == 2


def test_a_line_that_is_not_a_segment_keeps_its_text():
    # a line of free text inside a message (an LF inside a field) is left as it is
    text = msg(MSH, PID, PV1, "NTE|1||first line", "\u00efl y avait une ligne")
    att = one(text)
    assert isinstance(att, Attendance) and att.attendance_id == "V1"


@pytest.mark.parametrize("pid_7, expected", [
    ("20140101^Y", PartialDate(2014)),
    ("20140301^L", PartialDate(2014, 3)),
    ("20140301^D", PartialDate(2014, 3, 1)),
    ("201403011200^M", PartialDate(2014, 3, 1)),
    ("20140301", PartialDate(2014, 3, 1)),
    ("2014^L", PartialDate(2014)),
])
def test_birth_date_degree_of_precision_ts_2(pid_7, expected):
    # TS.2 (HL7 v2.3-2.5): a date sent as 1 January with precision Y is a year, not 1 January
    att = one(msg(MSH, PID.replace("20130301", pid_7), PV1))
    assert att.patient.birth_date == expected
    nk1 = "NK1|1|Doe^Ann|MTH" + "|" * 13 + pid_7
    mother = one(msg(MSH, PID, PV1, nk1)).next_of_kin[0]
    assert mother.demographics.birth_date == expected


@pytest.mark.parametrize("pv1_44, given", [("20140103", False), ("201401031015", True),
                                          ("20140103000000", True)])
def test_an_arrival_sent_as_a_date_alone_is_noted(pv1_44, given):
    att = one(msg(MSH, PID, PV1.replace("20140103101500", pv1_44)))
    assert att.arrival.date() == date(2014, 1, 3)
    assert att.arrival_time_given is given
    notes = [n for n in att.notes if "no time of day" in n]
    assert bool(notes) is not given
    if notes:
        assert notes[0].startswith("PV1-44:")
    fallback = one(msg(MSH.replace("20140103101700", "20140103"), PID,
                       PV1.replace("20140103101500", "")))
    assert fallback.arrival_time_given is False and fallback.notes[0].startswith("MSH-7:")


@pytest.mark.parametrize("nk1_16, born", [("19900315", PartialDate(1990, 3, 15)),
                                          ("15/03/1990", None), ("19900230", None)])
def test_a_relatives_unreadable_birth_date_is_left_out_and_noted(nk1_16, born):
    nk1 = "NK1|1|Doe^Ann|MTH" + "|" * 13 + nk1_16
    att = one(msg(MSH, PID, PV1, "NK1|1|Doe^Bob|FTH", nk1))
    assert isinstance(att, Attendance) and att.next_of_kin[1].demographics.birth_date == born
    noted = [n for n in att.notes if n.startswith("NK1-16")]
    assert noted == ([] if born else [
        "NK1-16 (NK1 segment 2): the birth date is not a valid date; send YYYYMMDD (or "
        "YYYYMM / YYYY when only part is known); not used"])
    assert nk1_16 not in " ".join(att.notes)


def test_an_unreadable_message_carries_its_visit_number_when_it_has_one():
    bad = msg(MSH, PID.replace("20130301", "20121399"), PV1)
    item = one(bad)
    assert isinstance(item, MessageError) and item.attendance_id == "V1"
    assert one(msg(MSH, PID.replace("20130301", "20121399"))).attendance_id is None
    assert one("MSH|x").attendance_id is None          # no segments read at all


def test_strict_validation_uses_hl7apy():
    assert validate_hl7_strict(msg(MSH.replace("ADT^A04", "XXX^Z99"), PID, PV1))
    problems = validate_hl7_strict(msg(MSH, PID, PV1))
    assert isinstance(problems, list)


# --- ACC-1: the injury (accident) time for DELAYED_PRESENTATION --------------------------------
DG1 = "DG1|1||S52.5^Fracture of radius^I10||20140103|W"


def test_no_acc_segment_or_an_empty_acc_1_is_no_injury_time():
    assert one(msg(MSH, PID, PV1, DG1)).injury_time is None
    assert one(msg(MSH, PID, PV1, DG1, "ACC")).injury_time is None
    assert one(msg(MSH, PID, PV1, DG1, "ACC||01")).injury_time is None
    assert one(msg(MSH, PID, PV1, DG1, 'ACC|""')).injury_time is None


@pytest.mark.parametrize("acc_1, expected", [
    ("20131231221500", datetime(2013, 12, 31, 22, 15)),
    ("201312312215", datetime(2013, 12, 31, 22, 15)),
    ("20131231", date(2013, 12, 31)),                      # a date stays a date, not midnight
    ("20131231+0000", date(2013, 12, 31)),
    ("20131231221500^S", datetime(2013, 12, 31, 22, 15)),          # TS.2 precision ignored
    ("20140703091500+0000", datetime(2014, 7, 3, 10, 15)),         # offset → UK summer time
    ("20140103091500-0500", datetime(2014, 1, 3, 14, 15)),
])
def test_acc_1_is_the_injury_time_in_uk_wall_time(acc_1, expected):
    att = one(msg(MSH, PID, PV1, DG1, f"ACC|{acc_1}|07^Fall"))
    assert isinstance(att, Attendance) and att.injury_time == expected
    assert att.arrival == datetime(2014, 1, 3, 10, 15)             # arrival unaffected


def test_only_the_first_acc_segment_is_read():
    att = one(msg(MSH, PID, PV1, DG1, "ACC|20140102080000", "ACC|20131201080000"))
    assert att.injury_time == datetime(2014, 1, 2, 8, 0)
    att = one(msg(MSH, PID, PV1, DG1, "ACC|20140102080000", "ACC|not a time"))
    assert att.injury_time == datetime(2014, 1, 2, 8, 0)


@pytest.mark.parametrize("acc_1", ["2014", "201401", "2014010", "20141301101500",
                                   "yesterday", "03/01/2014 09:00", "20140103 25:00"])
def test_a_partial_or_malformed_acc_1_is_not_used_and_noted_naming_the_field(acc_1):
    """ACC-1 is optional: the attendance is still checked (an unreadable accident time must
    not hide the child's flags), with a note naming the field and never the value."""
    item = one(msg(MSH, PID, PV1, DG1, f"ACC|{acc_1}"))
    assert isinstance(item, Attendance) and item.injury_time is None
    [note] = item.notes
    assert note.startswith("ACC-1:") and "not used" in note
    assert "Doe" not in note and "Jane" not in note and acc_1 not in note


@pytest.mark.parametrize("dg1_3, expected", [
    ("S52.5^Fracture of radius^I10", ("S52.5", "ICD10", "Fracture of radius")),
    # a local code first, ICD-10 as the alternate: the alternate is the one rules can read
    ("L123^Wrist fracture^99LOCAL^S52.5^^I10", ("S52.5", "ICD10", "Wrist fracture")),
    ("L123^Wrist fracture^99LOCAL^125667009^Contusion^SCT", ("125667009", "SNOMED", "Contusion")),
    # the first already ICD-10: the alternate is not needed
    ("S00.5^Lip injury^I10^L9^Local^99LOCAL", ("S00.5", "ICD10", "Lip injury")),
    # no known system in either: the first is kept as sent
    ("L123^Wrist fracture^99LOCAL^L9^^99OTHER", ("L123", "99LOCAL", "Wrist fracture")),
])
def test_diagnosis_alternate_code(dg1_3, expected):
    a = one(msg(MSH, PID, PV1, f"DG1|1||{dg1_3}"))
    (d,) = a.diagnoses
    assert (d.code, d.system, d.text) == expected
