"""Person names: normalisation, placeholders, nicknames and phonetic keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import jellyfish

__all__ = ["normalise_name", "name_parts", "is_placeholder", "are_nicknames", "phonetic",
           "clean_given", "clean_family"]

_NON_ALPHA = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")

# Names that stand in for a name not yet known: treated as missing, never as evidence.
_PLACEHOLDERS = {
    "BABY", "BABY BOY", "BABY GIRL", "BABY OF", "BOY", "GIRL", "INFANT", "NEWBORN", "UNKNOWN",
    "UNK", "NK", "NOT KNOWN", "NOTKNOWN", "UNNAMED", "NONAME", "NO NAME", "TWIN", "TWIN 1",
    "TWIN 2", "TWIN A", "TWIN B", "TWIN ONE", "TWIN TWO", "MALE", "FEMALE", "TEST", "XX", "X",
}
_PLACEHOLDER_PREFIXES = ("BABY ", "TWIN ", "BO ")


def normalise_name(text: str | None) -> str:
    """Upper case, accents and punctuation removed, hyphens as spaces, single spaces.

    ``"O'Brien-Smyth "`` → ``"OBRIEN SMYTH"``; ``"Zoë"`` → ``"ZOE"``.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    upper = ascii_text.upper().replace("-", " ").replace("'", "").replace("\u2019", "")
    upper = upper.replace(".", " ").replace("/", " ")
    return _SPACES.sub(" ", _NON_ALPHA.sub("", upper)).strip()


def name_parts(text: str | None) -> tuple[str, ...]:
    """The parts of a multi-part or hyphenated name, normalised."""
    return tuple(p for p in normalise_name(text).split(" ") if p)


def is_placeholder(text: str | None) -> bool:
    """True for names such as "BABY", "Baby Boy", "TWIN 1", "Unknown" that stand in for none."""
    n = normalise_name(text)
    if not n:
        return True
    compact = re.sub(r"[^A-Z0-9 ]", "", (text or "").upper()).strip()
    if n in _PLACEHOLDERS or compact in _PLACEHOLDERS:
        return True
    return any(compact.startswith(p) and compact[len(p):].strip(" 0123456789") in ("", "BOY", "GIRL", "OF")
               for p in _PLACEHOLDER_PREFIXES)


def clean_given(text: str | None) -> str:
    """Normalised given name, or "" when it is a placeholder."""
    return "" if is_placeholder(text) else normalise_name(text)


def clean_family(text: str | None) -> str:
    """Normalised family name, or "" for placeholders such as "UNKNOWN"."""
    n = normalise_name(text)
    return "" if n in _PLACEHOLDERS else n


@lru_cache(maxsize=1)
def _nickname_groups() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    text = resources.files("safeflag.algo").joinpath("data/nicknames.csv").read_text("utf-8")
    index = 0
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        for name in line.split(","):
            groups.setdefault(normalise_name(name), set()).add(index)
        index += 1
    return {k: frozenset(v) for k, v in groups.items()}


def are_nicknames(a: str, b: str) -> bool:
    """True when two (normalised, single-part) given names are in one diminutive group."""
    if not a or not b:
        return False
    groups = _nickname_groups()
    return bool(groups.get(a, frozenset()) & groups.get(b, frozenset()))


@lru_cache(maxsize=65536)
def phonetic(part: str) -> str:
    """NYSIIS code of one normalised name part ("" for "")."""
    return jellyfish.nysiis(part) if part else ""
