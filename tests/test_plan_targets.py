"""Targets: closed forms of Chinchilla's law for tokens needed, smallest model and cheapest run; targets out of
reach."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.laws import LAWS
from scalinglaws.plan import compute_optimal
from scalinglaws.plan.surface import Surface
from scalinglaws.plan.targets import reach_target

P = {"E": 1.817, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}


def surface(draws: int = 0):
    law = LAWS["chinchilla"]
    theta = np.array([[P[n] for n in law.param_names]])
    if draws:
        theta = np.vstack([theta, theta * (1 + 0.01 * np.random.default_rng(2).standard_normal((draws, 5)))])
    return Surface(law=law, theta=theta, roles={"N": "N", "D": "D"}, fixed={}, level=0.95 if draws else None)


@pytest.mark.parametrize("target", [2.2, 2.0, 1.9])
def test_closed_forms(target):
    t = reach_target(surface(), target, params=7e10)
    # smallest model, with unlimited data: E + A·N^-alpha = target
    assert t.smallest_params == pytest.approx((P["A"] / (target - P["E"])) ** (1 / P["alpha"]), rel=1e-6)
    # tokens a 70B model needs: B·D^-beta = target - E - A·N^-alpha
    rest = target - P["E"] - P["A"] * 7e10 ** -P["alpha"]
    if rest > 0:
        assert t.given_tokens == pytest.approx((P["B"] / rest) ** (1 / P["beta"]), rel=1e-9)
        assert t.given_flops == pytest.approx(6 * 7e10 * t.given_tokens, rel=1e-12)
    else:
        assert t.given_tokens is None
    # the cheapest run to the target is the compute-optimal run of its own budget
    co = compute_optimal(surface(), t.flops)
    assert co.loss == pytest.approx(target, rel=1e-10) and co.params == pytest.approx(t.params, rel=1e-6)


def test_smallest_model_within_a_token_budget_is_larger():
    free = reach_target(surface(), 2.0)
    capped = reach_target(surface(), 2.0, max_tokens=1e12)
    assert capped.smallest_params > free.smallest_params
    n = capped.smallest_params
    assert P["E"] + P["A"] * n ** -P["alpha"] + P["B"] * 1e12 ** -P["beta"] == pytest.approx(2.0, rel=1e-9)


def test_intervals_and_unreachable_draws():
    t = reach_target(surface(draws=50), 2.0, params=7e10)
    assert t.reachable == 1.0
    for key in ("params", "tokens", "flops", "smallest_params", "given_tokens"):
        lo, hi = t.intervals[key]
        value = getattr(t, key)
        assert lo <= value <= hi
    with pytest.warns(UserWarning, match="out of reach in"):
        near = reach_target(surface(draws=50), P["E"] + 0.004)  # some draws have E above the target
    assert 0 < near.reachable < 1


def test_a_model_too_small_for_the_target():
    with pytest.warns(UserWarning, match="never reaches loss"):
        t = reach_target(surface(), 2.0, params=1e9)
    assert t.given_tokens is None and t.given_flops is None


@pytest.mark.parametrize("kwargs, message", [
    ({"loss": 1.5}, "out of reach"),
    ({"loss": -2.0}, "--target-loss must be positive"),
    ({"loss": 2.0, "params": 0}, "--params must be positive"),
    ({"loss": 2.0, "max_tokens": -1}, "--max-tokens must be positive"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ScalingLawsError, match=message):
        reach_target(surface(), **kwargs)


def test_each_answer_says_what_data_it_assumes():
    import scalinglaws as sl
    from scalinglaws.plan.inference import inference_optimal
    from scalinglaws.plan.targets import reach_target

    fit = sl.fit("dataset:chinchilla_epoch", law="chinchilla", where=["params<1e9"])
    assert reach_target(fit, 2.2).assumes == "unlimited fresh data, no token repeated"
    limited = reach_target(fit, 2.2, unique_tokens=3e11)
    assert limited.assumes.startswith("3e+11 unique tokens, repeated") and "R_D 15.4" in limited.assumes
    assert limited.to_dict()["assumes"] == limited.assumes
    assert inference_optimal(fit, 1e13, flops=1e23, unique_tokens=3e11).assumes == limited.assumes
