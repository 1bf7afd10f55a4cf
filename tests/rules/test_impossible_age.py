"""A birth date after the arrival date is a keying slip, never a negative age: within a year
the child may be a baby (the "may be under" reading of a partial date); further ahead, a year
digit slipped and nothing is known of the age."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from safeflag.algo.dates import PartialDate
from safeflag.rules import SLIP_MONTHS, Age, evaluate

from .test_contract_all_rules import minimal_context

AGE_RULES = {"INFANT_INJURY", "NON_MOBILE_INJURY", "FRACTURE_UNDER_2", "HEAD_INJURY_UNDER_3",
             "TEN4_BRUISING"}
ARRIVAL = date(2021, 5, 1)


def _codes(birth: str) -> tuple[set[str], list[str], list]:
    ctx = replace(minimal_context(), age=Age.at(PartialDate.parse(birth), ARRIVAL))
    warnings = evaluate(ctx)
    return {w.code for w in warnings}, ctx.notes, warnings


@pytest.mark.parametrize("birth, fires", [
    ("2021-05-01", True),      # born on the arrival day
    ("2021-04-30", True),      # the day before
    ("2021-05-02", True),      # the day after: a slip in a baby's date, may be a baby
    ("2022-05-01", True),      # twelve months after: still a slip of a month digit
    ("2022-06-02", False),     # more than a year after: age unknown
    ("2061-05-01", False),     # a year digit keyed wrongly
])
def test_age_rules_on_both_sides_of_a_year_after_the_arrival(birth: str, fires: bool) -> None:
    codes, notes, warnings = _codes(birth)
    assert (codes >= AGE_RULES) is fires
    if not fires:
        assert not codes & AGE_RULES
        assert any("age unknown" in n for n in notes)
    assert not any("age -" in e for w in warnings for e in w.evidence)


def test_a_slipped_birth_date_is_said_in_the_evidence_and_notes() -> None:
    codes, notes, warnings = _codes("2021-08-05")
    infant = next(w for w in warnings if w.code == "INFANT_INJURY")
    assert "recorded after the arrival date" in infant.evidence[0]
    assert f"0–{SLIP_MONTHS} months" in infant.evidence[0]
    assert any("keying slip" in n for n in notes)


def test_a_birth_date_before_the_arrival_is_left_alone() -> None:
    ctx = replace(minimal_context(), age=Age.at(PartialDate.parse("2019-05-01"), ARRIVAL))
    codes = {w.code for w in evaluate(ctx)}
    # 24 completed months: under 36 and 48, not under 24
    assert codes & AGE_RULES == {"HEAD_INJURY_UNDER_3", "TEN4_BRUISING"}
    assert not any("arrival date" in n for n in ctx.notes)
