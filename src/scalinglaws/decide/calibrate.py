"""Learning the model-error term of prediction intervals from rolling backtests across many ladders.

For each ladder (a runs table, the laws to check, the column that orders runs by scale), every law is fitted with a
bootstrap below each rollout cut and the held-out larger runs are kept row by row, as every backtest keeps them
(backtesting.py's folds, fit_fold and held_out_rows): the observation, the point forecast, its extrapolation
factor; learning adds samples of the plain interval (bootstrap draws with
resampled residuals, fitting/interval.py) in the residual space. A Calibration (fitting/calibration.py) adds
τ·ε to those samples, τ = τ0 + τs·s + τ1·ln f (s: the fit's residual scale, f: the extrapolation factor); learning
chooses τ0, τs, τ1 and the tails of ε (normal or Student-t) to minimise the weighted interval score (Gneiting &
Raftery 2007, eq. 43; Bracher et al. 2021) of the 50%, 80% and 95% intervals over every held-out row.

Weights: each dataset (a ladder's `group`) weighs the same whatever its number of rows or sub-ladders, so one long
table cannot decide the calibration of all the others; and each dataset's score is taken relative to its plain
bootstrap's, so that a noisy dataset whose intervals are wide anyway does not outvote the sharp ones (a skill
score, Gneiting & Raftery 2007 §2.4).

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
from ..fitting.data import evaluate
from ..fitting.interval import predictive, robust_scale, student
from ..fitting.options import FitOptions
from ..runs import read_runs
from .backtesting import RELIABILITY, default_axis, fit_fold, folds, held_out_rows

LEVELS = (0.5, 0.8, 0.95)
LEARN_PAIRS = 1000  # samples per held-out row while learning (the shipped intervals use fitting.interval.PAIRS)
LEARN_ROWS = 400  # held-out rows per ladder that learning looks at (an even subsample of longer ones)
DFS = (None, 5.0, 3.0)  # normal, then heavier tails
START = (0.005, 0.5, 0.002)  # (τ0, τs, τ1) where the search starts


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


PORIAN = tuple(Ladder(f"porian_isoflop/{family}/{data}", f"dataset:porian_isoflop?family={family}&dataset={data}",
                     by="flops", group="porian_isoflop")
               for family in ("cosine_decay", "tuned_no_decay", "correct_warmup", "reproducing_kaplan")
               for data in ("refinedweb", "openwebtext2"))

# Every bundled dataset with a larger-scale axis and a loss, with the law that describes it: the shipped default
# calibration is learned from these (tools/build_calibration.py). Curves are cut by model size, so a held-out run is
# a larger model, never a later checkpoint of a fitted one.
BUNDLED = (
    Ladder("chinchilla_epoch", "dataset:chinchilla_epoch", by="flops"),
    Ladder("datablations_contour", "dataset:datablations_contour", ("data_constrained",), by="flops"),
    Ladder("gpt3_curves", "dataset:gpt3_curves?split=validation", by="params"),
    Ladder("opt_trajectories", "dataset:opt_trajectories", by="params"),
    Ladder("pythia_evals", "dataset:pythia_evals?shots=0&step>=1000", by="params", target="lambada_openai__loss"),
    *PORIAN,
)


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
    noise: np.ndarray  # (n,) the robust scale (1.4826·MAD) of the residuals of each row's fit
    eps: np.ndarray  # (K,) the standard normal of each sample's model term
    weight: np.ndarray  # (n,) so that the ladder's rows weigh 1 in all, each (law, cut) alike
    space: str = "log"

    def __len__(self) -> int:
        return len(self.observed)


def held_out(ladder: Ladder, *, bootstrap: int = 100, seed: int = 0, max_rows: int | None = 300,
             progress: Callable[[int, int], None] | None = None) -> HeldOut | None:
    """Backtest every law of the ladder with a bootstrap and keep each held-out row (None: nothing could be fitted).

    The folds are fitted and their rows read as every backtest does (backtesting.fit_fold, held_out_rows); what
    learning adds per row is the plain interval's samples and the fit's residual scale."""
    runs = read_runs(ladder.source)
    by = ladder.by or default_axis(runs)
    options = FitOptions(bootstrap=bootstrap, seed=seed)
    parts = []
    all_folds = folds(runs, by, ladder.cuts)
    total, done = len(all_folds) * len(ladder.laws), 0
    for law in ladder.laws:
        for c, train, test, _ in all_folds:
            done += 1
            try:
                f = fit_fold(train, law, options=options, inputs=ladder.inputs, target=ladder.target,
                             max_rows=max_rows)
            except ScalingLawsError:
                continue
            finally:
                if progress is not None:
                    progress(done, total)  # a cut that could not be fitted is done too
            rows = held_out_rows(f, test, by, c)
            curves = evaluate(f, test, f.bootstrap.array())
            space = spaces.of(f.loss)
            base = spaces.forward(predictive(curves, residuals=f.residuals, space=space, seed=f.seed,
                                             pairs=LEARN_PAIRS), space).T  # (m, K)
            obs, point = rows.observed, rows.prediction
            ok = np.isfinite(obs) & np.isfinite(point) & (np.isfinite(base).mean(axis=1) > 0.9)
            if not ok.any():
                continue
            noise = robust_scale(f.residuals)
            parts.append((law, c, obs[ok], point[ok], rows.extrapolation[ok], base[ok], space, noise))
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
                   base=np.concatenate([p[5][:, :k] for p in parts]),
                   noise=np.concatenate([np.full(len(p[2]), p[7]) for p in parts]), eps=eps, weight=w,
                   space=parts[0][6])


def subsample(held: HeldOut, rows: int | None = LEARN_ROWS, seed: int = 0) -> HeldOut:
    """At most `rows` held-out rows, drawn evenly at random, their weights summing to 1 again."""
    if rows is None or len(held) <= rows:
        return held
    idx = np.sort(np.random.default_rng([seed, 8]).choice(len(held), rows, replace=False))
    w = held.weight[idx] / held.weight[idx].sum()
    return HeldOut(ladder=held.ladder, group=held.group, law=held.law[idx], cut=held.cut[idx],
                   observed=held.observed[idx], prediction=held.prediction[idx],
                   extrapolation=held.extrapolation[idx], base=held.base[idx], noise=held.noise[idx], eps=held.eps,
                   weight=w, space=held.space)


def quantiles(held: HeldOut, cal: Calibration | None, levels: Sequence[float] = LEVELS) -> np.ndarray:
    """(len(levels), 2, n) interval bounds in the residual space, with a calibration's model term (None: plain)."""
    z = held.base
    if cal is not None:
        tau = cal.scale(held.extrapolation, held.noise)  # (n,)
        z = z + tau[:, None] * student(held.eps, cal.df, seed=0, stream=7)[None, :]
    qs = sorted({q for a in levels for q in ((1 - a) / 2, (1 + a) / 2)})
    if np.isfinite(z).all():
        v = np.quantile(z, qs, axis=1)  # (Q, n); nanquantile is ten times slower
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            v = np.nanquantile(z, qs, axis=1)
    pos = {q: i for i, q in enumerate(qs)}
    return np.stack([np.stack([v[pos[(1 - a) / 2]], v[pos[(1 + a) / 2]]]) for a in levels])


