"""Learning the model-error term of prediction intervals from rolling backtests across many ladders.

For each ladder (a runs table, the laws to check, the column that orders runs by scale), every law is fitted with a
bootstrap below each rollout cut (backtest.py's folds) and the held-out larger runs are kept row by row: the
observation, the point forecast, its extrapolation factor, and samples of the plain interval (bootstrap draws with
resampled residuals, fitting/interval.py) in the residual space. A Calibration (fitting/calibration.py) adds
τ(f)·ε to those samples, τ(f) = τ0 + τ1·ln f; learning chooses τ0, τ1 and the tails of ε (normal or Student-t) to
minimise the weighted interval score (Gneiting & Raftery 2007, eq. 43; Bracher et al. 2021) of the 50%, 80% and
95% intervals over every held-out row, each ladder weighing the same whatever its number of rows, so that one long
table cannot decide the calibration of all the others.

The interval score of a central (1 − a) interval [l, u] at observation y is (u − l) + (2/a)(l − y)⁺ + (2/a)(y − u)⁺:
it rewards narrow intervals and punishes misses in proportion to their size, and it is minimised in expectation by
the true quantiles, so a lower score is better calibration and sharpness together.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ScalingLawsError
from ..fitting import space as spaces
from ..fitting.calibration import Calibration
from ..fitting.data import evaluate, extrapolation
from ..fitting.interval import predictive
from ..runs import read_runs

LEVELS = (0.5, 0.8, 0.95)
LEARN_PAIRS = 1000  # samples per held-out row while learning (the shipped intervals use fitting.interval.PAIRS)
TAU0 = np.concatenate([[0.0], np.geomspace(1e-4, 0.1, 25)])
TAU1 = np.concatenate([[0.0], np.geomspace(1e-4, 0.1, 25)])
DFS = (None, 10.0, 5.0, 3.0)  # normal, then heavier tails


@dataclass(frozen=True)
class Ladder:
    """One ladder to learn from: a source, the laws to backtest on it, and how to cut it."""

    name: str  # the ladder's name in records (several ladders may share a `group`)
    source: object  # anything read_runs reads
    laws: tuple[str, ...] = ("chinchilla",)
    by: str | None = None
    cuts: int = 3
    group: str | None = None  # ladders of one group are left out together in leave-one-out scoring
    target: str | None = None
    inputs: dict | None = None

    @property
    def key(self) -> str:
        return self.group or self.name


@dataclass(frozen=True)
class HeldOut:
    """Held-out rows of one ladder's backtests, everything calibration needs about each row."""

    ladder: str
    group: str
    law: np.ndarray  # (n,) law of each row's forecast
    cut: np.ndarray  # (n,) cut value of each row's fit
    observed: np.ndarray  # (n,)
    prediction: np.ndarray  # (n,)
    extrapolation: np.ndarray  # (n,)
    base: np.ndarray  # (n, K) the plain interval's samples in the residual space (no model term)
    eps: np.ndarray  # (K,) the standard normal of each sample's model term
    weight: np.ndarray  # (n,) so that the ladder's rows weigh 1 in all
    space: str = "log"

    def __len__(self) -> int:
        return len(self.observed)


