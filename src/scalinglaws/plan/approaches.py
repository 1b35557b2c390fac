"""Chinchilla's three approaches to the compute-optimal frontier, side by side on one sweep (Hoffmann et al. 2022, §3).

1. Envelope: at each budget, the model size of the lowest loss any run reached (the envelope of the training
   curves). With final points only, the best observed run per budget.
2. IsoFLOP profiles: a curve through each budget's losses in log N and its minimum (isoflop.py; the default
   "shape" profile removes the bias of parabola fits, which are reported alongside for comparison).
3. Parametric: a law L(N, D) fitted to all points (default Chinchilla's), then minimised along C = k·N·D.

Approaches 1 and 2 give N*(C) at each budget and a power law N* = G·C^a fitted in log space; the third gives a
directly. All three see the same points: the runs of an IsoFLOP sweep, or, for training curves, each curve read
at a grid of budgets (log-linear interpolation in log C, no extrapolation past a run's end, as Porian et al. 2024
read their curves). Intervals come from one bootstrap over runs shared by approaches 1 and 2 (stratified by budget
when every run belongs to one budget); approach 3 uses the fitting engine's bootstrap by run.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataWarning, ScalingLawsError
from ..fitting.interval import check_level
from ..records import format_of
from ..render.table import Tabular
from ..render.text import plural
from .isoflop import PROFILES, group_budgets, power_law, profile_vertices, select
from .surface import FLOPS_PER_PARAM, positive

TARGET_FACTOR = 100.0  # default target budget: two decades beyond the sweep's largest


@dataclass(frozen=True)
class Approach:
    name: str  # "envelope", "isoflop", "isoflop-parabola", "parametric"
    title: str
    exponent_params: float  # a in N* ∝ C^a
    exponent_tokens: float  # b in D* ∝ C^b
    params: float  # N* at the target budget
    tokens: float
    tokens_per_param: float
    intervals: dict | None
    budgets: int  # budgets that entered the power law (approach 3: points fitted)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return dict(self.__dict__, notes=list(self.notes))


@dataclass(frozen=True, repr=False)
class Approaches(Tabular):
    source: str
    flops: float  # the target budget
    approaches: tuple[Approach, ...]
    profiles: tuple[dict, ...]  # per budget: flops, points, envelope/profile N*, loss at the profile minimum
    agreement: dict
    level: float
    bootstrap: int
    seed: int
    profile: str
    window: float
    convention: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": format_of("approaches"), "source": self.source, "flops": self.flops,
                "approaches": [a.to_dict() for a in self.approaches], "agreement": self.agreement,
                "profiles": list(self.profiles), "level": self.level,
                "bootstrap": self.bootstrap, "seed": self.seed, "profile": self.profile, "window": self.window,
                "convention": self.convention, "warnings": list(self.warnings)}


def budget_points(runs, k: float, tol: float, grid: int = 12):
    """(run ids, log C, log N, loss, budget label) of the points all three approaches use."""
    n, d, loss = runs["params"], runs["tokens"], runs["loss"]
    c = runs["flops"] if "flops" in runs and np.all(np.isfinite(runs["flops"])) else k * n * d
    ids = runs.run_ids.astype(str)
    uniq, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    if counts.max() == 1:  # final points: group them into budgets
        log_c = np.log(c)
        return ids, log_c, np.log(n), loss, group_budgets(log_c, tol), False
    # training curves: read every curve at a grid of budgets covered by at least three runs
    lo = np.array([np.log(c[inverse == r]).min() for r in range(len(uniq))])
    hi = np.array([np.log(c[inverse == r]).max() for r in range(len(uniq))])
    grid_c = np.linspace(np.sort(lo)[min(2, len(lo) - 1)], np.sort(hi)[::-1][min(2, len(hi) - 1)], grid)
    rows = []
    for r in range(len(uniq)):
        m = inverse == r
        lc, ll = np.log(c[m]), np.log(loss[m])
        o = np.argsort(lc)
        for j, gc in enumerate(grid_c):
            if lo[r] <= gc <= hi[r]:
                rows.append((uniq[r], gc, np.log(n[m][0]), float(np.exp(np.interp(gc, lc[o], ll[o]))), j))
    if not rows:
        raise ScalingLawsError(f"{runs.source}: no budget is reached by three training curves; approaches 1 and 2 "
                               "need several model sizes at the same compute")
    r_ids, r_c, r_n, r_l, r_g = (np.array(v) for v in zip(*rows))
    _, r_g = np.unique(r_g, return_inverse=True)
    return r_ids.astype(str), r_c.astype(float), r_n.astype(float), r_l.astype(float), r_g, True


def resample(ids: np.ndarray, budget: np.ndarray, B: int, rng) -> np.ndarray:
    """(1 + B, n) weights: row 0 all ones, then B resamples of runs (within budgets when runs do not span them)."""
    uniq, inv = np.unique(ids, return_inverse=True)
    strata = budget if len(uniq) == len(ids) else np.zeros(len(ids), dtype=int)
    W = np.ones((1 + B, len(ids)))
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        runs = np.unique(inv[members])
        counts = rng.multinomial(len(runs), np.full(len(runs), 1.0 / len(runs)), size=B)  # (B, runs in stratum)
        lookup = np.zeros((B, len(uniq)))
        lookup[:, runs] = counts
        W[1:, members] = lookup[:, inv[members]]
    return W


def _from_power_law(name, title, log_c, log_nstar, target, k, level, budgets, notes=()):
    slope, intercept = power_law(log_c, log_nstar)  # (1 + B,)
    n = np.exp(intercept + slope * np.log(target))
    d = target / (k * n)
    q = _intervals(level, a=slope, b=1.0 - slope, params=n, tokens=d, tokens_per_param=d / n)
    return Approach(name=name, title=title, exponent_params=float(slope[0]), exponent_tokens=float(1.0 - slope[0]),
                    params=float(n[0]), tokens=float(d[0]), tokens_per_param=float(d[0] / n[0]), intervals=q,
                    budgets=int(budgets), notes=tuple(notes))


def _intervals(level, **values):
    out = {}
    for key, v in values.items():
        v = np.asarray(v, dtype=float)[1:]
        v = v[np.isfinite(v)]
        out[key] = None if v.size == 0 else [float(x) for x in np.quantile(v, [(1 - level) / 2, (1 + level) / 2])]
    return out if values and len(np.asarray(next(iter(values.values())))) > 1 else None


def compare_approaches(data, *, where: Sequence[str] = (), rename=None, flops: float | None = None,
                       profile: str = "shape", window: float = 0.1, law: str = "chinchilla", bootstrap: int = 200,
                       level: float = 0.95, seed: int = 0, flops_per_param: float = FLOPS_PER_PARAM,
                       budget_tol: float = 0.1) -> Approaches:
    """Approaches 1-3 (and the parabola variant of 2) on one sweep, with bootstrap intervals."""
    from ..fitting import fit as fit_law
    from ..runs import Runs, read_runs
    from .optimal import compute_optimal, frontier

    if profile not in PROFILES:
        raise ScalingLawsError(f"--profile must be one of {', '.join(PROFILES)} (got '{profile}')")
    if not (np.isfinite(window) and window > 0):
        raise ScalingLawsError(f"--window must be a positive fraction of the budget's best loss (got {window:g}), "
                               "e.g. 0.1")
    if bootstrap < 0:
        raise ScalingLawsError(f"--bootstrap must be 0 or a positive number of resamples (got {bootstrap})")
    level = check_level(level)
    k = positive(flops_per_param, "--flops-per-param", "6")
    runs = read_runs(data, rename=rename, where=where, require=["params", "tokens", "loss"],
                     purpose="the approaches need them")
    ids, log_c, log_n, loss, budget, curves = budget_points(runs, k, budget_tol)
    keep, usable, centre = select(log_n, loss, budget, window)
    notes: list[str] = []
    G = int(budget.max()) + 1
    budget_c = np.array([np.exp(np.mean(log_c[budget == g])) for g in range(G)])
    if usable.sum() < 2:
        raise ScalingLawsError(f"{runs.source}: {int(usable.sum())} of {G} budgets have a minimum inside their sweep; "
                               "approaches 1 and 2 need at least two. Filter to one sweep (--where family=...) or "
                               "add model sizes on both sides of each budget's best")
    if (~usable).any():
        notes.append(f"{int((~usable).sum())} of {G} budgets left out: their best run sits at the end of the sweep "
                     f"(C = {', '.join(f'{c:.3g}' for c in budget_c[~usable])})")
    target = positive(flops, "--flops", "1e21") if flops is not None else TARGET_FACTOR * budget_c.max()
    rng = np.random.default_rng([seed, 3])
    W = resample(ids, budget, bootstrap, rng)
    lc = np.log(budget_c)

    # 1: envelope, the best point of each budget in each resample
    env = np.full((1 + bootstrap, G), np.nan)
    for g in np.flatnonzero(usable):
        m = np.flatnonzero(budget == g)
        masked = np.where(W[:, m] > 0, loss[m][None, :], np.inf)
        env[:, g] = log_n[m][np.argmin(masked, axis=1)]
    rows = [_from_power_law("envelope", "1. envelope of the runs" + (" (curves)" if curves else ""), lc, env,
                            target, k, level, usable.sum())]
    # 2: profile fits on the kept points, relative to each budget's centre for conditioning
    x = log_n[keep] - centre[budget[keep]]
    methods = [profile] + (["parabola"] if profile != "parabola" else [])
    vertex_by = {}
    for method in methods:
        v, lv = profile_vertices(method, x, loss[keep], budget[keep], G, W[:, keep])
        lnstar = np.where(usable[None, :], v + centre[None, :], np.nan)
        vertex_by[method] = (lnstar, lv)
        lost = int((usable & ~np.isfinite(lnstar[0])).sum())
        extra = [f"{plural(lost, 'budget')} without an interior {method} minimum"] if lost else []
        name = "isoflop" if method == profile else "isoflop-parabola"
        title = f"2. IsoFLOP profiles ({method})" + ("" if method == profile else ", for comparison")
        rows.append(_from_power_law(name, title, lc, lnstar, target, k, level, np.isfinite(lnstar[0]).sum(), extra))
    # 3: the parametric law on the same kept points
    pts = Runs({"run": ids[keep], "params": np.exp(log_n[keep]),
                "tokens": np.exp(log_c[keep]) / (k * np.exp(log_n[keep])),
                "loss": loss[keep]}, source=runs.source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit_law(pts, law, bootstrap=bootstrap, level=level, seed=seed)
        alloc = compute_optimal(fitted, target, flops_per_param=k)
        front = frontier(fitted, [budget_c.min(), budget_c.max(), target], flops_per_param=k)
    fit_notes = [str(w.message) for w in caught]
    for w in caught:  # passed on to the caller, and kept in the record
        warnings.warn(str(w.message), w.category, stacklevel=2)
    iv = dict(alloc.intervals or {})
    if front.intervals:
        iv["a"], iv["b"] = front.intervals["params"], front.intervals["tokens"]
    rows.append(Approach(name="parametric", title=f"3. parametric fit ({fitted.law})",
                         exponent_params=front.exponents["params"], exponent_tokens=front.exponents["tokens"],
                         params=alloc.params, tokens=alloc.tokens, tokens_per_param=alloc.tokens_per_param,
                         intervals={key: iv.get(key) for key in ("a", "b", "params", "tokens", "tokens_per_param")}
                         if fitted.bootstrap is not None else None,
                         budgets=int(keep.sum()), notes=tuple(fit_notes)))
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=2)

    main = [r for r in rows if r.name != "isoflop-parabola"]
    a_values = [r.exponent_params for r in main]
    a_iv = [r.intervals["a"] for r in main if r.intervals and r.intervals.get("a")]
    overlap = (max(iv_[0] for iv_ in a_iv) <= min(iv_[1] for iv_ in a_iv)) if len(a_iv) == len(main) else None
    ratios = [r.tokens_per_param for r in main]
    agreement = {"exponent_spread": float(max(a_values) - min(a_values)), "intervals_overlap": overlap,
                 "tokens_per_param_range": [float(min(ratios)), float(max(ratios))]}
    profiles = []
    for g in range(G):
        row = {"flops": float(budget_c[g]), "points": int((budget == g).sum()), "used": bool(usable[g]),
               "envelope_params": _exp(env[0, g])}
        for method, (lnstar, lv) in vertex_by.items():
            row[f"{method}_params"] = _exp(lnstar[0, g])
            row[f"{method}_loss"] = None if not np.isfinite(lv[0, g]) else float(lv[0, g])
        profiles.append(row)
    return Approaches(source=runs.source, flops=float(target), approaches=tuple(rows), profiles=tuple(profiles),
                      agreement=agreement, level=level, bootstrap=int(bootstrap), seed=int(seed), profile=profile,
                      window=float(window), convention=f"C = {k:g}·N·D" + (" (curves read at budgets)" if curves
                                                                          else ""),
                      warnings=tuple(notes + fit_notes))


def _exp(v) -> float | None:
    return float(np.exp(v)) if np.isfinite(v) else None
