"""The rules beyond the contract, each on both sides of each threshold, through the public API:
RECENT_CLOSURE, DELAYED_PRESENTATION, NON_MOBILE_INJURY, THINK_FAMILY, FAMILY_INJURY_HISTORY."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from safeflag import RuleSettings, Safeflag, Settings
from safeflag.errors import ConfigError
from safeflag.models import Address, AddressPeriod
from safeflag.rules.config import default_rule_values
from safeflag.store.sqlite import SqliteStore

from ..conftest import attendance, load, person, plan, rel

BIRTH = "2020-01-15"
ARRIVAL = "2021-05-01"
BANNED = ("abuse confirmed", "is abused", "was abused", "confirmed abuse")


def codes(result) -> set[str]:
    return {w.code for w in result.warnings}


def warning(result, code):
    return next(w for w in result.warnings if w.code == code)


def days_before(day: str, n: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=n)).isoformat()


def amy(sf, *extra, relationships=(), plans=()):
    load(sf, [person("C1", "Amy", "Smith", BIRTH), *extra], relationships, plans)


# --- RECENT_CLOSURE ----------------------------------------------------------------------------
@pytest.mark.parametrize("ended_days_before, fires", [
    (0, False),     # ends on the arrival date: still active, not closed
    (1, True),
    (90, True),     # the 90th day back is inside the window
    (91, False),
])
def test_recent_closure_of_the_childs_own_plan(sf, ended_days_before, fires):
    amy(sf, plans=[plan("C1", "CIN", "2020-03-01", days_before(ARRIVAL, ended_days_before))])
    result = sf.check(attendance("A1", ARRIVAL, dx=("J21.9",)))     # not even an injury
    assert ("RECENT_CLOSURE" in codes(result)) is fires
    if fires:
        w = warning(result, "RECENT_CLOSURE")
        assert w.level == "consider" and w.subject == "self"
        assert any(f"closed {ended_days_before} day(s) before arrival" in e for e in w.evidence)


def test_recent_closure_of_a_siblings_plan_but_not_the_mothers_pre_birth_plan(sf):
    amy(sf, person("S1", "Ben", "Smith", "2017-03-03", sex="male"),
        person("M1", "Jo", "Smith", "1995-02-02"),
        relationships=[rel("C1", "M1", "mother"), rel("S1", "M1", "mother")],
        plans=[plan("S1", "CP", "2020-01-01", "2021-04-28"),
               plan("M1", "CP-UNBORN", "2019-10-01", "2021-04-28")])
    w = warning(sf.check(attendance("A1", ARRIVAL)), "RECENT_CLOSURE")
    assert w.subject == "sibling" and len(w.evidence) == 1
    assert "S1" in w.evidence[0] and "closed 3 day(s)" in w.evidence[0]


def test_recent_closure_window_is_configurable():
    sf = Safeflag(SqliteStore(":memory:"),
                  Settings(rules=RuleSettings(recent_closure_days=30)))
    amy(sf, plans=[plan("C1", "CIN", "2020-03-01", days_before(ARRIVAL, 31))])
    assert "RECENT_CLOSURE" not in codes(sf.check(attendance("A1", ARRIVAL)))
    sf.close()


# --- DELAYED_PRESENTATION -----------------------------------------------------------------------
def with_injury_time(a, hours: float):
    return a.model_copy(update={"injury_time": a.arrival - timedelta(hours=hours)})


@pytest.mark.parametrize("hours, fires", [(23.9, False), (24, False), (24.05, True), (72, True)])
def test_delayed_presentation_by_injury_time(sf, hours, fires):
    result = sf.check(with_injury_time(attendance("A1", ARRIVAL, dx=("S62.5",)), hours))
    assert ("DELAYED_PRESENTATION" in codes(result)) is fires
    if fires:
        assert any("more than 24 hours" in e for e in warning(result, "DELAYED_PRESENTATION").evidence)


@pytest.mark.parametrize("days, at, fires", [
    (1, "23:59", False),   # the injury may have been late the day before: under 24 hours
    (2, "00:00", False),   # exactly 24 hours after the end of the injury day
    (2, "00:30", True),
    (4, "10:00", True),
])
def test_delayed_presentation_by_injury_date_alone(sf, days, at, fires):
    """A date with no time of day is not its midnight: the rule fires only when even an injury
    at the end of that day is more than 24 hours before the arrival."""
    a = attendance("A1", ARRIVAL, dx=("S62.5",))
    arrival = datetime.combine(a.arrival.date() + timedelta(days=days), time.fromisoformat(at))
    a = a.model_copy(update={"arrival": arrival, "injury_time": a.arrival.date()})
    result = sf.check(a)
    assert ("DELAYED_PRESENTATION" in codes(result)) is fires
    if fires:
        assert any(f"injury date recorded {days} day(s) before arrival (no time given" in e
                   for e in warning(result, "DELAYED_PRESENTATION").evidence)


@pytest.mark.parametrize("injured_at, fires", [
    ("2021-04-30T00:00", False),   # 24 hours before the start of the arrival day: not more
    ("2021-04-29T23:00", True),
])
def test_delayed_presentation_when_the_arrival_came_as_a_date_alone(sf, injured_at, fires):
    """An arrival sent without a time of day is the start of that day (the earliest it can
    have been): the rule measures from there and quotes no hours it cannot know."""
    a = attendance("A1", ARRIVAL, dx=("S62.5",)).model_copy(update={
        "arrival": datetime.fromisoformat(ARRIVAL), "arrival_time_given": False,
        "injury_time": datetime.fromisoformat(injured_at)})
    result = sf.check(a)
    assert ("DELAYED_PRESENTATION" in codes(result)) is fires
    if fires:
        [evidence] = warning(result, "DELAYED_PRESENTATION").evidence
        assert evidence == ("injury time recorded on 2021-04-29, more than 24 hours before the "
                            "arrival date 2021-05-01 (the arrival was sent without a time of "
                            "day)")


@pytest.mark.parametrize("complaint, fires", [
    ("swollen arm, fell three days ago", True),
    ("old fracture seen on x-ray", True),
    ("healing bruise on the back", True),
    ("3 year old fell from a swing", False),     # an age, not an old injury
    ("fell from a swing this morning", False),
])
def test_delayed_presentation_from_the_words_used(sf, complaint, fires):
    result = sf.check(attendance("A1", ARRIVAL, dx=("S62.5",), complaint=complaint))
    assert ("DELAYED_PRESENTATION" in codes(result)) is fires


def test_delayed_presentation_without_an_injury_time_is_no_data(sf):
    result = sf.check(attendance("A1", ARRIVAL, dx=("S62.5",)))
    assert "DELAYED_PRESENTATION" not in codes(result)
    assert any(n.startswith("DELAYED_PRESENTATION: no data") for n in result.notes)


def test_delayed_presentation_needs_an_injury(sf):
    result = sf.check(with_injury_time(attendance("A1", ARRIVAL, dx=("J21.9",)), 72))
    assert "DELAYED_PRESENTATION" not in codes(result)


# --- NON_MOBILE_INJURY --------------------------------------------------------------------------
@pytest.mark.parametrize("arrival, fires", [
    ("2020-07-14", True),     # 5 completed months
    ("2020-07-15", False),    # 6 completed months
])
def test_non_mobile_injury_under_6_months(sf, arrival, fires):
    result = sf.check(attendance("A1", arrival, dx=("S01.4",)))
    assert ("NON_MOBILE_INJURY" in codes(result)) is fires
    if fires:
        w = warning(result, "NON_MOBILE_INJURY")
        assert w.level == "suspect" and any("under 6" in e for e in w.evidence)


def test_non_mobile_age_is_configurable():
    sf = Safeflag(SqliteStore(":memory:"), Settings(rules=RuleSettings(non_mobile_months=9)))
    assert "NON_MOBILE_INJURY" in codes(sf.check(attendance("A1", "2020-10-14", dx=("S01.4",))))
    assert "NON_MOBILE_INJURY" not in codes(sf.check(attendance("A2", "2020-10-15",
                                                                dx=("S01.4",))))
    sf.close()


# --- THINK_FAMILY -------------------------------------------------------------------------------
def mother_attends(sf, *, dx=("T43.2",), complaint="", mother_birth="1990-07-19",
                   child_birth=BIRTH, link_to="2099-01-01", arrival=ARRIVAL):
    load(sf, [person("C1", "Amy", "Smith", child_birth), person("ML", "Leanne", "Ward",
                                                                mother_birth)],
         [rel("C1", "ML", "mother", None, link_to)], [plan("C1", "CIN", "2021-01-01")])
    return sf.check(attendance("A1", arrival, given="Leanne", family="Ward",
                               birth=mother_birth, dx=dx, complaint=complaint))


@pytest.mark.parametrize("dx, complaint, fires", [
    (("T43.2",), "", True),                       # overdose of antidepressants
    (("X78.9",), "", True),                       # intentional self-harm, sharp object
    (("F10.0",), "", True),                       # acute alcohol intoxication
    ((), "assaulted by partner", True),
    ((), "domestic abuse disclosed", True),
    (("S52.5",), "fell from a ladder", False),    # an ordinary injury
    (("J45.9",), "asthma", False),
])
def test_think_family_presentations(sf, dx, complaint, fires):
    result = mother_attends(sf, dx=dx, complaint=complaint)
    assert result.match.person_id == "ML"
    assert ("THINK_FAMILY" in codes(result)) is fires
    if fires:
        w = warning(result, "THINK_FAMILY")
        assert w.subject == "household" and any("C1" in e and "CIN" in e for e in w.evidence)


@pytest.mark.parametrize("child_birth, fires", [
    ("2003-05-02", True),     # 17 (215 completed months) on the arrival date
    ("2003-05-01", False),    # 18 on the arrival date: not a household child
])
def test_think_family_household_child_under_18(sf, child_birth, fires):
    result = mother_attends(sf, child_birth=child_birth)
    assert ("THINK_FAMILY" in codes(result)) is fires


@pytest.mark.parametrize("mother_birth, fires", [
    ("2003-05-01", True),     # 18 today: an adult
    ("2003-05-02", False),    # 17: the attendee is a child, not this rule's subject
])
def test_think_family_attendee_is_an_adult(sf, mother_birth, fires):
    result = mother_attends(sf, mother_birth=mother_birth, child_birth="2020-01-15")
    assert ("THINK_FAMILY" in codes(result)) is fires


@pytest.mark.parametrize("link_to, fires", [("2021-05-01", True), ("2021-04-30", False)])
def test_think_family_needs_the_child_living_with_the_adult_now(sf, link_to, fires):
    result = mother_attends(sf, link_to=link_to)
    assert ("THINK_FAMILY" in codes(result)) is fires


@pytest.mark.parametrize("start, shown", [("2021-05-01", True), ("2021-05-02", False)])
def test_evidence_shows_only_plans_begun_by_the_arrival_date(sf, start, shown):
    """A look-back over old attendances against today's register: a plan that began after the
    arrival was not on record then, and the evidence must not call it open on that day."""
    load(sf, [person("C1", "Amy", "Smith", BIRTH), person("ML", "Leanne", "Ward", "1990-07-19")],
         [rel("C1", "ML", "mother")], [plan("C1", "CIN", "2021-01-01"), plan("C1", "CP", start)])
    result = sf.check(attendance("A1", ARRIVAL, given="Leanne", family="Ward",
                                 birth="1990-07-19", dx=("T43.2",)))
    evidence = " ".join(warning(result, "THINK_FAMILY").evidence)
    assert "plan CIN from 2021-01-01" in evidence
    assert (f"plan CP from {start}" in evidence) is shown
    assert any(f.code == "CP" for f in result.flags) is shown


@pytest.mark.parametrize("line, fires", [
    ("14 Fern Close", True),            # where the register's address history places the child
    ("Flat 2, 14 Fern Close", False),   # another household at the same number
])
def test_think_family_for_an_adult_the_register_does_not_hold(sf, line, fires):
    """The adult is not on the register and named on no child's attendance: the register's
    address history, at the address the adult gave, is what places the child with them."""
    load(sf, [person("C1", "Amy", "Smith", BIRTH)], [], [plan("C1", "CP", "2021-01-01")],
         addresses=[AddressPeriod(person_id="C1", address_line="14 Fern Close, Grimsby",
                                  postcode="DN32 7QX", from_date=date(2020, 1, 15))])
    adult = attendance("A1", ARRIVAL, given="Dan", family="Cole", birth="1988-03-03",
                       sex="male", dx=("T43.2",))
    home = Address(line=line, city="Grimsby", postcode="DN32 7QX")
    result = sf.check(adult.model_copy(update={
        "patient": adult.patient.model_copy(update={"addresses": (home,)})}))
    assert result.match.person_id is None
    assert ("THINK_FAMILY" in codes(result)) is fires
    assert any(f.code == "CP" and f.subject == "household" and not f.confirmed
               for f in result.flags) is fires
    if fires:
        w = warning(result, "THINK_FAMILY")
        assert any("co-resident C1" in e and "address given at this attendance" in e
                   and "CP" in e for e in w.evidence)


@pytest.mark.parametrize("residents, linked", [(10, True), (11, False)])
def test_a_communal_address_links_nobody_and_the_result_says_so(sf, residents, linked):
    """More register persons at the address given than ``address_household_most`` (10): a
    hostel or a children's home, not a household."""
    people = [person(f"C{i}", "Amy", f"Name{i}", BIRTH) for i in range(residents)]
    load(sf, people, [], [plan("C0", "CP", "2021-01-01")], addresses=[
        AddressPeriod(person_id=f"C{i}", address_line="1 Hostel Road, Grimsby",
                      postcode="DN32 7QX", from_date=date(2020, 1, 15))
        for i in range(residents)])
    adult = attendance("A1", ARRIVAL, given="Dan", family="Cole", birth="1988-03-03",
                       sex="male", dx=("T43.2",))
    home = Address(line="1 Hostel Road", city="Grimsby", postcode="DN32 7QX")
    result = sf.check(adult.model_copy(update={
        "patient": adult.patient.model_copy(update={"addresses": (home,)})}))
    assert ("THINK_FAMILY" in codes(result)) is linked
    assert any(f.person_id == "C0" for f in result.flags) is linked
    communal = [n for n in result.notes if "communal" in n]
    assert (communal == []) is linked
    if not linked:
        assert f"{residents} persons" in communal[0]


