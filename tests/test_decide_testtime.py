"""Test-time scaling: the pass@k estimator against brute force, coverage forecasts against the truth of simulated
problem sets, the verifier ceiling, and the best number of samples."""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.decide import forecast_testtime, pass_at_k
from scalinglaws.decide.testtime import coverage, fit_difficulty, verified


def test_pass_at_k_matches_counting_subsets():
    n, c = 7, 3
    outcomes = [1] * c + [0] * (n - c)
    for k in range(1, n + 1):
        subsets = list(combinations(range(n), k))
        brute = np.mean([any(outcomes[i] for i in s) for s in subsets])
        assert pass_at_k([n], [c], [k])[0, 0] == pytest.approx(brute, abs=1e-12)
        assert brute == pytest.approx(1 - comb(n - c, k) / comb(n, k))
    assert pass_at_k([10], [4], [1])[0, 0] == pytest.approx(0.4)  # pass@1 is the success rate
    assert np.isnan(pass_at_k([10], [4], [11])[0, 0])  # not measurable beyond n


def test_closed_form_coverage_agrees_with_the_verifier_model_and_simulation():
    theta = np.array([0.1, 0.4, 3.0])
    k = np.array([1, 7, 50, 400])
    exact = coverage(theta, k)[0]
    quad = verified(theta, k, fpr=0.0, tpr=1.0)[0][0]  # a perfect verifier accepts exactly the correct samples
    assert np.allclose(quad, exact, atol=2e-3)
    rng = np.random.default_rng(0)
    p = np.where(rng.random(200_000) < 0.1, 0.0, rng.beta(0.4, 3.0, 200_000))
    sim = [np.mean(1 - (1 - p) ** kk) for kk in k]
    assert np.allclose(sim, exact, atol=3e-3)


def simulated(seed: int, problems: int = 300, n: int = 100, truth=(0.2, 0.3, 3.0)):
    """Counts of a simulated problem set, and each problem's true success rate p."""
    rng = np.random.default_rng(seed)
    pi0, a, b = truth
    p = np.where(rng.random(problems) < pi0, 0.0, rng.beta(a, b, problems))
    data = {"problem": [f"p{i}" for i in range(problems)], "samples": np.full(problems, float(n)),
            "correct": rng.binomial(n, p).astype(float)}
    return data, p


def test_coverage_beyond_the_samples_is_forecast_within_its_interval():
    # 100 samples per problem; forecasts at 10x and 100x that. The truth is the simulated set's own coverage.
    hits, total = 0, 0
    for seed in range(8):
        data, p = simulated(seed)
        res = forecast_testtime(data, k=[10, 1000, 10000], bootstrap=100, seed=seed)
        assert res.fit_error < 0.01 and res.forecast[2]["beyond_data"] and not res.forecast[0]["beyond_data"]
        for row in res.forecast[1:]:
            truth = np.mean(1 - (1 - p) ** row["k"])
            hits += row["coverage_lower"] <= truth <= row["coverage_upper"]
            total += 1
    assert hits >= total - 3  # 95% intervals: measured 15 of 16


def test_false_positives_cap_accuracy_below_coverage():
    res = forecast_testtime(simulated(0)[0], k=[1, 100, 10000], fpr=0.05, bootstrap=40)
    assert res.ceiling["accuracy"] < res.ceiling["coverage"]
    acc = [r["accuracy"] for r in res.forecast]
    cov = [r["coverage"] for r in res.forecast]
    assert all(a <= c + 1e-9 for a, c in zip(acc, cov))
    # with one difficulty p for every problem the ceiling is p·tpr / (p·tpr + (1 - p)·fpr) (Stroebl et al. 2024)
    p, fpr = 0.3, 0.05
    concentrated = np.array([0.0, p * 1e5, (1 - p) * 1e5])  # Beta with all its mass at p
    limit = verified(concentrated, [10**9], fpr, 1.0)[0][0, 0]
    assert limit == pytest.approx(p / (p + (1 - p) * fpr), rel=1e-3)


def test_best_k_balances_value_against_cost():
    res = forecast_testtime(simulated(1)[0], k=[1, 10], fpr=0.02, sample_cost=1e-3, wrong_cost=0.5, bootstrap=20)
    best = res.best
    assert 1 <= best["k"] < best["searched_up_to"]
    theta = np.array([res.params[n] for n in ("unsolvable", "a", "b")])
    for k in (max(1, best["k"] // 4), best["k"] * 4):
        a, w, s = verified(theta, [k], 0.02, 1.0)
        assert a[0, 0] - 0.5 * w[0, 0] - 1e-3 * s[0, 0] <= best["utility"] + 1e-9


def test_one_row_per_sample_equals_counts():
    rng = np.random.default_rng(3)
    rows = {"problem": [], "correct": []}
    counts = {"problem": [], "samples": [], "correct": []}
    for i in range(20):
        outcomes = rng.random(30) < rng.uniform(0, 0.5)
        rows["problem"] += [f"q{i}"] * 30
        rows["correct"] += outcomes.astype(float).tolist()
        counts["problem"].append(f"q{i}")
        counts["samples"].append(30.0)
        counts["correct"].append(float(outcomes.sum()))
    a = forecast_testtime(rows, samples=None, bootstrap=0)
    b = forecast_testtime(counts, bootstrap=0)
    assert a.params == pytest.approx(b.params)


def test_maximum_likelihood_recovers_the_difficulty_distribution():
    data, _ = simulated(5, problems=2000, n=50)
    theta, _ = fit_difficulty(data["samples"], data["correct"])
    assert theta == pytest.approx([0.2, 0.3, 3.0], rel=0.25)


def test_bad_input_errors():
    data, _ = simulated(0)
    with pytest.raises(sl.ScalingLawsError, match="needs at least 5"):
        forecast_testtime({k: v[:3] for k, v in data.items()})
    bad = dict(data, correct=data["samples"] + 1)
    with pytest.raises(sl.ScalingLawsError, match="must be a whole number between 0 and 'samples'"):
        forecast_testtime(bad)
    with pytest.raises(sl.ScalingLawsError, match="nothing to extrapolate"):
        forecast_testtime(dict(data, correct=np.zeros(300)))
    with pytest.raises(sl.ScalingLawsError, match="--fpr must be in"):
        forecast_testtime(data, fpr=1.5)
    with pytest.raises(sl.ScalingLawsError, match="column 'attempts' is missing"):
        forecast_testtime(data, samples="attempts")
