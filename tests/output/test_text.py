"""The text summary a triage script logs: a flag or prompt that rests on a link only the
attendances suggest says so, as the JSON's ``confirmed: false`` and FHIR's extension do."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from safeflag.models import CheckResult, Flag, Warning
from safeflag.output.text import to_text

MARK = "[link not confirmed by the register]"


@pytest.mark.parametrize("confirmed", [True, False])
def test_an_unconfirmed_flag_or_prompt_is_marked(confirmed):
    result = CheckResult(
        attendance_id="V1", arrival=datetime(2021, 4, 1, 10),
        flags=(Flag(code="CP", status="active", subject="sibling", person_id="P2",
                    start=date(2020, 1, 1), relationship="sibling", confirmed=confirmed),),
        warnings=(Warning(code="SIBLING_INJURY", level="consider", subject="household",
                          message="A sibling or household child was injured recently.",
                          evidence=("household-member attendee:1",), source="NICE CG89",
                          confirmed=confirmed),))
    lines = to_text(result).splitlines()
    flag = next(line for line in lines if "(CP)" in line)
    prompt = next(line for line in lines if "SIBLING_INJURY" in line)
    assert (MARK in flag) is (not confirmed)
    assert (MARK in prompt) is (not confirmed)
