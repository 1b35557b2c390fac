"""Multiple-choice accuracy forecast from per-choice log-likelihoods, not from accuracy itself.

Accuracy on a multiple-choice task jumps: an item counts only once the correct choice overtakes every wrong one, so
accuracy across scale is a step function per item and hard to extrapolate. Schaeffer et al. 2024 ("Why Has
Predicting Downstream Capabilities of Frontier AI Models with Scale Remained Elusive?") trace the difficulty to the
probability mass on the specific wrong choices, and follow the chain −log p(correct) → p(correct) normalised over
the choices → accuracy. Here that chain is followed per item: at each model size the choices' log-likelihoods give
the normalised p(correct) and the item's margin

    m = log p(correct) − max over wrong choices of log p(wrong),

which is positive exactly when the model answers the item correctly. Each item's margin is fitted as a straight
line in log size over the training sizes; the scatter s of the margins about their lines (pooled over items,
with the lines' two parameters counted) is the noise of a margin at a size. At a target size an item is answered
correctly with probability Φ(m̂ / s), and the forecast accuracy is the mean of those probabilities over items: a
forecast simulated from the forecast margins, smooth where accuracy steps. The interval resamples items (a
bootstrap over items, `bootstrap` draws); the record's `method` says so. Beside it, the accuracy extrapolated
directly (a line in log size through the training sizes' accuracies) is recorded as the baseline.

The data: one row per (model size, item, choice) with the choice's log-likelihood and whether it is the correct
one (`read_choices` builds it from lm-evaluation-harness `--log_samples` files, ingest/lmeval_samples.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError, ScalingLawsError
from ..fitting.interval import check_level
from ..records import format_of
from ..render.table import Tabular

MIN_SIZES = 3


@dataclass(frozen=True, repr=False)
class ChoiceForecast(Tabular):
    scale: str
    level: float
    items: int
    sizes: tuple[Mapping, ...]  # per training size: accuracy, mean normalised p(correct), mean margin
    scatter: float  # the margins' pooled scatter about their lines
    forecast: tuple[Mapping, ...]  # per target size: accuracy forecast, interval, direct extrapolation, observed
    method: Mapping
    _rows = "forecast"  # its table: one row per target size

    def to_dict(self) -> dict:
        return {"format": format_of("choices"), "scale": self.scale, "level": self.level, "items": self.items,
                "sizes": [dict(s) for s in self.sizes], "scatter": self.scatter,
                "forecast": [dict(f) for f in self.forecast], "method": dict(self.method)}


def margins(runs, *, scale: str, item: str, loglik: str, correct: str) -> tuple[np.ndarray, list[str], np.ndarray,
                                                                                np.ndarray]:
    """(sizes (S,), items, margins (S, I), normalised p(correct) (S, I)) from per-choice rows; NaN where an item
    was not evaluated at a size."""
    for col in (scale, item, loglik, correct):
        if col not in runs:
            raise ScalingLawsError(runs.missing_message(col, "Name the columns with --scale, --item, --loglik and "
                                                             "--correct (one row per model, item and choice)"))
    size = np.asarray(runs[scale], dtype=float)
    ids = np.asarray(runs[item]).astype(str)
    ll = np.asarray(runs[loglik], dtype=float)
    good = np.asarray(runs[correct], dtype=float)
    bad = np.flatnonzero(~np.isfinite(ll) | ~np.isin(good, (0.0, 1.0)) | ~(size > 0))
    if bad.size:
        raise ScalingLawsError(f"{runs.locate(bad[0])}: each row needs a finite '{loglik}', '{correct}' 0 or 1 and "
                               f"a positive '{scale}'")
    sizes = np.unique(size)
    items = sorted(set(ids.tolist()))
    where = {k: i for i, k in enumerate(items)}
    m = np.full((len(sizes), len(items)), np.nan)
    q = np.full_like(m, np.nan)
    for s, v in enumerate(sizes):
        rows = np.flatnonzero(size == v)
        for key in np.unique(ids[rows]):
            r = rows[ids[rows] == key]
            right, wrong = ll[r][good[r] == 1], ll[r][good[r] == 0]
            if len(right) != 1 or len(wrong) < 1:
                raise ScalingLawsError(f"item '{key}' at {scale}={v:g} has {len(right)} correct and {len(wrong)} "
                                       "wrong choices: a multiple-choice item needs exactly one correct choice and "
                                       "at least one wrong one (per-sample logs without choices cannot be used)")
            all_ll = ll[r]
            m[s, where[key]] = right[0] - wrong.max()
            q[s, where[key]] = np.exp(right[0] - np.logaddexp.reduce(all_ll))
    return sizes, items, m, q


def forecast_choices(data, *, at: Mapping | None = None, test: Sequence[str] = (), train: Sequence[str] = (),
                     scale: str = "params", item: str = "item", loglik: str = "loglik", correct: str = "correct",
                     where: Sequence[str] = (), rename=None, bootstrap: int = 200, level: float = 0.95,
                     seed: int = 0) -> ChoiceForecast:
    """Accuracy at larger sizes from the training sizes' per-choice log-likelihoods (see the module docstring)."""
    from scipy.stats import norm

    from ..runs import read_runs

    level = check_level(level)
    if isinstance(bootstrap, bool) or int(bootstrap) != bootstrap or bootstrap < 20:
        raise ArgumentError("bootstrap", f"bootstrap must be a whole number of at least 20 (got {bootstrap!r})")
    runs = read_runs(data, rename=rename, where=where, dedupe=False)
    tested = runs.where(*test) if test else None
    fitted = runs.where(*train) if train else runs
    if tested is not None and not train:
        held = np.unique(np.asarray(tested[scale], dtype=float))
        fitted = fitted.take(~np.isin(np.asarray(fitted[scale], dtype=float), held))
    cols = dict(scale=scale, item=item, loglik=loglik, correct=correct)
    sizes, items, m, q = margins(fitted, **cols)
    if len(sizes) < MIN_SIZES:
        raise ScalingLawsError(f"{len(sizes)} model size{'s' if len(sizes) != 1 else ''} in '{scale}': a margin's "
                               f"line needs at least {MIN_SIZES}")
    x = np.log(sizes)
    ok = np.all(np.isfinite(m), axis=0)  # items evaluated at every training size
    if ok.sum() < 5:
        raise ScalingLawsError(f"{int(ok.sum())} items were evaluated at every training size; the forecast needs 5")
    m, q, items = m[:, ok], q[:, ok], [k for k, keep in zip(items, ok) if keep]
    X = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(X, m, rcond=None)  # (2, I): each item's intercept and slope
    resid = m - X @ coef
    scatter = float(np.sqrt(np.sum(resid ** 2) / (resid.size - 2 * resid.shape[1]))) if len(x) > 2 else 0.0
    targets = []
    if tested is not None and len(tested):
        t_sizes, t_items, t_m, _ = margins(tested, **cols)
        index = {k: i for i, k in enumerate(t_items)}
        for s, v in enumerate(t_sizes):
            cols_t = [index.get(k) for k in items]
            obs = np.array([t_m[s, c] if c is not None else np.nan for c in cols_t])
            targets.append((float(v), float(np.nanmean(obs > 0)) if np.isfinite(obs).any() else None))
    for v in np.atleast_1d(np.asarray((at or {}).get(scale, ()), dtype=float)):
        targets.append((float(v), None))
    if at and any(k != scale for k in at):
        raise ArgumentError("at", f"at names the model size by its column '{scale}', e.g. at={{'{scale}': [2.8e9]}}")
    acc_train = np.mean(m > 0, axis=1)
    slope, icpt = np.polyfit(x, acc_train, 1)
    rng = np.random.default_rng([seed, 17])
    picks = rng.integers(0, m.shape[1], size=(int(bootstrap), m.shape[1]))
    out = []
    for v, obs in targets:
        mhat = coef[0] + coef[1] * np.log(v)  # (I,)
        p_item = norm.cdf(mhat / scatter) if scatter > 0 else (mhat > 0).astype(float)
        draws = p_item[picks].mean(axis=1)
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        out.append({"size": v, "accuracy": float(p_item.mean()), "lower": float(lo), "upper": float(hi),
                    "direct": float(np.clip(icpt + slope * np.log(v), 0, 1)), "observed": obs,
                    "inside": None if obs is None else bool(lo <= obs <= hi),
                    "beyond": float(v / sizes.max())})
    rows = tuple({scale: float(v), "accuracy": float(acc_train[s]), "p_correct": float(np.mean(q[s])),
                  "margin": float(np.mean(m[s]))} for s, v in enumerate(sizes))
    method = {"level": level, "kind": "confidence",
              "parameters": {"source": f"bootstrap over items ({int(bootstrap)} draws); each item's margin line "
                                       "fitted once", "draws": int(bootstrap)},
              "noise": {"source": f"the margins' pooled scatter about their lines ({scatter:.3g} nats) makes each "
                                  "item's answer a probability Φ(m/s)"},
              "model": {"source": "not included: each item's margin is taken as linear in log size beyond the data"}}
    return ChoiceForecast(scale=scale, level=level, items=len(items), sizes=rows, scatter=scatter,
                          forecast=tuple(out), method=method)
