"""Presentations beyond a child's ordinary attendance: when the injury happened, and adults.

- *Injury time.* An ED records when an injury happened (ECDS injury date and time) for most
  injury attendances. Most children arrive within hours; a few arrive days later, which the
  triage note says in words ("injured 4 days ago"); a few fractures are diagnosed as old or
  healing. :func:`injury_timing` adds these to a child's injury attendance.
- *Adults.* Parents and partners of the world's families attend too. Some come with what
  should make an ED think of the children at home (self-harm, overdose, intoxication, domestic
  abuse; Think Family), most with something else. :class:`AdultMaker` draws them.

Both draw from their own seeded random source, so adding them leaves the children's
attendances drawn from the world's main source unchanged.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..algo.dates import PartialDate
from . import noise, pools
from .people import PERIOD_END, PERIOD_START, TrueAdult, TrueFamily

__all__ = ["InjuryTiming", "injury_timing", "AdultMaker", "TIMED_SHARE", "DELAYED_SHARE",
           "OLD_FRACTURE_SHARE", "THINK_FAMILY_SHARE"]

#: Share of injury attendances with an injury time recorded.
TIMED_SHARE = 0.7
#: Share of injury attendances that arrive two or more days after the injury
#: (ordinary family, high-risk family).
DELAYED_SHARE = (0.03, 0.08)
#: Share of fracture attendances whose fracture is diagnosed as old or healing.
OLD_FRACTURE_SHARE = (0.02, 0.06)
#: Share of an adult's attendances that are a Think Family presentation
#: (family known to children's social care or high-risk, other family).
THINK_FAMILY_SHARE = (0.5, 0.15)

_SEX = {"female": "female", "male": "male"}


@dataclass(frozen=True)
class InjuryTiming:
    """What an injury attendance records about when the injury happened."""

    complaint: dict
    diagnoses: tuple[dict, ...]
    injury_time: datetime | None = None


def injury_timing(rng: random.Random, arrival: datetime, complaint: dict,
                  diagnoses: tuple[dict, ...], high_risk: bool) -> InjuryTiming:
    """The complaint and diagnoses of an injury attendance, with an injury time and, now and
    then, a delay in coming to the ED or an old or healing fracture."""
    fractures = [d for d in diagnoses if d.get("system") == "ICD10"
                 and d["code"] in _FRACTURE_CODES]
    if fractures and rng.random() < OLD_FRACTURE_SHARE[high_risk]:
        word = rng.choice(("Healing", "Old"))
        dx = fractures[0]
        text = f"{word} {dx['text'][0].lower()}{dx['text'][1:]}"
        changed = tuple({**d, "text": text} if d is dx else d for d in diagnoses)
        return InjuryTiming({**complaint, "text": text}, changed, None)
    if rng.random() < DELAYED_SHARE[high_risk]:
        days = rng.choice((2, 2, 3, 3, 4, 5, 7, 10, 14))
        injured = arrival - timedelta(days=days, hours=rng.randint(0, 12))
        text = f"{complaint['text']}, injured {days} days ago"
        return InjuryTiming({**complaint, "text": text}, diagnoses, injured)
    if rng.random() < TIMED_SHARE:
        # the same day or the evening before: up to 23 hours, never past the 24-hour mark
        minutes = (rng.randint(15, 360) if rng.random() < 0.8 else rng.randint(360, 1380))
        return InjuryTiming(complaint, diagnoses, arrival - timedelta(minutes=minutes))
    return InjuryTiming(complaint, diagnoses, None)


_FRACTURE_CODES = frozenset(code for code, _, kind in pools.INJURY_ICD10 if kind == "fracture")


class AdultMaker:
    """Attendances of the families' mothers and mothers' partners, adults on arrival."""

    def __init__(self, rng: random.Random, families: list[TrueFamily]) -> None:
        self.rng = rng
        self.people: list[tuple[TrueAdult, TrueFamily]] = []
        weights: list[float] = []
        for fam in families:
            known = any(c.registered for c in fam.children)
            risk = (3.0 if known else 1.0) * (3.0 if fam.high_risk else 1.0)
            for adult in (fam.mother, fam.partner):
                if adult is not None:
                    self.people.append((adult, fam))
                    weights.append(risk)
        self.weights = weights

    def draw(self, count: int) -> list[tuple[datetime, TrueAdult, TrueFamily]]:
        """``count`` adult visits (arrival, adult, family), each at 18 or over."""
        rng = self.rng
        out = []
        span = (PERIOD_END - PERIOD_START).days
        while len(out) < count:
            adult, fam = rng.choices(self.people, weights=self.weights)[0]
            day = PERIOD_START + timedelta(days=rng.randint(0, span))
            if day < date(adult.birth.year + 18, adult.birth.month, min(adult.birth.day, 28)):
                continue
            out.append((datetime.combine(day, time(rng.randrange(24), rng.randrange(60))),
                        adult, fam))
        return out

    def fields(self, adult: TrueAdult, fam: TrueFamily, arrival: datetime) -> dict:
        """Attendance fields (patient, complaint, diagnoses) for one adult visit."""
        rng = self.rng
        day = arrival.date()
        family = adult.former_family if (adult.family_changed and day < adult.family_changed) \
            else adult.family
        given = noise.typo(rng, adult.given) if rng.random() < 0.02 else adult.given
        if rng.random() < 0.3:
            given, family = given.upper(), family.upper()
        birth: PartialDate | None = PartialDate.of(adult.birth)
        if rng.random() < 0.02:
            birth = noise.one_digit_date(rng, adult.birth)
        home = fam.home_of(adult, day)
        address = () if rng.random() < 0.05 else (
            {"line": home.line, "city": home.town, "postcode": home.postcode},)
        patient = {"nhs_number": adult.nhs if rng.random() < 0.7 else None,
                   "names": ({"given": given, "family": family, "middle": ""},),
                   "birth_date": birth, "sex": _SEX[adult.sex], "addresses": address}
        known = any(c.registered for c in fam.children)
        if rng.random() < THINK_FAMILY_SHARE[0 if known or fam.high_risk else 1]:
            codes, texts = pools.THINK_FAMILY_ICD10, pools.THINK_FAMILY_TEXT
        else:
            codes, texts = pools.ADULT_OTHER_ICD10, pools.ADULT_OTHER_TEXT
        if rng.random() < 0.85:
            code, text = rng.choice(codes)
            return {"patient": patient, "complaint": {"text": text},
                    "diagnoses": ({"code": code, "text": text, "system": "ICD10"},)}
        return {"patient": patient, "complaint": {"text": rng.choice(texts)}, "diagnoses": ()}
