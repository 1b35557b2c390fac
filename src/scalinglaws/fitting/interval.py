"""The one interval maker: from a fit's draws at some points to predictive samples and their percentiles.

A prediction interval says where a new run at these inputs will land. Three sources of error go into it, each
recorded in the interval's `method`:

  parameters  the law's uncertainty: one curve per bootstrap draw over runs (B, m), or per refit of a forecast;
  noise       run-to-run and checkpoint scatter: each draw is paired with a residual e of the fit, resampled, and
              turned into an observation by the fit's residual space, y = g⁻¹(g(curve) − e) (space.observe: the
              sign is written there once; a residual bootstrap on top of the case bootstrap, Davison & Hinkley
              1997 §6.3);
  model       the law's own misspecification, which no resampling of the fitted runs can see and which grows with
              how far a forecast extrapolates: a term τ(f)·ε in the residual space, with τ learned from backtests on
              held-out larger runs (calibration.py) and f the extrapolation factor of each point.

A confidence interval (where the law's curve lies) holds the parameters alone.

Given the values later observed at the points, the interval also says where each fell in its predictive
distribution (`pit`, the probability integral transform; Dawid 1984): the level p at which the samples' percentile
equals the observation, so that it lies inside the central interval at level a exactly when |2p − 1| ≤ a. One
number per point then measures coverage at every level at once (a reliability diagram, Gneiting, Balabdaoui &
Raftery 2007).

The draws may carry probabilities (`weights`): a law mixture (mixture.py) stacks the curves of several laws and
weighs each by its law's share, so that a sample comes from law k with its weight's probability; the prediction
interval's triples pick draws by those probabilities, the confidence interval takes weighted percentiles.

One fixed set of (draw, residual, ε) triples serves every point, drawn from the fit's seed: the same fit gives the
same interval at a point whether it is asked for alone (`predict`), along a figure's path, or in a report, to the
last bit, and a band is as smooth as the curves it is made of.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError
from . import space as spaces

PAIRS = 20_000  # (draw, residual, ε) triples behind a prediction interval
BLOCK = 4_000_000  # samples held at once: points are taken in blocks of BLOCK // PAIRS
WIDE = 10.0  # an interval whose upper/lower ratio exceeds this spans an order of magnitude: flagged
KINDS = ("prediction", "confidence")


@dataclass(frozen=True)
class Interval:
    lower: np.ndarray  # (m,)
    upper: np.ndarray  # (m,)
    level: float
    kind: str  # "prediction" or "confidence"
    method: Mapping  # how it was made: the sources of error behind it, each with its size
    warnings: tuple[str, ...] = field(default=())
    pit: np.ndarray | None = None  # (m,) with observations: where each fell in its predictive distribution, [0, 1]


def check_level(level: float) -> float:
    """The one check of a coverage level."""
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < float(level) < 1:
        raise ArgumentError("level", f"level must be a number between 0 and 1, e.g. 0.95 (got {level!r})")
    return float(level)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ArgumentError("interval", f"interval must be 'prediction' or 'confidence' (got {kind!r})")
    return kind


def robust_scale(residuals) -> float:
    """1.4826 × the median absolute deviation of the finite residuals: their standard deviation were they normal,
    unmoved by a few outlying runs."""
    r = np.asarray(residuals, dtype=float)
    r = r[np.isfinite(r)]
    return 1.4826 * float(np.median(np.abs(r - np.median(r)))) if r.size else 0.0


def triples(n_draws: int, n_resid: int, seed: int, pairs: int = PAIRS, weights: np.ndarray | None = None):
    """(draw index (k,), residual index (k,), ε (k,)): one fixed set for every point of a fit's intervals.
    weights: (n_draws,) probabilities of the draws (a law mixture); None picks them evenly."""
    rng = np.random.default_rng([int(seed), 3])
    k = min(pairs, n_draws * max(1, n_resid))
    b = rng.integers(0, n_draws, k) if weights is None else rng.choice(n_draws, size=k, p=weights)
    r = rng.integers(0, max(1, n_resid), k)
    eps = rng.standard_normal(k)
    return b, r, eps


def predictive(curves: np.ndarray, *, residuals, space: str, seed: int, tau: np.ndarray | None = None,
               df: float | None = None, pairs: int = PAIRS, aligned: bool = False,
               weights: np.ndarray | None = None) -> np.ndarray:
    """Samples (k, m) of where observations at m points land, given (B, m) curves of the parameter draws.

    aligned=True keeps one sample per draw, in draw order (k = B), for callers that carry each draw further (a
    downstream link fitted per draw); otherwise k = min(pairs, B·residuals) fixed triples (see `triples`).
    tau: (m,) model-error scale per point in the residual space (None: none); df: its Student-t degrees of freedom
    (None: normal). weights: (B,) probabilities of the draws (a law mixture), not with aligned=True.
    """
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    resid = np.asarray(residuals, dtype=float)
    resid = resid[np.isfinite(resid)]
    B = curves.shape[0]
    if aligned:
        rng = np.random.default_rng([int(seed), 4])
        b = np.arange(B)
        r = rng.integers(0, max(1, resid.size), B)
        eps = rng.standard_normal(B)
    else:
        b, r, eps = triples(B, resid.size, seed, pairs, weights)
    if df is not None and np.isfinite(df):
        eps = student(eps, df, seed)
    z = spaces.forward(curves[b], space)  # (k, m)
    if resid.size:
        z = z - resid[r][:, None]
    if tau is not None:
        z = z + np.asarray(tau, dtype=float)[None, :] * eps[:, None]
    return spaces.inverse(z, space)


def student(eps: np.ndarray, df: float | None, seed: int, stream: int = 5) -> np.ndarray:
    """Normal variates made Student-t by a chi-square of their own stream: t = ε / sqrt(χ²_df / df); df None
    leaves them normal."""
    if df is None:
        return eps
    rng = np.random.default_rng([int(seed), stream])
    return eps / np.sqrt(rng.chisquare(df, size=eps.shape) / df)


def position(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(c,) the level p in [0, 1] at which the percentile of each column of samples (k, c) equals its observation
    (c,): the inverse of np.nanquantile's linear rule, so that y >= quantile(q) exactly when p >= q. NaN samples are
    left out; NaN where a column has none or its observation is not finite."""
    s = np.asarray(samples, dtype=float)
    y = np.asarray(observed, dtype=float)[None, :]
    n = np.sum(~np.isnan(s), axis=0)  # (c,)
    below = s < y
    c = below.sum(axis=0)
    with np.errstate(all="ignore"):
        lo = np.where(below, s, -np.inf).max(axis=0)  # the largest sample below y
        hi = np.where(s >= y, s, np.inf).min(axis=0)  # the smallest at or above it
        p = (c - 1 + (y[0] - lo) / (hi - lo)) / np.maximum(n - 1, 1)
    p = np.where(c == 0, 0.0, np.where(c >= n, 1.0, p))
    return np.where((n > 0) & np.isfinite(y[0]), np.clip(p, 0.0, 1.0), np.nan)


