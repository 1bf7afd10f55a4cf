"""Progress on a terminal and in a log, and the end-of-run summary."""

from __future__ import annotations

import io

from safeflag.batch import BatchItem, BatchSummary, Quarantine, _account, _Progress
from safeflag.errors import MessageError, NotAnArrival


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record(band="certain", flags=(), warnings=(), errors=()):
    return {"attendance_id": "V1", "errors": list(errors), "match": {"band": band},
            "flags": [{"code": c} for c in flags], "warnings": [{"code": c} for c in warnings]}


def test_plain_lines_when_not_a_terminal_and_only_every_period():
    stream = io.StringIO()
    progress = _Progress(every=0.0, stream=stream)
    summary = BatchSummary(records=1200, errors=2)
    progress.tick(summary)
    progress.done()
    assert stream.getvalue().startswith("safeflag batch: 1,200 records (")
    assert stream.getvalue().endswith("2 unreadable\n")

    quiet = io.StringIO()
    slow = _Progress(every=3600.0, stream=quiet)
    slow.tick(summary)
    assert quiet.getvalue() == ""


def test_a_live_bar_on_a_terminal():
    stream = _Terminal()
    progress = _Progress(stream=stream)
    progress.last = 0.0                  # due at once
    progress.tick(BatchSummary(records=4321))
    progress.done()
    assert "4,321 records" in stream.getvalue()


def test_summary_counts_bands_codes_errors_and_not_arrivals(tmp_path):
    summary = BatchSummary()
    bad = Quarantine(tmp_path / "q.ndjson")
    attendance = object()
    _account(summary, bad, BatchItem(attendance), _record(flags=("CP", "CIN"),
                                                          warnings=("REPEAT_INJURY",)))
    _account(summary, bad, BatchItem(attendance), _record(band="none"))
    unreadable = MessageError("no PID", message="#3", location="PID")
    _account(summary, bad, BatchItem(unreadable, raw="MSH|x"), _record(errors=("no PID",)))
    not_arrival = NotAnArrival("A03", message="#4")
    _account(summary, bad, BatchItem(not_arrival), _record(errors=("A03",)))
    bad.close()
    assert (summary.records, summary.attendances, summary.errors, summary.not_arrivals) == (
        4, 2, 1, 1)
    assert summary.bands == {"certain": 1, "none": 1}
    assert summary.flags == {"CP": 1, "CIN": 1} and summary.warnings == {"REPEAT_INJURY": 1}
    assert bad.count == 1
    text = summary.describe()
    assert "4 records" in text and "CIN 1, CP 1" in text and "REPEAT_INJURY 1" in text
    assert summary.as_dict()["matches"] == {"certain": 1, "none": 1}
