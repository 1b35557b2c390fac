"""Compute-optimal allocation and the frontier: closed form against numerics, published values, intervals, errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import ExtrapolationWarning, ScalingLawsError
from scalinglaws.laws import LAWS
from scalinglaws.plan import compute_optimal, frontier
from scalinglaws.plan.optimal import chinchilla_optimum
from scalinglaws.plan.solve import minimize, root
from scalinglaws.plan.surface import Surface

# Besiroglu et al. 2024 (Epoch's refit of Chinchilla Approach 3)
EPOCH = {"E": 1.817, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}


def chinchilla_surface(p=EPOCH, k=6.0, draws=None, level=0.95):
    law = LAWS["chinchilla"]
    theta = np.array([[p[n] for n in law.param_names]])
    if draws is not None:
        theta = np.vstack([theta, draws])
    return Surface(law=law, theta=theta, roles={"N": "N", "D": "D"}, fixed={}, flops_per_param=k,
                   ranges={"N": [5.7e7, 1.6e10], "D": [8e8, 3.2e11]}, level=level if draws is not None else None)


def formula_surface(p=EPOCH, k=6.0):
    """The same law written as a formula: no closed form, so allocation goes through the numerical search."""
    law = sl.formula_law("E + A*N**-alpha + B*D**-beta", name="chinchilla_formula")
    theta = np.array([[p[n] for n in law.param_names]])
    return Surface(law=law, theta=theta, roles={"N": "N", "D": "D"}, fixed={}, flops_per_param=k)


@pytest.fixture(scope="module")
def demo_fit():
    from scalinglaws.demo import epoch_runs

    return sl.fit(epoch_runs(), "chinchilla", bootstrap=100, seed=0)


# -- numerics ---------------------------------------------------------------------------------------------------------
def test_minimize_and_root_batched():
    centres = np.array([[-3.0], [0.5], [7.0]])
    res = minimize(lambda x: (x - centres) ** 2 + np.cosh(x - centres), -10.0, 10.0, rows=3)
    np.testing.assert_allclose(res.x, centres[:, 0], atol=1e-7)
    assert not res.at_edge.any()
    edge = minimize(lambda x: x, 0.0, 1.0, rows=1)  # monotone: the minimum is the bracket's end
    assert edge.at_edge[0]
    r = root(lambda x: x ** 3 - np.array([[8.0, 1.0], [27.0, 2.0]]), np.zeros((2, 2)), 10.0)
    np.testing.assert_allclose(r, [[2.0, 1.0], [3.0, 2.0 ** (1 / 3)]], rtol=1e-12)
    assert np.isnan(root(lambda x: x + 5.0, 0.0, 1.0))  # no sign change: no root


# -- the closed form --------------------------------------------------------------------------------------------------
def test_closed_form_satisfies_first_order_condition():
    # at the optimum, alpha·A·N^-alpha = beta·B·D^-beta (Hoffmann 2022, App. D.2)
    for c in (1e19, 5.76e23, 1e27):
        n, d = chinchilla_optimum(EPOCH, c)
        assert 6 * n * d == pytest.approx(c, rel=1e-12)
        assert EPOCH["alpha"] * EPOCH["A"] * n ** -EPOCH["alpha"] == pytest.approx(
            EPOCH["beta"] * EPOCH["B"] * d ** -EPOCH["beta"], rel=1e-10)


@pytest.mark.filterwarnings("ignore::scalinglaws.errors.ExtrapolationWarning")
@pytest.mark.parametrize("flops", [1e18, 5.76e23, 1e28])
def test_numerical_matches_closed_form(flops):
    exact = compute_optimal(chinchilla_surface(), flops)
    numeric = compute_optimal(formula_surface(), flops)
    assert exact.method == "closed form" and numeric.method == "numerical"
    assert numeric.params == pytest.approx(exact.params, rel=1e-7)
    assert numeric.tokens == pytest.approx(exact.tokens, rel=1e-7)
    assert numeric.loss == pytest.approx(exact.loss, rel=1e-12)


def test_epoch_published_parameters_give_about_20_tokens_per_param():
    # Epoch's refit (Besiroglu et al. 2024) at Chinchilla's budget: "about 20" tokens per parameter; with their
    # published, rounded parameters and C = 6ND the optimum is 18.35 (worked by hand below)
    a = compute_optimal(chinchilla_surface(), 5.76e23)
    al, be = EPOCH["alpha"], EPOCH["beta"]
    g = (al * EPOCH["A"] / (be * EPOCH["B"])) ** (1 / (al + be))
    n = g * (5.76e23 / 6) ** (be / (al + be))
    assert a.params == pytest.approx(n, rel=1e-12)
    assert a.tokens_per_param == pytest.approx(18.35, abs=0.01)


def test_demo_fit_plan(demo_fit):
    a = compute_optimal(demo_fit, 5.76e23)
    # the refit of Epoch's points (B 2143 vs their 2085) gives 17.9 tokens per parameter
    assert 15.0 < a.tokens_per_param < 21.0
    assert a.intervals is not None and a.level == 0.95
    for key in ("params", "tokens", "loss", "tokens_per_param"):
        lo, hi = a.intervals[key]
        assert lo <= getattr(a, key) <= hi
    assert 1 < a.extrapolation < 100 and a.warnings == ()
    json.dumps(a.to_dict(), allow_nan=False)


def test_flops_per_param_is_a_change_of_units():
    # C = k·N·D: the optimum at (C, k) equals the optimum at (6C/k, 6)
    a = compute_optimal(chinchilla_surface(k=8.0), 1e23)
    b = compute_optimal(chinchilla_surface(k=6.0), 1e23 * 6 / 8)
    assert a.params == pytest.approx(b.params, rel=1e-12) and a.tokens == pytest.approx(b.tokens, rel=1e-12)
    assert a.convention.startswith("C = 8·N·D")


def test_frontier_exponents_are_exact_for_chinchilla():
    rng = np.random.default_rng(0)
    base = np.array([EPOCH[n] for n in LAWS["chinchilla"].param_names])
    draws = base * (1 + 0.02 * rng.standard_normal((50, 5)))
    f = frontier(chinchilla_surface(draws=draws), np.geomspace(1e20, 1e26, 7))
    a = EPOCH["beta"] / (EPOCH["alpha"] + EPOCH["beta"])
    assert f.exponents["params"] == pytest.approx(a, rel=1e-10)
    assert f.exponents["tokens"] == pytest.approx(1 - a, rel=1e-10)
    slopes = draws[:, 4] / (draws[:, 3] + draws[:, 4])
    lo, hi = np.quantile(slopes, [0.025, 0.975])
    assert f.intervals["params"] == pytest.approx([lo, hi], rel=1e-9)
    assert len(f.allocations) == 7


def test_frontier_of_a_numerical_law_matches_the_closed_form_exponent():
    f = frontier(formula_surface(), [1e20, 1e22, 1e24])
    assert f.exponents["params"] == pytest.approx(EPOCH["beta"] / (EPOCH["alpha"] + EPOCH["beta"]), rel=1e-6)


def test_other_laws_are_planned_numerically():
    # Kaplan's law has no irreducible term but an interior optimum along C = 6ND
    law = LAWS["kaplan"]
    p = {"N_c": 8.8e13, "D_c": 5.4e13, "alpha_N": 0.076, "alpha_D": 0.095}
    s = Surface(law=law, theta=np.array([[p[n] for n in law.param_names]]), roles={"N": "N", "D": "D"}, fixed={})
    a = compute_optimal(s, 1e22)
    assert a.method == "numerical"
    eps = 1e-3  # a minimum: moving N either way along the budget line costs loss
    for f in (1 - eps, 1 + eps):
        n = a.params * f
        assert s.loss([[n]], [[1e22 / (6 * n)]])[0, 0] > a.loss


def test_extrapolation_warns_and_records_the_factor():
    with pytest.warns(ExtrapolationWarning, match=r"beyond the range"):
        a = compute_optimal(chinchilla_surface(), 1e30)
    assert a.extrapolation > 100
    assert any("beyond the range" in w for w in a.warnings)


def test_no_interior_optimum_is_flagged():
    flat = dict(EPOCH, beta=1e-9)  # data barely matters: the search runs to its smallest-data end
    with pytest.warns(sl.FitWarning, match="no interior optimum"):
        a = compute_optimal(formula_surface(flat), 1e22)
    assert any("no interior optimum" in w for w in a.warnings)


# -- bad input ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flops", [0.0, -1e21, float("nan"), "abc"])
def test_bad_budgets_raise_one_line(flops):
    with pytest.raises(ScalingLawsError, match="--flops") as exc:
        compute_optimal(chinchilla_surface(), flops)
    assert "\n" not in str(exc.value)


def test_laws_without_params_and_tokens_are_refused():
    runs = sl.load_dataset("chinchilla_epoch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit(runs, "power", inputs={"x": "params"})
    with pytest.raises(ScalingLawsError, match="needs a law of both"):
        compute_optimal(f, 1e22)


def test_bad_flops_per_param(demo_fit):
    with pytest.raises(ScalingLawsError, match="--flops-per-param"):
        compute_optimal(demo_fit, 1e22, flops_per_param=-6)


def test_unknown_fixed_input(demo_fit):
    with pytest.raises(ScalingLawsError, match="--at lr"):
        compute_optimal(demo_fit, 1e22, fixed={"lr": 1e-3})
