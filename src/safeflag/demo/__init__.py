"""The Child L scenario, end to end: what the hospital could have shown at each attendance.

The data (``demo/data``) is synthetic: names, addresses and identifiers are invented; the dates,
plans and injuries follow the serious case review. The hospital's messages hold the children
under other surnames than the register, without NHS numbers, and the mother under her married
name, as in the review.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..ingest import read_attendances
from ..models import CheckResult
from ..pipeline import Safeflag

__all__ = ["STORY", "StoryStep", "demo_data", "run_demo"]


@dataclass(frozen=True)
class StoryStep:
    attendance_id: str
    child: str
    review: str          # what the review records
    expected: str        # what the hospital could have shown


STORY: tuple[StoryStep, ...] = (
    StoryStep("V12050201", "Child M (3½)",
              "Facial swelling, referred by the GP; mother says 'temper tantrum'.",
              "Nothing on record yet."),
    StoryStep("V12052107", "Child M",
              "Cut to chin, again a 'temper tantrum'; not connected to the first injury.",
              "REPEAT_INJURY: a second injury in 19 days, under 5."),
    StoryStep("V12061203", "Child M",
              "Swollen arm: a fracture 1–2 weeks old, 'fell off bins'.",
              "REPEAT_INJURY (third in six weeks); late presentation."),
    StoryStep("V14010311", "Child L (21 months)",
              "Leg injury, 'fell down four carpeted steps'. Systems did not link her siblings' "
              "injuries nor show her open Child in Need plan; discharged home.",
              "Self: CIN active, CP previous; siblings M, N: CIN active, CP previous; O: CIN "
              "active; INJURY_AFTER_CONCERN; the siblings' earlier injuries as evidence."),
    StoryStep("V14012722", "Child L (22 months)",
              "Life-threatening head injury, three days after the Child in Need case closed.",
              "HEAD_INJURY_UNDER_3, REPEAT_INJURY (24 days after the leg injury), "
              "INJURY_AFTER_CONCERN; CIN previous — closed three days earlier."),
)


@contextmanager
def demo_data() -> Iterator[tuple[Path, Path]]:
    """(register folder, attendances file) of the bundled scenario, as real paths."""
    root = resources.files("safeflag.demo").joinpath("data")
    with resources.as_file(root) as folder:
        yield Path(folder) / "register", Path(folder) / "attendances.hl7"


def run_demo(sf: Safeflag) -> Iterator[tuple[StoryStep | None, CheckResult]]:
    """Load the scenario's register into ``sf`` and check each attendance in arrival order."""
    steps = {step.attendance_id: step for step in STORY}
    with demo_data() as (register, attendances):
        sf.load_register(register)
        for result in sf.check_items(read_attendances(attendances)):
            yield steps.get(result.attendance_id), result
