"""Chinchilla's three approaches: exact recovery on synthetic sweeps, the parabola's bias, Porian's sweeps, the CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.plan.approaches import compare_approaches
from scalinglaws.plan.isoflop import group_budgets, power_law
from scalinglaws.plan.optimal import chinchilla_optimum

TRUE = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann 2022's fit: alpha != beta
A_TRUE = TRUE["beta"] / (TRUE["alpha"] + TRUE["beta"])
BUDGETS = np.geomspace(1e17, 1e21, 9)


def loss(n, d, p=TRUE):
    return p["E"] + p["A"] * n ** -p["alpha"] + p["B"] * d ** -p["beta"]


def sweep(width=10.0, points=15, drift=1.0, noise=0.0, seed=0):
    """An IsoFLOP sweep of TRUE's surface: `points` sizes per budget over ±`width`× around a centre that drifts
    from the optimum by up to `drift`× across budgets (sweeps are rarely centred on the unknown optimum)."""
    rng = np.random.default_rng(seed)
    cols = {"run": [], "params": [], "tokens": [], "loss": []}
    for i, c in enumerate(BUDGETS):
        n_opt, _ = chinchilla_optimum(TRUE, c)
        n = n_opt * drift ** (i / (len(BUDGETS) - 1)) * np.geomspace(1 / width, width, points)
        d = c / (6 * n)
        cols["run"] += [f"C{i}-N{j}" for j in range(points)]
        cols["params"] += list(n)
        cols["tokens"] += list(d)
        cols["loss"] += list(loss(n, d) * np.exp(noise * rng.standard_normal(points)))
    return {k: np.array(v) for k, v in cols.items()}


def by_name(result):
    return {a.name: a for a in result.approaches}


def run(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare_approaches(data, **kw)


def test_budget_grouping_and_power_law():
    log_c = np.log([1e18, 1.05e18, 2e18, 2.02e18, 8e18])
    np.testing.assert_array_equal(group_budgets(log_c, 0.1), [0, 0, 1, 1, 2])
    x = np.log(BUDGETS)
    slope, icpt = power_law(x, np.vstack([0.5 * x + 1.0, np.where(np.arange(9) % 2, np.nan, 0.7 * x)]))
    np.testing.assert_allclose(slope, [0.5, 0.7])
    np.testing.assert_allclose(icpt, [1.0, 0.0], atol=1e-12)


def test_shape_profile_is_exact_where_the_parabola_is_biased():
    target = 1e23
    n_true, _ = chinchilla_optimum(TRUE, target)
    r = by_name(run(sweep(width=30.0, drift=3.0), flops=target, window=10.0, bootstrap=0))
    shape, parab = r["isoflop"], r["isoflop-parabola"]
    assert shape.exponent_params == pytest.approx(A_TRUE, abs=1e-6)
    assert shape.params == pytest.approx(n_true, rel=1e-5)
    # the parabola misplaces every vertex (a wide, off-centre grid on an asymmetric profile)
    assert abs(parab.params / n_true - 1) > 0.01  # 1.9% here
    assert abs(parab.exponent_params - A_TRUE) > 1e-3
    # approach 3 fits the exact law and recovers it
    assert r["parametric"].exponent_params == pytest.approx(A_TRUE, abs=1e-4)
    assert r["parametric"].params == pytest.approx(n_true, rel=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_sweeps_recover_the_exponent(seed):
    res = run(sweep(width=8.0, points=13, noise=0.005, seed=seed), bootstrap=40, seed=seed)
    r = by_name(res)
    for name in ("envelope", "isoflop", "parametric"):
        assert r[name].exponent_params == pytest.approx(A_TRUE, abs=0.06), name
    lo, hi = r["isoflop"].intervals["a"]
    assert lo < r["isoflop"].exponent_params < hi
    assert res.agreement["exponent_spread"] < 0.1


def test_training_curves_give_the_envelope():
    # each run is a curve (one row per checkpoint); the envelope over runs at a budget is approach 1
    sizes = np.geomspace(2e7, 2e10, 24)
    cols = {"run": [], "params": [], "tokens": [], "loss": []}
    for i, n in enumerate(sizes):
        d = np.geomspace(1e8, 1e13, 60)
        d = d[6 * n * d <= 1e22]
        cols["run"] += [f"m{i}"] * len(d)
        cols["params"] += [n] * len(d)
        cols["tokens"] += list(d)
        cols["loss"] += list(loss(n, d))
    res = run({k: np.array(v) for k, v in cols.items()}, bootstrap=0, window=10.0)
    r = by_name(res)
    assert res.convention.endswith("(curves read at budgets)")
    assert r["envelope"].exponent_params == pytest.approx(A_TRUE, abs=0.05)
    assert r["isoflop"].exponent_params == pytest.approx(A_TRUE, abs=0.01)


def test_porian_sweeps():
    # Porian et al. 2024: Kaplan's setup gives a Kaplan-like exponent (~0.88); with every correction, ~0.5
    kaplan = by_name(run("dataset:porian_isoflop", where=["family=reproducing_kaplan", "dataset=refinedweb"],
                         bootstrap=30))
    tuned = run("dataset:porian_isoflop", where=["family=tuned_no_decay", "dataset=refinedweb"], bootstrap=30)
    for name in ("envelope", "isoflop", "parametric"):
        assert 0.78 < kaplan[name].exponent_params < 0.93, name
        assert 0.42 < by_name(tuned)[name].exponent_params < 0.56, name
    assert tuned.agreement["intervals_overlap"] is True
    used = [p for p in tuned.profiles if p["used"]]
    assert len(used) == 12 and all(p["shape_params"] for p in used)
    json.dumps(tuned.to_dict(), allow_nan=False)


def test_cli_approaches(cli):
    code, out, err = cli("approaches", "dataset:porian_isoflop", "--where", "family=tuned_no_decay", "--where",
                         "dataset=refinedweb", "-b", "20", "--flops", "1e21", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["flops"] == 1e21 and [a["name"] for a in d["approaches"]] == [
        "envelope", "isoflop", "isoflop-parabola", "parametric"]
    code, out, err = cli("approaches", "dataset:porian_isoflop", "--where", "family=tuned_no_decay", "-b", "0",
                         "--profile", "parabola")
    assert code == 0, err
    assert "1 envelope" in out and "3 parametric" in out


@pytest.mark.parametrize("args, message", [
    (["--profile", "cubic"], "--profile must be one of"),
    (["--window", "0"], "--window must be a positive"),
    (["--bootstrap", "-1"], "--bootstrap must be 0"),
    (["--flops", "-5"], "--flops must be positive"),
])
def test_cli_approaches_bad_options(cli, args, message):
    code, out, err = cli("approaches", "dataset:porian_isoflop", "--where", "family=tuned_no_decay", *args)
    assert code == 1
    assert message in err and err.count("\n") == 1


def test_too_few_budgets():
    one = {k: v[:15] for k, v in sweep().items()}  # a single budget
    with pytest.raises(ScalingLawsError, match="need at least two"):
        compare_approaches(one, bootstrap=0)
