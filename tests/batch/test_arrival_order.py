"""An input not in arrival order is checked in input order: a record read before an attendance
that arrived earlier is checked without it (a REPEAT_INJURY missed). It cannot be sorted in
bounded memory, so it is said: one warning per input, and a count in the batch summary."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import safeflag.batch as batch
from safeflag import Safeflag
from safeflag.arrivals import ArrivalOrder
from safeflag.batch import run_batch
from safeflag.cli import EXIT_OK, app
from safeflag.errors import MessageError
from safeflag.store.sqlite import SqliteStore

from ..conftest import attendance
from .worlds import Stopped, stop_after, write_csv, write_hl7

#: one child's three injury attendances, read 10 May, 1 May, 12 May
UNSORTED = [("V3", "2024-05-10"), ("V1", "2024-05-01"), ("V2", "2024-05-12")]
PATIENT = ("Amy", "Smith", "2020-01-15", "DN32")


def _attendances(rows) -> list:
    return [attendance(aid, day, dx=("S52.5",)) for aid, day in rows]


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "safeflag.arrivals" and r.levelname == "WARNING"]


def test_records_in_arrival_order_equal_times_and_unreadable_ones_are_in_order(caplog):
    order = ArrivalOrder("day.csv")
    items = [attendance("A", "2024-05-01T10:00:00"), MessageError("bad", message="#2"),
             attendance("B", "2024-05-01T10:00:00"), attendance("C", "2024-05-01T10:00:01")]
    with caplog.at_level("WARNING"):
        assert list(order.watch(items)) == items
    assert order.count == 0 and not _warnings(caplog)


def test_each_record_before_the_latest_arrival_read_is_counted_with_one_warning(caplog):
    order = ArrivalOrder("day.csv")
    items = _attendances([("V3", "2024-05-10"), ("V1", "2024-05-01"), ("V4", "2024-05-12"),
                          ("V5", "2024-05-11"), ("V6", "2024-05-11"), ("V7", "2024-05-12")])
    with caplog.at_level("WARNING"):
        list(order.watch(items))
    assert order.count == 3                   # V1 (before 10 May), V5 and V6 (before 12 May)
    [said] = _warnings(caplog)
    assert said.startswith("day.csv is not in arrival order: record 2 (attendance V1) arrived "
                           "before record 1 (attendance V3)")
    assert "sort the input by arrival and run it again" in said
    assert not any(detail in said for detail in PATIENT)     # identifiers only


def _run(tmp_path: Path, inputs: list[Path], **kwargs):
    with Safeflag(SqliteStore(tmp_path / "o.db")) as sf:
        summary = run_batch(sf, [str(p) for p in inputs], tmp_path / "out.ndjson",
                            progress=False, **kwargs)
    lines = [json.loads(x) for x in (tmp_path / "out.ndjson").read_text().splitlines()]
    return summary, {x["attendance_id"]: [w["code"] for w in x["warnings"]] for x in lines}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_over_an_input_in_arrival_order_says_nothing(tmp_path, caplog, workers):
    src = write_csv(_attendances(sorted(UNSORTED, key=lambda r: r[1])), tmp_path / "day.csv")
    with caplog.at_level("WARNING"):
        summary, warnings = _run(tmp_path, [src], workers=workers)
    assert summary.out_of_order.total() == 0 and not _warnings(caplog)
    assert summary.as_dict()["out_of_order"] == 0
    assert summary.as_dict()["out_of_order_inputs"] == {}
    assert "arrival order" not in summary.describe()
    assert "REPEAT_INJURY" in warnings["V3"]   # it saw V1


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_over_an_input_out_of_arrival_order_counts_and_says_it(tmp_path, caplog,
                                                                       workers):
    src = write_csv(_attendances(UNSORTED), tmp_path / "day.csv")
    with caplog.at_level("WARNING"):
        summary, warnings = _run(tmp_path, [src], workers=workers)
    assert "REPEAT_INJURY" not in warnings["V3"]     # what is said: V3's check missed V1
    assert summary.out_of_order == {str(src): 1}
    assert summary.as_dict()["out_of_order"] == 1
    assert summary.as_dict()["out_of_order_inputs"] == {str(src): 1}
    assert (f"not in arrival order: 1 records ({src} 1) arrived before records read earlier "
            "in their input") in summary.describe()
    assert "sort the input by arrival and run it again" in summary.describe()
    [said] = _warnings(caplog)
    assert "record 2 (attendance V1) arrived before record 1 (attendance V3)" in said


def test_merged_inputs_are_counted_each_for_itself(tmp_path, caplog):
    """Inputs merged by arrival: the merge gives a record after a later arrival only when its
    own input was out of order, so the count of each input covers the merged order too."""
    ordered = write_hl7(_attendances([("S1", "2024-05-02"), ("S2", "2024-05-11")]),
                        tmp_path / "site_a.hl7")
    unsorted = write_csv(_attendances(UNSORTED), tmp_path / "site_b.csv")
    with caplog.at_level("WARNING"):
        summary, _ = _run(tmp_path, [ordered, unsorted])
    assert summary.out_of_order == {str(unsorted): 1}
    merged = [e.item.arrival for e in batch.merge_by_arrival(
        batch.read_batch_items(str(p)) for p in (ordered, unsorted))]
    late = sum(1 for i, a in enumerate(merged) if a < max(merged[:i], default=a))
    assert late == summary.out_of_order.total()
    assert len(_warnings(caplog)) == 1 and "site_b.csv" in _warnings(caplog)[0]


def test_a_resumed_run_counts_as_an_unstopped_run(tmp_path, monkeypatch):
    """The records a stopped run already checked are counted again on the rerun, as its
    summary is that of a run never stopped."""
    rows = [(f"V{n}", f"2024-05-{d:02d}") for n, d in enumerate([3, 1, 4, 2, 9, 8, 7], 1)]
    src = write_csv(_attendances(rows), tmp_path / "day.csv")

    real = stop_after(monkeypatch, 4)
    with pytest.raises(Stopped):
        _run(tmp_path, [src], commit_every=2)
    monkeypatch.setattr(batch, "_check", real)
    summary, _ = _run(tmp_path, [src], commit_every=2)
    assert summary.records == 7 and summary.out_of_order == {str(src): 4}
    with sqlite3.connect(tmp_path / "o.db") as con:     # resumed: 4 checked before, 3 now
        assert con.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 7


runner = CliRunner()


@pytest.mark.parametrize("rows, count", [(sorted(UNSORTED, key=lambda r: r[1]), 0),
                                         (UNSORTED, 1)])
def test_the_batch_command_reports_the_count_and_its_status_is_unchanged(tmp_path, caplog,
                                                                         rows, count):
    src = write_csv(_attendances(rows), tmp_path / "day.csv")
    summary = tmp_path / "summary.json"
    with caplog.at_level("WARNING"):
        result = runner.invoke(app, ["batch", str(src), "--db", str(tmp_path / "o.db"),
                                     "--out", str(tmp_path / "out.ndjson"), "--workers", "1",
                                     "--summary-json", str(summary)])
    assert result.exit_code == EXIT_OK, result.output
    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["out_of_order"] == count
    assert ("not in arrival order" in result.output) == bool(count)
    assert len(_warnings(caplog)) == count


@pytest.mark.parametrize("rows, count", [(sorted(UNSORTED, key=lambda r: r[1]), 0),
                                         (UNSORTED, 1)])
def test_the_check_command_warns_of_an_input_out_of_arrival_order(tmp_path, caplog, rows,
                                                                  count):
    src = write_csv(_attendances(rows), tmp_path / "day.csv")
    with caplog.at_level("WARNING"):
        result = runner.invoke(app, ["check", str(src), "--db", str(tmp_path / "o.db")])
    assert result.exit_code == EXIT_OK, result.output
    assert len(result.output.splitlines()) == 3
    said = _warnings(caplog)
    assert len(said) == count
    if count:
        assert "record 2 (attendance V1) arrived before record 1 (attendance V3)" in said[0]


@pytest.mark.parametrize("rows, count", [(sorted(UNSORTED, key=lambda r: r[1]), 0),
                                         (UNSORTED, 1)])
def test_check_path_warns_of_an_input_out_of_arrival_order(tmp_path, caplog, rows, count):
    src = write_csv(_attendances(rows), tmp_path / "day.csv")
    with Safeflag(SqliteStore(":memory:")) as sf, caplog.at_level("WARNING"):
        assert len(list(sf.check_path(src))) == 3
    assert len(_warnings(caplog)) == count