# --- FAMILY_INJURY_HISTORY ---------------------------------------------------------------------
def sibling_then_child(sf, sibling_days_before: int, *, dx=("S52.5",), settings=None):
    if settings is not None:
        sf = Safeflag(SqliteStore(":memory:"), settings)
    amy(sf, person("S1", "Ben", "Smith", "2017-03-03", sex="male"),
        relationships=[rel("C1", "S1", "sibling")])
    sf.check(attendance("E1", days_before(ARRIVAL, sibling_days_before), given="Ben",
                        birth="2017-03-03", sex="male", dx=("S42.0",)))
    return sf.check(attendance("A1", ARRIVAL, dx=dx))


@pytest.mark.parametrize("n, history, sibling", [
    (90, False, True),       # inside SIBLING_INJURY's window: that rule, not this one
    (91, True, False),
    (1095, True, False),     # the last day of the look-back
    (1096, False, False),
])
def test_family_injury_history_window(sf, n, history, sibling):
    result = sibling_then_child(sf, n)
    assert ("FAMILY_INJURY_HISTORY" in codes(result)) is history
    assert ("SIBLING_INJURY" in codes(result)) is sibling
    if history:
        w = warning(result, "FAMILY_INJURY_HISTORY")
        assert w.level == "info" and w.subject == "sibling"
        assert any("E1" in e for e in w.evidence)


