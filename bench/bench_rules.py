"""Flag and warning precision and recall per code on the generated world, against ground truth.

    python bench/bench_rules.py [--children 2000] [--attendances 10000] [--seed 7]
                                [--adults 0.03] [--explain CODE]

*System*: the real pipeline (:class:`safeflag.Safeflag`) over the generated attendances in
arrival order, with fuzzy matching, the attendee index and attendance-derived families.

*Ground truth*: the same rules (:func:`safeflag.rules.evaluate`, :func:`flags_for`) run with
the generator's true identities and links instead of matching: each attendance's true register
person (``world.truth``) and true child (``world.child_of``); the child's own earlier
attendances by true child; the true birth date; a family made of the register's own graph
for the true person plus every true sibling (``world.true_siblings``) the register does not
link (as unconfirmed siblings, as the system would show them). An adult's attendance
(``--adults``, a share of ``--attendances`` added on top) is the true adult (``world.adult_of``)
with the register family of their true register person plus every registered child living
with them that day (``world.household_children``) the register does not link.

Flags compare as (attendance, code, person, subject, status); warnings as (attendance, code).
Precision = shared / system, recall = shared / truth. Unconfirmed (attendance-derived) flags
and warnings are counted in the totals and also reported on their own.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from datetime import date

from safeflag import Safeflag
from safeflag.algo.dates import PartialDate
from safeflag.family import Family, Relative, family_of
from safeflag.match.identity import premises_of
from safeflag.models import Attendance, CheckResult
from safeflag.pipeline import index_register, injury_findings
from safeflag.rules import RULES, Age, RelativeView, RuleContext, evaluate, flags_for
from safeflag.settings import Settings
from safeflag.store import HistoryEntry
from safeflag.store.sqlite import SqliteStore
from safeflag.synth import World, generate_world
from safeflag.synth.people import TrueChild

FLAG_CODES = ("CP", "LAC", "CIN", "CP-UNBORN")


class Oracle:
    """The rules over true identities and links, with its own in-memory history."""

    def __init__(self, world: World, settings: Settings) -> None:
        self.world, self.settings = world, settings
        self.store = SqliteStore(":memory:")
        self.store.replace_register(world.register, index_register(world.register),
                                    source="truth")
        self.history: dict[str, list[HistoryEntry]] = defaultdict(list)
        self.number: dict[str, int] = {}

    def _birth(self, child_id: str) -> PartialDate | None:
        child = self.world.children.get(child_id)
        if child is not None:
            return PartialDate.of(child.birth)
        if child_id in self.world.adults:
            return PartialDate.of(self.world.adults[child_id][0].birth)
        person = self.store.persons([child_id]).get(child_id)
        return person.birth_date if person else None

    def _family(self, child_id: str, person_id: str | None, day: date) -> Family:
        register = family_of(self.store, person_id, day) if person_id else Family("")
        known = {r.person_id for r in register.relatives}
        if child_id in self.world.adults:
            extra = tuple(Relative(c.child_id, "household", "child", "generator: true child",
                                   confirmed=False)
                          for c in self.world.household_children(child_id, day)
                          if c.registered and c.child_id not in known)
            return Family(person_id or "", (*register.relatives, *extra))
        extra = tuple(Relative(sib, "sibling", "sibling", "generator: true sibling",
                               confirmed=False)
                      for sib in sorted(self.world.true_siblings.get(child_id, ()))
                      if sib not in known)
        # a child the register does not hold still has their mother: her register record
        # (her pre-birth plans) belongs to this child's household as to her registered children's
        child = self.world.children.get(child_id)
        mother = child.mother.person_id if child is not None and person_id is None else None
        if mother is not None and mother not in known:
            extra += (Relative(mother, "household", "mother", "generator: true mother",
                               confirmed=False),)
        return Family(person_id or "", (*register.relatives, *extra))

    def check(self, attendance: Attendance) -> CheckResult:
        s = self.settings.rules
        aid, day = attendance.attendance_id, attendance.arrival_date
        child_id = self.world.child_of.get(aid) or self.world.adult_of[aid]
        person_id = self.world.truth[aid]
        findings = injury_findings(attendance)
        family = self._family(child_id, person_id, day)
        ids = [r.person_id for r in family.relatives]
        plans = self.store.plans_of([*([person_id] if person_id else []), *ids])
        views = tuple(RelativeView(
            relative=r, age=Age.at(self._birth(r.person_id), day),
            history=tuple(self.history.get(r.person_id, ())),
            plans=tuple(p for p in plans if p.person_id == r.person_id))
            for r in family.relatives)
        ctx = RuleContext(attendance=attendance, settings=s, findings=findings,
                          age=Age.at(self._birth(child_id), day), person_id=person_id,
                          own_plans=tuple(p for p in plans if p.person_id == person_id),
                          own_history=tuple(self.history.get(child_id, ())), relatives=views)
        warnings = evaluate(ctx)
        flags = flags_for(person_id or "", family, plans, day)
        number = self.number.setdefault(child_id, len(self.number) + 1)
        self.history[child_id].append(HistoryEntry(
            attendance_id=aid, attendee_id=number, arrival=attendance.arrival,
            injury=bool(findings), findings=tuple(f.describe() for f in findings),
            person_id=person_id))
        return CheckResult(attendance_id=aid, arrival=attendance.arrival, flags=tuple(flags),
                           warnings=tuple(warnings), injury=bool(findings))


def flag_keys(result: CheckResult, *, unconfirmed: bool | None = None) -> set[tuple]:
    return {(result.attendance_id, f.code, f.person_id, f.subject, f.status)
            for f in result.flags if unconfirmed is None or (not f.confirmed) is unconfirmed}


def _unsubject(key: tuple) -> tuple:
    attendance_id, code, person_id, _subject, status = key
    return attendance_id, code, person_id, status


def warning_keys(result: CheckResult) -> set[tuple]:
    return {(result.attendance_id, w.code) for w in result.warnings}


def _ratio(shared: int, total: int) -> str:
    return f"{shared / total:.4f}" if total else "   -  "


def report(title: str, system: set[tuple], truth: set[tuple], codes: list[str]) -> None:
    print(f"\n{title}")
    print(f"  {'code':<22}{'system':>8}{'truth':>8}{'shared':>8}  {'precision':>9}  {'recall':>7}")
    for code in codes:
        s = {k for k in system if k[1] == code}
        t = {k for k in truth if k[1] == code}
        both = len(s & t)
        print(f"  {code:<22}{len(s):>8}{len(t):>8}{both:>8}  {_ratio(both, len(s)):>9}  "
              f"{_ratio(both, len(t)):>7}")


_AGE_RULES = {"INFANT_INJURY", "TEN4_BRUISING", "FRACTURE_UNDER_2", "HEAD_INJURY_UNDER_3",
              "NON_MOBILE_INJURY"}


def _evidence(result: CheckResult, code: str) -> list[str]:
    return [line for w in result.warnings if w.code == code for line in w.evidence]


class NamedParents:
    """Which true parents each child's attendances have named so far (NK1, RelatedPerson,
    the CSV's mother/father columns), for classifying missed attendance-derived links."""

    def __init__(self, world: World) -> None:
        self.world = world
        # child → (arrival, true parent key, NHS number as named, postcodes the parent is
        # taken to live at: the parent's own, else the child's on that attendance)
        self.named: dict[str, list[tuple]] = defaultdict(list)
        self.by_child: dict[str, list[Attendance]] = defaultdict(list)
        for a in world.attendances:
            self.by_child[world.child_of.get(a.attendance_id, "")].append(a)
            child = world.children.get(world.child_of.get(a.attendance_id, ""))
            if child is None:
                continue
            for kin in a.next_of_kin:
                adult = child.mother if kin.relationship == "mother" else child.father
                where = kin.demographics.addresses or a.patient.addresses
                self.named[child.child_id].append((
                    a.arrival, adult.key, kin.demographics.nhs_number,
                    {"".join(x.postcode.split()).upper() for x in where if x.postcode}))

    def register_tie(self, child_id: str, sibling: TrueChild, until) -> str:
        """How this child's attendances so far name a parent the register holds for
        ``sibling``: "" (none), "name" (name alone), "identity" (the register person's NHS
        number, or a postcode of the register's address history for them) or "no link" (so
        named, but the register does not record them as the sibling's parent)."""
        store = self.world.register
        best = ""
        for when, key, nhs, postcodes in self.named.get(child_id, ()):
            adult = next((a for a in (sibling.mother, sibling.father) if a.key == key), None)
            if when > until or adult is None or adult.person_id is None:
                continue
            person = next(p for p in store.persons if p.person_id == adult.person_id)
            homes = {"".join(a.postcode.split()).upper() for a in store.addresses
                     if a.person_id == adult.person_id} | {
                "".join(person.postcode.split()).upper()}
            if (nhs and nhs == person.nhs_number) or postcodes & homes:
                linked = any({r.person_id, r.related_person_id} == {sibling.child_id,
                                                                     adult.person_id}
                             for r in store.relationships)
                return "identity" if linked else "no link"
            best = "name"
        return best

    def homes(self, child_id: str, until) -> tuple[set[str], set[str]]:
        """The homes (``premise_key``) and family names this child's attendances gave so far."""
        homes, names = set(), set()
        for a in self.by_child.get(child_id, ()):
            if a.arrival <= until:
                homes.update(premises_of(a.patient.addresses))
                names.update(n.family.upper() for n in a.patient.names if n.family)
        return homes, names

    def upto(self, child_id: str, until) -> set[str]:
        return {row[1] for row in self.named.get(child_id, ()) if row[0] <= until}

    def corroborated(self, one: str, other: str, until) -> bool:
        """Whether some attendance of each child names their common parent with the same NHS
        number or at the same postcode: something beyond the name to tie the two together."""
        mine = [r for r in self.named.get(one, ()) if r[0] <= until]
        theirs = [r for r in self.named.get(other, ()) if r[0] <= until]
        return any(a[1] == b[1] and ((a[2] and a[2] == b[2]) or a[3] & b[3])
                   for a in mine for b in theirs)


