"""Alert hygiene end to end from HL7 text: an A08 update of the same attendance does not fire
the same warning again, says so in the notes, and still shows what is new."""

from __future__ import annotations

from safeflag import read_text

from ..conftest import load, person, plan

A04 = ("MSH|^~\\&|EDIS|RXX01|SAFEFLAG|RXX01|20210501101500||ADT^A04^ADT_A01|M1|P|2.4\r"
       "EVN|A04|20210501101500\r"
       "PID|1||H1^^^RXX^MR||SMITH^AMY||20200615|F|||1 Test Street^^Leeds^^DN32 7QX\r"
       "PV1|1|E|ED||||||||||||||||{visit}|||||||||||||||||||||||||20210501100000\r"
       "DG1|1||{dx}^injury^I10\r")
A08 = A04.replace("ADT^A04", "ADT^A08").replace("EVN|A04", "EVN|A08").replace("|M1|", "|M2|")


def check(sf, text):
    items = list(read_text(text))
    assert len(items) == 1 and not isinstance(items[0], Exception), items
    return sf.check(items[0])


def codes(result):
    return [w.code for w in result.warnings]


def amy(sf):
    load(sf, [person("C1", "Amy", "Smith", "2020-06-15")], plans=[plan("C1", "CIN", "2021-01-01")])


def test_an_a08_update_does_not_fire_the_same_warnings_again(sf):
    amy(sf)
    first = check(sf, A04.format(visit="V1", dx="S80.0"))
    assert first.attendance_id == "V1"
    assert {"INFANT_INJURY", "INJURY_AFTER_CONCERN"} <= set(codes(first))
    update = check(sf, A08.format(visit="V1", dx="S80.0"))
    assert update.attendance_id == "V1"
    assert codes(update) == []
    assert any("already shown for attendance V1" in n and "INFANT_INJURY" in n
               for n in update.notes)
    # flags are not alerts: they are shown again on every message
    assert [f.code for f in update.flags] == ["CIN"]


def test_an_a08_that_adds_a_finding_shows_only_what_is_new(sf):
    amy(sf)
    check(sf, A04.format(visit="V1", dx="S80.0"))                 # knee bruise, 10 months
    update = check(sf, A08.format(visit="V1", dx="S72.0"))        # femoral fracture found
    assert codes(update) == ["FRACTURE_UNDER_2"]


def test_a_second_a08_stays_quiet_and_the_shown_codes_accumulate(sf):
    amy(sf)
    check(sf, A04.format(visit="V1", dx="S80.0"))
    check(sf, A08.format(visit="V1", dx="S72.0"))
    again = check(sf, A08.format(visit="V1", dx="S72.0"))
    assert codes(again) == []
    shown = sf.store.attendance("V1").warnings
    assert {"INFANT_INJURY", "INJURY_AFTER_CONCERN", "FRACTURE_UNDER_2"} <= set(shown)


def test_a_different_attendance_fires_afresh(sf):
    amy(sf)
    check(sf, A04.format(visit="V1", dx="S80.0"))
    second = check(sf, A04.format(visit="V2", dx="S80.0").replace("20210501", "20210502"))
    assert {"INFANT_INJURY", "INJURY_AFTER_CONCERN", "REPEAT_INJURY"} <= set(codes(second))


def test_an_a08_is_not_counted_as_an_earlier_injury_of_itself(sf):
    amy(sf)
    check(sf, A04.format(visit="V1", dx="S80.0"))
    update = check(sf, A08.format(visit="V1", dx="S80.0"))
    assert not any(n.startswith("REPEAT_INJURY") and "V1" in n for n in update.notes)
    assert "REPEAT_INJURY" not in codes(update)
    assert len(sf.store.history([1], until=update.arrival, since=update.arrival.date())) == 1
