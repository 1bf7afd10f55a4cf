"""The contract JSON line: key names and shapes that may not be renamed."""

from __future__ import annotations

import json

from safeflag import to_json_line

from ..conftest import attendance, load, person, plan


def test_contract_keys_and_types(sf):
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15")], plans=[plan("C1", "CIN", "2020-06-01")])
    line = json.loads(to_json_line(sf.check(attendance("A1", "2021-05-01", dx=("S52.5",)))))
    assert list(line)[:6] == ["attendance_id", "arrival", "match", "flags", "warnings", "errors"]
    assert line["arrival"] == "2021-05-01T10:00:00"
    m = line["match"]
    assert m["person_id"] == "C1" and m["band"] == "certain" and 0 < m["score"] <= 1
    assert m["candidates"] == []
    flag = line["flags"][0]
    assert {k: flag[k] for k in ("code", "status", "subject", "person_id", "start", "end")} == {
        "code": "CIN", "status": "active", "subject": "self", "person_id": "C1",
        "start": "2020-06-01", "end": None}
    assert {"local_authority", "contact"} <= set(flag)
    w = next(w for w in line["warnings"] if w["code"] == "INJURY_AFTER_CONCERN")
    assert w["level"] == "suspect" and w["subject"] == "self" and w["evidence"] and w["source"]
    assert line["errors"] == []


def test_possible_match_sets_no_person_id(sf):
    others = [person(f"X{i}", "Bob", f"Other{i}", f"2015-0{1 + i % 9}-1{i % 9}", sex="male",
                     postcode="LS1 1AA") for i in range(30)]
    load(sf, [person("C1", "Amy", "Smith", "2020-01-15"), person("C2", "Amy", "Smith", "2020-11-02"),
              *others])
    # Name and sex agree, the birth date is known to the year only, no address, and two Amy
    # Smiths were born that year: possible matches, for a person to confirm which.
    result = sf.check(attendance("A1", "2021-05-01", birth="2020", postcode=""))
    line = json.loads(to_json_line(result))
    assert line["match"]["band"] == "possible" and line["match"]["person_id"] is None
    assert sorted(c["person_id"] for c in line["match"]["candidates"]) == ["C1", "C2"]
    assert line["flags"] == []
