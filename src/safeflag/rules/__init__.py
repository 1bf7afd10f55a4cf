"""Rules: flags from register plans and warnings from injury patterns.

:func:`flags_for` turns plans into flags; :func:`evaluate` runs every rule of
:data:`RULES` over a :class:`RuleContext` and returns the warnings that fired, ordered by
level (suspect, consider, info) and then by rule order.
"""

from __future__ import annotations

from dataclasses import replace

from ..models import Warning
from .context import Age, RelativeView, RuleContext
from .flags import flags_for, plan_status
from .warnings import LEVEL_ORDER, RULES, Outcome, Rule

__all__ = ["Age", "RelativeView", "RuleContext", "flags_for", "plan_status", "RULES", "Rule",
           "Outcome", "evaluate", "SLIP_MONTHS"]


#: A birth date at most this many months after the arrival date is taken as a slip in a young
#: child's date (a month or day digit, day and month swapped): the child may be a baby.
SLIP_MONTHS = 12


def _plausible_age(ctx: RuleContext) -> RuleContext:
    """The child is there, so a birth date after the arrival date is a keying slip. Within
    :data:`SLIP_MONTHS` it is a young child's date slipped: the age is taken as possibly
    0 to 12 months (the "may be under" reading partial dates get). Further ahead (a year
    digit) nothing is known of the age. A negative age is never shown."""
    if ctx.age is None or ctx.age.oldest >= 0:
        return ctx
    ahead = -ctx.age.oldest
    if ahead <= SLIP_MONTHS:
        ctx.notes.append(f"birth date is {ahead} month(s) after the arrival date: a keying "
                         f"slip; age taken as possibly 0-{SLIP_MONTHS} months")
        return replace(ctx, age=Age(0, SLIP_MONTHS, Age.AFTER_ARRIVAL))
    ctx.notes.append("birth date is more than a year after the arrival date: age unknown")
    return replace(ctx, age=None)


def evaluate(ctx: RuleContext, rules: tuple[Rule, ...] = RULES) -> list[Warning]:
    """The warnings that fire, ordered by level and then by rule order (see
    :func:`_plausible_age` for a birth date after the arrival date)."""
    ctx = _plausible_age(ctx)
    fired = [w for w in (rule.apply(ctx) for rule in rules) if w is not None]
    order = {rule.id: i for i, rule in enumerate(rules)}
    fired.sort(key=lambda w: (LEVEL_ORDER[w.level], order[w.code]))
    return fired