def _sibling_reason(world: World, named: NamedParents, attendance: Attendance,
                    sibs: set[str]) -> str:
    aid, until = attendance.attendance_id, attendance.arrival
    child_id = world.child_of.get(aid, "")
    if child_id not in world.children:
        return "adult not on the register: the children live with them by address only"
    mine = named.upto(child_id, until)
    born = world.children[child_id].birth
    if any(s in world.children and world.children[s].birth == born for s in sibs):
        return "a twin: a same-birthday record may be the child itself"
    if not mine:
        return "no attendance of this child so far names a parent"
    on_register = [world.children[s] for s in sibs if s in world.children
                   and world.children[s].registered]
    if on_register:
        ties = {named.register_tie(child_id, s, until) for s in on_register}
        if "identity" in ties:
            return ("a register parent of the sibling named with their NHS number or address: "
                    "not linked")
        if "no link" in ties:
            return ("the parent named is on the register, but the register does not record "
                    "them as the sibling's parent")
        if "name" in ties:
            return ("a register parent of the sibling named by name alone (no NHS number or "
                    "address the register holds)")
        return "no attendance of this child names a parent the register records for the sibling"
    shared = [s for s in sibs if mine & named.upto(s, until)]
    if any(named.corroborated(child_id, s, until) for s in shared):
        return "same parent named with the same NHS number or postcode: not resolved to one"
    homes, names = named.homes(child_id, until)
    at_home = [s for s in sibs if homes & named.homes(s, until)[0]]
    if at_home and not any(names & named.homes(s, until)[1] for s in at_home):
        return ("the same home given, but under another family name and not lately "
                "(home_shared_days)")
    if shared:
        return "same parent named, but tied by name alone (no NHS number or postcode in common)"
    return "the sibling's attendances name no parent this child's name"


