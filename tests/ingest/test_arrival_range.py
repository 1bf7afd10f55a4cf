"""The arrival check every reader shares: :func:`safeflag.ingest._common.checked_arrival`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from safeflag.errors import MessageError
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
