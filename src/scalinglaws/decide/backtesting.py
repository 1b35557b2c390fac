"""Backtests by rollout: fit on the runs below a cut in scale, predict the runs above it, repeat over cuts.

A forecast's track record is the only evidence that it extrapolates. In-sample fit says little about that (every
law with enough parameters fits a ladder well), so a backtest replays the situation a forecaster is in: only the
smaller runs are known, the larger ones are the future. This is the rolling-origin evaluation of time-series
forecasting (Tashman 2000) with scale in place of time, the check Choshen et al. 2024 ("A Hitchhiker's Guide to
Scaling Law Estimation") use to rank fitting choices by absolute relative error on the largest models.

Cuts are made on runs, never on rows: every row of a run (all checkpoints of one training curve) falls on the same
side, with the run's scale taken as its largest value of the cut column. Per cut the record holds the relative
error |pred - obs| / obs of the held-out rows, the bias (mean log(pred/obs): positive means the law predicted too
high a loss), and with a bootstrap the share of held-out rows inside their prediction interval (coverage).

Training curves of one run, or of one model size, have no larger run to hold out: there the future is the rest of
each curve, and a backtest `within` runs cuts the rows by their own value of the cut column (a step): it fits every
curve up to the cut and predicts the later rows. A curve law's held-out rows are predicted from their whole run's
schedule (its features at a row read every learning rate before it) and its early-transient rows are not scored,
as they are not fitted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError, ScalingLawsError
from ..fitting.options import FitOptions, weights_in_rows
from ..runs import Runs, read_runs

AXES = ("flops", "params", "tokens")  # the default cut column is the first of these the table has
DEFAULT_CUTS = 4
TRAIN_SHARE = (0.5, 0.85)  # the cuts keep between half and 85% of the runs for fitting


@dataclass(frozen=True)
class Cut:
    """One fold of a backtest: a fit on runs with scale <= `cut`, scored on the runs above it."""

    cut: float  # value of the cut column: training runs have scale <= cut
    train_runs: int
    test_runs: int
    test_rows: int
    extrapolation: float  # largest held-out scale / cut
    rel_error: float | None  # mean |pred - obs| / obs over held-out rows (None: the fit failed)
    median_rel_error: float | None
    max_rel_error: float | None
    bias: float | None  # mean log(pred / obs): > 0 predicts too high
    coverage: float | None  # share of held-out rows inside the prediction interval (needs a bootstrap)
    converged: bool
    params: Mapping[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    error: str | None = None  # why this cut could not be fitted

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {"cut": self.cut, "train_runs": self.train_runs, "test_runs": self.test_runs,
                "test_rows": self.test_rows, "extrapolation": self.extrapolation, "rel_error": self.rel_error,
                "median_rel_error": self.median_rel_error, "max_rel_error": self.max_rel_error, "bias": self.bias,
                "coverage": self.coverage, "converged": self.converged, "params": dict(self.params),
                "warnings": list(self.warnings), "error": self.error}


@dataclass(frozen=True)
class Backtest:
    """Every cut of one law's backtest, and the summary used to rank laws."""

    law: str
    label: str  # the law's name, or name@prior for a law with parameters fixed at published values
    by: str
    target: str
    cuts: tuple[Cut, ...]
    n_params: int  # parameters fitted (fixed ones not counted)
    level: float | None
    source: str

    @property
    def fitted(self) -> tuple[Cut, ...]:
        return tuple(c for c in self.cuts if c.ok)

    @property
    def complete(self) -> bool:
        return bool(self.cuts) and all(c.ok for c in self.cuts)

    @property
    def score(self) -> float:
        """Mean over fitted cuts of the held-out mean relative error (inf when no cut could be fitted)."""
        errs = [c.rel_error for c in self.fitted]
        return float(np.mean(errs)) if errs else math.inf

    @property
    def bias(self) -> float | None:
        vals = [c.bias for c in self.fitted]
        return float(np.mean(vals)) if vals else None

    @property
    def coverage(self) -> float | None:
        """Held-out rows inside their interval, pooled over cuts (None without a bootstrap)."""
        cov = [(c.coverage, c.test_rows) for c in self.fitted if c.coverage is not None]
        if not cov:
            return None
        return float(sum(v * n for v, n in cov) / sum(n for _, n in cov))

    def to_dict(self) -> dict:
        return {"law": self.law, "label": self.label, "by": self.by, "target": self.target,
                "n_params": self.n_params, "score": _finite(self.score), "bias": self.bias,
                "coverage": self.coverage, "level": self.level, "complete": self.complete,
                "source": self.source, "cuts": [c.to_dict() for c in self.cuts]}


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


