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
           "Outcome", "evaluate"]


def evaluate(ctx: RuleContext, rules: tuple[Rule, ...] = RULES) -> list[Warning]:
    """The warnings that fire. A birth date after the arrival date (a keying slip in the
    register or at the front desk: the child is there) gives no age at all, rather than a
    negative one that every "under N months" rule would take as a baby's."""
    if ctx.age is not None and ctx.age.oldest < 0:
        ctx.notes.append("birth date is after the arrival date: age taken as unknown")
        ctx = replace(ctx, age=None)
    fired = [w for w in (rule.apply(ctx) for rule in rules) if w is not None]
    order = {rule.id: i for i, rule in enumerate(rules)}
    fired.sort(key=lambda w: (LEVEL_ORDER[w.level], order[w.code]))
    return fired
