"""The match model: m and u probabilities per comparison level, name frequencies and the prior.

A level's weight is log2(m/u): m is how often true matches show the level, u how often
unrelated pairs do. Defaults (``DEFAULT_M``, ``DEFAULT_U``) are documented in
``docs/matching.md``; at register load :func:`estimate_from_register` replaces u with
frequencies counted on random pairs of register persons and records how common each first
name and family name is (term-frequency adjustment: agreeing on "OLIVIA" is weaker evidence
than agreeing on "MORVEN"); :func:`estimate_m` re-estimates m by expectation–maximisation on
unlabelled candidate pairs (e.g. a day's attendances against the register), as Splink does.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..algo.compare import COMPARISONS, NO_DATA, OTHERWISE, Identity, compare
from ..errors import ConfigError

__all__ = ["MatchModel", "DEFAULT_M", "DEFAULT_U", "estimate_from_register", "estimate_m",
           "META_KEY", "ON_REGISTER_SHARE", "prior_for"]

META_KEY = "match.model"
_FLOOR = 1e-7          # no probability is taken as exactly 0
_TF_FLOOR = 5e-4       # a name, however rare, counts as shared by at least 1 in 2000 pairs
_TF_MIN_COUNT = 3      # names seen fewer times are left out of the stored table

# m: P(level | same child). Rates of recording error in ED and social care systems.
DEFAULT_M: dict[str, dict[str, float]] = {
    "nhs_number": {"exact": 0.995, "otherwise": 0.005},
    "given_name": {"exact": 0.86, "nickname": 0.05, "one edit": 0.035, "middle name": 0.015,
                   "jaro-winkler >= 0.9": 0.01, "otherwise": 0.03},
    "family_name": {"exact": 0.87, "shared part": 0.04, "one edit": 0.02,
                    "jaro-winkler >= 0.92": 0.01, "otherwise": 0.06},
    # the partial levels are rated among pairs where one date is partial (only there can they
    # occur): the same child's year (and month) almost always agree; see _partial_levels
    "birth_date": {"exact": 0.955, "day/month swapped": 0.012, "one digit differs": 0.016,
                   "same year and month (partial)": 0.95, "same year (partial)": 0.95,
                   "under 12 years apart": 0.0085, "otherwise": 0.0005},
    "sex": {"exact": 0.995, "otherwise": 0.005},
    "postcode": {"unit": 0.83, "sector": 0.03, "district": 0.03, "otherwise": 0.11},
    "parents": {"nhs number": 0.3, "full name": 0.55, "first name": 0.08, "otherwise": 0.07},
    "age": {"compatible": 1.0, "otherwise": 1e-6},
}
# u: P(level | two different children) — replaced at register load by counted frequencies.
DEFAULT_U: dict[str, dict[str, float]] = {
    "nhs_number": {"exact": 1e-7, "otherwise": 1.0},
    "given_name": {"exact": 0.02, "nickname": 0.002, "one edit": 0.004, "middle name": 0.02,
                   "jaro-winkler >= 0.9": 0.01, "otherwise": 0.96},
    "family_name": {"exact": 0.01, "shared part": 0.0005, "one edit": 0.002,
                    "jaro-winkler >= 0.92": 0.005, "otherwise": 0.98},
    "birth_date": {"exact": 0.0002, "day/month swapped": 0.00002, "one digit differs": 0.004,
                   "same year and month (partial)": 0.005, "same year (partial)": 0.06,
                   "under 12 years apart": 0.6, "otherwise": 0.33},
    "sex": {"exact": 0.5, "otherwise": 0.5},
    "postcode": {"unit": 0.0002, "sector": 0.002, "district": 0.015, "otherwise": 0.98},
    "parents": {"nhs number": 1e-6, "full name": 0.0002, "first name": 0.03, "otherwise": 0.97},
    "age": {"compatible": 0.7, "otherwise": 0.3},
}
_TF_FIELDS = {"given_name": "firsts", "family_name": "families"}
#: Registers smaller than this keep the default u and no name-frequency table.
MIN_PERSONS_TO_ESTIMATE = 2000
#: Default share of attending children who are on the register (sets the prior).
ON_REGISTER_SHARE = 0.5


def prior_for(persons: int, on_register_share: float = ON_REGISTER_SHARE) -> float:
    """log2 odds that an attending child is one particular person of a register this size."""
    p = on_register_share / max(persons, 1)
    return math.log2(p / (1.0 - p)) if p < 1 else 0.0


@dataclass(frozen=True)
class MatchModel:
    """Everything scoring needs besides the two identities; serialised into the store."""

    m: dict[str, dict[str, float]] = field(default_factory=lambda: json.loads(
        json.dumps(DEFAULT_M)))
    u: dict[str, dict[str, float]] = field(default_factory=lambda: json.loads(
        json.dumps(DEFAULT_U)))
    tf: dict[str, dict[str, float]] = field(default_factory=dict)   # field → name → frequency
    prior: float = -12.0                  # log2 odds that one register person is the child
    source: str = "defaults"
    persons: int = 0                      # register size the model was estimated on
    weights: dict[str, dict[str, float]] = field(init=False, compare=False, repr=False)
    _partial_ceiling: dict[str, float] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        table: dict[str, dict[str, float]] = {}
        for comparison in COMPARISONS:
            ms, us = self.m.get(comparison.field, {}), self.u.get(comparison.field, {})
            raw = {level: math.log2(max(ms.get(level, _FLOOR), _FLOOR)
                                    / max(us.get(level, _FLOOR), _FLOOR))
                   for level in comparison.level_names}
            # more agreement never weighs less: the first (strongest) level is the ceiling
            # and "otherwise" the floor of every partial level, whatever the estimates say
            names = comparison.level_names
            top, bottom = raw[names[0]], raw[OTHERWISE]
            table[comparison.field] = {
                level: w if level in (names[0], OTHERWISE) else min(max(w, bottom), top)
                for level, w in raw.items()}
            table[comparison.field][OTHERWISE] = min(bottom, top)
        object.__setattr__(self, "weights", table)
        object.__setattr__(self, "_partial_ceiling", {
            f: max([w for lv, w in levels.items() if lv not in ("exact", OTHERWISE)] or [0.0])
            for f, levels in table.items()})

    @classmethod
    def sized(cls, persons: int, on_register_share: float = ON_REGISTER_SHARE) -> "MatchModel":
        """Default weights with the prior for a register of ``persons`` people."""
        return cls(prior=prior_for(persons, on_register_share), persons=persons)

    # --- scoring ----------------------------------------------------------------------------
    def weight(self, field_name: str, level: str, a: Identity, b: Identity) -> float:
        """log2 Bayes factor of one field's level, name-frequency adjusted for exact names."""
        if level == NO_DATA:
            return 0.0
        w = self.weights[field_name][level]
        if level == "exact" and field_name in self.tf:
            freq = self.term_frequency(field_name, a, b)
            if freq is not None:
                # a common name agrees more weakly, but never below a partial agreement
                w = max(math.log2(max(self.m[field_name]["exact"], _FLOOR) / max(freq, _TF_FLOOR)),
                        self._partial_ceiling[field_name])
        return w

    def term_frequency(self, field_name: str, a: Identity, b: Identity) -> float | None:
        """The frequency of the rarest name the two agree on (None: no table)."""
        table = self.tf.get(field_name)
        if not table:
            return None
        shared = (a.firsts & b.firsts) if field_name == "given_name" else (
            set(a.families) & set(b.families))
        if not shared:
            return None
        floor = table.get("", _TF_FLOOR)
        return min(table.get(name, floor) for name in shared)

    def score(self, a: Identity, b: Identity) -> list[tuple[str, str, float]]:
        """(field, level, weight) for every comparison."""
        return [(f, lv, self.weight(f, lv, a, b)) for f, lv in compare(a, b)]

    # --- storage ----------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({"version": 1, "m": self.m, "u": self.u, "tf": self.tf,
                           "prior": self.prior, "source": self.source, "persons": self.persons},
                          separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "MatchModel":
        try:
            data = json.loads(text)
            return cls(m=data["m"], u=data["u"], tf=data.get("tf", {}),
                       prior=float(data["prior"]), source=data.get("source", "stored"),
                       persons=int(data.get("persons", 0)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"the stored match model ({META_KEY}) cannot be read: "
                              f"{type(exc).__name__}. Reload the register to rebuild it.") from exc


# --- estimation ---------------------------------------------------------------------------------
def _level_counts(pairs: Iterable[tuple[Identity, Identity]]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {c.field: Counter() for c in COMPARISONS}
    for a, b in pairs:
        for f, level in compare(a, b):
            counts[f][level] += 1
    return counts


def _collision(values: Iterable[str]) -> float:
    """P(two random records share the value) = Σ p², over records that have one."""
    counts = Counter(values)
    total = sum(counts.values())
    return sum(n * n for n in counts.values()) / (total * total) if total else 0.0


def _exact_levels(people: Sequence[Identity], u: dict[str, dict[str, float]]) -> None:
    """u counted from value frequencies rather than sampled pairs, where random pairs seldom
    agree: exact birth dates and postcodes, and the partial birth-date levels (a shared birth
    year, or year and month)."""
    born = _collision(i.birth_text for i in people if i.birth is not None and i.birth.is_full)
    if born:
        u["birth_date"]["exact"] = born
    # partial levels: rated among pairs where one date is partial, so u is the chance that
    # two different people share a birth year (and month), counted over every date known
    year = _collision(str(i.birth.year) for i in people if i.birth is not None)
    month = _collision(f"{i.birth.year}-{i.birth.month}" for i in people
                       if i.birth is not None and i.birth.month is not None)
    if year:
        u["birth_date"]["same year (partial)"] = year
    if month:
        u["birth_date"]["same year and month (partial)"] = month
    unit = _collision(i.postcodes[0] for i in people if i.postcodes)
    sector = _collision(next(iter(i.sectors)) for i in people if i.sectors)
    district = _collision(next(iter(i.districts)) for i in people if i.districts)
    if unit and sector > unit and district > sector:
        u["postcode"].update({"unit": unit, "sector": sector - unit, "district": district - sector})


def estimate_from_register(identities: Sequence[Identity], *,
                           on_register_share: float = ON_REGISTER_SHARE,
                           sample_pairs: int = 10_000, seed: int = 1,
                           base: MatchModel | None = None) -> MatchModel:
    """u from random pairs of register persons, name frequencies, and the prior.

    u for each level is the share of ``sample_pairs`` random pairs at that level, smoothed
    towards the default (a pseudo-count of 2,000 pairs) so that rare levels — a day/month
    swap — are not estimated as 0. The prior is log2(on_register_share / persons): the
    chance that a given attending child is one particular register person.
    """
    base = base or MatchModel()
    if len(identities) < MIN_PERSONS_TO_ESTIMATE:
        # too few people to count frequencies on: documented defaults, register-sized prior
        return replace(base, prior=prior_for(len(identities), on_register_share),
                       source="defaults", persons=len(identities))
    people = [i for i in identities if i.birth is not None or i.parent_of is None]
    rng = random.Random(seed)
    pairs = []
    if len(people) >= 2:
        for _ in range(sample_pairs):
            a, b = rng.sample(people, 2)
            pairs.append((a, b))
    counts = _level_counts(pairs)
    u: dict[str, dict[str, float]] = {}
    pseudo = 2000.0
    for comparison in COMPARISONS:
        got = counts[comparison.field]
        seen = sum(n for level, n in got.items() if level != NO_DATA)
        defaults = DEFAULT_U[comparison.field]
        u[comparison.field] = {
            level: (got.get(level, 0) + pseudo * defaults.get(level, _FLOOR)) / (seen + pseudo)
            for level in comparison.level_names}
    _exact_levels(people, u)
    u["nhs_number"] = dict(DEFAULT_U["nhs_number"])      # numbers are unique by design
    u["age"] = dict(DEFAULT_U["age"])
    # registers seldom hold middle names, so random register pairs cannot show how often an
    # attendance's middle name meets another child's first name: keep the default
    u["given_name"]["middle name"] = DEFAULT_U["given_name"]["middle name"]
    tf: dict[str, dict[str, float]] = {}
    for field_name, attr in _TF_FIELDS.items():
        names: Counter[str] = Counter()
        for ident in identities:
            names.update(set(getattr(ident, attr)))
        total = sum(names.values()) or 1
        tf[field_name] = {n: c / total for n, c in names.items() if c >= _TF_MIN_COUNT}
        tf[field_name][""] = max(_TF_MIN_COUNT / total, _TF_FLOOR)   # any unlisted name
    return replace(base, u=u, tf=tf, prior=prior_for(len(identities), on_register_share),
                   source="register", persons=len(identities))


def estimate_m(vectors: Sequence[Sequence[tuple[str, str]]], model: MatchModel, *,
               iterations: int = 25) -> tuple[MatchModel, float]:
    """Expectation–maximisation of m on unlabelled comparison vectors.

    ``vectors`` are ``compare()`` results for candidate pairs (each query against its
    blocked candidates). Blocked non-matches agree far more often than random pairs (they
    were chosen for sharing a name or a birth date), so the non-match class gets its own
    u inside the EM, started from the register's; only m is kept. Returns the model with
    re-estimated m and the estimated share of candidate pairs that are matches. Identical
    vectors are counted once, so a day's attendances train in about a second.
    """
    patterns = Counter(tuple(v) for v in vectors)
    if not patterns:
        return model, 0.0
    classes = {"m": {f: dict(levels) for f, levels in model.m.items()},
               "u": {f: dict(levels) for f, levels in model.u.items()}}
    lam = 0.5
    total = sum(patterns.values())
    for _ in range(iterations):
        counts = {k: {c.field: Counter() for c in COMPARISONS} for k in classes}
        matched = 0.0
        for pattern, n in patterns.items():
            lm, lu = math.log2(lam), math.log2(1 - lam)
            for f, level in pattern:
                if level != NO_DATA:
                    lm += math.log2(max(classes["m"][f].get(level, _FLOOR), _FLOOR))
                    lu += math.log2(max(classes["u"][f].get(level, _FLOOR), _FLOOR))
            g = 1.0 / (1.0 + 2.0 ** max(min(lu - lm, 60), -60))
            matched += g * n
            for f, level in pattern:
                counts["m"][f][level] += g * n
                counts["u"][f][level] += (1 - g) * n
        lam = min(max(matched / total, 1e-6), 1 - 1e-6)
        for key, start in (("m", model.m), ("u", model.u)):
            for comparison in COMPARISONS:
                got = counts[key][comparison.field]
                seen = sum(v for level, v in got.items() if level != NO_DATA)
                if comparison.field == "age" or seen < 50:
                    continue
                classes[key][comparison.field] = {   # a light pull towards the starting values
                    level: (got.get(level, 0.0) + 20.0 * start[comparison.field].get(level, _FLOOR))
                    / (seen + 20.0) for level in comparison.level_names}
    return replace(model, m=classes["m"], source=f"{model.source}+em"), lam
