"""Unreadable records: a line each in place, and their raw text in the quarantine file."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from safeflag import Safeflag
from safeflag.batch import quarantine_path, read_batch_items, run_batch
from safeflag.errors import InputError, MessageError
from safeflag.ingest import read_attendances
from safeflag.store.sqlite import SqliteStore

from .worlds import hl7_message, ndjson_bundle, small_world

BAD_HL7 = "MSH|^~\\&|EDIS|RXX01\rPID|1||broken"     # no message type (MSH-9)
BAD_JSON = '{"resourceType": "Bundle", "entry": [ '
A03 = ("MSH|^~\\&|EDIS|RXX01|SF|RXX01|20140103163020||ADT^A03^ADT_A03|D1|P|2.4\r"
       "PID|1||X1^^^RXX^MR||PARKER^LILY||20120314|F\r"
       "PV1|1|E|||||||||||||||||V9|||||||||||||||||||||||||20140103161500\r")


@pytest.fixture(scope="module")
def atts():
    return small_world(attendances=12, children=10, seed=5).attendances


def _run(tmp_path: Path, inputs: list[Path], workers: int = 1, **kw):
    out = tmp_path / "out.ndjson"
    with Safeflag(SqliteStore(tmp_path / "q.db")) as sf:
        summary = run_batch(sf, [str(p) for p in inputs], out, workers=workers, progress=False,
                            **kw)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    return summary, lines, out


@pytest.mark.parametrize("workers", [1, 2])
def test_unreadable_hl7_keeps_its_place_and_is_quarantined_raw(tmp_path, atts, workers):
    text = hl7_message(atts[0]) + BAD_HL7 + "\r" + hl7_message(atts[1]) + A03
    path = tmp_path / "in.hl7"
    path.write_text(text, encoding="utf-8")
    summary, lines, out = _run(tmp_path, [path], workers)

    assert len(lines) == 4                                  # one line per input record
    assert [bool(x["errors"]) for x in lines] == [False, True, False, True]
    assert "MSH-9" in lines[1]["errors"][0]
    assert "#2" in lines[1]["errors"][0]
    assert summary.errors == 1 and summary.not_arrivals == 1 and summary.attendances == 2

    quarantine = quarantine_path(out)
    records = [json.loads(x) for x in quarantine.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 1                               # not-arrivals are not quarantined
    assert records[0]["raw"] == BAD_HL7.replace("\n", "\r")
    assert records[0]["location"] == "MSH-9"
    assert stat.S_IMODE(quarantine.stat().st_mode) == 0o600


def test_non_utf8_hl7_is_quarantined_byte_for_byte(tmp_path, atts):
    good = hl7_message(atts[0]).encode()
    bad = hl7_message(atts[1]).replace("PID|1||", "PID|1||\u00e9", 1).encode("latin-1")
    path = tmp_path / "in.hl7"
    path.write_bytes(good + bad)
    _, lines, out = _run(tmp_path, [path])
    assert [bool(x["errors"]) for x in lines] == [False, True]
    raw = json.loads(quarantine_path(out).read_text(encoding="utf-8"))["raw"]
    assert raw.encode("utf-8", "surrogateescape") == bad.rstrip(b"\r")


@pytest.mark.parametrize("before_header", ["", "\r\n\r\n"])
def test_ndjson_and_csv_rows_are_quarantined_with_their_text(tmp_path, atts, before_header):
    nd = tmp_path / "in.ndjson"
    nd.write_text(ndjson_bundle(atts[0]) + "\n" + BAD_JSON + "\n" + ndjson_bundle(atts[1]) + "\n",
                  encoding="utf-8")
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(before_header + "attendance_id,arrival,given_name\r\nC1,2014-01-03T10:00,Amy\r\n"
                        "C2,not a date,Bo\r\nC3,2014-01-04T10:00,Cy\r\n", encoding="utf-8")
    summary, lines, out = _run(tmp_path, [nd, csv_path], workers=2)
    assert len(lines) == 6 and summary.errors == 2
    raws = sorted(json.loads(x)["raw"] for x in
                  quarantine_path(out).read_text(encoding="utf-8").splitlines())
    assert raws == sorted([BAD_JSON + "\n", "C2,not a date,Bo\r\n"])


def test_clean_rerun_removes_a_stale_quarantine_and_custom_path_is_used(tmp_path, atts):
    path = tmp_path / "in.hl7"
    path.write_text(hl7_message(atts[0]) + BAD_HL7, encoding="utf-8")
    custom = tmp_path / "held" / "bad.ndjson"
    custom.parent.mkdir()
    summary, _, out = _run(tmp_path, [path], quarantine=custom)
    assert custom.exists() and not quarantine_path(out).exists()
    assert summary.quarantine == str(custom)

    path.write_text(hl7_message(atts[0]), encoding="utf-8")
    summary, _, _ = _run(tmp_path, [path], quarantine=custom)
    assert summary.errors == 0 and not custom.exists()


def test_missing_input_refuses_the_run_and_writes_nothing(tmp_path, atts):
    path = tmp_path / "in.hl7"
    path.write_text(hl7_message(atts[0]), encoding="utf-8")
    with pytest.raises(InputError, match="missing.hl7"):
        _run(tmp_path, [path, tmp_path / "missing.hl7"])
    assert not (tmp_path / "out.ndjson").exists()


def test_a_record_that_breaks_the_pipeline_gets_an_error_line_and_the_run_goes_on(
        tmp_path, atts, monkeypatch, caplog):
    path = tmp_path / "in.hl7"
    path.write_text("".join(hl7_message(a) for a in atts[:3]), encoding="utf-8")
    broken = atts[1].attendance_id
    real = Safeflag._check

    def failing(self, attendance, **kw):
        if attendance.attendance_id == broken:
            raise ValueError(f"odd value {attendance.patient.names[0].family}")
        return real(self, attendance, **kw)
    monkeypatch.setattr(Safeflag, "_check", failing)
    summary, lines, out = _run(tmp_path, [path])
    assert [bool(x["errors"]) for x in lines] == [False, True, False]
    assert "could not be checked (ValueError)" in lines[1]["errors"][0]
    assert summary.errors == 1
    record = json.loads(quarantine_path(out).read_text(encoding="utf-8"))
    assert record["message"] == broken and record["raw"] is None
    family = atts[1].patient.names[0].family
    assert family not in caplog.text and family not in lines[1]["errors"][0]
    with sqlite3.connect(tmp_path / "q.db") as con:   # its savepoint was rolled back
        ids = {r[0] for r in con.execute("SELECT attendance_id FROM attendance")}
    assert broken not in ids and len(ids) == 2


def _held(out: Path) -> list[dict]:
    path = quarantine_path(out)
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


CSV_ROWS = ["C1,2014-01-03T10:00,Amy\r\n", 'C2,2014-01-04T10:00,"B\r\no"\r\n',
            "C3,2014-01-05T10:00,Cy\r\n"]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("names, problem", [
    ("attendance_id,arrival,given_name", None),
    ("attendance_id,arrival_time,given_name", "lacks the required column(s) arrival"),
    ("attendance_id,arrival,Arrival", "has the column arrival more than once (fields 2 and 3)"),
])
def test_a_csv_header_that_cannot_be_used_gives_every_row_its_line_and_quarantines_it(
        tmp_path, workers, names, problem):
    """A required column renamed, or one twice, is a problem of the file: each row still gets
    its own line, and goes to the quarantine with its text and the header to read it with."""
    header = names + "\r\n"
    path = tmp_path / "in.csv"
    path.write_text("\r\n" + header + "".join(CSV_ROWS), encoding="utf-8", newline="")
    summary, lines, out = _run(tmp_path, [path], workers)
    assert len(lines) == 3 and summary.records == 3
    held = _held(out)
    if problem is None:
        assert summary.errors == 0 and held == [] and not any(x["errors"] for x in lines)
        return
    assert summary.errors == 3 and summary.quarantined == 3
    assert [x["attendance_id"] for x in lines] == ["line 3", "line 4", "line 6"]
    assert all("column arrival" in x["errors"][0] and "header (line 2)" in x["errors"][0]
               and problem in x["errors"][0] for x in lines)
    assert [h["raw"] for h in held] == CSV_ROWS
    assert all(h["header"] == header and h["message"] == x["attendance_id"]
               for h, x in zip(held, lines))
    assert "Amy" not in lines[0]["errors"][0]


def test_a_csv_row_error_carries_its_header_and_an_hl7_one_none(tmp_path, atts):
    csv_path = tmp_path / "in.csv"
    header = "attendance_id,arrival,given_name\n"
    csv_path.write_text(header + "C1,not a date,Bo\n", encoding="utf-8")
    hl7 = tmp_path / "in.hl7"
    hl7.write_text(BAD_HL7, encoding="utf-8")
    _, _, out = _run(tmp_path, [csv_path, hl7])
    by_raw = {h["raw"]: h for h in _held(out)}
    assert by_raw["C1,not a date,Bo\n"]["header"] == header
    assert "header" not in by_raw[BAD_HL7]


def test_a_csv_header_that_cannot_be_used_and_no_rows_is_one_quarantined_record(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("attendance_id,arrival_time\n", encoding="utf-8")
    summary, lines, out = _run(tmp_path, [path])
    assert len(lines) == 1 and summary.errors == 1
    [held] = _held(out)
    assert held["raw"] == "attendance_id,arrival_time\n" and "header" not in held
    assert held["message"] == "line 1" and held["location"] == "column arrival"


def _two_encounter_bundle(atts, *, spoil: bool) -> tuple[dict, dict]:
    """One Bundle with two attendances' entries; with ``spoil``, the second Encounter has an
    arrival that cannot be read. Also that Encounter's entry."""
    entries = [e for a in atts[:2] for e in json.loads(ndjson_bundle(a))["entry"]]
    second = next(e for e in entries[2:] if e["resource"]["resourceType"] == "Encounter")
    if spoil:
        second["resource"]["period"]["start"] = "garbage"
    return {"resourceType": "Bundle", "id": "day", "type": "collection",
            "entry": entries}, second


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("spoil", [False, True])
def test_a_bad_encounter_in_a_fhir_document_is_quarantined_with_its_entry(
        tmp_path, atts, workers, spoil):
    bundle, entry = _two_encounter_bundle(atts, spoil=spoil)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    summary, lines, out = _run(tmp_path, [path], workers)
    assert len(lines) == 2 and not lines[0]["errors"]
    held = _held(out)
    if not spoil:
        assert summary.errors == 0 and held == [] and not lines[1]["errors"]
        return
    assert summary.errors == 1 and "Encounter.period.start" in lines[1]["errors"][0]
    [record] = held
    assert json.loads(record["raw"]) == entry          # the entry, not null, not the Bundle
    # the error line and the quarantine record both name the Encounter's own id
    assert record["attendance_id"] == lines[1]["attendance_id"] == "V00000002"
    assert record["message"] == "day (#1), Encounter V00000002"


