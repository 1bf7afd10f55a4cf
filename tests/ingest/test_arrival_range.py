"""The arrival check every reader shares: :func:`safeflag.ingest._common.checked_arrival`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from safeflag.errors import MessageError
from safeflag.ingest import read_text
from safeflag.models import Attendance
from safeflag.ingest._common import EARLIEST_ARRIVAL, checked_arrival


def _error(reason: str, field: str) -> MessageError:
    return MessageError(reason, message="#7", location=field, source="feed")


def test_an_arrival_from_1900_on_is_uk_wall_time():
    assert checked_arrival(EARLIEST_ARRIVAL, "PV1-44", _error) == datetime(1900, 1, 1)
    summer = datetime(2014, 7, 3, 9, 15, tzinfo=timezone.utc)
    assert checked_arrival(summer, "PV1-44", _error) == datetime(2014, 7, 3, 10, 15)


@pytest.mark.parametrize("value", [
    datetime(1, 1, 1),
    datetime(1899, 12, 31, 23, 59, 59),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),           # cannot be converted
    datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
])
def test_an_arrival_out_of_range_is_the_readers_error_naming_the_field(value):
    with pytest.raises(MessageError) as caught:
        checked_arrival(value, "Encounter.period.start", _error)
    err = caught.value
    assert (err.message_ref, err.location, err.source) == ("#7", "Encounter.period.start",
                                                           "feed")
    assert value.isoformat() not in err.reason and "0001" not in err.reason


_MSH = "MSH|^~\\&|ED|RXX|SF|RXX|{msh7}||ADT^A04|C1|P|2.4"
_PID = "PID|1||R1^^^RXX^MR||Doe^Jane||20130301|F"


def _hl7(pv1_44: str, msh7: str = "20140103101700") -> str:
    pv1 = "PV1|1|E" + "|" * 17 + "V1" + "|" * 25 + pv1_44
    return "\r".join((_MSH.format(msh7=msh7), _PID, pv1)) + "\r"


@pytest.mark.parametrize("pv1_44, msh7, location", [
    ("00010101", "20140103101700", "PV1-44"),
    ("00010101000000+1400", "20140103101700", "PV1-44"),   # no UK time for it at all
    ("18991231235959", "20140103101700", "PV1-44"),
    ("", "00010101", "MSH-7"),                              # the fallback is checked too
])
def test_hl7_arrival_out_of_range_is_an_error_naming_the_field(pv1_44, msh7, location):
    (item,) = read_text(_hl7(pv1_44, msh7), fmt="hl7", source="feed.hl7")
    assert isinstance(item, MessageError) and item.location == location


@pytest.mark.parametrize("value", ["19000101", "20140103101500+0000"])
def test_hl7_arrival_in_range_is_read(value):
    (item,) = read_text(_hl7(value), fmt="hl7", source="feed.hl7")
    assert isinstance(item, Attendance) and item.arrival.year in (1900, 2014)


@pytest.mark.parametrize("value, readable", [
    ("0001-01-01T00:00:00", False),
    ("1899-12-31T23:59:59", False),
    ("1900-01-01T00:00:00", True),
])
def test_csv_arrival_range(value, readable):
    text = f"attendance_id,arrival,given_name\nA1,{value},Ann\n"
    (item,) = read_text(text, fmt="csv", source="day.csv")
    assert isinstance(item, Attendance) is readable
    if not readable:
        assert item.location == "column arrival" and "1900-01-01" in item.reason


def test_an_accident_time_out_of_range_is_a_note_not_an_error():
    """ACC-1 is optional: an unusable one must not void the attendance and its flags."""
    (item,) = read_text(_hl7("20140103101500") + "ACC|00010101000000+1400\r", fmt="hl7",
                        source="feed.hl7")
    assert isinstance(item, Attendance) and item.injury_time is None
    assert any(n.startswith("ACC-1") for n in item.notes)


@pytest.mark.parametrize("arrival, valid", [
    (datetime(1, 1, 1), False),
    (datetime(1899, 12, 31, 23, 59), False),
    (datetime(1900, 1, 1), True),
])
def test_an_attendance_built_directly_is_held_to_the_same_floor(arrival, valid):
    """A library caller building an Attendance gets the model's validation error, not an
    overflow deep inside a check."""
    from pydantic import ValidationError

    from safeflag.models import Demographics
    build = lambda: Attendance(attendance_id="V1", arrival=arrival, patient=Demographics())
    if valid:
        assert build().arrival == arrival
    else:
        with pytest.raises(ValidationError, match="arrival"):
            build()
