"""IsoFLOP profiles (Chinchilla's Approach 2): the loss-minimising model size at each compute budget.

Runs are grouped into budgets (equal C within a relative tolerance); in each budget the loss is a function of
x = log N along the line C = k·N·D, and the profile's minimum x* gives N*(C). Three profile fits:

- "shape" (default): the profile a Chinchilla-like surface actually has. At fixed C, E + A·N^-α + B·D^-β becomes
      L(x) = e_c + a_c·exp(-α·x) + b_c·exp(β·x),
  an asymmetric curve, with minimum x* = log(α·a_c / (β·b_c)) / (α + β). The exponents α, β are shared by all
  budgets (they are properties of the surface) while e_c, a_c, b_c are free per budget, so the profile is not
  forced onto one parametric law across budgets (that is Approach 3). The linear coefficients are solved exactly
  for each (α, β) (variable projection, Golub & Pereyra 1973) and (α, β) by Nelder-Mead over their logs.
- "parabola": a quadratic in log N per budget, as Hoffmann et al. (2022, §3.2) did. The profile is not a parabola
  when α ≠ β or the sampling is wide or off-centre, and its vertex is then biased, mainly in the intercept of the
  N*(C) power law (shown on synthetic data in tests/test_plan_approaches.py); kept for comparison.
- "interp": Akima interpolation of log loss in log N and the minimum of the interpolant on a fine grid, as
  Porian et al. (2024) do; no functional assumption, but resolution limited by the sweep.

A budget whose best observed point sits at either end of its sweep has no bracketed minimum and is left out (with
a note), as in Porian et al. (2024). Points far up the sides of a profile (tiny models or models trained on a
token or two per parameter) follow no simple law; `window` keeps the points within a relative loss margin of the
budget's best (at least the best and two neighbours on each side).

Every function takes bootstrap weights W (B, n): how often each point is drawn in each resample.
"""

from __future__ import annotations

import numpy as np

PROFILES = ("shape", "parabola", "interp")
EXPONENT_BOUNDS = (0.01, 10.0)  # α, β of the shape profile


def group_budgets(log_c: np.ndarray, tol: float = 0.1) -> np.ndarray:
    """Budget labels 0..G-1: sorted log C values closer than log(1 + tol) share a budget."""
    order = np.argsort(log_c, kind="stable")
    gaps = np.diff(log_c[order]) > np.log1p(tol)
    labels = np.empty(len(log_c), dtype=int)
    labels[order] = np.concatenate([[0], np.cumsum(gaps)])
    return labels


def select(x: np.ndarray, loss: np.ndarray, budget: np.ndarray, window: float):
    """Points kept for each budget's profile, and the budgets with a bracketed minimum.

    Returns (keep (n,) bool, usable (G,) bool, centre (G,) log N of each budget's best point).
    """
    G = int(budget.max()) + 1
    keep = np.zeros(len(x), dtype=bool)
    usable = np.zeros(G, dtype=bool)
    centre = np.full(G, np.nan)
    for g in range(G):
        idx = np.flatnonzero(budget == g)
        idx = idx[np.argsort(x[idx], kind="stable")]
        best = int(np.argmin(loss[idx]))
        centre[g] = x[idx[best]]
        if best == 0 or best == len(idx) - 1 or len(idx) < 3:
            continue
        near = loss[idx] <= loss[idx[best]] * (1.0 + window)
        near[max(best - 2, 0): best + 3] = True
        keep[idx[near]] = True
        usable[g] = True
    return keep, usable, centre


# -- parabola -----------------------------------------------------------------------------------------------------
def parabola_vertices(x, y, g, G, W):
    """(B, G) vertex x* and loss of a weighted quadratic fit per budget; nan where the parabola opens downward."""
    X = np.stack([np.ones_like(x), x, x * x], axis=1)  # (n, 3)
    onehot = np.eye(G)[g]  # (n, G)
    XtX = np.einsum("bn,ng,ni,nj->bgij", W, onehot, X, X)
    Xty = np.einsum("bn,ng,ni,n->bgi", W, onehot, X, y)
    c = _solve(XtX, Xty)  # (B, G, 3)
    with np.errstate(all="ignore"):
        v = np.where(c[..., 2] > 0, -c[..., 1] / (2 * c[..., 2]), np.nan)
        lv = c[..., 0] + c[..., 1] * v + c[..., 2] * v * v
    return v, lv


# -- shape ----------------------------------------------------------------------------------------------------------
def _shape_solve(x, y, wg, log_ab):
    """SSE, per-budget coefficients (G, 3) and (α, β) of the shape profile at exponents exp(log_ab).

    wg: (G, n) weights of each point in each budget (zero outside it)."""
    a, b = np.exp(log_ab)
    X = np.stack([np.ones_like(x), np.exp(-a * x), np.exp(b * x)], axis=1)  # (n, 3)
    XtX = (wg @ (X[:, :, None] * X[:, None, :]).reshape(len(x), 9)).reshape(-1, 3, 3)  # (G, 3, 3)
    Xty = wg @ (X * y[:, None])  # (G, 3)
    coef = _solve(XtX, Xty)
    fitted = np.einsum("ni,gi->gn", X, coef)  # (G, n): each budget's curve at every point
    sse = float(np.sum(wg * (y[None, :] - fitted) ** 2))
    return sse, coef, a, b


