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
