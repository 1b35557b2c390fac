"""A fitted law as a curve of one scale variable: loss against compute along the compute-optimal frontier.

Comparing two recipes means comparing what each achieves per unit of scale. For a law of one input (power, bnsl)
that is the law itself. For a law of model size N and data D it is the frontier

    L*(C) = min over N of L(N, C / (6N))      (C = 6·N·D: Kaplan et al. 2020 eq. 2.1; Hoffmann et al. 2022 §3)

the best loss a budget of C FLOP buys when N and D are split optimally. The minimum is found on a log-spaced grid of
N around sqrt(C/6) spanning eight decades of tokens per parameter either way, then refined by a parabola through the
three best grid points in log N, for every parameter draw and every budget at once: arrays (K, budgets, grid).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import ScalingLawsError

GRID = 161  # N values per budget: 0.1 decade apart over 16 decades of D/N
SPAN = 8.0  # decades of tokens-per-parameter either side of D = N


def curve_axis(fit, at: Mapping[str, float]) -> str:
    """The scale column a fit's law is a curve of: its single input's column, or flops for N, D laws."""
    cols = set(fit.inputs.values())
    if len(cols) == 1:
        return next(iter(cols))
    if {"params", "tokens"} <= cols and cols <= {"params", "tokens", "flops"} | set(at):
        return "flops"
    raise ScalingLawsError(f"law '{fit.law}' reads {', '.join(sorted(cols))}: it is not a curve of one scale. "
                           "Compare with a law of params and tokens (chinchilla, ...) or of one input (power)")


def curve(fit, law, theta: np.ndarray, scale: np.ndarray, fixed: Mapping[str, float] | None = None) -> np.ndarray:
    """(K, G) loss at G values of the fit's scale axis for K parameter rows theta (K, P).

    fixed: values of other inputs (e.g. unique_tokens for a data-constrained law), by column.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    scale = np.asarray(scale, dtype=float)
    fixed = dict(fixed or {})
    binding = dict(fit.inputs)
    cols = set(binding.values())
    if len(cols) == 1:
        x = {sym: scale for sym in binding}
        with np.errstate(all="ignore"):
            return np.asarray(law(x, theta), dtype=float)
    missing = [c for c in cols - {"params", "tokens", "flops"} if c not in fixed]
    if missing:
        raise ScalingLawsError(f"law '{fit.law}' also needs {', '.join(missing)}: give it with --at "
                               f"{missing[0]}=VALUE")
    # (G, M) grid of model sizes around the budget's D = N point
    centre = np.log10(np.sqrt(scale / 6.0))
    logn = centre[:, None] + np.linspace(-SPAN / 2, SPAN / 2, GRID)[None, :]
    n = 10.0 ** logn
    d = scale[:, None] / (6.0 * n)
    values = {"params": n.ravel(), "tokens": d.ravel(), "flops": np.repeat(scale, GRID)}
    values.update({c: np.full(n.size, float(v)) for c, v in fixed.items()})
    x = {sym: values[col] for sym, col in binding.items()}
    with np.errstate(all="ignore"):
        loss = np.asarray(law(x, theta), dtype=float).reshape(len(theta), len(scale), GRID)
    loss = np.where(np.isfinite(loss), loss, np.inf)
    j = np.clip(np.argmin(loss, axis=2), 1, GRID - 2)  # (K, G)
    y0 = np.take_along_axis(loss, (j - 1)[..., None], 2)[..., 0]
    y1 = np.take_along_axis(loss, j[..., None], 2)[..., 0]
    y2 = np.take_along_axis(loss, (j + 1)[..., None], 2)[..., 0]
    with np.errstate(all="ignore"):
        curv = y0 - 2 * y1 + y2
        # vertex of the parabola through three equally spaced points: y1 - (y2 - y0)^2 / (8·curvature)
        refined = np.where(curv > 0, y1 - (y2 - y0) ** 2 / (8.0 * curv), y1)
    return np.where(np.isfinite(refined), np.minimum(refined, y1), y1)


def inverse(scale: np.ndarray, values: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Scale at which a decreasing curve (values over scale, (K, G)) reaches `target` (K, T), log-interpolated.

    NaN where the target lies outside the curve's range on the grid (below its lowest value: more scale than the
    grid holds; above its highest: less).
    """
    logs = np.log(scale)
    out = np.full(target.shape, np.nan)
    for k in range(values.shape[0]):
        v = values[k]
        ok = np.isfinite(v)
        if ok.sum() < 2:
            continue
        vk, lk = v[ok][::-1], logs[ok][::-1]  # increasing values for np.interp
        vk = np.maximum.accumulate(vk)  # guard against a wiggle from finite precision
        t = target[k]
        inside = (t >= vk[0]) & (t <= vk[-1])
        out[k, inside] = np.exp(np.interp(t[inside], vk, lk))
    return out