def interval_score(lo, hi, y, alpha: float) -> np.ndarray:
    """Gneiting & Raftery 2007 (eq. 43): width plus 2/alpha times each miss."""
    return (hi - lo) + (2 / alpha) * np.maximum(lo - y, 0) + (2 / alpha) * np.maximum(y - hi, 0)


def rows(held: HeldOut, cal: Calibration | None, levels: Sequence[float] = LEVELS) -> dict:
    """Per held-out row and level: inside the interval or not, its width and its interval score."""
    y = spaces.forward(held.observed, held.space)
    b = quantiles(held, cal, levels)
    return {a: {"inside": (y >= b[i, 0]) & (y <= b[i, 1]), "width": b[i, 1] - b[i, 0],
                "score": interval_score(b[i, 0], b[i, 1], y, 1 - a), "lower": b[i, 0], "upper": b[i, 1]}
            for i, a in enumerate(levels)}


def ladder_scores(held: HeldOut, cal: Calibration | None, levels: Sequence[float] = LEVELS) -> dict:
    """Coverage, median width and interval score per level of one ladder, and its weighted interval score."""
    r = rows(held, cal, levels)
    out = {str(a): {"coverage": float(np.average(r[a]["inside"], weights=held.weight)),
                    "median_width": float(np.median(r[a]["width"])),
                    "interval_score": float(np.average(r[a]["score"], weights=held.weight))} for a in levels}
    out["weighted_interval_score"] = float(sum((1 - a) / 2 * out[str(a)]["interval_score"] for a in levels))
    out["rows"] = len(held)
    return out


