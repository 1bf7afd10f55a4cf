"""UK postcodes: normalisation to unit, sector and district."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from safeflag.algo.postcode import parse_postcode


@pytest.mark.parametrize("raw, unit, sector, district", [
    ("dn32 7qx", "DN32 7QX", "DN32 7", "DN32"),
    ("DN327QX", "DN32 7QX", "DN32 7", "DN32"),
    (" ec1a-1bb ", "EC1A 1BB", "EC1A 1", "EC1A"),
    ("M1 1AE", "M1 1AE", "M1 1", "M1"),
    ("QX12 3AB", "QX12 3AB", "QX12 3", "QX12"),
])
def test_parts(raw, unit, sector, district):
    p = parse_postcode(raw)
    assert p is not None and (p.unit, p.sector, p.district) == (unit, sector, district)


@pytest.mark.parametrize("raw", ["", None, "NOT A POSTCODE", "DN32", "12345", "DN32 7Q"])
def test_malformed_postcodes_are_none(raw):
    assert parse_postcode(raw) is None


@given(st.sampled_from(["DN32 7QX", "EC1A 1BB", "M1 1AE", "B33 8TH", "CR2 6XH"]),
       st.sampled_from(["", " ", "  "]), st.booleans())
def test_spacing_and_case_do_not_matter(code, gap, lower):
    outward, inward = code.split(" ")
    raw = outward + gap + inward
    assert parse_postcode(raw.lower() if lower else raw).unit == code
