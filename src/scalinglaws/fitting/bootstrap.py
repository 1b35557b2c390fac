"""Bootstrap by run: resample runs with replacement, refit, and keep every draw's parameters.

Rows of one run (checkpoints of one training curve) are strongly correlated; resampling rows would treat them as
independent and fake certainty. So a draw picks R runs out of R with replacement and gives each row the weight of
how often its run was picked (Efron & Tibshirani 1993, ch. 6; Choshen 2024 on checkpoints). All draws are refitted
together by the engine's `refine` (optimize.py): rows of one batched BFGS, each starting from the point estimate with
its inverse-Hessian estimate, and a Levenberg-Marquardt restart for the draws BFGS cannot finish.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError
from .optimize import CONVERGED, refine
from .problem import Problem
from .record import Bootstrap

MAX_ELEMENTS = 800_000  # draws × points × parameters per batch: small enough to stay in cache
MEMORY_BUDGET = 8 * 2**30  # bytes: a bootstrap whose resampling tables would need more is refused up front


def check_size(n: int, rows: int, runs: int, params: int) -> None:
    """Refuse a bootstrap whose tables of draws (n × (runs + rows + params) numbers, a few copies of each) would
    not fit the memory budget, with the memory it would need and the most draws that fit."""
    per_draw = 8 * (3 * runs + rows + params)  # bytes: picks, their counts, each row's weight, the draw itself
    need = n * per_draw
    if need > MEMORY_BUDGET:
        fits = MEMORY_BUDGET // per_draw
        raise ArgumentError("bootstrap", f"bootstrap={n:,} would need {need / 2**30:,.1f} GiB of memory for "
                                         f"{rows:,} rows of {runs:,} runs (the budget is "
                                         f"{MEMORY_BUDGET / 2**30:.0f} GiB). Ask for at most {fits:,} draws; "
                                         "1,000 give intervals to about a percent")


def resample_weights(run_ids: np.ndarray, n: int, rng: np.random.Generator, strata=None) -> np.ndarray:
    """(n, rows): how often each row's run was drawn, for n resamples of the runs; with `strata` (one label per
    row), runs are drawn within each stratum, so every stratum keeps its number of runs."""
    _, run_index = np.unique(np.asarray(run_ids, dtype=str), return_inverse=True)
    n_runs = int(run_index.max()) + 1
    if strata is None:
        picks = rng.integers(0, n_runs, size=(n, n_runs))  # R runs drawn with replacement, per resample
    else:
        labels = np.empty(n_runs, dtype=object)
        labels[run_index] = np.asarray(strata).astype(str)
        picks = np.empty((n, n_runs), dtype=int)
        for lab in np.unique(labels.astype(str)):
            members = np.flatnonzero(labels.astype(str) == lab)
            picks[:, members] = members[rng.integers(0, len(members), size=(n, len(members)))]
    flat = (np.arange(n)[:, None] * n_runs + picks).ravel()
    counts = np.bincount(flat, minlength=n * n_runs).reshape(n, n_runs).astype(float)  # (n, R)
    return counts[:, run_index]


def inverse_hessian(problem: Problem, u: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray | None:
    """The objective's inverse Hessian at the optimum, from central differences of the gradient.

    Every draw's BFGS starts with it: draws begin near the optimum, so a good curvature estimate makes their first
    steps Newton steps, whatever the scale of the parameters (a formula law's A ~ 500 next to alpha ~ 0.3).
    Eigenvalues are floored so a flat direction gets a large but finite step rather than an infinite one.
    """
    P = len(u)
    h = 1e-5 * np.maximum(1.0, np.abs(u))  # (P,)
    steps = np.concatenate([u + np.diag(h), u - np.diag(h)])  # (2P, P)
    _, g = problem.value_grad(steps)
    hess = (g[:P] - g[P:]) / (2 * h[:, None])
    hess = 0.5 * (hess + hess.T)
    if not np.all(np.isfinite(hess)):
        return fallback if fallback is not None and np.all(np.isfinite(fallback)) else None
    vals, vecs = np.linalg.eigh(hess)
    top = vals.max()
    if not top > 0:
        return fallback if fallback is not None and np.all(np.isfinite(fallback)) else None
    vals = np.maximum(vals, 1e-10 * top)
    return (vecs / vals) @ vecs.T


def compact(weights: np.ndarray) -> np.ndarray:
    """(B, n) weights -> (B, m) indices of each draw's rows with non-zero weight, padded with -1.

    About a third of the runs are missing from any one draw (1/e of them); leaving their rows out of the arithmetic
    saves that much work in every iteration.
    """
    nonzero = weights > 0
    m = int(nonzero.sum(axis=1).max())
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :m]  # (B, m): rows that were drawn come first
    return np.where(np.take_along_axis(nonzero, order, axis=1), order, -1)


def run_bootstrap(problem: Problem, run_ids: np.ndarray, u_hat: np.ndarray, H_hat: np.ndarray, *, n: int,
                  level: float, seed: int, progress: Callable[[int, int], None] | None = None, strata=None
                  ) -> tuple[Bootstrap, int]:
    # A stream of its own, so the draws do not depend on how many random numbers the start design used.
    rng = np.random.default_rng([seed, 1])
    counts = resample_weights(run_ids, n, rng, strata)  # (n, rows)
    P = len(u_hat)
    batch = max(1, min(n, MAX_ELEMENTS // max(1, problem.n * P)))
    draws = np.empty((n, P))
    failed = 0
    H0 = inverse_hessian(problem, u_hat, fallback=H_hat)
    for lo in range(0, n, batch):
        c = counts[lo:lo + batch]
        rows = compact(c)
        sub = problem.per_row(rows)
        sub.weights = sub.weights * np.take_along_axis(c, np.maximum(rows, 0), axis=1)  # base weight × times drawn
        res = refine(sub, np.tile(u_hat, (len(c), 1)), H0=H0, maxiter=300)
        draws[lo:lo + len(c)] = problem.theta(res.u)
        failed += int(np.sum(res.status != CONVERGED))
        if progress is not None:
            progress(min(lo + batch, n), n)
    boot = Bootstrap(n=n, level=level, unit="run", draws=tuple(tuple(float(v) for v in row) for row in draws),
                     failed=failed, seed=seed)
    return boot, failed
