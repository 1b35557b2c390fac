"""Quick refits of a law's free parameters.

Forecasting a run in flight refits only the parameters its own partial curve pins down and takes the rest from a
prior fit of finished runs (the smaller law, from laws/fixed.py, is what the ordinary engine fits). `refit_free`
refits the free parameters for many alternative values of the fixed ones (a prior's bootstrap draws) or many
resampled curves, each a small robust least-squares problem started from the point estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..laws.spec import Law

HUBER = 1e-3  # the engine's default: Huber on log residuals with δ = 1e-3


def refit_free(law: Law, x: Mapping[str, np.ndarray], ys: Sequence[np.ndarray], starts: Sequence[np.ndarray],
               free: Sequence[str]) -> np.ndarray:
    """For each (y, start): the full parameter vector (P,) with `free` refitted to y, the rest as in start.

    x: the law's inputs for the rows fitted; ys: targets for those rows. Returns (B, P).
    """
    idx = [law.param_names.index(n) for n in free]
    return np.array([_refit_one(law, x, idx, np.asarray(y, dtype=float), np.array(start, dtype=float))
                     for y, start in zip(ys, starts, strict=True)]).reshape(len(starts), law.n_params)


def _refit_one(law: Law, x, idx: list[int], y: np.ndarray, theta: np.ndarray) -> np.ndarray:
    from scipy.optimize import least_squares

    lo = np.array([law.params[j].bounds[0] for j in idx])
    hi = np.array([law.params[j].bounds[1] for j in idx])
    logy = np.log(y)

    def full(v):
        t = theta.copy()
        t[idx] = v
        return t

    def resid(v):
        with np.errstate(all="ignore"):
            f = np.asarray(law(x, full(v)[None]), dtype=float)[0]
            r = np.log(np.where(f > 0, f, np.nan)) - logy
        return np.where(np.isfinite(r), r, 1e3)

    def jac(v):
        p = law.unpack(full(v)[None])
        with np.errstate(all="ignore"):
            f = np.asarray(law.fn(x, p), dtype=float)[0]
            g = law.grad(x, p)
            cols = [np.broadcast_to(g[law.param_names[j]], (1, len(f)))[0] / f for j in idx]
        return np.nan_to_num(np.stack(cols, axis=1))

    # strictly inside the bounds, as least_squares requires
    margin = 1e-9 * np.maximum(1, np.abs(theta[idx]))
    v0 = np.clip(theta[idx], np.where(np.isfinite(lo), lo + margin, -np.inf),
                 np.where(np.isfinite(hi), hi - margin, np.inf))
    try:
        res = least_squares(resid, v0, jac=jac if law.grad is not None else "2-point", bounds=(lo, hi),
                            loss="huber", f_scale=HUBER, max_nfev=500)
        return full(res.x)
    except (ValueError, np.linalg.LinAlgError):
        return full(v0)
