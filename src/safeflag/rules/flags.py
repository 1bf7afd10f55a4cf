"""Flags: register plans of the child, siblings and household, active or previous.

A plan is *active* when it started on or before the arrival date and has not ended before it,
*previous* when it ended before the arrival date (no time limit — an ended plan does not fade).
Plans that start after the arrival are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ..family import Family
from ..models import Flag, Plan

__all__ = ["plan_status", "flags_for"]

_SUBJECT_ORDER = {"self": 0, "sibling": 1, "household": 2}


def plan_status(plan: Plan, on: date) -> str | None:
    """"active", "previous", or ``None`` for a plan that starts after ``on``."""
    if plan.start_date > on:
        return None
    if plan.end_date is None or plan.end_date >= on:
        return "active"
    return "previous"


def flags_for(person_id: str, family: Family, plans: Iterable[Plan], on: date) -> list[Flag]:
    """Every plan of the child and relatives as a flag, self first, active before previous."""
    who = {person_id: ("self", "self", True)}
    for rel in family.relatives:
        who.setdefault(rel.person_id, (rel.subject, rel.relationship, rel.confirmed))
    flags = []
    for plan in plans:
        if plan.person_id not in who:
            continue
        status = plan_status(plan, on)
        if status is None:
            continue
        subject, relationship, confirmed = who[plan.person_id]
        # An end date after the arrival was not known on the day (a replay against today's
        # register): an active flag shows the plan as open, as it stood then.
        end = plan.end_date if plan.end_date is not None and plan.end_date <= on else None
        flags.append(Flag(code=plan.plan.value, status=status, subject=subject,
                          person_id=plan.person_id, start=plan.start_date, end=end,
                          local_authority=plan.local_authority, contact=plan.contact,
                          category=plan.category, relationship=relationship,
                          confirmed=confirmed))
    flags.sort(key=lambda f: (_SUBJECT_ORDER[f.subject], f.status != "active", f.person_id,
                              f.start))
    return flags