def test_family_injury_history_needs_an_injury_today(sf):
    assert "FAMILY_INJURY_HISTORY" not in codes(sibling_then_child(sf, 200, dx=("J21.9",)))


def test_family_injury_history_look_back_is_configurable(sf):
    result = sibling_then_child(sf, 200, settings=Settings(rules=RuleSettings(
        family_history_days=180)))
    assert "FAMILY_INJURY_HISTORY" not in codes(result)


# --- ordering, explanation and wording ----------------------------------------------------------
def test_warnings_are_ordered_by_level_and_each_says_why(sf):
    amy(sf, plans=[plan("C1", "CIN", "2020-03-01", "2021-04-28")])
    result = sf.check(with_injury_time(attendance("A1", "2020-07-01", dx=("S00.4",)), 48))
    levels = [w.level for w in result.warnings]
    order = {"suspect": 0, "consider": 1, "info": 2}
    assert levels == sorted(levels, key=order.get)
    assert {"TEN4_BRUISING", "NON_MOBILE_INJURY", "INFANT_INJURY",
            "DELAYED_PRESENTATION"} <= codes(result)
    for w in result.warnings:
        assert w.evidence and w.source and w.message
        assert not [b for b in BANNED if b in " ".join((w.message, *w.evidence)).lower()]


