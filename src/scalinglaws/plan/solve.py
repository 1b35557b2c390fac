"""Batched one-dimensional numerics for planning: a minimiser and a root finder over K rows at once.

Every planning question reduces to a search along one axis (log N at a fixed budget, log D at a fixed model size)
for K parameter vectors at once: the point estimate and every bootstrap draw. Both routines work on a (K, m) array
of abscissae and call the objective once per step for all rows, so a thousand bootstrap draws cost about as much
as one (the same array-axis idea as the fitting engine).

minimize: a log-spaced grid locates the basin of each row, then golden-section search (Kiefer 1953) inside the two
    grid cells around the best point refines it to machine-level precision. The grid guards against the golden
    search's one weakness, a function with more than one dip in the bracket.
root: bisection on a sign change, robust to the flat and the steep ends of power laws where Newton steps fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0  # 0.618...


@dataclass(frozen=True)
class Minimum:
    x: np.ndarray  # (K,) argmin
    f: np.ndarray  # (K,) minimum value
    at_edge: np.ndarray  # (K,) bool: the minimum sits at an end of the bracket (no interior optimum found)


def minimize(f: Callable[[np.ndarray], np.ndarray], lo, hi, *, rows: int, grid: int = 161,
             iters: int = 80) -> Minimum:
    """Minimise f over x in [lo, hi] for `rows` independent rows.

    f maps a (rows, m) array of x to (rows, m) values (nan or inf where undefined); lo, hi are scalars or (rows,).
    """
    lo = np.broadcast_to(np.asarray(lo, dtype=float), (rows,))
    hi = np.broadcast_to(np.asarray(hi, dtype=float), (rows,))
    t = np.linspace(0.0, 1.0, grid)
    xs = lo[:, None] + (hi - lo)[:, None] * t[None, :]  # (rows, grid)
    with np.errstate(all="ignore"):
        fs = np.asarray(f(xs), dtype=float)
    fs = np.where(np.isfinite(fs), fs, np.inf)
    i = np.argmin(fs, axis=1)  # (rows,)
    at_edge = (i == 0) | (i == grid - 1) | ~np.isfinite(fs[np.arange(rows), i])
    a = xs[np.arange(rows), np.maximum(i - 1, 0)]
    b = xs[np.arange(rows), np.minimum(i + 1, grid - 1)]
    c = b - GOLDEN * (b - a)
    d = a + GOLDEN * (b - a)
    with np.errstate(all="ignore"):
        fc = _finite(f(c[:, None])[:, 0])
        fd = _finite(f(d[:, None])[:, 0])
        for _ in range(iters):
            left = fc < fd  # the minimum lies in [a, d]: drop (d, b]; otherwise drop [a, c)
            a, b = np.where(left, a, c), np.where(left, d, b)
            c_new = np.where(left, b - GOLDEN * (b - a), d)
            d_new = np.where(left, c, a + GOLDEN * (b - a))
            f_new = _finite(f(np.where(left, c_new, d_new)[:, None])[:, 0])
            fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
            c, d = c_new, d_new
        x = 0.5 * (a + b)
        fx = _finite(f(x[:, None])[:, 0])
        # an optimum on the edge of where f is finite (a limit that makes f infinite beyond it): the bracket
        # closes on that edge and its midpoint may fall outside; keep the bracket's end inside instead
        fa, fb = _finite(f(a[:, None])[:, 0]), _finite(f(b[:, None])[:, 0])
        out = ~np.isfinite(fx)
        use_a = out & np.isfinite(fa) & ~(fb < fa)
        use_b = out & np.isfinite(fb) & ~use_a
        x = np.where(use_a, a, np.where(use_b, b, x))
        fx = np.where(use_a, fa, np.where(use_b, fb, fx))
    return Minimum(x=x, f=fx, at_edge=at_edge)


def root(g: Callable[[np.ndarray], np.ndarray], lo, hi, *, iters: int = 64) -> np.ndarray:
    """x in [lo, hi] with g(x) = 0, elementwise, for g monotone in x; nan where g does not change sign.

    lo and hi broadcast to a common shape S (e.g. (K, m)); g maps an S-shaped array of x to S-shaped values.
    """
    lo, hi = (np.array(v, dtype=float) for v in np.broadcast_arrays(lo, hi))
    with np.errstate(all="ignore"):
        g_lo = np.asarray(g(lo), dtype=float)
        g_hi = np.asarray(g(hi), dtype=float)
        ok = np.isfinite(g_lo) & np.isfinite(g_hi) & (np.sign(g_lo) != np.sign(g_hi))
        rising = g_hi > g_lo
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            below = (np.asarray(g(mid), dtype=float) > 0) == rising  # the root lies below mid
            hi = np.where(below, mid, hi)
            lo = np.where(below, lo, mid)
    return np.where(ok, 0.5 * (lo + hi), np.nan)


def _finite(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.where(np.isfinite(v), v, np.inf)
