"""Format detection and the read_attendances / read_text entry points."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from safeflag.errors import MessageError
from safeflag.ingest import detect_format, read_attendances, read_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.mark.parametrize("rel, kind", [
    ("hl7/adt_a04_child.hl7", "hl7"), ("hl7/mllp_a01_partial_dob.hl7", "hl7"),
    ("hl7/batch_with_errors.hl7", "hl7"), ("fhir/encounter_bundle.json", "fhir"),
    ("fhir/bundles.ndjson", "ndjson"), ("csv/ecds_extract.csv", "csv"),
    ("csv/site_semicolon_mapped.csv", "csv"),
])
def test_detect_from_path(rel, kind):
    assert detect_format(FIXTURES / rel) == kind
    assert detect_format(str(FIXTURES / rel)) == kind


def test_detect_from_head():
    assert detect_format("MSH|^~\\&|A\r") == "hl7"
    assert detect_format(b"\xef\xbb\xbfMSH|^~\\&|A\n") == "hl7"
    assert detect_format('{"resourceType": "Bundle"}') == "fhir"
    assert detect_format('{"a": 1}\n{"b": 2}\n') == "ndjson"
    assert detect_format("attendance_id,arrival\n") == "csv"
    with pytest.raises(MessageError):
        detect_format("just words\n")


@pytest.mark.parametrize("row", ["BHS0002,2014-01-03T10:00,x", "MSHARI,2014-01-03T10:00,x",
                                 "FHS1,2014-01-03T10:00,x", "MSH 1,2014-01-03T10:00,x"])
def test_a_csv_row_starting_like_a_segment_id_is_not_hl7(row):
    # a segment id is followed by its field separator: never a letter, digit or space
    head = "attendance_id,arrival,given_name\nV1,2014-01-03T10:00,x\n" + row + "\n"
    assert detect_format(head) == "csv"
    assert detect_format(head.replace(row, "MSH|^~\\&|ED|RXX")) == "hl7"


def test_a_segment_like_first_line_is_hl7_unless_the_file_says_csv(tmp_path):
    head = "MRN|given|family|arrival\n1|a|b|2014-01-03T10:00\n"
    assert detect_format(head) == "hl7"
    assert detect_format(head, name="extract.csv") == "csv"


def test_ndjson_from_the_lines_or_the_name(tmp_path):
    line = '{"resourceType": "Bundle", "note": "%s"}'
    # U+2028 and U+0085 are characters inside a JSON string, not line ends
    assert detect_format((line % "a\u2028b") + "\n" + (line % "c") + "\n") == "ndjson"
    assert detect_format((line % "a\x85b") + "\n" + (line % "c") + "\n") == "ndjson"
    # a first line that is not valid JSON, but a line of its own like the next one
    assert detect_format('{"resourceType": "Bundle",, }\n' + (line % "c") + "\n") == "ndjson"
    # a pretty-printed document is one document, even with a one-line object inside it
    pretty = '{\n  "resourceType": "Bundle",\n  "entry": [\n    {"a": 1}\n  ]\n}\n'
    assert detect_format(pretty) == "fhir"
    assert detect_format('{"resourceType": "Bundle"}\n') == "fhir"
    # a first line longer than the head read: the name tells it
    big = (line % ("x" * 70_000)) + "\n" + (line % "c") + "\n"
    path = tmp_path / "big.ndjson"
    path.write_text(big, encoding="utf-8")
    assert detect_format(path) == "ndjson"
    assert detect_format(big[:65_536]) == "fhir"
    items = list(read_attendances(path))
    assert len(items) == 2 and all(isinstance(i, MessageError) for i in items)
    assert [i.message_ref for i in items] == ["#1", "#2"]


def test_an_input_of_no_known_format_is_one_error_naming_its_record():
    [err] = list(read_text("just words\n", source="notes.txt"))
    assert isinstance(err, MessageError) and err.message_ref == "#1"
    assert "notes.txt" in str(err)


def test_stdin(monkeypatch):
    data = (FIXTURES / "hl7" / "adt_a04_child.hl7").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    [att] = list(read_attendances("-"))
    assert att.attendance_id == "V00123"


def test_missing_file_is_an_error_item(tmp_path):
    [err] = list(read_attendances(tmp_path / "nope.hl7"))
    assert isinstance(err, MessageError) and "nope.hl7" in str(err)


def test_unknown_format_name():
    [err] = list(read_text("x", fmt="xml"))
    assert isinstance(err, MessageError)


def test_streaming_large_hl7_file_is_lazy(tmp_path):
    one = (FIXTURES / "hl7" / "adt_a04_child.hl7").read_bytes()
    path = tmp_path / "big.hl7"
    path.write_bytes(one * 2000)
    items = read_attendances(path)
    first = next(items)
    assert first.attendance_id == "V00123"
    assert sum(1 for _ in items) == 1999


def test_overlong_csv_line_is_bounded_and_reported(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("attendance_id,arrival,complaint_text\n"
                    "V1,2014-01-03T10:00," + "x" * 1_200_000 + "\n"
                    "V2,2014-01-03T10:00,ok\n", encoding="utf-8")
    first, second = list(read_attendances(path))
    assert isinstance(first, MessageError) and "long" in str(first)
    assert second.attendance_id == "V2"