# -- cuts -----------------------------------------------------------------------------------------------------------
def run_scale(runs: Runs, by: str) -> tuple[np.ndarray, np.ndarray]:
    """(per-row run index, per-run scale): a run's scale is its largest value of column `by`."""
    ids = np.asarray(runs.run_ids, dtype=str)
    _, index = np.unique(ids, return_inverse=True)
    values = np.asarray(runs[by], dtype=float)
    scale = np.full(index.max() + 1, -np.inf)
    np.maximum.at(scale, index, values)
    return index, scale


def default_axis(runs: Runs, law_inputs: Sequence[str] = ()) -> str:
    for col in list(AXES) + list(law_inputs):
        if col in runs and runs[col].dtype.kind == "f" and np.all(np.isfinite(runs[col])):
            return col
    raise ArgumentError("by", f"by must name a column that orders runs by scale: {runs.source} has none of "
                        f"{', '.join(AXES)}")


def check_axis(runs: Runs, by: str, positive: bool = True) -> None:
    """A numeric cut column, positive (a scale) or, for cuts within runs (positive=False), non-negative (a step)."""
    if by not in runs:
        raise ArgumentError("by", f"by={by!r}: "
                            + runs.missing_message(by, "Choose a numeric column such as flops or params"))
    col = runs[by]
    if col.dtype.kind != "f":
        raise ArgumentError("by", f"by={by!r}: column '{by}' holds labels; backtests cut on a numeric scale column "
                            "such as flops, params or tokens")
    bad = np.flatnonzero(~(col > 0) if positive else ~(col >= 0))
    if bad.size:
        word, cond = ("positive", ">0") if positive else ("non-negative", ">=0")
        raise ArgumentError("by", f"by={by!r}: column '{by}' must be {word} to order runs by scale, but is "
                            f"{col[bad[0]]:g} at {runs.locate(bad[0])}. Drop such rows (where '{by}{cond}')")


def choose_cuts(scale: np.ndarray, cuts: int | Sequence[float], by: str, source: str) -> list[float]:
    """Cut values on the run scales: `cuts` values spread over 50-85% of runs kept for fitting, or the given ones."""
    values = np.unique(scale)
    if len(values) < 3:
        raise ScalingLawsError(
            f"{source} has {len(values)} distinct value{'s' if len(values) != 1 else ''} of '{by}' across its runs: "
            f"a backtest needs at least 3 scales (fit on the smaller, predict the larger). Add runs, or cut on "
            "another column with --by")
    if not isinstance(cuts, (int, np.integer)):
        chosen = sorted({float(c) for c in cuts})
        usable = [c for c in chosen if (scale <= c).any() and (scale > c).any()]
        if not usable:
            raise ScalingLawsError(f"no --cut leaves runs on both sides: the run scales of '{by}' span "
                                   f"{values[0]:.4g} to {values[-1]:.4g}")
        return usable
    if cuts < 1:
        raise ArgumentError("cuts", f"cuts must be at least 1 (got {cuts})")
    sorted_scale = np.sort(scale)
    out: list[float] = []
    for share in np.linspace(TRAIN_SHARE[0], TRAIN_SHARE[1], int(cuts)) if cuts > 1 else [TRAIN_SHARE[1]]:
        k = max(2, int(math.floor(share * len(scale))))  # runs to keep
        c = sorted_scale[min(k, len(scale)) - 1]
        c = values[values <= c][-1]
        if c >= values[-1]:  # ties at the top: step down so that something is held out
            c = values[-2]
        out.append(float(c))
    return sorted(set(out))


