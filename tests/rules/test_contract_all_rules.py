"""A contract every rule in RULES keeps: a unique id, a valid level, a named source, an Outcome
for a context with no data (and the "no data" reason), and wording that prompts professional
curiosity without asserting abuse."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from safeflag.family import Relative
from safeflag.models import Attendance, Coded, Demographics, Name, Plan, PlanType, Warning
from safeflag.pipeline import injury_findings
from safeflag.rules import RULES, Age, Outcome, RelativeView, RuleContext, evaluate
from safeflag.store import HistoryEntry
from safeflag.rules.warnings import LEVEL_ORDER
from safeflag.settings import RuleSettings

BANNED = ("abuse confirmed", "confirmed abuse", "is abused", "was abused", "has been abused",
          "is being abused", "non-accidental injury confirmed", "diagnosis of abuse",
          "abuser", "perpetrator")
PROMPTS = ("consider", "suspect", "discuss")


def minimal_context(dx: tuple[str, ...] = ("S00.4", "S52.5", "S06.5")) -> RuleContext:
    """An injury attendance of an unknown child: no birth date, no register match, no
    history, no family, no injury time."""
    attendance = Attendance(attendance_id="V0", arrival=datetime(2021, 5, 1, 10, 0),
                            patient=Demographics(names=(Name(given="Pat", family="Doe"),)),
                            diagnoses=tuple(Coded(code=c, system="ICD10") for c in dx))
    return RuleContext(attendance=attendance, settings=RuleSettings(),
                       findings=injury_findings(attendance), age=None, person_id=None)


def test_rule_ids_are_unique_and_upper_snake_case():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(i.replace("_", "").isalnum() and i.isupper() for i in ids)


def test_the_contracts_seven_and_the_beyond_contract_rules_are_all_present():
    contract = {r.id for r in RULES if not r.beyond_contract}
    beyond = {r.id for r in RULES if r.beyond_contract}
    assert contract == {"INFANT_INJURY", "TEN4_BRUISING", "FRACTURE_UNDER_2",
                        "HEAD_INJURY_UNDER_3", "REPEAT_INJURY", "INJURY_AFTER_CONCERN",
                        "SIBLING_INJURY"}
    assert beyond == {"RECENT_CLOSURE", "DELAYED_PRESENTATION", "NON_MOBILE_INJURY",
                      "THINK_FAMILY", "FAMILY_INJURY_HISTORY"}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_has_a_level_a_source_and_a_prompt(rule):
    assert rule.level in LEVEL_ORDER
    assert rule.source.strip() and len(rule.source) > 20
    assert any(word in rule.summary.lower() for word in PROMPTS)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_says_no_data_when_what_it_needs_is_missing(rule):
    ctx = minimal_context()
    outcome = rule.evaluate(ctx)
    assert isinstance(outcome, Outcome)
    assert outcome.fired is False
    assert outcome.reason.startswith("no data"), outcome.reason
    # and apply() records the reason as a note, naming the rule, with no warning
    assert rule.apply(ctx) is None
    assert any(n.startswith(f"{rule.id}: no data") for n in ctx.notes)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_returns_an_outcome_for_a_non_injury_attendance(rule):
    outcome = rule.evaluate(minimal_context(dx=("J21.9",)))
    assert isinstance(outcome, Outcome) and not outcome.fired
    assert outcome.reason.startswith(("no data", "otherwise"))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_no_rule_wording_asserts_abuse(rule):
    text = f"{rule.summary} {rule.source}".lower()
    assert not [b for b in BANNED if b in text]


def test_a_fired_outcome_becomes_a_warning_with_the_rules_id_level_and_source():
    rule = RULES[0]
    fired = type(rule)(rule.id, rule.level, rule.source, rule.summary,
                       lambda ctx: Outcome(True, evidence=("e1",), subject="sibling",
                                           confirmed=False))
    w = fired.apply(minimal_context())
    assert isinstance(w, Warning)
    assert (w.code, w.level, w.source, w.message) == (rule.id, rule.level, rule.source,
                                                      rule.summary)
    assert w.evidence == ("e1",) and w.subject == "sibling" and w.confirmed is False


def test_the_relatives_a_warning_shows_are_kept_by_rule_for_the_audit():
    def sibling(pid: str, injured: datetime | None = None, plans: tuple = ()) -> RelativeView:
        history = (HistoryEntry(attendance_id=f"H{pid}", attendee_id=1, arrival=injured,
                                injury=True, findings=("fracture",)),) if injured else ()
        return RelativeView(Relative(pid, "sibling", "sibling", "register: recorded as sibling"),
                            Age(60, 60), history, plans)

    closed = Plan(person_id="S2", plan=PlanType.CP, start_date=date(2020, 1, 1),
                  end_date=date(2021, 4, 1), local_authority="Test Council")
    ctx = replace(minimal_context(), relatives=(
        sibling("S1", injured=datetime(2021, 4, 20, 9)),     # an injury in the window: shown
        sibling("S2", plans=(closed,)),                      # a plan closed 30 days before
        sibling("S3", injured=datetime(2010, 1, 1, 9)),      # nothing in any look-back
        sibling("S4")))                                      # nothing on record
    codes = {w.code for w in evaluate(ctx)}
    assert {"SIBLING_INJURY", "RECENT_CLOSURE"} <= codes
    assert ctx.shown == {"SIBLING_INJURY": ("S1",), "RECENT_CLOSURE": ("S2",)}


def test_evaluate_orders_by_level_then_rule_order():
    levels = ("info", "consider", "suspect", "consider")
    rules = tuple(type(RULES[0])(f"R{i}", lv, "a source", "consider it",
                                 lambda ctx: Outcome(True, evidence=("x",)))
                  for i, lv in enumerate(levels))
    got = [(w.code, w.level) for w in evaluate(minimal_context(), rules)]
    assert got == [("R2", "suspect"), ("R1", "consider"), ("R3", "consider"), ("R0", "info")]
