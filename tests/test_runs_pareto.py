"""The compute-Pareto front: against a brute-force definition, and on a grid whose front is known."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.runs.pareto import pareto_front


def brute(cost, value):
    return np.array([all(value[j] > value[i] for j in range(len(cost)) if j != i and cost[j] <= cost[i]
                         and not (j > i and cost[j] == cost[i] and value[j] == value[i]))
                     for i in range(len(cost))])


@pytest.mark.parametrize("seed", range(5))
def test_front_matches_its_definition(seed):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 12, 40).astype(float)  # ties in cost and value on purpose
    value = rng.integers(0, 8, 40).astype(float)
    np.testing.assert_array_equal(pareto_front(cost, value), brute(cost, value))
    np.testing.assert_array_equal(pareto_front(cost, -value, higher_better=True), brute(cost, value))


def test_front_of_a_grid_is_its_compute_optimal_shape():
    """Error = A/N + B/D with C = N·D: on a grid of N × D the front keeps, per compute, the best N; each row it
    drops has a cheaper row that is better."""
    n, d = np.meshgrid(np.geomspace(1, 1e3, 7), np.geomspace(1, 1e3, 7))
    n, d = n.ravel(), d.ravel()
    c, err = n * d, 1 / n + 1 / d
    keep = pareto_front(c, err)
    assert keep.sum() >= 7 and np.all(np.diff(err[keep][np.argsort(c[keep])]) < 0)
    for i in np.flatnonzero(~keep):
        assert np.any((c <= c[i]) & (err <= err[i]) & keep)
    assert pareto_front([1.0, np.nan, 2.0, 3.0], [1.0, 0.5, np.nan, 0.9]).tolist() == [True, False, False, True]
