"""Data-constrained planning (Muennighoff 2023): the effective-data identity, both routes to it, monotonicity."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import FitWarning, ScalingLawsError
from scalinglaws.laws import LAWS
from scalinglaws.plan.constrained import data_constrained
from scalinglaws.plan.surface import Surface, effective_data

P = {"E": 1.817, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}
R = {"R_D": 15.4, "R_N": 5.3}
C = 5.76e23


def chinchilla(draws: int = 0):
    law = LAWS["chinchilla"]
    theta = np.array([[P[n] for n in law.param_names]])
    if draws:
        theta = np.vstack([theta, theta * (1 + 0.01 * np.random.default_rng(1).standard_normal((draws, 5)))])
    return Surface(law=law, theta=theta, roles={"N": "N", "D": "D"}, fixed={}, level=0.95 if draws else None)


def repetition_law():
    law = LAWS["data_constrained"]
    theta = np.array([[{**P, **R}[n] for n in law.param_names]])
    return Surface(law=law, theta=theta, roles={"N": "N", "D": "D", "U": "U"}, fixed={"U": np.inf})


def test_effective_data_is_the_repetition_law():
    rng = np.random.default_rng(0)
    n, d, u = 10 ** rng.uniform(7, 11, 50), 10 ** rng.uniform(9, 13, 50), 10 ** rng.uniform(9, 12, 50)
    n_eff, d_eff = effective_data(n, d, u, R["R_D"], R["R_N"])
    direct = LAWS["data_constrained"]({"N": n, "D": d, "U": u}, {**P, **R})
    via = LAWS["chinchilla"]({"N": n_eff, "D": d_eff}, P)
    np.testing.assert_allclose(direct, via, rtol=1e-13)
    # one epoch or less of unique data is worth its face value; repeats are worth less and saturate at U·(1 + R_D)
    _, d1 = effective_data(1e9, 1e10, 1e11, R["R_D"], R["R_N"])
    _, dinf = effective_data(1e9, 1e16, 1e10, R["R_D"], R["R_N"])
    assert d1 == pytest.approx(1e10) and dinf == pytest.approx(1e10 * (1 + R["R_D"]), rel=1e-6)


def test_both_routes_give_the_same_plan():
    a = data_constrained(chinchilla(), C, 1e11)
    b = data_constrained(repetition_law(), C, 1e11)
    assert a.params == pytest.approx(b.params, rel=1e-7) and a.epochs == pytest.approx(b.epochs, rel=1e-7)
    assert a.repetition["source"].startswith("Muennighoff") and b.repetition["source"].startswith("fitted")


def test_less_data_means_more_epochs_and_more_loss():
    plans = [data_constrained(chinchilla(), C, u) for u in (1e13, 1e12, 3e11, 1e11)]
    epochs = [p.epochs for p in plans]
    penalty = [p.loss_penalty for p in plans]
    assert epochs == sorted(epochs) and penalty == sorted(penalty) and penalty[0] >= 0
    for p in plans:
        assert p.tokens == pytest.approx(p.epochs * p.unique_tokens) and 6 * p.params * p.tokens == pytest.approx(C)
        assert p.effective_tokens <= p.tokens * (1 + 1e-12)
    assert plans[-1].unconstrained["loss"] == pytest.approx(plans[0].unconstrained["loss"])


def test_the_data_wall_is_flagged():
    with pytest.warns(FitWarning, match="cannot use this budget"):
        p = data_constrained(chinchilla(), C, 1e9)
    assert p.useful_flops < 0.5 * C
    ok = data_constrained(chinchilla(), C, 1e12)
    assert ok.useful_flops > 0.5 * C and ok.warnings == ()


def test_given_constants_and_intervals():
    p = data_constrained(chinchilla(draws=40), C, 2e11, repetition={"R_D": 5.0, "R_N": 5.0})
    assert p.repetition == {"R_D": 5.0, "R_N": 5.0, "source": "given"}
    lo, hi = p.intervals["epochs"]
    assert lo <= p.epochs <= hi
    faster = data_constrained(chinchilla(), C, 2e11, repetition={"R_D": 50.0, "R_N": 5.0})
    assert faster.loss < p.loss  # repeated data that decays more slowly is worth more


def test_fitted_repetition_law_on_datablations():
    runs = sl.load_dataset("datablations_contour")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sl.fit(runs, "data_constrained", bootstrap=20, seed=0)
    p = data_constrained(fit, 1e22, 1e10)
    assert p.epochs > 1 and p.loss_penalty > 0 and p.intervals is not None
    with pytest.raises(ScalingLawsError, match="fits its own R_D"):
        data_constrained(fit, 1e22, 1e10, repetition={"R_D": 3.0})


@pytest.mark.parametrize("kwargs, message", [
    ({"unique_tokens": 0.0}, "--unique-tokens must be positive"),
    ({"unique_tokens": 1e11, "repetition": {"R_X": 1.0}}, "not R_X"),
    ({"unique_tokens": 1e11, "repetition": {"R_D": -1.0}}, "--r-d must be positive"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ScalingLawsError, match=message):
        data_constrained(chinchilla(), C, **kwargs)