def shape_vertices(x, y, g, G, W):
    """(B, G) minimum x* and loss of the shared-exponent profile per budget, and the (B, 2) exponents (α, β).

    A minimum outside the budget's sampled range of x is not bracketed by data and is reported as nan."""
    from scipy.optimize import minimize

    onehot = np.eye(G)[g].T  # (G, n)
    lo, hi = np.log(EXPONENT_BOUNDS[0]), np.log(EXPONENT_BOUNDS[1])
    x_lo = np.array([x[g == k].min() if (g == k).any() else np.nan for k in range(G)])
    x_hi = np.array([x[g == k].max() if (g == k).any() else np.nan for k in range(G)])
    grid = np.linspace(np.log(0.03), np.log(3.0), 16)
    start = min(((_shape_solve(x, y, onehot * W[0], np.array([p, q]))[0], p, q) for p in grid for q in grid))
    start = np.array(start[1:])
    B = W.shape[0]
    v = np.full((B, G), np.nan)
    lv = np.full((B, G), np.nan)
    exps = np.full((B, 2), np.nan)
    for i in range(B):
        wg = onehot * W[i]
        res = minimize(lambda p: _shape_solve(x, y, wg, np.clip(p, lo, hi))[0], start, method="Nelder-Mead",
                       options={"xatol": 1e-5, "fatol": 1e-12, "maxiter": 2000})
        p = np.clip(res.x, lo, hi)
        if i == 0:
            start = p  # draws start from the point fit: they are perturbations of it
        _, coef, a, b = _shape_solve(x, y, wg, p)
        with np.errstate(all="ignore"):
            xv = np.log(a * coef[:, 1] / (b * coef[:, 2])) / (a + b)
            ok = (coef[:, 1] > 0) & (coef[:, 2] > 0) & (xv >= x_lo) & (xv <= x_hi)
            xv = np.where(ok, xv, np.nan)
            lv[i] = coef[:, 0] + coef[:, 1] * np.exp(-a * xv) + coef[:, 2] * np.exp(b * xv)
        v[i] = xv
        exps[i] = (a, b)
    return v, lv, exps


# -- interp ---------------------------------------------------------------------------------------------------------
def interp_vertices(x, y, g, G, W, points: int = 400):
    """(B, G) minimum of an Akima interpolant of log loss in x per budget (interior minima only)."""
    from scipy.interpolate import Akima1DInterpolator

    B = W.shape[0]
    v = np.full((B, G), np.nan)
    lv = np.full((B, G), np.nan)
    for i in range(B):
        for k in range(G):
            m = (g == k) & (W[i] > 0)
            xs, idx = np.unique(x[m], return_index=True)
            if len(xs) < 3:
                continue
            f = Akima1DInterpolator(xs, np.log(y[m][idx]))
            grid = np.linspace(xs[0], xs[-1], points)
            vals = f(grid)
            j = int(np.nanargmin(vals))
            if 0 < j < points - 1:
                v[i, k], lv[i, k] = grid[j], float(np.exp(vals[j]))
    return v, lv


def profile_vertices(method: str, x, y, g, G, W):
    """Dispatch: (B, G) minima x* (relative to each budget's centre) and losses there."""
    if method == "shape":
        v, lv, _ = shape_vertices(x, y, g, G, W)
        return v, lv
    if method == "parabola":
        return parabola_vertices(x, y, g, G, W)
    return interp_vertices(x, y, g, G, W)


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched solves of A·c = b for small symmetric A; a singular system (an empty or degenerate budget) falls
    back to the pseudo-inverse, whose answer is then checked like any other."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.solve(A, b[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return np.einsum("...ij,...j->...i", np.linalg.pinv(A), b)


def power_law(log_c: np.ndarray, log_n: np.ndarray):
    """Least-squares slope and intercept of log N* on log C for each row of log_n (B, G); nan entries ignored."""
    m = np.isfinite(log_n)
    cnt = m.sum(axis=1)
    xc = np.where(m, log_c[None, :], 0.0)
    yc = np.where(m, log_n, 0.0)
    with np.errstate(all="ignore"):
        mx = xc.sum(axis=1) / cnt
        my = yc.sum(axis=1) / cnt
        dx = np.where(m, log_c[None, :] - mx[:, None], 0.0)
        dy = np.where(m, log_n - my[:, None], 0.0)
        slope = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    slope = np.where(cnt >= 2, slope, np.nan)
    return slope, my - slope * mx
