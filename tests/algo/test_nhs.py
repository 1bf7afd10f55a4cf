"""NHS number normalisation and the modulus 11 check digit."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from safeflag.algo.nhs import is_valid_nhs_number, normalise_nhs_number


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919"])
def test_valid_numbers(number):
    assert is_valid_nhs_number(number)


@pytest.mark.parametrize("number", ["9434765918", "943476591", "94347659190", "0000000000",
                                    "abcdefghij", "", None])
def test_invalid_numbers(number):
    assert not is_valid_nhs_number(number)


def test_normalise():
    assert normalise_nhs_number(" 943 476-5919 ") == "9434765919"
    assert normalise_nhs_number("") is None and normalise_nhs_number(None) is None


def _check_digit(body: str) -> int:
    return (11 - sum(int(d) * w for d, w in zip(body, range(10, 1, -1))) % 11) % 11


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_single_digit_change_is_caught(body):
    check = _check_digit(body)
    if check == 10 or len(set(body + str(check))) == 1:
        return
    number = body + str(check)
    assert is_valid_nhs_number(number)
    for i in range(10):
        for d in "0123456789":
            if d != number[i]:
                assert not is_valid_nhs_number(number[:i] + d + number[i + 1:])
