"""Partial dates keep their precision; ages are completed calendar months."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from safeflag.algo.dates import PartialDate, age_months_range, months_between, parse_hl7_datetime


@pytest.mark.parametrize("text, precision, earliest, latest", [
    ("2014", "year", date(2014, 1, 1), date(2014, 12, 31)),
    ("2014-02", "month", date(2014, 2, 1), date(2014, 2, 28)),
    ("201602", "month", date(2016, 2, 1), date(2016, 2, 29)),
    ("2014-03-05", "day", date(2014, 3, 5), date(2014, 3, 5)),
    ("20140305", "day", date(2014, 3, 5), date(2014, 3, 5)),
])
def test_partial_dates_keep_precision(text, precision, earliest, latest):
    d = PartialDate.parse(text)
    assert d.precision == precision and d.earliest() == earliest and d.latest() == latest
    assert (d.as_date() is not None) is (precision == "day")


@pytest.mark.parametrize("text", ["2014-13-01", "2014-02-30", "14-01-01", "2014-1-1", "", "2014-00"])
def test_invalid_dates_are_refused(text):
    with pytest.raises(ValueError):
        PartialDate.parse(text)


@pytest.mark.parametrize("born, on, months", [
    (date(2020, 1, 15), date(2021, 1, 14), 11),
    (date(2020, 1, 15), date(2021, 1, 15), 12),
    (date(2020, 1, 31), date(2020, 2, 29), 1),    # month-end birthday reached on the last day
    (date(2020, 1, 31), date(2020, 2, 28), 0),
    (date(2020, 3, 1), date(2020, 2, 1), -1),
])
def test_completed_months(born, on, months):
    assert months_between(born, on) == months


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2080, 1, 1)),
       st.integers(min_value=0, max_value=20000))
def test_months_never_decrease_with_time(born, days):
    on = born + timedelta(days=days)
    assert 0 <= months_between(born, on) <= months_between(born, on + timedelta(days=1))


def test_age_range_of_a_year_only_birth_date():
    assert age_months_range(PartialDate(2020), date(2021, 6, 30)) == (6, 17)
    assert age_months_range(PartialDate(2020), date(2021, 6, 29)) == (5, 17)


def test_hl7_datetime_offsets_and_precision():
    assert parse_hl7_datetime("201401031015").isoformat() == "2014-01-03T10:15:00"
    assert parse_hl7_datetime("20140103101530+0100").utcoffset() == timedelta(hours=1)
    with pytest.raises(ValueError):
        parse_hl7_datetime("2014-01-03")