def reason(world: World, named: NamedParents, attendance: Attendance, got: CheckResult,
           want: CheckResult, code: str) -> str:
    """A first classification of why the system and the truth differ on ``code`` here."""
    aid = attendance.attendance_id
    if got.match.person_id != world.truth[aid]:
        return "register match differs from the truth"
    child = world.children.get(world.child_of.get(aid, ""))
    if code in _AGE_RULES and child is not None:
        person = next((p for p in world.register.persons if p.person_id == child.child_id
                       and got.match.person_id), None)
        if person is not None and person.birth_date is not None and person.birth_date.is_full:
            if person.birth_date.as_date() != child.birth:
                return "the register's birth date is not the true one (the matched child's)"
        birth = attendance.patient.birth_date
        if birth is None or not birth.is_full or birth.as_date() != child.birth:
            return "birth date on the attendance is not the true one"
    if code in FLAG_CODES:
        missed = {k[2] for k in flag_keys(want) - flag_keys(got) if k[1] == code}
        if missed:
            return _sibling_reason(world, named, attendance, missed)
        return "relative's plan shown by the system only"
    if code == "REPEAT_INJURY":
        return "earlier attendances of the same child not all linked"
    if code in ("SIBLING_INJURY", "FAMILY_INJURY_HISTORY", "THINK_FAMILY") and not any(
            w.code == code for w in got.warnings):
        sibs = {line.split(" ", 2)[1].rstrip(":") for w in want.warnings if w.code == code
                for line in w.evidence if line.startswith(("sibling ", "half-sibling ", "child "))}
        return _sibling_reason(world, named, attendance, sibs)
    return "other"


