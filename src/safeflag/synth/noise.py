"""Recording errors: how a true value turns into what a register or an ED system holds.

Each function takes the seeded random source and a true value and returns the value as
recorded. Rates are set by the callers (:mod:`safeflag.synth.world`), so that the error mix
of the register and of the attendances can differ.
"""

from __future__ import annotations

import random
import string
import unicodedata
from datetime import date
from functools import lru_cache
from importlib import resources

from ..algo.dates import PartialDate
from ..algo.names import are_nicknames

__all__ = ["typo", "nickname", "variants", "strip_accents", "swap_day_month", "one_digit_date",
           "partial_birth", "nhs_typo", "postcode_typo"]

_LETTERS = string.ascii_lowercase


def typo(rng: random.Random, name: str) -> str:
    """One keying error: a letter substituted, dropped, doubled or two letters swapped."""
    if len(name) < 3:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        ch = rng.choice(_LETTERS)
        ch = ch.upper() if name[i].isupper() else ch
        return name[:i] + ch + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i + 1:]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:]


@lru_cache(maxsize=1)
def _diminutives() -> dict[str, tuple[str, ...]]:
    """Each name's variants a record may carry instead: its formal name or diminutives, or
    another spelling (``algo.names.are_nicknames``), never another diminutive of the same
    formal name (a child called Mia is not recorded as Millie)."""
    text = resources.files("safeflag.algo").joinpath("data/nicknames.csv").read_text("utf-8")
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names = [n.strip().title() for n in line.replace("=", ",").split(",") if n.strip()]
        for name in names:
            out.setdefault(name.upper(), []).extend(
                n for n in names if n != name and are_nicknames(name.upper(), n.upper()))
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def variants(name: str) -> tuple[str, ...]:
    """The diminutive and formal variants of a given name (title case)."""
    return _diminutives().get(strip_accents(name).upper(), ())


def nickname(rng: random.Random, name: str) -> str:
    """A diminutive or formal variant of a given name, or the name itself if none is known."""
    options = _diminutives().get(strip_accents(name).upper(), ())
    return rng.choice(options) if options else name


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def swap_day_month(born: date) -> PartialDate | None:
    """The birth date with day and month swapped, when that is a different valid date."""
    if born.day > 12 or born.day == born.month:
        return None
    return PartialDate(born.year, born.day, born.month)


def one_digit_date(rng: random.Random, born: date, not_after: date | None = None
                   ) -> PartialDate:
    """The birth date with one digit keyed wrongly (still a valid date, and with
    ``not_after`` no later than that day: systems refuse a birth date in the future)."""
    text = born.strftime("%Y%m%d")
    for _ in range(20):
        i = rng.choice((2, 3, 4, 5, 6, 7))
        digit = str(rng.randrange(10))
        if digit == text[i]:
            continue
        wrong = text[:i] + digit + text[i + 1:]
        try:
            slipped = PartialDate.parse(wrong)
        except ValueError:
            continue
        if not_after is None or slipped.as_date() <= not_after:
            return slipped
    return PartialDate.of(born)


def partial_birth(rng: random.Random, born: date) -> PartialDate:
    """Only the year and month, or only the year, of the birth date."""
    return PartialDate(born.year, born.month) if rng.random() < 0.6 else PartialDate(born.year)


def nhs_typo(rng: random.Random, nhs: str) -> str:
    """One digit of the number changed (the check digit then almost always fails)."""
    i = rng.randrange(10)
    digit = str((int(nhs[i]) + rng.randint(1, 9)) % 10)
    return nhs[:i] + digit + nhs[i + 1:]


def postcode_typo(rng: random.Random, postcode: str) -> str:
    """The last letter of the inward code keyed wrongly."""
    return postcode[:-1] + rng.choice("ABDEFGHJLNPQRSTUWXYZ".replace(postcode[-1], ""))
