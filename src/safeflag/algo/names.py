"""Person names: normalisation, placeholders, nicknames and phonetic keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import jellyfish
from rapidfuzz.distance import OSA

__all__ = ["normalise_name", "name_parts", "is_placeholder", "names_a_twin", "are_nicknames",
           "phonetic", "clean_given", "clean_family", "one_edit_apart"]

_NON_ALPHA = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")

# Names that stand in for a name not yet known: treated as missing, never as evidence.
_PLACEHOLDERS = {
    "BABY", "BABY BOY", "BABY GIRL", "BABY OF", "BOY", "GIRL", "INFANT", "NEWBORN", "UNKNOWN",
    "UNK", "NK", "NOT KNOWN", "NOTKNOWN", "UNNAMED", "NONAME", "NO NAME", "TWIN", "TWIN 1",
    "TWIN 2", "TWIN A", "TWIN B", "TWIN ONE", "TWIN TWO", "MALE", "FEMALE", "TEST", "XX", "X",
}
# A placeholder is one of these words followed only by qualifiers ("BABY BOY 2", "TWIN B"),
# or by "OF" and anything ("BABY OF SMITH", "INFANT OF J SMITH").
_PLACEHOLDER_HEADS = {"BABY", "TWIN", "INFANT", "NEWBORN", "UNKNOWN", "UNNAMED", "BO", "BBY",
                      "TRIPLET"}
_QUALIFIERS = {"BOY", "GIRL", "MALE", "FEMALE", "ONE", "TWO", "THREE", "A", "B", "C", "I",
               "II", "III", "1", "2", "3", "4"}
_TWIN_WORDS = {"TWIN", "TRIPLET"}


@lru_cache(maxsize=65536)
def normalise_name(text: str | None) -> str:
    """Upper case, accents and punctuation removed, hyphens as spaces, single spaces.

    ``"O'Brien-Smyth "`` → ``"OBRIEN SMYTH"``; ``"Zoë"`` → ``"ZOE"``.
    """
    if not text:
        return ""
    # case-folded first: the capital sharp s (ẞ) has no upper-case ASCII form of its own
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    upper = ascii_text.upper().replace("-", " ").replace("'", "").replace("\u2019", "")
    upper = upper.replace(".", " ").replace("/", " ")
    return _SPACES.sub(" ", _NON_ALPHA.sub("", upper)).strip()


def name_parts(text: str | None) -> tuple[str, ...]:
    """The parts of a multi-part or hyphenated name, normalised."""
    return tuple(p for p in normalise_name(text).split(" ") if p)


def _tokens(text: str | None) -> list[str]:
    """Upper-case words with digits kept (``"Twin-2"`` → ``["TWIN", "2"]``)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()
    return re.sub(r"[^A-Z0-9]+", " ", plain).split()


@lru_cache(maxsize=65536)
def is_placeholder(text: str | None) -> bool:
    """True for names such as "BABY", "Baby Boy", "TWIN 1", "Baby of Smith", "Unknown" that
    stand in for a name not yet given."""
    words = _tokens(text)
    if not words:
        return True
    if " ".join(words) in _PLACEHOLDERS:
        return True
    head, rest = words[0], words[1:]
    if head not in _PLACEHOLDER_HEADS:
        return False
    if head == "BO" and not rest:
        return False                     # "Bo" is a given name
    return (all(w in _QUALIFIERS for w in rest) or (bool(rest) and rest[0] == "OF")
            or (len(rest) >= 1 and rest[0] in _QUALIFIERS and rest[1:2] == ["OF"]))


@lru_cache(maxsize=65536)
def names_a_twin(text: str | None) -> bool:
    """True for placeholders that say the child is one of a multiple birth ("TWIN 2")."""
    return is_placeholder(text) and any(w in _TWIN_WORDS for w in _tokens(text))


@lru_cache(maxsize=65536)
def clean_given(text: str | None) -> str:
    """Normalised given name, or "" when it is a placeholder."""
    return "" if is_placeholder(text) else normalise_name(text)


@lru_cache(maxsize=65536)
def clean_family(text: str | None) -> str:
    """Normalised family name, or "" for placeholders such as "UNKNOWN"."""
    n = normalise_name(text)
    return "" if n in _PLACEHOLDERS or n in ("NOT STATED", "NONE") else n


@lru_cache(maxsize=1)
def _nickname_groups() -> tuple[dict[str, frozenset[int]], dict[str, frozenset[int]]]:
    """Each name's groups (line numbers), and the groups each name is a formal name of."""
    groups: dict[str, set[int]] = {}
    formal: dict[str, set[int]] = {}
    text = resources.files("safeflag.algo").joinpath("data/nicknames.csv").read_text("utf-8")
    index = 0
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        head, *diminutives = line.split(",")
        for name in head.split("="):
            formal.setdefault(normalise_name(name), set()).add(index)
            groups.setdefault(normalise_name(name), set()).add(index)
        for name in diminutives:
            groups.setdefault(normalise_name(name), set()).add(index)
        index += 1
    return ({k: frozenset(v) for k, v in groups.items()},
            {k: frozenset(v) for k, v in formal.items()})


def are_nicknames(a: str, b: str) -> bool:
    """True when two (normalised, single-part) given names are one name: a formal name and
    its diminutive (ROBERT, BOB), two spellings of the formal name (KATHERINE, CATHERINE), or
    two spellings of one diminutive (MILLIE, MILLY; BOB, BOBBY). Two different diminutives of
    one formal name (MIA and MILLIE of AMELIA) are not: twins are named so."""
    if not a or not b or a == b:
        return False
    groups, formal = _nickname_groups()
    shared = groups.get(a, frozenset()) & groups.get(b, frozenset())
    if not shared:
        return False
    if shared & (formal.get(a, frozenset()) | formal.get(b, frozenset())):
        return True
    return phonetic(a) == phonetic(b) or a.startswith(b) or b.startswith(a)


@lru_cache(maxsize=65536)
def phonetic(part: str) -> str:
    """NYSIIS code of one normalised name part ("" for "")."""
    return jellyfish.nysiis(part) if part else ""


def one_edit_apart(a: str, b: str) -> bool:
    """True when two different names differ by one keying error: a letter substituted,
    inserted or dropped, or two adjacent letters swapped (optimal string alignment distance 1).
    At least one name must have three letters: too many two-letter names are one edit apart."""
    if a == b or min(len(a), len(b)) < 2 or max(len(a), len(b)) < 3 or abs(len(a) - len(b)) > 1:
        return False
    return OSA.distance(a, b, score_cutoff=1) <= 1
