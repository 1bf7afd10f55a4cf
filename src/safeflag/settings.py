"""Settings: a typed, frozen model, validated when built and passed in explicitly.

Defaults are the interface contract's. A TOML file (``safeflag.toml``, see
``docs/configuration.md``) may override any of them::

    [rules]
    repeat_short_days = 56

    [match]
    certain = 0.98
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError

__all__ = ["Settings", "RuleSettings", "MatchSettings"]


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                     for e in exc.errors(include_url=False))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def __init__(self, **values: Any) -> None:
        """Settings built in code are held to the same rules as a file's: a key unknown, of
        the wrong type, out of range or out of order is a :class:`ConfigError` naming it."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(f"invalid {type(self).__name__}: {_problems(exc)}. See "
                              "docs/configuration.md for every key, its type and range.") from exc


#: The longest look-back a day window may have: a century. Arrivals start in 1900, and a
#: window past this is a mistyped value (a window of millions of days cannot be computed).
MOST_DAYS = 36_525


class RuleSettings(_Frozen):
    infant_months: int = Field(12, ge=1, description="INFANT_INJURY: age under this many months")
    ten4_months: int = Field(48, ge=1,
                             description="TEN4_BRUISING: age under this for region bruising")
    ten4_any_site_months: int = Field(
        5, ge=1, description="TEN4_BRUISING: any superficial injury under this")
    fracture_months: int = Field(24, ge=1, description="FRACTURE_UNDER_2: age under this")
    head_injury_months: int = Field(36, ge=1, description="HEAD_INJURY_UNDER_3: age under this")
    repeat_short_days: int = Field(56, ge=1, le=MOST_DAYS,
                                   description="REPEAT_INJURY: short window (days)")
    repeat_short_count: int = Field(1, ge=1,
                                    description="REPEAT_INJURY: earlier injuries in short window")
    repeat_short_max_months: int = Field(
        60, ge=1, description="REPEAT_INJURY: short window applies under this age")
    repeat_long_days: int = Field(365, ge=1, le=MOST_DAYS,
                                  description="REPEAT_INJURY: long window (days)")
    repeat_long_count: int = Field(2, ge=1,
                                   description="REPEAT_INJURY: earlier injuries in long window")
    sibling_injury_days: int = Field(90, ge=1, le=MOST_DAYS,
                                     description="SIBLING_INJURY: window (days)")
    household_child_years: int = Field(18, ge=1, description="a household child is under this age")
    recent_closure_days: int = Field(90, ge=1, le=MOST_DAYS,
                                     description="RECENT_CLOSURE: plan ended within (days)")
    non_mobile_months: int = Field(6, ge=1, description="NON_MOBILE_INJURY: age under this")
    delayed_presentation_hours: int = Field(
        24, ge=1, description="DELAYED_PRESENTATION: injury-to-arrival hours")
    family_history_days: int = Field(1095, ge=1, le=MOST_DAYS,
                                     description="FAMILY_INJURY_HISTORY: look-back (days) for "
                                                 "siblings' older injury attendances")
    address_household_most: int = Field(
        10, ge=1, description="household from the address given at an attendance: an address "
                              "where the register places more persons than this on the day is "
                              "taken as communal and links nobody")
    home_shared_days: int = Field(
        365, ge=0, le=MOST_DAYS,
        description="household from the homes given at attendances: another child who gave "
                    "the very same home (postcode unit, house and flat numbers) at an "
                    "attendance within this many days is a household child, whatever their "
                    "family name")
    think_family_adult_years: int = Field(18, ge=1,
                                          description="THINK_FAMILY: the attendee is an adult "
                                                      "from this age (years)")

    @model_validator(mode="after")
    def _consistent(self) -> "RuleSettings":
        """Thresholds that only make sense one way round: the other way, a rule silently
        never fires (or fires for the wrong children)."""
        # (lower, higher, may the two be equal, why)
        pairs = [("ten4_any_site_months", "ten4_months", True,
                  "any-site bruising is the younger band of TEN-4-FACESp"),
                 ("repeat_short_days", "repeat_long_days", False,
                  "the short REPEAT_INJURY window lies inside the long one"),
                 ("sibling_injury_days", "family_history_days", False,
                  "FAMILY_INJURY_HISTORY looks back past the SIBLING_INJURY window")]
        wrong = [f"{low} ({getattr(self, low)}) must be "
                 f"{'at most' if equal else 'below'} {high} ({getattr(self, high)}): {why}"
                 for low, high, equal, why in pairs
                 if getattr(self, low) > getattr(self, high)
                 or (not equal and getattr(self, low) == getattr(self, high))]
        if wrong:
            raise ValueError("; ".join(wrong))
        return self


class MatchSettings(_Frozen):
    certain: float = Field(0.99, gt=0, lt=1, description="posterior probability for 'certain'")
    probable: float = Field(0.90, gt=0, lt=1, description="posterior probability for 'probable'")
    possible: float = Field(0.50, gt=0, lt=1, description="posterior probability for 'possible'")
    ambiguity_margin: float = Field(3.0, ge=0,
                                    description="log2 margin the best must lead the next by")
    max_candidates: int = Field(5, ge=1, description="possible candidates reported at most")
    household_cap: float = Field(16.0, ge=0,
                                 description="log2 evidence family name, address and parents "
                                             "may add together (a household, not a child)")

    @model_validator(mode="after")
    def _ordered(self) -> "MatchSettings":
        if not self.certain > self.probable > self.possible:
            raise ValueError("match thresholds must satisfy certain > probable > possible")
        return self


class Settings(_Frozen):
    rules: RuleSettings = RuleSettings()
    match: MatchSettings = MatchSettings()

    @classmethod
    def from_toml(cls, path: str | Path) -> "Settings":
        try:
            data: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read settings: {exc}. "
                              "Check the file exists and is valid TOML.") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{path}: invalid settings: {_problems(exc)}. See "
                              "docs/configuration.md for every key, its type and range.") from exc