BARE = {"resourceType": "Encounter", "id": "E9", "status": "arrived",
        "contained": [{"resourceType": "Patient", "id": "p", "birthDate": "2012-03-15"}],
        "subject": {"reference": "#p"}, "period": {"start": "garbage"}}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("data", [
    b'{"resourceType": "Bundle", "entry": [ }',                        # not JSON
    b'<Bundle xmlns="http://hl7.org/fhir"></Bundle>',                  # XML
    b'{"resourceType": "Bundle", "id": "d\xff", "entry": []}',         # not UTF-8
    b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]}',
    json.dumps(BARE, indent=2).encode(),          # a bare Encounter: it is the document
], ids=["json", "xml", "bytes", "no-encounter", "bare"])
def test_a_fhir_document_that_cannot_be_read_is_quarantined_whole(tmp_path, workers, data):
    path = tmp_path / "in.json"
    path.write_bytes(data)
    summary, lines, out = _run(tmp_path, [path], workers)
    assert len(lines) == 1 and summary.errors == 1
    [record] = _held(out)
    assert record["raw"].encode("utf-8", "surrogateescape") == data


def _same(item):
    return (type(item), str(item)) if isinstance(item, MessageError) else item


def test_the_batch_reads_a_fhir_document_as_the_ingest_reader_does(tmp_path, atts):
    """Only the raw text is added: the items are the ones ``check`` gets."""
    for name, data in (("two.json", json.dumps(_two_encounter_bundle(atts, spoil=True)[0])),
                       ("bad.json", '{"resourceType": "Bundle", "entry": [ }'),
                       ("bare.json", json.dumps(BARE)),
                       ("list.json", json.dumps([e["resource"] for e in
                                                 _two_encounter_bundle(atts, spoil=True)[0]
                                                 ["entry"]]))):
        path = tmp_path / name
        path.write_text(data, encoding="utf-8")
        entries = list(read_batch_items(str(path)))
        assert [_same(e.item) for e in entries] == [_same(i) for i in read_attendances(path)]
        assert [e.raw is None for e in entries] == [
            not isinstance(e.item, MessageError) for e in entries]


def test_a_fhir_document_too_large_to_read_is_quarantined_without_a_copy(tmp_path, atts,
                                                                          monkeypatch):
    import safeflag.ingest
    bundle, _ = _two_encounter_bundle(atts, spoil=False)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    monkeypatch.setattr(safeflag.ingest, "_MAX_JSON_BYTES", path.stat().st_size)
    summary, lines, _ = _run(tmp_path, [path])
    assert summary.errors == 0 and len(lines) == 2          # at the limit: read
    monkeypatch.setattr(safeflag.ingest, "_MAX_JSON_BYTES", path.stat().st_size - 1)
    summary, lines, out = _run(tmp_path, [path])
    assert summary.errors == 1 and "over 256 MB" in lines[0]["errors"][0]
    [record] = _held(out)
    assert record["raw"] is None
