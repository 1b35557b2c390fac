"""Fitting a learning-rate and batch-size law to a sweep of (lr, batch) runs at several (N, D).

1. Cells: runs sharing (params, tokens). In each, runs whose loss exceeds the cell's best by more than `spread`
   (diverged or far off) are set aside.
2. The cell's optimum, smoothed: the loss surface in (log lr, log batch) is fitted near its best point by a local
   quadratic with Gaussian kernel weights of width `bandwidth` (in natural-log units), re-centred on the fitted
   vertex a few times (a local-regression mean shift; Cleveland & Devlin 1988). The discrete grid's best run
   jumps by a whole grid step between cells; the vertex does not. A cell whose quadratic has no minimum inside
   its grid falls back to the best run, with a note. A sweep over lr alone (one batch size) gives lr only.
3. The law: least squares of log η* on (1, log N, log D) and of log B* on (1, log D) (and log N if asked), the
   form of Step Law (Li et al. 2025).
4. Intervals: a two-stage bootstrap, cells resampled with replacement and runs resampled within each cell, the
   optima and the regressions redone for each draw (Davison & Hinkley 1997, §3.8, for nested data).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import FitWarning, ScalingLawsError
from ..fitting.interval import check_level
from ..records import format_of
from ..render.table import Tabular
from .hparams import COEFFICIENTS, HparamLaw, recommend

SHIFTS = 5  # re-centrings of the local quadratic


@dataclass(frozen=True, repr=False)
class HparamFit(Tabular):
    law: HparamLaw
    cells: tuple[dict, ...]  # per (N, D): runs, lr*, batch*, loss at the optimum, how it was found
    residual_scatter: dict  # rms of log residuals of lr* and batch* around the fitted law
    bandwidth: float
    spread: float
    source: str
    bootstrap: int
    seed: int
    warnings: tuple[str, ...] = ()

    def predict(self, params: float, tokens: float, *, seq_len: float | None = None, level: float | None = None):
        return recommend(params, tokens, law=self.law, seq_len=seq_len, level=level)

    def to_dict(self) -> dict:
        return {"format": format_of("hparam_fit"), "law": self.law.to_dict(), "cells": list(self.cells),
                "residual_scatter": self.residual_scatter,
                "bandwidth": self.bandwidth, "spread": self.spread, "source": self.source,
                "bootstrap": self.bootstrap, "seed": self.seed, "warnings": list(self.warnings)}


def cell_optimum(x: np.ndarray, y: np.ndarray | None, loss: np.ndarray, w: np.ndarray, h: float):
    """Smoothed optimum (log lr, log batch or nan) of one cell and how it was found.

    x, y: log lr and log batch of the cell's runs (y None for an lr-only sweep); loss: their losses; w: bootstrap
    counts (0 drops a run)."""
    m = w > 0
    i = np.flatnonzero(m)[np.argmin(loss[m])]
    cx, cy = x[i], (y[i] if y is not None else 0.0)
    lx, hx = x[m].min(), x[m].max()
    ly, hy = (y[m].min(), y[m].max()) if y is not None else (0.0, 0.0)
    ll = np.log(loss)
    for _ in range(SHIFTS):
        dx = x - cx
        dy = (y - cy) if y is not None else np.zeros_like(x)
        k = w * np.exp(-0.5 * (dx * dx + dy * dy) / (h * h))
        cols = [np.ones_like(dx), dx, dx * dx] + ([dy, dy * dy, dx * dy] if y is not None else [])
        X = np.stack(cols, axis=1)
        sw = np.sqrt(k)
        if np.count_nonzero(k > 1e-8) < X.shape[1] + 1:
            return x[i], (y[i] if y is not None else np.nan), "best run (too few runs near it)"
        c, *_ = np.linalg.lstsq(X * sw[:, None], ll * sw, rcond=None)
        if y is None:
            if c[2] <= 0:
                return x[i], np.nan, "best run (no curvature)"
            step = np.array([-c[1] / (2 * c[2]), 0.0])
        else:
            H = np.array([[2 * c[2], c[5]], [c[5], 2 * c[4]]])
            if np.any(np.linalg.eigvalsh(H) <= 0):
                return x[i], y[i], "best run (no curvature)"
            step = np.linalg.solve(H, -np.array([c[1], c[3]]))
        step = np.clip(step, -h, h)  # a trust region: move at most one bandwidth per re-centring
        cx, cy = cx + step[0], cy + step[1]
    if not (lx <= cx <= hx and ly <= cy <= hy):
        return x[i], (y[i] if y is not None else np.nan), "best run (smoothed optimum outside the grid)"
    return cx, (cy if y is not None else np.nan), "local quadratic"


def _regress(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    ok = np.isfinite(v)
    if ok.sum() < X.shape[1]:
        return np.full(X.shape[1], np.nan)
    return np.linalg.lstsq(X[ok], v[ok], rcond=None)[0]


def _law_coefficients(log_n, log_d, lr_opt, b_opt, batch_on_params: bool) -> np.ndarray:
    """The six coefficients (COEFFICIENTS order, coefs as logs) from per-cell optima."""
    c_lr = _regress(np.stack([np.ones_like(log_n), log_n, log_d], axis=1), lr_opt)
    Xb = [np.ones_like(log_d), log_d] + ([log_n] if batch_on_params else [])
    c_b = _regress(np.stack(Xb, axis=1), b_opt)
    return np.array([c_lr[0], c_lr[1], c_lr[2], c_b[0], c_b[1], c_b[2] if batch_on_params else 0.0])


def fit_hparams(data, *, where: Sequence[str] = (), rename=None, bandwidth: float = 0.5, spread: float = 0.25,
                bootstrap: int = 200, level: float = 0.95, seed: int = 0, batch_on_params: bool = False,
                progress=None) -> HparamFit:
    """Fit η*(N, D) and B*(D) to a sweep with columns params, tokens, lr, batch_size (tokens) and loss."""
    from ..runs import read_runs

    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ScalingLawsError(f"--bandwidth must be positive, in natural-log units of lr and batch (got "
                               f"{bandwidth:g}); 0.5 is about 1.4 steps of a √2-spaced grid")
    if not (np.isfinite(spread) and spread > 0):
        raise ScalingLawsError(f"--spread must be a positive fraction of a cell's best loss (got {spread:g}), "
                               "e.g. 0.25")
    if bootstrap < 0:
        raise ScalingLawsError(f"--bootstrap must be 0 or a positive number of resamples (got {bootstrap})")
    level = check_level(level)
    runs = read_runs(data, rename=rename, where=where, require=["params", "tokens", "lr", "batch_size", "loss"],
                     purpose="a hyperparameter sweep needs them")
    lr, bs, loss = runs["lr"], runs["batch_size"], runs["loss"]
    bad = np.flatnonzero(~(lr > 0))
    if bad.size:
        raise ScalingLawsError(f"column 'lr' must be positive for a hyperparameter fit, but is {lr[bad[0]]:g} at "
                               f"{runs.locate(bad[0])}. Drop such rows with --where 'lr>0'")
    keys = np.stack([runs["params"], runs["tokens"]], axis=1)
    cells, cell_of = np.unique(keys, axis=0, return_inverse=True)
    cell_of = cell_of.ravel()
    members, notes = [], []
    for c in range(len(cells)):
        idx = np.flatnonzero(cell_of == c)
        idx = idx[np.isfinite(loss[idx]) & (loss[idx] <= np.nanmin(loss[idx]) * (1 + spread))]
        if len(np.unique(lr[idx])) < 3:
            notes.append(f"cell N={cells[c, 0]:.3g}, D={cells[c, 1]:.3g} left out: fewer than 3 learning rates "
                         f"within {spread:.0%} of its best loss")
            continue
        members.append(idx)
    if len(members) < 4:
        raise ScalingLawsError(f"{runs.source}: {len(members)} usable (params, tokens) cells; fitting lr* in N and D "
                               "needs at least 4 (ideally several N at several D), each with 3 or more learning rates")
    use = [int(cell_of[m[0]]) for m in members]
    log_n, log_d = np.log(cells[use, 0]), np.log(cells[use, 1])
    lx, ly, lloss = np.log(lr), np.log(bs), loss
    lr_only = [len(np.unique(bs[m])) < 3 for m in members]
    rng = np.random.default_rng([seed, 4])
    C = len(members)
    draws = np.full((bootstrap, 6), np.nan)
    point_cells = []

    def optima(pick: np.ndarray, weights: list[np.ndarray], record: bool):
        lo, bo = np.full(len(pick), np.nan), np.full(len(pick), np.nan)
        for j, c in enumerate(pick):
            m = members[c]
            ox, oy, how = cell_optimum(lx[m], None if lr_only[c] else ly[m], lloss[m], weights[j], bandwidth)
            lo[j], bo[j] = ox, oy
            if record:
                point_cells.append({"params": float(cells[use[c], 0]), "tokens": float(cells[use[c], 1]),
                                    "runs": int(len(m)), "lr": float(np.exp(ox)),
                                    "batch_size": None if not np.isfinite(oy) else float(np.exp(oy)),
                                    "best_run_loss": float(lloss[m].min()), "method": how})
        return lo, bo

    lo, bo = optima(np.arange(C), [np.ones(len(m)) for m in members], True)
    coef = _law_coefficients(log_n, log_d, lo, bo, batch_on_params)
    for b in range(bootstrap):
        pick = rng.integers(0, C, size=C)
        weights = [rng.multinomial(len(members[c]), np.full(len(members[c]), 1.0 / len(members[c]))).astype(float)
                   for c in pick]
        dl, db = optima(pick, weights, False)
        draws[b] = _law_coefficients(log_n[pick], log_d[pick], dl, db, batch_on_params)
        if progress is not None:
            progress(b + 1, bootstrap)
    failed = int(np.isnan(draws).any(axis=1).sum()) if bootstrap else 0
    if bootstrap and failed > 0.05 * bootstrap:
        notes.append(f"{failed} of {bootstrap} bootstrap draws had too few distinct cells to fit the law: intervals "
                     "may be too wide")
    fallback = sum(c["method"] != "local quadratic" for c in point_cells)
    if fallback:
        notes.append(f"{fallback} of {C} cells use their best run instead of a smoothed optimum (see cells)")
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=2)
    res_lr = lo - (coef[0] + coef[1] * log_n + coef[2] * log_d)
    res_b = bo - (coef[3] + coef[4] * log_d + coef[5] * log_n)

    def as_law(v: np.ndarray) -> np.ndarray:  # intercepts are fitted as logs
        return np.array([np.exp(v[0]), v[1], v[2], np.exp(v[3]), v[4], v[5]])

    good = draws[~np.isnan(draws).any(axis=1)]
    law = HparamLaw(*(float(v) for v in as_law(coef)), source=f"fitted to {runs.source} ({C} cells)",
                    ranges={"params": [float(np.exp(log_n.min())), float(np.exp(log_n.max()))],
                            "tokens": [float(np.exp(log_d.min())), float(np.exp(log_d.max()))]},
                    draws=tuple(tuple(as_law(v)) for v in good) if len(good) else None,
                    level=level if len(good) else None)
    rms = {"lr": float(np.sqrt(np.nanmean(res_lr ** 2))),
           "batch_size": float(np.sqrt(np.nanmean(res_b ** 2))) if np.isfinite(res_b).any() else None}
    return HparamFit(law=law, cells=tuple(point_cells), residual_scatter=rms, bandwidth=float(bandwidth),
                     spread=float(spread), source=runs.source, bootstrap=int(bootstrap), seed=int(seed),
                     warnings=tuple(notes))


__all__ = ["COEFFICIENTS", "HparamFit", "fit_hparams"]
