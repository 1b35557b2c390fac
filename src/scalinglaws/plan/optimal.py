"""Compute-optimal allocation: the N and D that minimise a fitted law's loss at a FLOP budget C = k·N·D.

For Chinchilla's law the optimum has a closed form (Hoffmann et al. 2022, Appendix D.2, with k = 6):
    N* = G·(C/k)^(beta/(alpha+beta)),  D* = (C/k)/N*,  G = (alpha·A / (beta·B))^(1/(alpha+beta)).
Any other law of N and D (Kaplan's, the over-training law, a data-constrained law at given U, a formula) is
minimised numerically along the budget line, in log N, for the point fit and every bootstrap draw at once
(solve.py). Each planned quantity's interval is the percentile interval of that quantity over the draws.

The frontier repeats this over a range of budgets and reports the scaling exponents N* ∝ C^a, D* ∝ C^b (exact for
Chinchilla's law, a = beta/(alpha+beta); otherwise the least-squares slope of log N* on log C over the budgets).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import FitWarning, ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from .solve import minimize
from .surface import FLOPS_PER_PARAM, TOKENS_PER_PARAM_BOUNDS, Surface, as_surface, log_bounds_for_budget, positive


@dataclass(frozen=True, repr=False)
class Allocation(Tabular):
    flops: float
    params: float
    tokens: float
    loss: float
    tokens_per_param: float
    method: str  # "closed form" or "numerical"
    law: str = ""
    convention: str = f"C = {FLOPS_PER_PARAM:g}·N·D"
    intervals: dict | None = None  # quantity -> [lo, hi] over the bootstrap draws (None without a bootstrap)
    level: float | None = None
    extrapolation: float = 1.0  # factor beyond the fitted data's range of N, D (and C); 1 inside it
    warnings: tuple[str, ...] = ()
    interval_method: dict | None = None  # how the intervals were made (Surface.interval_method)

    def to_dict(self) -> dict:
        return {"format": format_of("allocation"), "flops": self.flops, "params": self.params, "tokens": self.tokens,
                "loss": self.loss, "tokens_per_param": self.tokens_per_param, "method": self.method, "law": self.law,
                "convention": self.convention, "intervals": self.intervals, "level": self.level,
                "interval_method": self.interval_method, "extrapolation": self.extrapolation,
                "warnings": list(self.warnings)}


def chinchilla_optimum(p, flops, k: float = FLOPS_PER_PARAM):
    """Closed-form N*, D* for Chinchilla parameters p (a mapping of floats or of (K,) arrays)."""
    a, b = np.asarray(p["alpha"]), np.asarray(p["beta"])
    g = (a * np.asarray(p["A"]) / (b * np.asarray(p["B"]))) ** (1.0 / (a + b))
    n = g * (np.asarray(flops) / k) ** (b / (a + b))
    return n, np.asarray(flops) / (k * n)


def optimum(surface: Surface, flops: float):
    """(N*, D*, L*, at_edge), each (K,), for every row of the surface at budget `flops`."""
    k = surface.flops_per_param
    if surface.closed_form:
        p = {name: surface.param(name) for name in ("A", "B", "alpha", "beta")}
        n, d = chinchilla_optimum(p, flops, k)
        loss = np.asarray(surface.loss(n[:, None], d[:, None])[:, 0], dtype=float)
        return n, d, loss, np.zeros(surface.rows, dtype=bool)
    lo, hi = log_bounds_for_budget(flops, k)
    res = minimize(lambda logn: surface.loss(np.exp(logn), flops / (k * np.exp(logn))), lo, hi, rows=surface.rows)
    n = np.exp(res.x)
    return n, flops / (k * n), res.f, res.at_edge


def edge_note(at_edge: np.ndarray, what: str) -> list[str]:
    """FitWarnings for optima that sit at the end of the search (the law has no interior optimum there)."""
    notes = []
    lo, hi = TOKENS_PER_PARAM_BOUNDS
    if at_edge[0]:
        notes.append(f"{what}: the law has no interior optimum between {lo:g} and {hi:g} tokens per parameter; "
                     "the plan sits at the end of that range. Check the fit (an exponent near 0 or at a bound)")
    if len(at_edge) > 1 and at_edge[1:].mean() > 0.05:
        notes.append(f"{what}: {int(at_edge[1:].sum())} of {len(at_edge) - 1} bootstrap draws have no interior "
                     "optimum: the interval is unreliable")
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=3)
    return notes


def compute_optimal(fit, flops: float, *, level: float | None = None, flops_per_param: float = FLOPS_PER_PARAM,
                    fixed=None, unique_tokens: float | None = None, calibration="default") -> Allocation:
    """The loss-minimising split of `flops` between parameters and tokens under the fit's law.

    fit: a Fit (or a Surface). level: coverage of the intervals (default: the fit's bootstrap level).
    flops_per_param: k in C = k·N·D. fixed: values of other inputs the law reads (column -> value).
    unique_tokens: plan under data repetition (see constrained.py for the full data-constrained plan).
    calibration: the model-error term of the loss's prediction interval ("default", "none", a file or a
        Calibration; fitting/calibration.py).
    """
    flops = positive(flops, "--flops", "5.76e23")
    surface = as_surface(fit, level=level, flops_per_param=flops_per_param, fixed=fixed,
                         unique_tokens=unique_tokens, calibration=calibration)
    n, d, loss, at_edge = optimum(surface, flops)
    notes = edge_note(at_edge, f"compute-optimal plan at C = {flops:.3g}")
    factor = surface.check_extrapolation(float(n[0]), float(d[0]), f"the compute-optimal plan at C = {flops:.3g}",
                                         notes)
    return Allocation(
        flops=flops, params=float(n[0]), tokens=float(d[0]), loss=float(loss[0]),
        tokens_per_param=float(d[0] / n[0]), method="closed form" if surface.closed_form else "numerical",
        law=surface.law.name, convention=surface.convention,
        intervals=surface.intervals(factor, params=n, tokens=d, loss=loss, tokens_per_param=d / n),
        level=surface.level, extrapolation=factor, warnings=tuple(notes),
        interval_method=surface.interval_method(factor))


@dataclass(frozen=True, repr=False)
class Frontier(Tabular):
    allocations: tuple[Allocation, ...]
    exponents: dict  # {"params": a, "tokens": b}: N* ∝ C^a, D* ∝ C^b
    intervals: dict | None  # {"params": [lo, hi], "tokens": [lo, hi]}
    level: float | None
    method: str
    interval_method: dict | None = None  # how the intervals were made (Surface.interval_method)

    def to_dict(self) -> dict:
        return {"format": format_of("frontier"), "exponents": self.exponents, "intervals": self.intervals,
                "level": self.level, "interval_method": self.interval_method,
                "method": self.method, "allocations": [a.to_dict() for a in self.allocations]}


def budgets(lo: float, hi: float, points: int = 11) -> np.ndarray:
    """Log-spaced FLOP budgets from lo to hi."""
    lo, hi = positive(lo, "--frontier", "1e20:1e25"), positive(hi, "--frontier", "1e20:1e25")
    if not hi > lo:
        raise ScalingLawsError(f"--frontier {lo:g}:{hi:g}: the upper budget must exceed the lower one")
    return np.geomspace(lo, hi, max(2, int(points)))


def frontier(fit, flops: Sequence[float], *, level: float | None = None,
             flops_per_param: float = FLOPS_PER_PARAM, fixed=None, unique_tokens: float | None = None,
             calibration="default") -> Frontier:
    """Compute-optimal allocations over several budgets and the exponents of N* and D* in C, with intervals
    (calibration: as for `compute_optimal`)."""
    values = [positive(c, "--frontier", "1e20:1e25") for c in flops]
    if len(values) < 2:
        raise ScalingLawsError("a frontier needs at least two budgets, e.g. --frontier 1e20:1e25")
    surface = as_surface(fit, level=level, flops_per_param=flops_per_param, fixed=fixed,
                         unique_tokens=unique_tokens, calibration=calibration)
    log_c = np.log(np.asarray(values))
    ns, ds, allocs = [], [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # one warning per kind for the whole frontier, issued below
        for c in values:
            allocs.append(compute_optimal(surface, c))
            n, d, _, _ = optimum(surface, c)
            ns.append(np.log(n))
            ds.append(np.log(d))
    ln, ld = np.array(ns), np.array(ds)  # (budgets, K)
    xc = log_c - log_c.mean()
    slope_n = (xc @ (ln - ln.mean(axis=0))) / (xc @ xc)  # (K,)
    slope_d = (xc @ (ld - ld.mean(axis=0))) / (xc @ xc)
    kinds: dict = {}
    for w in caught:
        kinds.setdefault(w.category, []).append(str(w.message))
    for category, messages in kinds.items():
        more = f" (and {len(messages) - 1} more budgets)" if len(messages) > 1 else ""
        warnings.warn(messages[-1] + more, category, stacklevel=2)
    return Frontier(allocations=tuple(allocs), exponents={"params": float(slope_n[0]), "tokens": float(slope_d[0])},
                    intervals=surface.intervals(params=slope_n, tokens=slope_d), level=surface.level,
                    method=allocs[0].method, interval_method=surface.interval_method())