def held_out(ladder: Ladder, *, bootstrap: int = 100, seed: int = 0, max_rows: int | None = 300,
             progress: Callable[[int, int], None] | None = None) -> HeldOut | None:
    """Backtest every law of the ladder with a bootstrap and keep each held-out row (None: nothing could be fitted)."""
    from ..fitting import fit
    from .backtest import default_axis, folds, thin

    runs = read_runs(ladder.source)
    by = ladder.by or default_axis(runs)
    parts = []
    all_folds = folds(runs, by, ladder.cuts)
    total, done = len(all_folds) * len(ladder.laws), 0
    for law in ladder.laws:
        for c, train, test, _ in all_folds:
            done += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = fit(thin(train, max_rows), law, bootstrap=bootstrap, seed=seed, target=ladder.target,
                            inputs=ladder.inputs)
            except ScalingLawsError:
                continue
            if progress is not None:
                progress(done, total)
            obs = np.asarray(test[f.target], dtype=float)
            point = evaluate(f, test)
            curves = evaluate(f, test, f.bootstrap.array())
            space = spaces.of(f.loss)
            base = spaces.forward(predictive(curves, residuals=f.residuals, space=space, seed=f.seed,
                                             pairs=LEARN_PAIRS), space).T  # (m, K)
            ok = np.isfinite(obs) & np.isfinite(point) & (np.isfinite(base).mean(axis=1) > 0.9)
            if not ok.any():
                continue
            parts.append((law, c, obs[ok], point[ok], extrapolation(f, test)[ok], base[ok], space))
    if not parts:
        return None
    k = min(p[5].shape[1] for p in parts)
    rng = np.random.default_rng([seed, 6])
    eps = rng.standard_normal(k)
    # each (law, cut) weighs the same within the ladder, and the ladder weighs 1
    w = np.concatenate([np.full(len(p[2]), 1.0 / (len(p[2]) * len(parts))) for p in parts])
    return HeldOut(ladder=ladder.name, group=ladder.key,
                   law=np.concatenate([np.full(len(p[2]), p[0], dtype=object) for p in parts]),
                   cut=np.concatenate([np.full(len(p[2]), p[1]) for p in parts]),
                   observed=np.concatenate([p[2] for p in parts]), prediction=np.concatenate([p[3] for p in parts]),
                   extrapolation=np.concatenate([p[4] for p in parts]),
                   base=np.concatenate([p[5][:, :k] for p in parts]), eps=eps, weight=w, space=parts[0][6])


def _student(eps: np.ndarray, df, seed: int = 0) -> np.ndarray:
    if df is None:
        return eps
    rng = np.random.default_rng([seed, 7])
    return eps / np.sqrt(rng.chisquare(df, size=eps.shape) / df)