# --- the rules config file ---------------------------------------------------------------------
def test_defaults_file_states_every_threshold_with_the_contracts_values():
    assert default_rule_values() == RuleSettings().model_dump()


def test_a_site_file_overrides_only_what_it_names(tmp_path):
    site = tmp_path / "safeflag.toml"
    site.write_text("[rules]\nsibling_injury_days = 120\n", encoding="utf-8")
    got = Settings.from_toml(site).rules
    assert got.sibling_injury_days == 120 and got.infant_months == 12


@pytest.mark.parametrize("text", ["[rules]\ninfant_months = 0\n", "[rules]\nno_such_key = 1\n",
                                  "[rules\n", "rules = 3\n",
                                  # the wrong type is not coerced: true is not 1, "12" not 12
                                  "[match]\nmax_candidates = true\n",
                                  '[rules]\ninfant_months = "12"\n'])
def test_a_bad_site_file_is_a_config_error(tmp_path, text):
    site = tmp_path / "safeflag.toml"
    site.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Settings.from_toml(site)
    assert "\n" not in str(caught.value)          # one line, for a terminal or a log


@pytest.mark.parametrize("rules, fine", [
    ({"ten4_any_site_months": 48}, True),                      # equal: the bands meet
    ({"ten4_any_site_months": 49}, False),
    ({"repeat_short_days": 364}, True),
    ({"repeat_short_days": 365}, False),                       # equal: no short window
    ({"sibling_injury_days": 1094}, True),
    ({"sibling_injury_days": 1095}, False),                    # FAMILY_INJURY_HISTORY never
    ({"family_history_days": 60}, False),                      #   could fire
])
def test_thresholds_that_only_work_one_way_round_are_checked(tmp_path, rules, fine):
    site = tmp_path / "safeflag.toml"
    site.write_text("[rules]\n" + "".join(f"{k} = {v}\n" for k, v in rules.items()),
                    encoding="utf-8")
    if fine:
        assert Settings.from_toml(site).rules.model_dump().items() >= rules.items()
        return
    with pytest.raises(ConfigError) as caught:
        Settings.from_toml(site)
    key = next(iter(rules))
    assert key in str(caught.value) and "must be" in str(caught.value)


