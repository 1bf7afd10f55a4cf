"""Register CSV folder: valid load, and every bad row named by file, line and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from safeflag import RegisterError, Safeflag, load_register_csv
from safeflag.demo import demo_data
from safeflag.store.sqlite import SqliteStore

HEADER = "person_id,nhs_number,given_name,family_name,birth_date,sex,address_line,postcode,aliases\n"


def write(folder: Path, persons: str, **others: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "persons.csv").write_text(HEADER + persons, encoding="utf-8")
    for name, text in others.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def test_demo_register_loads():
    with demo_data() as (register, _):
        reg = load_register_csv(register)
    assert len(reg.persons) == 9 and len(reg.plans) == 8 and len(reg.relationships) == 12
    lily = next(p for p in reg.persons if p.person_id == "CL-L")
    assert str(lily.birth_date) == "2012-03-14"


def test_any_column_order_aliases_and_partial_birth_dates(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "persons.csv").write_text(
        "family_name,person_id,given_name,birth_date,aliases\n"
        "Smith,P1,Amy,2014,Amelia Smith;Amy Jones\n", encoding="utf-8")
    reg = load_register_csv(folder)
    p = reg.persons[0]
    assert p.birth_date.precision == "year" and str(p.birth_date) == "2014"
    assert p.aliases == (("Amelia", "Smith"), ("Amy", "Jones"))


@pytest.mark.parametrize("row, column", [
    ("P1,12345,Amy,Smith,2014-01-01,female,,,\n", "nhs_number"),
    ("P1,,Amy,Smith,2014-13-01,female,,,\n", "birth_date"),
    ("P1,,Amy,Smith,2014-01-01,girl,,,\n", "sex"),
    (",,Amy,Smith,2014-01-01,female,,,\n", "person_id"),
])
def test_bad_person_row_names_file_line_column(tmp_path, row, column):
    folder = write(tmp_path / "r", "P0,,Bo,Smith,2013-01-01,male,,,\n" + row)
    with pytest.raises(RegisterError) as err:
        load_register_csv(folder)
    message = str(err.value)
    assert "persons.csv" in message and "line 3" in message and f"column {column}" in message
    assert "Amy" not in message and "Smith" not in message   # no patient details


def test_duplicate_person_id(tmp_path):
    folder = write(tmp_path / "r", "P1,,A,B,,,,,\nP1,,C,D,,,,,\n")
    with pytest.raises(RegisterError, match="line 3, column person_id"):
        load_register_csv(folder)


@pytest.mark.parametrize("name, text, where", [
    ("plans", "person_id,plan,start_date,end_date\nP1,XX,2020-01-01,\n", "line 2, column plan"),
    ("plans", "person_id,plan,start_date,end_date\nP1,CP,,\n", "column start_date"),
    ("plans", "person_id,plan,start_date,end_date\nP1,CP,2020-02-01,2020-01-01\n", "column end_date"),
    ("plans", "person_id,plan,start_date,end_date\nP9,CP,2020-01-01,\n", "column person_id"),
    ("relationships", "person_id,related_person_id,relationship\nP1,P9,mother\n",
     "column related_person_id"),
    ("relationships", "person_id,related_person_id,relationship\nP1,P1,aunt\n",
     "column relationship"),
    ("plans", "person_id,start_date,end_date\nP1,2020-01-01,\n", "missing column(s) plan"),
    ("plans", "person_id,plan,start_date\nP1,CP,2020-01-01\n", "missing column(s) end_date"),
])
def test_bad_rows_in_other_files(tmp_path, name, text, where):
    folder = write(tmp_path / "r", "P1,,A,B,,,,,\n", **{name: text})
    with pytest.raises(RegisterError) as err:
        load_register_csv(folder)
    assert f"{name}.csv" in str(err.value) and where in str(err.value)


def test_missing_folder_and_non_utf8(tmp_path):
    with pytest.raises(RegisterError, match="not a folder"):
        load_register_csv(tmp_path / "nope")
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "persons.csv").write_bytes(HEADER.encode() + "P1,,Zo\xeb,B,,,,,\n".encode("latin-1"))
    with pytest.raises(RegisterError, match="UTF-8"):
        load_register_csv(folder)


def test_failed_load_keeps_the_previous_register(tmp_path):
    sf = Safeflag(SqliteStore(tmp_path / "db.sqlite"))
    with demo_data() as (register, _):
        good = tmp_path / "good"
        shutil.copytree(register, good)
    sf.load_register(good)
    bad = write(tmp_path / "bad", "X1,,A,B,,,,,\n",
                plans="person_id,plan,start_date\nX1,CP,not-a-date\n")
    with pytest.raises(RegisterError):
        sf.load_register(bad)
    assert sf.store.register_info().persons == 9
    assert set(sf.store.persons(["CL-L", "X1"])) == {"CL-L"}


@pytest.mark.parametrize("plans_is_a_folder", [False, True])
def test_a_register_file_that_cannot_be_read_is_a_register_error(tmp_path, plans_is_a_folder):
    folder = write(tmp_path / "r", "P1,,Amy,Lowe,2019-01-01,female,,,\n",
                   plans="person_id,plan,start_date,end_date\n")
    if plans_is_a_folder:
        (folder / "plans.csv").unlink()
        (folder / "plans.csv").mkdir()
        with pytest.raises(RegisterError, match="cannot be read") as caught:
            load_register_csv(folder)
        assert "plans.csv" in str(caught.value)
    else:
        assert len(load_register_csv(folder).persons) == 1


# --- what a load would otherwise pass over unseen ---------------------------------------------
PLANS = "person_id,plan,start_date,end_date,category,local_authority,contact\n"
RELATIONSHIPS = "person_id,related_person_id,relationship,from_date,to_date\n"


def test_a_register_file_is_found_whatever_the_case_of_its_name(tmp_path):
    folder = write(tmp_path / "r", "P1,,Amy,Lowe,2019-01-01,female,,,\n",
                   relationships=RELATIONSHIPS)
    (folder / "Plans.csv").write_text(PLANS + "P1,CP,2020-01-01,,,LA,\n", encoding="utf-8")
    assert len(load_register_csv(folder).plans) == 1
    (folder / "plans.csv").write_text(PLANS, encoding="utf-8")
    with pytest.raises(RegisterError, match="Plans.csv and plans.csv are both here"):
        load_register_csv(folder)


def test_missing_files_and_other_files_are_warned_of(tmp_path, caplog):
    folder = write(tmp_path / "r", "P1,,Amy,Lowe,2019-01-01,female,,,\n")
    (folder / "plan.csv").write_text(PLANS, encoding="utf-8")
    with caplog.at_level("WARNING", logger="safeflag.ingest.register"):
        load_register_csv(folder)
    said = [r.getMessage() for r in caplog.records]
    assert any("has no relationships.csv" in s for s in said)
    assert any("has no plans.csv" in s for s in said)
    assert any("plan.csv is not a register file" in s for s in said)
    caplog.clear()
    (folder / "plan.csv").rename(folder / "plans.csv")
    (folder / "relationships.csv").write_text(RELATIONSHIPS, encoding="utf-8")
    with caplog.at_level("WARNING", logger="safeflag.ingest.register"):
        load_register_csv(folder)
    assert caplog.records == []


def test_columns_the_contract_does_not_name_or_misses_are_warned_of(tmp_path, caplog):
    folder = write(tmp_path / "r", "P1,,Amy,Lowe,2019-01-01,female,,,\n",
                   relationships=RELATIONSHIPS,
                   plans="person_id,plan,start_date,end_date,enddate,local_authority\n"
                         "P1,CP,2020-01-01,,2021-01-01,LA\n")
    (folder / "persons.csv").write_text("person_id,given_name,family_name,dob\n"
                                        "P1,Amy,Lowe,2019-01-01\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="safeflag.ingest.register"):
        reg = load_register_csv(folder)
    said = " | ".join(r.getMessage() for r in caplog.records)
    assert "column 'enddate' is not one the register reads, and is ignored (did you mean " \
           "'end_date'?)" in said
    assert "column 'dob' is not one the register reads, and is ignored |" in said + " |"
    assert "persons.csv has no column nhs_number, birth_date, sex, address_line, postcode" in said
    assert "plans.csv has no column category, contact" in said
    assert "Amy" not in said and "2019-01-01" not in said     # names of columns, never values
    assert reg.persons[0].birth_date is None
