"""Least squares on the natural scale, for quantities that can be zero: accuracies, error rates, coverage.

The engine (scalinglaws.fitting) fits log residuals, right for losses but undefined for an accuracy of 0 (a
generative task before it emerges, pass@1 on hard problems). Links from loss to accuracy and coverage curves are fitted
here instead, by the same machinery: a `Law` for the function, bounds as a change of variables (Transform), a Latin
hypercube of starts advanced together by the batched BFGS (minimize_batch), and a bootstrap over runs whose draws are
rows of the same batch (Efron & Tibshirani 1993, ch. 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..fitting.bootstrap import resample_weights
from ..fitting.optimize import CONVERGED, minimize_batch
from ..fitting.starts import latin_hypercube
from ..fitting.transforms import Transform
from ..laws.spec import Law, predict_with_jacobian

STARTS = 64
MAXITER = 500
FTOL = 1e-10  # natural-scale objectives: stop at a relative improvement far below the data's noise


@dataclass(frozen=True)
class CurveFit:
    """Parameters of a natural-scale least-squares fit, its bootstrap draws and residuals."""

    law: Law
    params: Mapping[str, float]
    draws: np.ndarray | None  # (B, P) in the law's parameter order
    residuals: np.ndarray  # observed - fitted, in data order
    rmse: float
    converged: bool

    def theta(self) -> np.ndarray:
        return np.array([self.params[n] for n in self.law.param_names])

    def predict(self, x: Mapping[str, np.ndarray], draws: bool = False) -> np.ndarray:
        """(n,) at the point estimate, or (B, n) for the bootstrap draws."""
        theta = self.draws if draws else self.theta()[None]
        with np.errstate(all="ignore"):
            out = np.asarray(self.law(x, theta), dtype=float)
        return out if draws else out[0]


class _Squares:
    """Σ w·(f(x; θ) - y)² for K parameter rows; weights shared (n,) or one row per bootstrap draw (B, n)."""

    def __init__(self, law: Law, x, y, weights):
        self.law, self.x, self.y, self.w = law, x, y, weights
        self.transform = Transform(law.params)

    def _w(self, rows):
        return self.w if self.w.ndim == 1 else self.w[rows]

    def value(self, u, rows):
        theta = self.transform.to_theta(u)
        with np.errstate(all="ignore"):
            r = np.asarray(self.law(self.x, theta), dtype=float) - self.y
            f = (self._w(rows) * r * r).sum(axis=-1)
        return np.where(np.isfinite(f), f, np.inf)

    def value_grad(self, u, rows):
        theta = self.transform.to_theta(u)
        with np.errstate(all="ignore"):
            pred, jac = predict_with_jacobian(self.law, self.x, theta)
            r = pred - self.y
            w = self._w(rows)
            f = (w * r * r).sum(axis=-1)
            # the Jacobian is a (K, P, n) array (complex step) or a list of P arrays (K, n) (analytic)
            cols = [jac[:, j] if isinstance(jac, np.ndarray) else jac[j] for j in range(u.shape[1])]
            g = np.stack([(2 * w * r * c).sum(axis=-1) for c in cols], axis=1)
            g = g * self.transform.jacobian(u)
        bad = ~np.isfinite(f) | ~np.all(np.isfinite(g), axis=1)
        f = np.where(bad, np.inf, f)
        g[bad] = 0.0
        return f, g


def _design(law: Law, k: int, rng) -> np.ndarray:
    unit = latin_hypercube(k, law.n_params, rng)
    theta = np.empty((k, law.n_params))
    for j, p in enumerate(law.params):
        lo, hi = p.start
        if p.log_start:
            theta[:, j] = np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * unit[:, j])
        else:
            theta[:, j] = lo + (hi - lo) * unit[:, j]
    return theta


def fit_curve(law: Law, x: Mapping[str, np.ndarray], y: np.ndarray, *, runs: np.ndarray | None = None,
              bootstrap: int = 0, seed: int = 0, starts: int = STARTS) -> CurveFit:
    """Fit `law` to y by least squares; with `bootstrap`, refit on resampled runs (run ids `runs`)."""
    x = {k: np.asarray(v, dtype=float) for k, v in x.items()}
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng([seed, 3])
    problem = _Squares(law, x, y, np.ones_like(y))
    theta0 = _design(law, starts, rng)
    u0 = problem.transform.to_u(theta0)
    res = minimize_batch(problem.value, problem.value_grad, u0, maxiter=MAXITER, ftol=FTOL)
    b = int(np.argmin(np.where(np.isfinite(res.f), res.f, np.inf)))
    theta = problem.transform.to_theta(res.u[b:b + 1])[0]
    draws = None
    if bootstrap:
        ids = np.arange(len(y)).astype(str) if runs is None else np.asarray(runs, dtype=str)
        w = resample_weights(ids, bootstrap, np.random.default_rng([seed, 1]))  # (B, n)
        boot = _Squares(law, x, y, w)
        out = minimize_batch(boot.value, boot.value_grad, np.tile(res.u[b], (bootstrap, 1)), maxiter=MAXITER,
                             ftol=FTOL)
        draws = boot.transform.to_theta(out.u)
    with np.errstate(all="ignore"):
        fitted = np.asarray(law(x, theta[None]), dtype=float)[0]
    resid = y - fitted
    return CurveFit(law=law, params={n: float(v) for n, v in zip(law.param_names, theta)}, draws=draws,
                    residuals=resid, rmse=float(np.sqrt(np.mean(resid ** 2))),
                    converged=bool(res.status[b] == CONVERGED))
