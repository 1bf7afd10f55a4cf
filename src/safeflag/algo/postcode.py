"""UK postcodes: normalised full unit, sector and district for comparison and blocking."""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass

__all__ = ["Postcode", "parse_postcode", "postcode_key"]


def postcode_key(postcode: str) -> str:
    """Postcodes compare without case or spaces ("dn32 7qx" = "DN327QX"), valid or not."""
    return "".join(postcode.split()).upper()

# Outward code: area (1-2 letters) + district (digit + optional digit/letter);
# inward: digit + 2 letters.
_UK = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$")


@dataclass(frozen=True)
class Postcode:
    outward: str
    inward: str

    @property
    def unit(self) -> str:
        return f"{self.outward} {self.inward}"

    @property
    def sector(self) -> str:
        return f"{self.outward} {self.inward[0]}"

    @property
    def district(self) -> str:
        return self.outward

    @property
    def area(self) -> str:
        return "".join(ch for ch in self.outward if ch.isalpha())[:2] if self.outward[1].isalpha() \
            else self.outward[0]


@lru_cache(maxsize=65536)
def parse_postcode(text: str | None) -> Postcode | None:
    """A :class:`Postcode` for a well-formed UK postcode (any case or spacing), else ``None``."""
    if not text:
        return None
    compact = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    m = _UK.match(compact)
    if not m:
        return None
    return Postcode(m.group(1), m.group(2))
