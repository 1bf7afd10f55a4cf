"""The match model: defaults, estimation from a register, EM, name frequencies, storage."""

from __future__ import annotations

import random

import pytest

from safeflag.algo.compare import COMPARISONS, NO_DATA, OTHERWISE, Identity
from safeflag.algo.dates import PartialDate
from safeflag.errors import ConfigError
from safeflag.match import register_identities
from safeflag.match.weights import (DEFAULT_M, DEFAULT_U, MIN_PERSONS_TO_ESTIMATE, MatchModel,
                                    estimate_from_register, estimate_m, prior_for)
from safeflag.synth import generate_world


@pytest.fixture(scope="module")
def identities() -> list[Identity]:
    world = generate_world(children=1_500, attendances=10, seed=3)
    return register_identities(world.register)


def test_defaults_cover_every_level():
    for comparison in COMPARISONS:
        for level in comparison.level_names:
            assert level in DEFAULT_M[comparison.field] and level in DEFAULT_U[comparison.field]


def test_weight_order_exact_then_partial_then_otherwise():
    model = MatchModel()
    for field_name, levels in model.weights.items():
        names = list(levels)
        top, bottom = levels[names[0]], levels[OTHERWISE]
        assert all(bottom <= w <= top for w in levels.values()), field_name


def test_prior_shrinks_with_the_register():
    assert prior_for(1_000_000) < prior_for(10_000) < prior_for(100) < 0


def test_register_estimates_u_frequencies_and_prior(identities):
    assert len(identities) >= MIN_PERSONS_TO_ESTIMATE
    model = estimate_from_register(identities)
    assert model.source == "register" and model.persons == len(identities)
    assert model.prior == pytest.approx(prior_for(len(identities)))
    # a birth date shared by chance is rare among thousands of children
    assert model.u["birth_date"]["exact"] < 0.005
    assert model.tf["family_name"] and model.tf["given_name"]


def test_common_names_weigh_less_than_rare_ones(identities):
    model = estimate_from_register(identities)
    table = model.tf["given_name"]
    common = max((n for n in table if n), key=table.get)
    a = Identity(ref="a", givens=(common,))
    rare = Identity(ref="r", givens=("MORVENNA",))
    assert model.weight("given_name", "exact", a, a) < model.weight("given_name", "exact",
                                                                     rare, rare)


def test_small_registers_keep_defaults(identities):
    model = estimate_from_register(identities[:MIN_PERSONS_TO_ESTIMATE - 1])
    assert model.u == MatchModel().u and model.tf == {}


def test_model_round_trips_through_json(identities):
    model = estimate_from_register(identities)
    again = MatchModel.from_json(model.to_json())
    assert again.weights == model.weights and again.prior == model.prior
    assert again.tf == model.tf and again.persons == model.persons


def test_a_broken_stored_model_is_a_config_error():
    with pytest.raises(ConfigError, match="match model"):
        MatchModel.from_json("{not json")


def _vectors(m: dict[str, dict[str, float]], u: dict[str, dict[str, float]], share: float,
             n: int, seed: int = 5) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        probs = m if rng.random() < share else u
        vec = []
        for c in COMPARISONS:
            levels = list(c.level_names)
            weights = [probs[c.field].get(level, 0.0) for level in levels]
            vec.append((c.field, rng.choices(levels, weights)[0] if sum(weights) else NO_DATA))
        out.append(vec)
    return out


def test_em_recovers_the_match_share_and_m_from_unlabelled_pairs():
    truth_m = {f: dict(v) for f, v in DEFAULT_M.items()}
    truth_m["given_name"] = {"exact": 0.7, "nickname": 0.1, "one edit": 0.1, "middle name": 0.02,
                             "jaro-winkler >= 0.9": 0.03, "otherwise": 0.05}
    truth_u = {f: dict(v) for f, v in DEFAULT_U.items()}
    start = MatchModel()                         # starts from the defaults (exact 0.86)
    model, share = estimate_m(_vectors(truth_m, truth_u, 0.3, 20_000), start)
    assert share == pytest.approx(0.3, abs=0.03)
    assert model.m["given_name"]["exact"] == pytest.approx(0.7, abs=0.05)
    assert model.m["given_name"]["nickname"] == pytest.approx(0.1, abs=0.03)
    assert model.source.endswith("+em")


def test_em_on_nothing_changes_nothing():
    model, share = estimate_m([], MatchModel())
    assert share == 0.0 and model.m == MatchModel().m


def test_a_partial_birth_date_that_agrees_counts_for_the_link(identities):
    """A year-only (or year-month) date that agrees is evidence for the same child: its levels
    are rated among pairs where one date is partial, so u is the chance that two different
    people share a birth year (month), counted on the register."""
    estimated = estimate_from_register(identities)
    years = [str(i.birth.year) for i in identities if i.birth is not None]
    shared = sum(years.count(y) ** 2 for y in set(years)) / len(years) ** 2
    assert estimated.u["birth_date"]["same year (partial)"] == pytest.approx(shared)
    for model in (MatchModel(), estimated):
        w = model.weights["birth_date"]
        assert 0 < w["same year (partial)"] < w["same year and month (partial)"] < w["exact"]
        assert w["under 12 years apart"] < 0 < w["same year (partial)"]


def test_a_year_only_record_of_the_child_is_certain_and_of_a_sister_is_not(identities):
    """The record that used to split a child's history on the generated world: same names,
    sex and address as the earlier record, birth year only, no NHS number, no parent."""
    from safeflag.match import Matcher
    from safeflag.settings import MatchSettings
    from safeflag.store.sqlite import SqliteStore
    matcher = Matcher(SqliteStore(":memory:"), MatchSettings())
    matcher.reload(estimate_from_register(identities))
    earlier = Identity(ref="A1", nhs="8304250926", givens=("ELLA HENRY",),
                       families=("BLACKCLIFFE",), birth=PartialDate(2016), sex="female",
                       postcodes=("QX11 8LG",), kin_names=(("AVA", "JENSEN"),))
    same = Identity(ref="query", givens=("ELLA HENRY",), families=("BLACKCLIFFE",),
                    birth=PartialDate(2016, 9, 24), sex="female", postcodes=("QX11 8LG",))
    sister = Identity(ref="query", givens=("MAISIE",), families=("BLACKCLIFFE",),
                      birth=PartialDate(2016, 2, 1), sex="female", postcodes=("QX11 8LG",))
    assert matcher.score(same, earlier).band == "certain"
    assert matcher.score(sister, earlier).band not in ("certain", "probable")
