"""Recipe comparison on constructed cases with known answers: a crossover where two power laws cross, a constant
compute multiplier where one recipe acts like more parameters and data, and the frontier against its closed form."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.decide import compare
from scalinglaws.decide.frontier import curve


def crossing_runs(seed: int):
    """ref: L = 2.0 + 100·C^-0.15; new: L = 1.9 + 200·C^-0.15. They cross where 100·C^-0.15 = 0.1: C = 1e20."""
    rng = np.random.default_rng(seed)
    c = np.geomspace(1e17, 1e21, 14)
    rows = {"run": [], "flops": [], "loss": [], "family": []}
    for fam, e, a in (("ref", 2.0, 100.0), ("new", 1.9, 200.0)):
        for i, ci in enumerate(c):
            rows["run"].append(f"{fam}{i}")
            rows["flops"].append(ci)
            rows["family"].append(fam)
            rows["loss"].append((e + a * ci ** -0.15) * np.exp(rng.normal(0, 0.002)))
    return sl.read_runs(rows)


def multiplier_runs(seed: int, a: float = 2.0, b: float = 1.5):
    """'better' behaves like the baseline with a·N parameters and b·D tokens: on the compute frontier that is a
    constant effective-compute multiplier a·b (Chinchilla's law, Hoffmann et al. 2022 eq. 2)."""
    rng = np.random.default_rng(seed)
    rows = {"run": [], "params": [], "tokens": [], "loss": [], "family": []}
    for fam, fa, fb in (("base", 1.0, 1.0), ("better", a, b)):
        for i, n in enumerate(np.geomspace(5e7, 2e9, 6)):
            for j, tpp in enumerate((5, 10, 20, 40, 80)):
                d = n * tpp
                loss = 1.8 + 400 * (fa * n) ** -0.34 + 2000 * (fb * d) ** -0.36
                rows["run"].append(f"{fam}{i}{j}")
                rows["params"].append(n)
                rows["tokens"].append(d)
                rows["family"].append(fam)
                rows["loss"].append(loss * np.exp(rng.normal(0, 0.002)))
    return sl.read_runs(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_crossover_is_found_where_the_laws_cross(seed):
    res = compare(crossing_runs(seed), "family", at={"flops": 1e22}, law="power", bootstrap=100, seed=seed)
    pair = res.pairs[0]
    assert pair.label == "new" and pair.baseline == "ref"
    assert len(pair.crossovers) == 1
    cross = pair.crossovers[0]
    assert cross["lower"] <= 1e20 <= cross["upper"]
    assert 3e19 < cross["scale"] < 3e20 and cross["share"] > 0.8
    # beyond the crossover 'new' is better: L_new(1e22) - L_ref(1e22) = -0.1 + 100·1e22^-0.15 ≈ -0.0498
    assert pair.lower < -0.0498 * 0.5 and pair.upper < 0 and pair.p_better > 0.95
    assert res.best == "new"


@pytest.mark.parametrize("seed", [0, 1])
def test_a_constant_compute_multiplier_is_recovered(seed):
    res = compare(multiplier_runs(seed), "family", at={"flops": 1e21}, bootstrap=60, seed=seed)
    pair = res.pairs[0]
    assert pair.multiplier == pytest.approx(3.0, rel=0.1)
    assert pair.multiplier_lower <= 3.0 <= pair.multiplier_upper
    inside = [m for m in pair.multipliers if 1e17 <= m["scale"] <= 1e21]
    for m in inside:
        assert m["multiplier"] == pytest.approx(3.0, rel=0.1)
    assert not pair.crossovers and pair.p_better == 1.0


def test_swapping_the_baseline_inverts_the_multiplier():
    runs = multiplier_runs(0)
    ab = compare(runs, "family", at={"flops": 1e20}, bootstrap=30).pairs[0]
    ba = compare(runs, "family", at={"flops": 1e20}, baseline="better", bootstrap=30).pairs[0]
    assert ab.difference == pytest.approx(-ba.difference, abs=1e-12)
    # m_ab(C) = 3 means the baseline needs 3C to match; the other way round the answer is about 1/3
    assert ab.multiplier * ba.multiplier == pytest.approx(1.0, rel=0.1)


def test_frontier_matches_chinchillas_closed_form():
    from scalinglaws.plan.optimal import chinchilla_optimum

    fit = sl.fit(multiplier_runs(0).where("family=base"), "chinchilla")
    law = fit.get_law()
    theta = np.array([[fit.params[n] for n in law.param_names]])
    c = np.geomspace(1e18, 1e25, 8)
    n, d = chinchilla_optimum(fit.params, c)
    exact = law({"N": n, "D": d}, theta)[0]
    assert np.allclose(curve(fit, law, theta, c)[0], exact, rtol=1e-6)


def test_record_is_json_ready():
    d = compare(crossing_runs(0), "family", at={"flops": 1e21}, law="power", bootstrap=30).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["axis"] == "flops" and {g["label"] for g in d["groups"]} == {"ref", "new"}


def test_bad_input_errors():
    runs = crossing_runs(0)
    with pytest.raises(sl.ScalingLawsError, match="groups='newest': no runs have family=newest"):
        compare(runs, "family", at={"flops": 1e21}, law="power", groups=["ref", "newest"])
    with pytest.raises(sl.ScalingLawsError, match="a comparison needs two or more groups"):
        compare(runs.where("family=ref"), "family", at={"flops": 1e21}, law="power")
    lonely = runs.take(np.flatnonzero((runs["family"] == "ref") | (runs["run"] == "new0")))
    with pytest.raises(sl.ScalingLawsError, match="group family=new has only 1 run"):
        compare(lonely, "family", at={"flops": 1e21}, law="power")
    with pytest.raises(sl.ScalingLawsError, match="by='recipe': column 'recipe' is missing"):
        compare(runs, "recipe", at={"flops": 1e21}, law="power")
    with pytest.raises(sl.ScalingLawsError, match="give the target as --at flops=VALUE"):
        compare(runs, "family", at={"params": 1e9}, law="power")
    with pytest.raises(sl.ScalingLawsError, match="baseline='old': not one of the groups"):
        compare(runs, "family", at={"flops": 1e21}, law="power", baseline="old")


def test_a_comparison_beyond_the_data_warns_and_marks_its_rows():
    from scalinglaws.errors import ExtrapolationWarning

    with pytest.warns(ExtrapolationWarning, match=r"the multipliers at flops ≥ .* lie more than 100× beyond"):
        res = compare(crossing_runs(0), "family", at={"flops": 1e21}, law="power", bootstrap=30)
    rows = res.pairs[0].multipliers
    assert all("beyond" in m for m in rows) and rows[0]["beyond"] == 1.0 and rows[-1]["beyond"] > 100
    assert res.to_dict()["warnings"] == list(res.warnings) and res.warnings
