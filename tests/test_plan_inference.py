"""Inference-aware allocation (Sardana 2024) and the over-training table: optimality conditions and monotonicity."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.laws import LAWS
from scalinglaws.plan import compute_optimal
from scalinglaws.plan.inference import inference_optimal, overtraining
from scalinglaws.plan.surface import Surface

P = {"E": 1.817, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}
C = 5.76e23


def surface(draws: int = 0, seed: int = 0):
    law = LAWS["chinchilla"]
    theta = np.array([[P[n] for n in law.param_names]])
    if draws:
        theta = np.vstack([theta, theta * (1 + 0.01 * np.random.default_rng(seed).standard_normal((draws, 5)))])
    return Surface(law=law, theta=theta, roles={"N": "N", "D": "D"}, fixed={}, level=0.95 if draws else None)


@pytest.mark.parametrize("served", [1e11, 1e13, 1e15])
def test_lagrange_condition_at_the_optimum(served):
    # min 6ND + 2NT s.t. L(N, D) = l  =>  (6D + 2T)·beta·B·D^(-beta-1) = 6·alpha·A·N^(-alpha)
    r = inference_optimal(surface(), served, flops=C)
    n, d = r.params, r.tokens
    lhs = (6 * d + 2 * served) * P["beta"] * P["B"] * d ** (-P["beta"] - 1)
    assert lhs == pytest.approx(6 * P["alpha"] * P["A"] * n ** -P["alpha"], rel=1e-6)
    # it reaches the compute-optimal loss of budget C ...
    assert P["E"] + P["A"] * n ** -P["alpha"] + P["B"] * d ** -P["beta"] == pytest.approx(r.loss, rel=1e-10)
    assert r.loss == pytest.approx(compute_optimal(surface(), C).loss, rel=1e-12)
    # ... for no more total compute than the compute-optimal model serving the same tokens
    assert r.total_flops <= r.baseline["total_flops"] * (1 + 1e-9)
    assert r.total_flops == pytest.approx(r.training_flops + 2 * n * served, rel=1e-12)


def test_smaller_models_as_served_tokens_grow():
    plans = [inference_optimal(surface(), t, flops=C) for t in (1e9, 1e11, 1e12, 1e13, 1e14, 1e15)]
    n = [p.params for p in plans]
    d = [p.tokens for p in plans]
    s = [p.savings for p in plans]
    assert all(a > b for a, b in zip(n, n[1:])) and all(a < b for a, b in zip(d, d[1:]))
    assert all(a <= b + 1e-12 for a, b in zip(s, s[1:]))
    # with almost nothing served the plan is the compute-optimal one
    co = compute_optimal(surface(), C)
    assert plans[0].params == pytest.approx(co.params, rel=1e-3)


def test_budget_mode_spends_the_total():
    last = np.inf
    for t in (1e11, 1e12, 1e13):
        r = inference_optimal(surface(), t, flops=C, mode="budget")
        assert r.total_flops == pytest.approx(C, rel=1e-9)
        assert r.params < last
        last = r.params


def test_intervals_from_draws():
    r = inference_optimal(surface(draws=60), 1e13, flops=C)
    assert r.level == 0.95
    for key in ("params", "tokens", "savings", "total_flops"):
        lo, hi = r.intervals[key]
        assert lo <= getattr(r, key) <= hi
    given = inference_optimal(surface(draws=20), 1e13, loss=2.0)
    assert "loss" not in given.intervals and given.loss == 2.0  # a loss the caller fixed has no interval


def test_overtraining_table():
    o = overtraining(surface(draws=30), C, ratios=[5, 20, 100, 500])
    r_opt = compute_optimal(surface(), C).tokens_per_param
    assert o.optimal_ratio == pytest.approx(r_opt, rel=1e-9)
    for row in o.rows:
        assert row["excess_loss"] >= -1e-12 and row["compute_overhead"] >= -1e-9
        n = row["params_same_loss"]  # a model at this ratio with the optimum's loss ...
        assert P["E"] + P["A"] * n ** -P["alpha"] + P["B"] * (row["ratio"] * n) ** -P["beta"] == pytest.approx(
            o.optimal_loss, rel=1e-10)
        assert row["params"] * row["tokens"] * 6 == pytest.approx(C, rel=1e-12)
    overheads = [row["compute_overhead"] for row in o.rows[1:]]
    assert overheads == sorted(overheads)  # past the optimum, each higher ratio costs more
    assert o.intervals[0]["compute_overhead"] is not None


@pytest.mark.parametrize("kwargs, message", [
    ({"inference_tokens": -1.0, "flops": C}, "--inference-tokens must be positive"),
    ({"inference_tokens": 1e12}, "needs the quality to match"),
    ({"inference_tokens": 1e12, "flops": C, "mode": "cheap"}, "--inference-mode must be one of"),
    ({"inference_tokens": 1e12, "mode": "budget"}, "needs the total budget"),
    ({"inference_tokens": 1e30, "flops": 1e20, "mode": "budget"}, "costs more than"),
    ({"inference_tokens": 1e12, "loss": 1.0}, "out of reach"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ScalingLawsError, match=message):
        inference_optimal(surface(), **kwargs)


def test_overtraining_bad_ratios():
    with pytest.raises(ScalingLawsError, match="--ratios"):
        overtraining(surface(), C, ratios=[20, -3])


def test_a_match_plan_that_trains_past_the_budget_says_so_and_shows_its_training_compute():
    p = inference_optimal(surface(), 1e13, flops=1e22)
    assert p.training_flops > 1e22 and "training_flops=" in repr(p)
    assert any(w.startswith("trains on ") and "× the 1e+22 whose compute-optimal loss it matches" in w
               for w in p.warnings)
    within = inference_optimal(surface(), 1e13, flops=1e22, mode="budget")
    assert within.total_flops <= 1e22 * 1.001 and not any(w.startswith("trains on ") for w in within.warnings)
