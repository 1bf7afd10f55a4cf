"""NHS number: normalisation and the modulus 11 check digit (NHS Data Dictionary)."""

from __future__ import annotations

__all__ = ["normalise_nhs_number", "is_valid_nhs_number"]

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise_nhs_number(text: str | None) -> str | None:
    """Digits only (spaces and dashes removed); ``None`` for blank input."""
    if text is None:
        return None
    digits = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    return digits or None


def is_valid_nhs_number(text: str | None) -> bool:
    """True for ten digits whose modulus 11 check digit is right.

    The check digit is 11 minus the weighted sum (weights 10..2) modulo 11; 11 becomes 0 and
    10 means the number is invalid. ``0000000000``-style repeated digits are rejected as
    placeholders.
    """
    digits = normalise_nhs_number(text)
    if digits is None or len(digits) != 10 or not digits.isdigit():
        return False
    if len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], _WEIGHTS))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])