def group_weights(held: Sequence[HeldOut]) -> np.ndarray:
    """Each dataset (group) weighs 1 in all, shared among its ladders."""
    count: dict = {}
    for h in held:
        count[h.group] = count.get(h.group, 0) + 1
    return np.array([1.0 / count[h.group] for h in held])


def scores(held: Sequence[HeldOut], cal: Calibration | None, levels: Sequence[float] = LEVELS) -> dict:
    """Per ladder and pooled (every dataset weighing the same): coverage, median width, interval score."""
    per = {h.ladder: ladder_scores(h, cal, levels) for h in held}
    w = group_weights(held)
    w = w / w.sum()
    keys = [str(a) for a in levels]
    pooled = {k: {m: float(sum(wi * per[h.ladder][k][m] for wi, h in zip(w, held)))
                  for m in ("coverage", "median_width", "interval_score")} for k in keys}
    pooled["weighted_interval_score"] = float(sum(wi * per[h.ladder]["weighted_interval_score"]
                                                  for wi, h in zip(w, held)))
    return {"pooled": pooled, "ladders": per}


def reliability(held: Sequence[HeldOut], cal: Calibration | None, levels: Sequence[float] = RELIABILITY) -> dict:
    """Observed coverage at each nominal level, plain and calibrated, per dataset (its ladders pooled)."""
    out: dict = {}
    w = group_weights(held)
    for h, wi in zip(held, w):
        g = out.setdefault(h.group, {"nominal": list(levels), "plain": np.zeros(len(levels)),
                                     "calibrated": np.zeros(len(levels)), "weight": 0.0, "rows": 0})
        for key, c in (("plain", None), ("calibrated", cal)):
            r = rows(h, c, levels)
            g[key] += wi * np.array([np.average(r[a]["inside"], weights=h.weight) for a in levels])
        g["weight"] += wi
        g["rows"] += len(h)
    return {k: {"nominal": v["nominal"], "plain": (v["plain"] / v["weight"]).round(4).tolist(),
                "calibrated": (v["calibrated"] / v["weight"]).round(4).tolist(), "rows": v["rows"]}
            for k, v in out.items()}


def _wis(held: HeldOut, cal: Calibration | None, levels) -> float:
    r = rows(held, cal, levels)
    return float(sum((1 - a) / 2 * np.average(r[a]["score"], weights=held.weight) for a in levels))


def learn(held: Sequence[HeldOut], *, levels: Sequence[float] = LEVELS, source: Sequence[str] = ()) -> Calibration:
    """The (τ0, τs, τ1, df) with the lowest weighted interval score over every held-out row, each dataset's score
    relative to its plain bootstrap's: a Nelder–Mead search per tail (normal, t5, t3), the best kept."""
    from scipy.optimize import minimize

    held = [h for h in held if len(h)]
    if not held:
        raise ScalingLawsError("no held-out rows to learn a calibration from: every ladder's backtests failed")
    spaces_seen = {h.space for h in held}
    if len(spaces_seen) > 1:
        raise ScalingLawsError(f"ladders fitted in different residual spaces ({', '.join(sorted(spaces_seen))}) "
                               "cannot share one calibration; learn one per space")
    space = held[0].space
    small = [subsample(h) for h in held]
    w = group_weights(small)
    plain = np.array([max(_wis(h, None, levels), 1e-12) for h in small])

    def make(x, df) -> Calibration:
        t0, ts, t1 = np.abs(x)
        return Calibration(tau0=float(t0), tau_noise=float(ts), tau1=float(t1), df=df, space=space)

    def objective(x, df) -> float:
        cal = make(x, df)
        return float(sum(wi * _wis(h, cal, levels) / p for wi, h, p in zip(w, small, plain)))

    best = None
    for df in DFS:
        r = minimize(objective, START, args=(df,), method="Nelder-Mead",
                     options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 400})
        if best is None or r.fun < best[0]:
            best = (r.fun, r.x, df)
    cal = make(best[1], best[2])
    made, base = scores(held, cal, levels), scores(held, None, levels)
    summary = {"levels": list(levels), "objective": "weighted interval score relative to the plain bootstrap, "
                                                    "each dataset weighing the same",
               "calibrated": made["pooled"], "plain": base["pooled"], "rows": int(sum(len(h) for h in held)),
               "reliability": reliability(held, cal)}
    return Calibration(tau0=cal.tau0, tau_noise=cal.tau_noise, tau1=cal.tau1, df=cal.df, space=space,
                       source=tuple(source) or tuple(dict.fromkeys(h.group for h in held)), scores=summary)


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
    return learn(held)
