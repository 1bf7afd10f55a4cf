"""The pipeline's re-check of a recorded attendance (a rerun, an A08): it keeps the child the
attendance was linked to and sees the history the first check saw."""

from __future__ import annotations

from .conftest import attendance, load, person, rel

NHS_TOM = "9434765919"
NHS_C1, NHS_S1, NHS_S2 = "9434765919", "9434765927", "9434765943"


def _repeat(result):
    return next((w for w in result.warnings if w.code == "REPEAT_INJURY"), None)


def test_a_recheck_reads_every_attendee_that_is_the_child_as_the_first_check_did(sf):
    # Tom's first visit has his NHS number; his second, under another surname and address
    # and with a keying slip in his birth date, has none and makes a second attendee; the
    # third has both, so it is certainly each. His sister Ivy, at the same address, is not him.
    sf.check(attendance("V1", "2021-04-01", given="Tom", family="Lowe", birth="2019-02-02",
                        postcode="LS2 9JT", nhs=NHS_TOM))
    sf.check(attendance("V2", "2021-04-15", given="Tom", family="Dunn", birth="2019-02-20",
                        postcode="HU1 2AA"))
    sf.check(attendance("V4", "2021-04-20", given="Ivy", family="Dunn", birth="2020-06-06",
                        postcode="HU1 2AA"))
    third = attendance("V3", "2021-05-01", given="Tom", family="Dunn", birth="2019-02-20",
                       postcode="HU1 2AA", nhs=NHS_TOM)
    first = sf.check(third)
    shown = " ".join(_repeat(first).evidence)
    assert "V1" in shown and "V2" in shown and "V4" not in shown
    assert _repeat(sf.check(third)) == _repeat(first)                       # a rerun
    assert _repeat(sf.check(third.model_copy(update={"event": "A08"}))) is None   # shown before


def test_the_audit_names_the_relatives_whose_attendances_a_warning_shows(sf):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15", nhs=NHS_C1),
              person("S1", "Ben", "Smith", "2018-03-03", sex="male", nhs=NHS_S1),
              person("S2", "Cara", "Smith", "2016-06-06", nhs=NHS_S2)],
         [rel("C1", "S1", "sibling"), rel("C1", "S2", "sibling")])
    sf.check(attendance("V1", "2021-04-20", given="Ben", family="Smith", birth="2018-03-03",
                        sex="male", nhs=NHS_S1))
    result = sf.check(attendance("V2", "2021-05-01", nhs=NHS_C1))
    assert [w.code for w in result.warnings if "S1" in " ".join(w.evidence)] == [
        "SIBLING_INJURY"]
    audited = list(sf.store.audit_entries())[-1]
    # S1's injury is shown; S2, a sibling with nothing on record, is not
    assert audited.person_ids == ("C1", "S1")