def covered(pit, level: float) -> np.ndarray:
    """Whether each observation with this `pit` lies inside its central interval at `level` (NaN: not)."""
    p = np.asarray(pit, dtype=float)
    return (p >= (1 - level) / 2) & (p <= (1 + level) / 2)


def model_term(calibration, m: int, extrapolation, residuals, space: str):
    """(τ (m,) or None, df, the record of it): the calibration's model-error term at m points of a fit with these
    residuals, or None where no calibration applies to the fit's residual space."""
    f = np.ones(m) if extrapolation is None else np.asarray(extrapolation, dtype=float)
    if calibration is not None and calibration.applies_to(space):
        tau = calibration.scale(f, robust_scale(residuals))
        return tau, calibration.df, calibration.describe(tau)
    why = ("none asked for" if calibration is None else
           f"the calibration is for {calibration.space} residuals, this fit's are {space}")
    return None, None, {"source": f"not included ({why}): the interval holds the fitted runs' scatter only"}


def interval(curves: np.ndarray, *, level: float, kind: str = "prediction", residuals=(), space: str = "log",
             seed: int = 0, point: np.ndarray | None = None, extrapolation: np.ndarray | None = None,
             calibration=None, parameters: str | Mapping = "bootstrap over runs",
             weights: np.ndarray | None = None, observed=None) -> Interval:
    """Percentile interval at m points from (B, m) parameter draws' curves, with noise and model error added for
    a prediction interval (see the module's docstring). `calibration` is a Calibration (calibration.py) or None.
    parameters: where the draws come from: the record's words, or a mapping of its fields (a law mixture's).
    weights: (B,) non-negative probabilities of the draws (a law mixture, mixture.py); None: all alike.
    observed: (m,) values seen at the points: the interval's `pit` then says where each fell (see `position`).
    """
    level, kind = check_level(level), check_kind(kind)
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    B, m = curves.shape
    q = [(1 - level) / 2, (1 + level) / 2]
    resid = np.asarray(residuals, dtype=float)
    resid = resid[np.isfinite(resid)]
    source = {"source": parameters} if isinstance(parameters, str) else dict(parameters)
    method: dict = {"level": level, "kind": kind, "space": space, "parameters": {**source, "draws": int(B)}}
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (B,) or not np.all(weights >= 0) or not weights.sum() > 0:
            raise ArgumentError("weights", f"weights must be one non-negative probability per draw ({B} draws), "
                                "not all zero")
        weights = weights / weights.sum()
    tau = df = None
    if kind == "prediction":
        method["noise"] = {"source": "resampled residuals of the fit", "residuals": int(resid.size)}
        tau, df, method["model"] = model_term(calibration, m, extrapolation, resid, space)
    lower = np.full(m, np.nan)
    upper = np.full(m, np.nan)
    obs = None if observed is None else np.broadcast_to(np.asarray(observed, dtype=float), (m,))
    pit = None if obs is None else np.full(m, np.nan)
    step = max(1, BLOCK // PAIRS)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        for lo in range(0, m, step):
            cols = slice(lo, min(m, lo + step))
            if kind == "prediction":
                s = predictive(curves[:, cols], residuals=resid, space=space, seed=seed,
                               tau=None if tau is None else tau[cols], df=df, weights=weights)
            elif weights is not None:
                lower[cols], upper[cols] = weighted_quantile(curves[:, cols], weights, q)
                if obs is not None:
                    pit[cols] = weighted_position(curves[:, cols], weights, obs[cols])
                continue
            else:
                s = curves[:, cols]
            lower[cols], upper[cols] = np.nanquantile(s, q, axis=0)
            if obs is not None:
                pit[cols] = position(s, obs[cols])
    notes = degenerate(lower, upper, point, space)
    method["pairs"] = int(min(PAIRS, B * max(1, resid.size))) if kind == "prediction" else int(B)
    return Interval(lower=lower, upper=upper, level=level, kind=kind, method=method, warnings=notes, pit=pit)


def weighted_quantile(samples: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """(len(q), m) quantiles of (k, m) samples that carry probabilities `weights` (k,): the smallest value whose
    cumulative probability reaches q (the inverse of the weighted empirical distribution), NaN samples left out
    and the rest renormalised per point; NaN where a point has no finite sample."""
    s = np.asarray(samples, dtype=float)
    order = np.argsort(s, axis=0, kind="stable")  # NaN last
    ss = np.take_along_axis(s, order, axis=0)
    w = np.where(np.isnan(ss), 0.0, np.asarray(weights, dtype=float)[order])
    cw = np.cumsum(w, axis=0)
    total = cw[-1]
    out = np.full((len(q), s.shape[1]), np.nan)
    ok = total > 0
    for i, qi in enumerate(q):
        idx = np.argmax(cw >= qi * total - 1e-12 * total, axis=0)
        out[i, ok] = ss[idx[ok], np.flatnonzero(ok)]
    return out


def weighted_position(samples: np.ndarray, weights: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(c,) the probability that samples (k, c) carrying `weights` (k,) lie at or below each observation: the pit
    of a weighted sample (NaN samples left out and the rest renormalised; NaN where none or y is not finite)."""
    s = np.asarray(samples, dtype=float)
    y = np.asarray(observed, dtype=float)
    w = np.where(np.isnan(s), 0.0, np.asarray(weights, dtype=float)[:, None])
    total = w.sum(axis=0)
    with np.errstate(all="ignore"):
        p = np.where(s <= y[None, :], w, 0.0).sum(axis=0) / total
    return np.where((total > 0) & np.isfinite(y), p, np.nan)


def degenerate(lower: np.ndarray, upper: np.ndarray, point, space: str) -> tuple[str, ...]:
    """Notes for intervals that say nothing: zero width (every draw the same: fixed parameters) or, in log or
    logit space, bounds more than an order of magnitude apart."""
    notes = []
    ok = np.isfinite(lower) & np.isfinite(upper)
    if ok.any():
        width = upper[ok] - lower[ok]
        scale = np.abs(upper[ok]) + np.abs(lower[ok])
        if np.any(width <= 1e-12 * np.maximum(scale, 1e-300)):
            notes.append(f"{int(np.sum(width <= 1e-12 * np.maximum(scale, 1e-300)))} interval(s) have zero width: "
                         "every draw gives the same value (parameters fixed, or a bootstrap that could not vary); "
                         "the interval does not show the forecast's uncertainty")
        if space != "linear":
            with np.errstate(all="ignore"):
                ratio = np.where(lower[ok] > 0, upper[ok] / lower[ok], np.inf)
            if np.any(ratio > WIDE):
                notes.append(f"{int(np.sum(ratio > WIDE))} interval(s) span more than a factor of {WIDE:g} "
                             f"(up to [{np.min(lower[ok]):.3g}, {np.max(upper[ok]):.3g}]): the data do not pin the "
                             "forecast down; add runs nearer the target or fix poorly identified parameters")
    if not ok.all() and ok.size:
        notes.append(f"{int((~ok).sum())} interval(s) have no finite bound: the law's draws give no finite value "
                     "there")
    return tuple(notes)