@pytest.mark.parametrize("key", ["repeat_long_days", "recent_closure_days",
                                 "family_history_days", "home_shared_days"])
@pytest.mark.parametrize("days, fine", [(36_525, True), (36_526, False)])
def test_a_day_window_longer_than_a_century_is_a_config_error(tmp_path, key, days, fine):
    """A mistyped window (a million days) made every check fail with an overflow; a century
    is the most any window may look back (arrivals start in 1900). The short windows must be
    below these, so the same bound holds them."""
    site = tmp_path / "safeflag.toml"
    site.write_text(f"[rules]\n{key} = {days}\n", encoding="utf-8")
    if not fine:
        with pytest.raises(ConfigError, match=key):
            Settings.from_toml(site)
        return
    with Safeflag(SqliteStore(":memory:"), Settings.from_toml(site)) as long_look:
        long_look.check(attendance("A0", "2021-01-01"))
        result = long_look.check(attendance("A1", ARRIVAL))
    assert result.errors == () and result.warnings


def test_a_whole_number_for_a_fraction_setting_is_fine(tmp_path):
    """The other side of "no coercion": TOML 1 for a float is still the number 1."""
    site = tmp_path / "safeflag.toml"
    site.write_text("[match]\nhousehold_cap = 12\n", encoding="utf-8")
    assert Settings.from_toml(site).match.household_cap == 12.0


# --- whose birth date --------------------------------------------------------------------------
@pytest.mark.parametrize("keyed, note", [
    ("2020-01-15", False),    # the register's date: 15 months on 2021-05-01
    ("2020-07-15", True),     # a keying slip at triage would say 9 months: the register wins
])
def test_a_matched_child_is_aged_from_the_registers_birth_date(sf, keyed, note):
    amy(sf)
    result = sf.check(attendance("A1", ARRIVAL, birth=keyed))
    assert result.match.person_id == "C1"
    assert "INFANT_INJURY" not in codes(result)
    assert any("differs from the register's" in n for n in result.notes) is note


@pytest.mark.parametrize("registered, keyed, non_mobile, used", [
    # the register's date is after the arrival (2021-05-01), the attendance's is not: the
    # register's cannot be right, so the attendance's (9 months: mobile) is used
    ("2021-07-15", "2020-07-15", False, "attendance"),
    # the register's is before the arrival: it wins as ever (0 months: not mobile)
    ("2021-04-15", "2020-04-15", True, "register"),
    # nothing else to go by: the register's, read as a slip (possibly 0-12 months)
    ("2021-07-15", None, True, None),
])
def test_a_register_birth_date_after_the_arrival_gives_way_to_the_attendances(
        sf, registered, keyed, non_mobile, used):
    load(sf, [person("C1", "Amy", "Smith", registered)])
    result = sf.check(attendance("A1", ARRIVAL, birth=keyed))
    assert result.match.person_id == "C1"
    assert ("NON_MOBILE_INJURY" in codes(result)) is non_mobile
    said = [n for n in result.notes if "ages use" in n]
    if used is None:
        assert said == []
    else:
        assert len(said) == 1 and f"ages use the {used}'s" in said[0]
    assert ("after the arrival date; ages use the attendance's" in " ".join(said)) is (
        used == "attendance")


def test_an_unmatched_child_is_aged_from_the_attendance(sf):
    amy(sf)
    result = sf.check(attendance("A1", ARRIVAL, given="Zoe", family="Quinn", birth="2020-07-15",
                                 postcode="LS2 9JT"))
    assert result.match.person_id is None
    assert "INFANT_INJURY" in codes(result)
