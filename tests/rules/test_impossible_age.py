"""A birth date after the arrival date is a keying slip, not a baby: no age-based warning."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from safeflag.algo.dates import PartialDate
from safeflag.rules import Age, evaluate

from .test_contract_all_rules import minimal_context

AGE_RULES = {"INFANT_INJURY", "NON_MOBILE_INJURY", "FRACTURE_UNDER_2", "HEAD_INJURY_UNDER_3",
             "TEN4_BRUISING"}


@pytest.mark.parametrize("birth, fires", [
    ("2021-05-01", True),      # born on the arrival day: 0 months, a baby
    ("2021-04-30", True),      # the day before
    ("2021-05-02", False),     # the day after the arrival: impossible, so no age
    ("2061-05-01", False),     # a year keyed wrongly
])
def test_age_rules_on_both_sides_of_the_arrival_date(birth: str, fires: bool) -> None:
    ctx = minimal_context()
    ctx = replace(ctx, age=Age.at(PartialDate.parse(birth), date(2021, 5, 1)))
    codes = {w.code for w in evaluate(ctx)}
    assert (codes >= AGE_RULES) is fires
    if not fires:
        assert not codes & AGE_RULES
        assert any("after the arrival date" in n for n in ctx.notes)