# -- scoring --------------------------------------------------------------------------------------------------------
def score_cut(fit, test: Runs, by: str, cut: float, train_runs: int, level: float | None, *,
              context: tuple[Runs, np.ndarray] | None = None) -> Cut:
    """Predict the held-out rows with a fit on the rows below the cut and summarise the errors.

    context: (rows, scored) to predict at `rows` (the held-out rows' whole runs: a curve law's features read each
    run's schedule from its start) and score at rows[scored] only; then `test` is rows[scored].
    """
    if context is not None:
        test = context[0].take(context[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extrapolation is the point here; its size is recorded instead
        pred = fit.predict(test if context is None else context[0], level=level)
    obs = np.asarray(test[fit.target], dtype=float)
    p = np.asarray(pred.prediction, dtype=float)
    lower, upper = pred.lower, pred.upper
    if context is not None:
        p = p[context[1]]
        lower, upper = (None, None) if lower is None else (lower[context[1]], upper[context[1]])
    _, scale = run_scale(test, by)
    good = np.isfinite(p) & (p > 0)
    rel = np.where(good, np.abs(p - obs) / obs, np.inf)
    with np.errstate(all="ignore"):
        logr = np.where(good, np.log(np.where(good, p, 1.0) / obs), np.nan)
    coverage = None
    if lower is not None:
        inside = (obs >= lower) & (obs <= upper)
        coverage = float(np.mean(inside))
    bias = float(np.nanmean(logr)) if np.isfinite(logr).any() else None
    return Cut(cut=cut, train_runs=train_runs, test_runs=len(scale), test_rows=len(test),
               extrapolation=float(scale.max() / cut), rel_error=float(np.mean(rel)),
               median_rel_error=float(np.median(rel)), max_rel_error=float(np.max(rel)), bias=bias,
               coverage=coverage, converged=fit.converged, params=dict(fit.params), warnings=tuple(fit.warnings))


def failed_cut(cut: float, train_runs: int, test: Runs, by: str, why: str) -> Cut:
    _, scale = run_scale(test, by)
    return Cut(cut=cut, train_runs=train_runs, test_runs=len(scale), test_rows=len(test),
               extrapolation=float(scale.max() / cut), rel_error=None, median_rel_error=None, max_rel_error=None,
               bias=None, coverage=None, converged=False, error=why)


def thin(runs: Runs, max_rows: int | None) -> Runs:
    """At most about `max_rows` rows, spread evenly over each run's rows in token order (its last row kept).

    Training curves hold hundreds of rows per run that are nearly redundant for ranking laws; thinning bounds the
    cost of a backtest fit whatever the table's size, and keeps every run's share of the rows.
    """
    if max_rows is None or len(runs) <= max_rows:
        return runs
    ids = np.asarray(runs.run_ids, dtype=str)
    order = np.argsort(runs["tokens"], kind="stable") if "tokens" in runs else np.arange(len(runs))
    keep = []
    for rid in dict.fromkeys(ids[order].tolist()):
        rows = order[ids[order] == rid]
        k = max(1, int(round(max_rows * len(rows) / len(runs))))
        keep.append(rows[np.unique(np.linspace(0, len(rows) - 1, min(k, len(rows))).round().astype(int))])
    return runs.take(np.sort(np.concatenate(keep)))


def folds(runs: Runs, by: str, cuts: int | Sequence[float], *, within: bool = False
          ) -> list[tuple[float, Runs, Runs, int]]:
    """(cut, training rows, held-out rows, training run count) for every cut. within=True cuts each run's rows by
    their own value of `by` (a training curve's steps), so that a run can lie on both sides."""
    check_axis(runs, by, positive=not within)
    index, scale = run_scale(runs, by)
    values = np.asarray(runs[by], dtype=float) if within else scale
    out = []
    for c in choose_cuts(values, cuts, by, runs.source):
        below = values <= c if within else scale[index] <= c
        n_train = len(np.unique(index[below])) if within else int((scale <= c).sum())
        out.append((c, runs.take(below), runs.take(~below), n_train))
    return out


def _in_context(runs: Runs, test: Runs, law, binding, opts, by: str, cut: float, within: bool):
    """(the held-out rows' whole runs, which of their rows are scored) for a curve law (see the module docstring);
    None for other laws, whose held-out rows are predicted alone."""
    if law.features is None:
        return None
    ids = np.asarray(runs.run_ids, dtype=str)
    ctx = runs.take(np.isin(ids, np.unique(np.asarray(test.run_ids, dtype=str))))
    scored = np.asarray(ctx[by], dtype=float) > cut if within else np.ones(len(ctx), dtype=bool)
    if opts.transient is not None or law.transient != "none":
        keep, _ = law.transient_rows(ctx, opts.transient, binding)
        scored &= keep
    return ctx, scored


def backtest(data, law="chinchilla", *, options: FitOptions | None = None, by: str | None = None,
             cuts: int | Sequence[float] = DEFAULT_CUTS, inputs: Mapping[str, str] | None = None,
             target: str | None = None, where: Sequence[str] = (), rename=None, prior=None,
             max_rows: int | None = None, progress=None, within: bool = False, **option_values) -> Backtest:
    """Rollout backtest of one law: fit below each cut of `by`, score the runs above it.

    options: how every fold is fitted (fitting/options.py), as keywords or a FitOptions record, exactly as for
        `fit`; with a bootstrap, each cut also scores the coverage of its intervals.
    by: the column that orders runs by scale (default: flops, else params, else tokens).
    cuts: how many cuts (spread over 50-85% of the runs kept for fitting), or the cut values themselves.
    prior: a `Prior` (see priors.py) fixing some parameters at published values.
    max_rows: thin each fold's training rows to about this many (see `thin`); None keeps them all.
    progress: called as progress(cuts done, cuts) after each cut (the CLI's progress bar).
    within: cut each run's rows by their value of `by` (training curves: fit each curve up to a step, predict the
        rest of it) instead of holding out whole runs.
    """
    from ..fitting import fit
    from ..fitting.data import bind_inputs
    from ..laws import get_law
    from .priors import fit_with_prior

    opts = FitOptions.of(options, **option_values)
    law = get_law(law)
    binding = bind_inputs(law, inputs)
    target = target or law.target
    runs = read_runs(data, rename=rename, where=where,
                     require=list(dict.fromkeys(list(binding.values()) + [target])),
                     purpose=f"law '{law.name}' needs it")
    runs, opts = weights_in_rows(runs, opts)
    by = by or default_axis(runs, list(binding.values()))
    out = []
    all_folds = folds(runs, by, cuts, within=within)
    level = opts.level if opts.bootstrap else None
    for c, train, test, n_train in all_folds:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # recorded in each cut's warnings instead of repeated per fold
                kw = dict(inputs=inputs, target=target, options=opts)
                train = thin(train, max_rows)
                f = fit(train, law, **kw) if prior is None else fit_with_prior(train, law, prior, **kw)
            context = _in_context(runs, test, law, binding, opts, by, c, within)
            out.append(score_cut(f, test, by, c, n_train, level, context=context))
        except ScalingLawsError as exc:
            out.append(failed_cut(c, n_train, test, by, str(exc)))
        if progress is not None:
            progress(len(out), len(all_folds))
    n_params = law.n_params - (len(prior.values) if prior is not None else 0)
    label = law.name if prior is None else prior.label
    return Backtest(law=law.name, label=label, by=by, target=target, cuts=tuple(out), n_params=n_params,
                    level=level, source=runs.source)
