"""Warning rules: small declarative units, each with an id, a level and its clinical source.

A rule's ``evaluate`` returns an :class:`Outcome` — fired with evidence, or not fired with the
reason (``"no data: …"`` when what it needs is missing, ``"otherwise"`` when it simply does not
apply). Wording prompts professional curiosity; no rule asserts abuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..family import attendance_only
from ..models import Level, Plan, PlanType, Warning
from ..store import HistoryEntry
from .context import RelativeView, RuleContext

__all__ = ["Rule", "Outcome", "RULES", "LEVEL_ORDER"]

LEVEL_ORDER = {"suspect": 0, "consider": 1, "info": 2}

NICE_CG89 = ("NICE CG89 Child maltreatment: when to suspect maltreatment in under 18s "
             "(2009, updated 2017)")
TEN4 = ("Pierce MC et al. TEN-4-FACESp bruising clinical decision rule, JAMA Netw Open "
        "2021;4(4):e215832 (sensitivity 95.6%, specificity 87.1%)")
SCR_CHILD_L = "Serious Case Review: Child L, North East Lincolnshire Safeguarding Children Board"
LINDBERG = ("Lindberg DM et al. Prevalence of abusive injuries in siblings and household "
            "contacts of physically abused children, Pediatrics 2012;130(2):193-201")
RCEM = ("RCEM safeguarding guidance for emergency departments; Facing the Future: Standards "
        "for children in emergency care settings (intercollegiate, RCPCH, 2018)")


@dataclass(frozen=True)
class Outcome:
    fired: bool
    reason: str = ""
    evidence: tuple[str, ...] = ()
    subject: str = "self"
    confirmed: bool = True
    #: the relatives (``person_id``) whose attendances or plans the evidence shows, for the
    #: audit of who was shown
    shown: tuple[str, ...] = ()


NOT_INJURY = Outcome(False, "otherwise: not an injury attendance")
NO_AGE = Outcome(False, "no data: birth date unknown")


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    source: str
    summary: str                       # what the prompt asks the clinician to do
    evaluate: Callable[[RuleContext], Outcome]
    beyond_contract: bool = False

    def apply(self, ctx: RuleContext) -> Warning | None:
        outcome = self.evaluate(ctx)
        if not outcome.fired:
            if outcome.reason.startswith("no data"):
                ctx.notes.append(f"{self.id}: {outcome.reason}")
            return None
        if outcome.shown:
            ctx.shown[self.id] = outcome.shown
        return Warning(code=self.id, level=self.level, subject=outcome.subject,
                       message=self.summary, evidence=outcome.evidence, source=self.source,
                       confirmed=outcome.confirmed)


def _findings(ctx: RuleContext, test: Callable[..., bool]) -> list[str]:
    return [f.describe() + (" [free-text, lower confidence]" if f.confidence == "free-text" else "")
            for f in ctx.findings if test(f)]


def _age_rule(months: Callable[[RuleContext], int], finding: Callable[..., bool],
              what: str) -> Callable[[RuleContext], Outcome]:
    def evaluate(ctx: RuleContext) -> Outcome:
        if not ctx.injury:
            return NOT_INJURY
        found = _findings(ctx, finding)
        if not found:
            return Outcome(False, f"otherwise: no {what}")
        if ctx.age is None:
            return NO_AGE
        limit = months(ctx)
        if not ctx.age.under(limit):
            return Outcome(False, f"otherwise: not under {limit} months")
        return Outcome(True, evidence=(ctx.age.describe() + f" (under {limit})", *found))
    return evaluate


def _any_injury(f: object) -> bool:
    return True


def _ten4(ctx: RuleContext) -> Outcome:
    if not ctx.injury:
        return NOT_INJURY
    superficial = [f for f in ctx.findings if f.kind.startswith("superficial")]
    if not superficial:
        return Outcome(False, "otherwise: no bruise or superficial injury")
    if ctx.age is None:
        return NO_AGE
    s = ctx.settings
    at_site = [f for f in superficial if f.ten4_site]
    if at_site and ctx.age.under(s.ten4_months):
        return Outcome(True, evidence=(ctx.age.describe() + f" (under {s.ten4_months})",
                                       *(f"TEN-4-FACESp site {f.ten4_site}: {f.describe()}"
                                         for f in at_site)))
    if ctx.age.under(s.ten4_any_site_months):
        return Outcome(True, evidence=(
            ctx.age.describe() + f" (under {s.ten4_any_site_months}: any bruise)",
            *(f.describe() for f in superficial)))
    return Outcome(False, "otherwise: no TEN-4-FACESp site at this age")


def _history_line(h: HistoryEntry, who: str = "") -> str:
    what = "; ".join(h.findings) or "injury"
    prefix = f"{who} " if who else ""
    return f"{prefix}attendance {h.attendance_id} on {h.arrival.date()}: {what}"


def _repeat(ctx: RuleContext) -> Outcome:
    if not ctx.injury:
        return NOT_INJURY
    s = ctx.settings
    short = ctx.earlier_injuries(s.repeat_short_days)
    long = ctx.earlier_injuries(s.repeat_long_days)
    young = ctx.age is not None and ctx.age.under(s.repeat_short_max_months)
    if young and len(short) >= s.repeat_short_count:
        return Outcome(True, evidence=(
            f"{len(short)} earlier injury attendance(s) in the previous {s.repeat_short_days} "
            f"days, {ctx.age.describe() if ctx.age else ''} (under {s.repeat_short_max_months})",
            *(_history_line(h) for h in short)))
    if len(long) >= s.repeat_long_count:
        return Outcome(True, evidence=(
            f"{len(long)} earlier injury attendances in the previous {s.repeat_long_days} days",
            *(_history_line(h) for h in long)))
    if not ctx.own_history:
        return Outcome(False, "no data: no earlier attendance of this child on record")
    return Outcome(False, "otherwise: too few earlier injuries")


_CONCERN_PLANS = {PlanType.CP, PlanType.LAC, PlanType.CIN}


def _plan_line(plan: Plan, on: date) -> str:
    """A plan as it stood on ``on``: an end date after that day was not yet known then."""
    ended = plan.end_date is not None and plan.end_date < on
    state = f"ended {plan.end_date}" if ended else "open on the arrival date"
    la = f", {plan.local_authority}" if plan.local_authority else ""
    return f"plan {plan.plan.value} from {plan.start_date}, {state}{la}"


def _after_concern(ctx: RuleContext) -> Outcome:
    if not ctx.injury:
        return NOT_INJURY
    if ctx.person_id is None:
        return Outcome(False, "no data: child not matched to the register")
    plans = [p for p in ctx.own_plans if p.plan in _CONCERN_PLANS and p.start_date <= ctx.arrival]
    if not plans:
        return Outcome(False, "otherwise: no CP, LAC or CIN plan for this child")
    return Outcome(True, evidence=tuple(_plan_line(p, ctx.arrival) for p in plans),
                   confirmed=ctx.match_confirmed)


def _child_relatives(ctx: RuleContext) -> Iterator[RelativeView]:
    limit = ctx.settings.household_child_years * 12
    for view in ctx.relatives:
        if view.relative.subject == "sibling":
            yield view
        elif view.age is not None and view.age.under(limit) and view.age.oldest >= 0:
            yield view


def _sibling_injury(ctx: RuleContext) -> Outcome:
    if not ctx.injury:
        return NOT_INJURY
    if not ctx.relatives:
        return Outcome(False, "no data: no siblings or household known")
    start = ctx.window_start(ctx.settings.sibling_injury_days)
    evidence, subjects, confirmed, shown = [], set(), True, []
    for view in _child_relatives(ctx):
        recent = [h for h in view.history if h.injury and h.arrival.date() >= start]
        if recent:
            rel = view.relative
            subjects.add(rel.subject)
            confirmed = confirmed and rel.confirmed
            shown.append(rel.person_id)
            evidence.append(f"{rel.relationship} {rel.person_id} ({rel.evidence})")
            evidence.extend(_history_line(h, rel.person_id) for h in recent)
    if not evidence:
        return Outcome(False, "otherwise: no sibling or household child injury in window")
    subject = "sibling" if "sibling" in subjects else "household"
    return Outcome(True, evidence=tuple(evidence), subject=subject, confirmed=confirmed,
                   shown=tuple(shown))


def _family_history(ctx: RuleContext) -> Outcome:
    if not ctx.injury:
        return NOT_INJURY
    if not ctx.relatives:
        return Outcome(False, "no data: no siblings or household known")
    s = ctx.settings
    recent_start = ctx.window_start(s.sibling_injury_days)
    start = ctx.window_start(s.family_history_days)
    evidence, subjects, confirmed, shown = [], set(), True, []
    for view in _child_relatives(ctx):
        older = [h for h in view.history
                 if h.injury and start <= h.arrival.date() < recent_start]
        if older:
            rel = view.relative
            evidence.append(f"{rel.relationship} {rel.person_id}: {len(older)} injury "
                            f"attendance(s) between {s.sibling_injury_days} and "
                            f"{s.family_history_days} days before this one ({rel.evidence})")
            evidence.extend(_history_line(h, rel.person_id) for h in older)
            subjects.add(rel.subject)
            confirmed = confirmed and rel.confirmed
            shown.append(rel.person_id)
    if not evidence:
        return Outcome(False, "otherwise: no earlier family injuries in the look-back")
    return Outcome(True, evidence=tuple(evidence),
                   subject="sibling" if "sibling" in subjects else "household",
                   confirmed=confirmed, shown=tuple(shown))


def _recent_closure(ctx: RuleContext) -> Outcome:
    if ctx.person_id is None and not ctx.relatives:
        return Outcome(False, "no data: child not matched to the register and no family known")
    days = ctx.settings.recent_closure_days
    start = ctx.window_start(days)
    # (subject, who as shown, the relative's person_id or None for the child, plan, confirmed)
    found: list[tuple[str, str, str | None, Plan, bool]] = [
        ("self", "this child", None, p, ctx.match_confirmed) for p in ctx.own_plans]
    found += [("sibling", f"{v.relative.relationship} {v.relative.person_id}",
               v.relative.person_id, p, v.relative.confirmed)
              for v in ctx.relatives if v.relative.subject == "sibling" for p in v.plans]
    evidence, subjects, confirmed, shown = [], [], True, []
    for subject, who, relative, plan, sure in found:
        if plan.plan in _CONCERN_PLANS and plan.end_date is not None \
                and start <= plan.end_date < ctx.arrival:
            gap = (ctx.arrival - plan.end_date).days
            evidence.append(f"{who}: {_plan_line(plan, ctx.arrival)}, closed {gap} day(s) "
                            f"before arrival (within {days})")
            subjects.append(subject)
            confirmed = confirmed and sure
            if relative is not None:
                shown.append(relative)
    if not evidence:
        return Outcome(False, f"otherwise: no plan closed in the previous {days} days")
    return Outcome(True, evidence=tuple(evidence),
                   subject="self" if "self" in subjects else "sibling", confirmed=confirmed,
                   shown=tuple(dict.fromkeys(shown)))


# "old", "healing" or "N days/weeks ago" about the injury — not "3 year old".
_DELAY_TEXT = re.compile(
    r"\b(healing|old (?:injur|fractur|bruis|burn|wound|scar)\w*|"
    r"(?:\d+|a|one|two|three|four|five|six|seven|several|few|couple of) "
    r"(?:days?|weeks?|months?) (?:ago|old|earlier|before))\b", re.I)


def _delayed(ctx: RuleContext) -> Outcome:
    if not ctx.injury:
        return NOT_INJURY
    hours = ctx.settings.delayed_presentation_hours
    evidence = [f"{f.describe()} described as old or healing" for f in ctx.findings if f.delayed]
    complaint = ctx.attendance.complaint
    if complaint is not None and _DELAY_TEXT.search(complaint.text):
        evidence.append("presenting complaint describes an earlier injury: "
                        f"\"{_DELAY_TEXT.search(complaint.text).group(0)}\"")
    injured = ctx.attendance.injury_time
    # an arrival sent as a date alone is the start of that day: the earliest it can have been
    arrival = ctx.attendance.arrival.replace(tzinfo=None)
    if isinstance(injured, datetime):
        gap = arrival - injured.replace(tzinfo=None)
        if gap > timedelta(hours=hours) and ctx.attendance.arrival_time_given:
            evidence.append(f"injury time recorded {gap.days} day(s) {gap.seconds // 3600} "
                            f"hour(s) before arrival (more than {hours} hours)")
        elif gap > timedelta(hours=hours):
            evidence.append(f"injury time recorded on {injured.date().isoformat()}, more than "
                            f"{hours} hours before the arrival date {arrival.date().isoformat()}"
                            " (the arrival was sent without a time of day)")
    elif injured is not None:
        # a date alone: the injury may have been as late as the end of that day
        if arrival - datetime.combine(injured + timedelta(days=1), time()) > timedelta(
                hours=hours):
            evidence.append(f"injury date recorded {(arrival.date() - injured).days} day(s) "
                            f"before arrival (no time given; more than {hours} hours even if "
                            "late that day)")
    if evidence:
        return Outcome(True, evidence=tuple(evidence))
    if injured is None:
        return Outcome(False, "no data: no injury time recorded and no old or healing injury "
                              "described")
    return Outcome(False, f"otherwise: arrival within {hours} hours of the injury")


# ICD-10: X60–X84 intentional self-harm, T36–T50 poisoning by drugs, T51 alcohol, F10–F19
# substance use, X85–Y09 assault, T74 maltreatment syndromes.
_THINK_FAMILY_CODES = re.compile(r"^(X[6-7]\d|X8[0-9]|X9\d|Y0\d|T3[6-9]|T4\d|T5[01]|F1\d|T74)")
_THINK_FAMILY_TEXT = re.compile(
    r"\b(overdose|self[- ]harm\w*|domestic (?:abuse|violence)|assault(?:ed)? by (?:partner|"
    r"husband|wife|boyfriend|girlfriend|ex)|intoxicat\w*|alcohol|drunk|suicid\w*)\b", re.I)


def _think_family(ctx: RuleContext) -> Outcome:
    s = ctx.settings
    if ctx.age is None:
        return Outcome(False, "no data: age unknown, so not known to be an adult")
    if ctx.age.under(s.think_family_adult_years * 12):
        return Outcome(False, f"otherwise: the attendee is under {s.think_family_adult_years}")
    terms = [c for c in (ctx.attendance.complaint, *ctx.attendance.diagnoses) if c is not None]
    hits = [c.code or c.text for c in terms
            if (c.code and _THINK_FAMILY_CODES.match(c.code.upper().replace(".", "")))
            or _THINK_FAMILY_TEXT.search(c.text)]
    if not hits:
        return Outcome(False, "otherwise: no domestic abuse, self-harm, overdose or "
                              "intoxication")
    limit = s.household_child_years * 12
    # the register's children only: a child known only from attendances at the same home is
    # too weak a link to put another family's children in front of a clinician here
    children = [v for v in ctx.relatives if v.age is not None and v.age.under(limit)
                and v.age.oldest >= 0 and v.relative.subject == "household"
                and not attendance_only(v.relative.person_id)]
    if not children:
        return Outcome(False, "no data: no register children known to live with this adult")
    evidence = [f"presentation: {', '.join(hits)}; {ctx.age.describe()}"]
    for view in children:
        plans = "; ".join(_plan_line(p, ctx.arrival) for p in view.plans) or "no plan on record"
        evidence.append(f"{view.relative.relationship} {view.relative.person_id} (child in the "
                        f"household, {view.relative.evidence}): {plans}")
    return Outcome(True, evidence=tuple(evidence), subject="household",
                   confirmed=all(v.relative.confirmed for v in children),
                   shown=tuple(v.relative.person_id for v in children))


_BRUISES = ", section 1.1 physical features: bruises"
_NON_MOBILE = (", section 1.1 physical features: bruises, lacerations and burns in a child who "
               "is not independently mobile")

RULES: tuple[Rule, ...] = (
    Rule("INFANT_INJURY", "consider", NICE_CG89 + ", section 1.1 physical features; " + RCEM,
         "Injury in an infant under 12 months: consider whether the explanation fits the "
         "child's development, and discuss with the safeguarding team if not.",
         _age_rule(lambda c: c.settings.infant_months, _any_injury, "injury")),
    Rule("TEN4_BRUISING", "suspect", TEN4 + "; " + NICE_CG89 + _BRUISES,
         "Bruising at a TEN-4-FACESp site or in a baby under 5 months: suspect maltreatment "
         "unless there is a confirmed accidental or medical explanation; discuss with the "
         "safeguarding team.", _ten4),
    Rule("FRACTURE_UNDER_2", "suspect", NICE_CG89 + ", section 1.1 physical features: fractures",
         "Fracture in a child under 2: suspect maltreatment in the absence of a suitable "
         "explanation; consider a skeletal survey and discuss with the safeguarding team.",
         _age_rule(lambda c: c.settings.fracture_months, lambda f: f.fracture, "fracture")),
    Rule("HEAD_INJURY_UNDER_3", "suspect",
         NICE_CG89 + ", section 1.1 physical features: intracranial injuries",
         "Intracranial injury in a child under 3 without confirmed major accidental trauma: "
         "suspect maltreatment and discuss with the safeguarding team.",
         _age_rule(lambda c: c.settings.head_injury_months, lambda f: f.intracranial,
                   "intracranial injury")),
    Rule("REPEAT_INJURY", "consider",
         SCR_CHILD_L + ", significant episode 1 (injuries to Child M) and finding 3.8 "
         "(professional curiosity); " + NICE_CG89 + " (unsuitable explanations)",
         "Repeated injury attendances: consider the pattern together, not each alone.",
         _repeat),
    Rule("INJURY_AFTER_CONCERN", "suspect",
         SCR_CHILD_L + ", recommendation 1 (A&E systems to identify children and siblings "
         "subject to child protection); " + NICE_CG89,
         "Injury in a child who is or was on a child protection, looked-after or child in "
         "need plan: suspect, inform the allocated social worker and discuss with the "
         "safeguarding team.", _after_concern),
    Rule("SIBLING_INJURY", "consider",
         LINDBERG + "; " + SCR_CHILD_L + ", significant episode 4 (siblings' injuries not "
         "linked)",
         "A sibling or household child was injured recently: consider the family's injuries "
         "together.", _sibling_injury),
    Rule("RECENT_CLOSURE", "consider",
         SCR_CHILD_L + ", significant episode 4 (Child in Need case closure) and "
         "recommendation 1 (case closure)",
         "A plan for this child or a sibling closed recently: consider informing the local "
         "authority that closed it.", _recent_closure, beyond_contract=True),
    Rule("DELAYED_PRESENTATION", "consider",
         NICE_CG89 + " (absent or unsuitable explanation); " + SCR_CHILD_L
         + ", significant episode 1 (a fracture 1-2 weeks old)",
         "The injury may be older than the account suggests: consider whether the delay in "
         "seeking help is explained.", _delayed, beyond_contract=True),
    Rule("NON_MOBILE_INJURY", "suspect", NICE_CG89 + _NON_MOBILE,
         "Injury in a child not yet independently mobile: suspect maltreatment unless there "
         "is a confirmed accidental or medical explanation; discuss with the safeguarding team.",
         _age_rule(lambda c: c.settings.non_mobile_months, _any_injury, "injury"),
         beyond_contract=True),
    Rule("THINK_FAMILY", "consider",
         SCR_CHILD_L + ", finding 3.3 and recommendation 3 (Think Family); " + RCEM,
         "An adult attending with domestic abuse, self-harm, overdose or intoxication lives "
         "with children: consider the children's safety and discuss with the safeguarding team.",
         _think_family, beyond_contract=True),
    Rule("FAMILY_INJURY_HISTORY", "info",
         SCR_CHILD_L + ", significant episode 4 (siblings' injuries not linked); " + LINDBERG,
         "Siblings or household children have earlier injury attendances on record: consider "
         "them alongside this attendance.", _family_history, beyond_contract=True),
)