def quantiles(held: HeldOut, tau0: float, tau1: float, df, levels: Sequence[float] = LEVELS) -> np.ndarray:
    """(len(levels), 2, n) interval bounds in the residual space, for a given model-error term."""
    tau = tau0 + tau1 * np.log(np.maximum(held.extrapolation, 1.0))
    z = held.base + tau[:, None] * _student(held.eps, df)[None, :]
    qs = sorted({q for a in levels for q in ((1 - a) / 2, (1 + a) / 2)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = np.nanquantile(z, qs, axis=1)  # (Q, n)
    pos = {q: i for i, q in enumerate(qs)}
    return np.stack([np.stack([v[pos[(1 - a) / 2]], v[pos[(1 + a) / 2]]]) for a in levels])


def scores(held: Sequence[HeldOut], tau0: float, tau1: float, df, levels: Sequence[float] = LEVELS) -> dict:
    """Coverage, median width and interval score per level, pooled (ladders weighted equally) and per ladder."""
    per = {}
    pooled = {a: [0.0, 0.0, 0.0] for a in levels}  # weighted coverage, weighted score, total weight
    widths = {a: [] for a in levels}
    for h in held:
        y = spaces.forward(h.observed, h.space)
        b = quantiles(h, tau0, tau1, df, levels)
        out = {}
        for i, a in enumerate(levels):
            lo, hi = b[i]
            inside = (y >= lo) & (y <= hi)
            s = interval_score(lo, hi, y, 1 - a)
            out[str(a)] = {"coverage": float(np.average(inside, weights=h.weight)),
                           "median_width": float(np.median(hi - lo)),
                           "interval_score": float(np.average(s, weights=h.weight))}
            pooled[a][0] += float(np.sum(inside * h.weight))
            pooled[a][1] += float(np.sum(s * h.weight))
            pooled[a][2] += float(np.sum(h.weight))
            widths[a].append(hi - lo)
        out["rows"] = len(h)
        per[h.ladder] = out
    pool = {str(a): {"coverage": pooled[a][0] / pooled[a][2], "interval_score": pooled[a][1] / pooled[a][2],
                     "median_width": float(np.median(np.concatenate(widths[a])))} for a in levels}
    return {"pooled": pool, "ladders": per}


def interval_score(lo, hi, y, alpha: float) -> np.ndarray:
    """Gneiting & Raftery 2007 (eq. 43): width plus 2/alpha times each miss."""
    return (hi - lo) + (2 / alpha) * np.maximum(lo - y, 0) + (2 / alpha) * np.maximum(y - hi, 0)


def _objective(held: Sequence[HeldOut], tau0, tau1, df, levels) -> float:
    """Weighted interval score (Bracher et al. 2021): Σ over levels of (alpha/2)·IS, ladders weighted equally."""
    total = 0.0
    for h in held:
        y = spaces.forward(h.observed, h.space)
        b = quantiles(h, tau0, tau1, df, levels)
        for i, a in enumerate(levels):
            total += float(np.sum(h.weight * (1 - a) / 2 * interval_score(b[i, 0], b[i, 1], y, 1 - a)))
    return total


def learn(held: Sequence[HeldOut], *, levels: Sequence[float] = LEVELS, source: Sequence[str] = ()) -> Calibration:
    """The (τ0, τ1, df) with the lowest weighted interval score over every held-out row: a coarse grid, then a finer
    one around its best point."""
    held = [h for h in held if len(h)]
    if not held:
        raise ScalingLawsError("no held-out rows to learn a calibration from: every ladder's backtests failed")
    spaces_seen = {h.space for h in held}
    if len(spaces_seen) > 1:
        raise ScalingLawsError(f"ladders fitted in different residual spaces ({', '.join(sorted(spaces_seen))}) "
                               "cannot share one calibration; learn one per space")
    best = (np.inf, 0.0, 0.0, None)
    for df in DFS:
        for t0 in TAU0[::3]:
            for t1 in TAU1[::3]:
                v = _objective(held, t0, t1, df, levels)
                if v < best[0]:
                    best = (v, t0, t1, df)
    _, t0, t1, df = best
    for grid0, grid1 in ((_around(TAU0, t0), _around(TAU1, t1)),):
        for a in grid0:
            for b in grid1:
                v = _objective(held, a, b, df, levels)
                if v < best[0]:
                    best = (v, a, b, df)
    _, t0, t1, df = best
    plain = scores(held, 0.0, 0.0, None, levels)
    made = scores(held, t0, t1, df, levels)
    return Calibration(tau0=float(t0), tau1=float(t1), df=df, space=held[0].space,
                       source=tuple(source) or tuple(dict.fromkeys(h.ladder for h in held)),
                       scores={"levels": list(levels), "calibrated": made["pooled"], "plain": plain["pooled"],
                               "rows": int(sum(len(h) for h in held))})


def _around(grid: np.ndarray, v: float) -> np.ndarray:
    """A finer grid between the neighbours of v on `grid`."""
    i = int(np.argmin(np.abs(grid - v)))
    lo, hi = grid[max(0, i - 1)], grid[min(len(grid) - 1, i + 1)]
    return np.unique(np.concatenate([[v], np.linspace(lo, hi, 9)]))


def calibrate(ladders: Sequence[Ladder], *, bootstrap: int = 100, seed: int = 0,
              progress: Callable[[int, int], None] | None = None) -> Calibration:
    """Backtest every ladder and learn one calibration from all their held-out rows."""
    held = []
    for i, ladder in enumerate(ladders):
        h = held_out(ladder, bootstrap=bootstrap, seed=seed)
        if h is not None:
            held.append(h)
        if progress is not None:
            progress(i + 1, len(ladders))
    return learn(held, source=[h.ladder for h in held])