def explain(world: World, named: NamedParents, attendance: Attendance, got: CheckResult,
            want: CheckResult, code: str, causes: Counter) -> None:
    """Print each difference on ``code`` for one attendance, with its reason class."""
    aid = attendance.attendance_id
    if code in FLAG_CODES:
        sys_keys = {k for k in flag_keys(got) if k[1] == code}
        true_keys = {k for k in flag_keys(want) if k[1] == code}
        diffs = [("missed", k) for k in sorted(true_keys - sys_keys)] + \
                [("extra", k) for k in sorted(sys_keys - true_keys)]
    else:
        has_sys = any(w.code == code for w in got.warnings)
        has_true = any(w.code == code for w in want.warnings)
        diffs = [("missed" if has_true else "extra", (aid, code))] if has_sys != has_true else []
    if not diffs:
        return
    why = reason(world, named, attendance, got, want, code)
    who = world.child_of.get(aid) or f"adult {world.adult_of.get(aid)}"
    for label, key in diffs:
        causes[(code, label, why)] += 1
        print(f"  {label} {key}: {why}; true patient {who}, register truth "
              f"{world.truth[aid]}, system match {got.match.person_id} ({got.match.band})")
    if code not in FLAG_CODES:
        sys_ev, true_ev = _evidence(got, code), _evidence(want, code)
        for line in (x for x in true_ev if x not in sys_ev):
            print(f"      truth only: {line}")
        for line in (x for x in sys_ev if x not in true_ev):
            print(f"      system only: {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--children", type=int, default=2000)
    ap.add_argument("--attendances", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--adults", type=float, default=0.03,
                    help="adult attendances, as a share of --attendances added on top")
    ap.add_argument("--shared-houses", type=float, default=0.0, metavar="SHARE",
                    help="put this share of the families in a house another family also "
                         "gives as its address (default 0: none), to measure what linking "
                         "children by a home costs in precision")
    ap.add_argument("--config", metavar="FILE", default=None,
                    help="settings file (safeflag.toml) for the pipeline and the truth alike "
                         "(default: the contract's defaults)")
    ap.add_argument("--explain", metavar="CODE", default="",
                    help="list every missed and extra CODE (flag or warning; several: "
                         "comma-separated) with its reason")
    args = ap.parse_args()

    started = time.perf_counter()
    world = generate_world(children=args.children, attendances=args.attendances, seed=args.seed,
                           adult_share=args.adults, shared_houses=args.shared_houses)
    made = time.perf_counter()
    settings = Settings.from_toml(args.config) if args.config else Settings()
    sf = Safeflag(SqliteStore(":memory:"), settings)
    sf.store.replace_register(world.register, index_register(world.register), source="bench")
    oracle = Oracle(world, settings)

    sys_flags, sys_warn, true_flags, true_warn = set(), set(), set(), set()
    sys_unconf, true_unconf = set(), set()
    wrong_match: set[str] = set()
    checked = 0.0
    reasons: Counter = Counter()
    explained = [c for c in args.explain.split(",") if c]
    named = NamedParents(world) if explained else None
    for attendance in world.attendances:
        t0 = time.perf_counter()
        got = sf.check(attendance)
        checked += time.perf_counter() - t0
        want = oracle.check(attendance)
        for code in explained:
            explain(world, named, attendance, got, want, code, reasons)
        if got.match.person_id != world.truth[attendance.attendance_id]:
            wrong_match.add(attendance.attendance_id)
        sys_flags |= flag_keys(got)
        true_flags |= flag_keys(want)
        sys_warn |= warning_keys(got)
        true_warn |= warning_keys(want)
        sys_unconf |= flag_keys(got, unconfirmed=True)
        true_unconf |= flag_keys(want, unconfirmed=True)
    n = len(world.attendances)
    registered = sum(1 for aid, v in world.truth.items() if v and aid in world.child_of)
    adults = len(world.adult_of)
    print(f"world: seed {args.seed}, {len(world.register.persons)} register persons "
          f"({args.children} children asked), {n} attendances ({n - adults} of children, "
          f"{registered} of them registered; {adults} of adults), "
          f"generated in {made - started:.1f}s")
    if args.shared_houses:
        print(f"shared houses: about {args.shared_houses:.0%} of the families give another "
              "family's address")
    print(f"system: {n / checked:.0f} checks/s in process ({checked:.1f}s), "
          f"SQLite in memory, one core")

    report("Flags (attendance, code, person, subject, status)", sys_flags, true_flags,
           list(FLAG_CODES))
    report("Flags from attendance-derived links only (confirmed=false)", sys_unconf,
           true_unconf, list(FLAG_CODES))
    # the same person's plan shown, whatever the relationship: a co-resident at the address
    # given is "household" where the truth knows a sibling
    report("Flags, the subject aside (attendance, code, person, status)",
           {_unsubject(k) for k in sys_flags}, {_unsubject(k) for k in true_flags},
           list(FLAG_CODES))
    report("Warnings (attendance, code); a rule the generated data never exercises shows -",
           sys_warn, true_warn, [r.id for r in RULES])
    print(f"\n  register match differs from the truth on {len(wrong_match)} of {n} attendances")
    for label, keys in (("missed", true_warn - sys_warn), ("extra", sys_warn - true_warn)):
        by_cause = Counter((k[1], "match" if k[0] in wrong_match else "other") for k in keys)
        causes = ", ".join(f"{code} {by_cause[(code, 'match')]}+{by_cause[(code, 'other')]}"
                           for code in dict.fromkeys(c for c, _ in sorted(by_cause)))
        print(f"  {label} (with a wrong register match + other causes): {causes or 'none'}")
    if explained:
        print(f"\n  {args.explain}: differences by reason")
        for (code, label, why), count in sorted(reasons.items()):
            print(f"    {code:<22}{label:<7}{count:>5}  {why}")


if __name__ == "__main__":
    main()
