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

Every held-out row is kept (`Rows`): its run, observation, prediction, extrapolation factor and, with a bootstrap,
its calibrated prediction interval at the backtest's level (made as `predict` makes it, fitting/interval.py) and
where the observation fell in that interval's predictive distribution (its pit). The pits give the coverage at
every level at once: the reliability of the intervals (observed against nominal coverage, Gneiting, Balabdaoui &
Raftery 2007). These rows are the one record of a rolling backtest's held-out runs: learning a calibration
(calibrate.py) reads its rows from `held_out_rows` too.

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
from ..records import format_of
from ..render.table import Tabular
from ..runs import Runs, read_runs

AXES = ("flops", "params", "tokens")  # the default cut column is the first of these the table has
DEFAULT_CUTS = 4
TRAIN_SHARE = (0.5, 0.85)  # the cuts keep between half and 85% of the runs for fitting
RELIABILITY = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)  # nominal levels of a reliability picture


def _frozen(values, dtype=float) -> np.ndarray:
    a = np.array(values, dtype=dtype)
    a.setflags(write=False)
    return a


def _column(values) -> list:
    """A JSON-ready column: floats, None where not finite (NaN is not JSON)."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


@dataclass(frozen=True, eq=False)
class Rows:
    """The held-out rows of one cut, column by column (read-only arrays, one entry per row)."""

    run: tuple[str, ...]
    observed: np.ndarray
    prediction: np.ndarray  # NaN where the law gives no finite value
    extrapolation: np.ndarray  # factor beyond the fitted runs' range (fitting.data.extrapolation), 1 inside it
    beyond_cut: np.ndarray  # the row's run scale / the cut: > 1 for every held-out row
    lower: np.ndarray | None = None  # the calibrated prediction interval at the backtest's level (with a bootstrap)
    upper: np.ndarray | None = None
    pit: np.ndarray | None = None  # where each observation fell in its interval's distribution, in [0, 1]
    method: Mapping | None = None  # how the intervals were made (fitting/interval.py's record), as predict says

    def __len__(self) -> int:
        return len(self.observed)

    def inside(self) -> np.ndarray | None:
        """Whether each observation lies inside its interval (None without intervals)."""
        if self.lower is None:
            return None
        return (self.observed >= self.lower) & (self.observed <= self.upper)

    def coverage(self) -> float | None:
        inside = self.inside()
        return None if inside is None or not len(inside) else float(np.mean(inside))

    def reliability(self, levels: Sequence[float] = RELIABILITY) -> tuple[float, ...] | None:
        """Share of rows inside their central interval at each level, from the pits (None without them)."""
        from ..fitting.interval import covered

        if self.pit is None or not len(self):
            return None
        return tuple(float(np.mean(covered(self.pit, a))) for a in levels)

    def to_dict(self) -> dict:
        d = {"run": list(self.run), "observed": _column(self.observed), "prediction": _column(self.prediction),
             "extrapolation": _column(self.extrapolation), "beyond_cut": _column(self.beyond_cut)}
        for name in ("lower", "upper", "pit"):
            if getattr(self, name) is not None:
                d[name] = _column(getattr(self, name))
        if self.method is not None:
            d["interval_method"] = self.method
        return d


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
    rows: Rows | None = None  # every held-out row (None: the fit failed)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {"cut": self.cut, "train_runs": self.train_runs, "test_runs": self.test_runs,
                "test_rows": self.test_rows, "extrapolation": self.extrapolation, "rel_error": self.rel_error,
                "median_rel_error": self.median_rel_error, "max_rel_error": self.max_rel_error, "bias": self.bias,
                "coverage": self.coverage, "converged": self.converged, "params": dict(self.params),
                "warnings": list(self.warnings), "error": self.error,
                "reliability": None if self.rows is None else _list(self.rows.reliability()),
                "rows": None if self.rows is None else self.rows.to_dict()}


def _list(values) -> list | None:
    return None if values is None else list(values)


@dataclass(frozen=True, repr=False)
class Backtest(Tabular):
    """Every cut of one law's backtest, and the summary used to rank laws."""

    law: str
    label: str  # the law's name, or name@prior for a law with parameters fixed at published values
    by: str
    target: str
    cuts: tuple[Cut, ...]
    n_params: int  # parameters fitted (fixed ones not counted)
    level: float | None
    source: str
    calibration: str | None = None  # the model-error term of the intervals: "default", a file, "none" (None: none made)

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

    def reliability(self, levels: Sequence[float] = RELIABILITY) -> dict | None:
        """Observed coverage at each nominal level, every fitted cut's held-out rows pooled (None without a
        bootstrap)."""
        from ..fitting.interval import covered

        pits = [c.rows.pit for c in self.fitted if c.rows is not None and c.rows.pit is not None]
        if not pits:
            return None
        pit = np.concatenate(pits)
        return {"nominal": list(levels), "observed": [float(np.mean(covered(pit, a))) for a in levels],
                "rows": int(len(pit))}

    def to_dict(self) -> dict:
        return {"format": format_of("backtest"), "law": self.law, "label": self.label, "by": self.by,
                "target": self.target, "n_params": self.n_params, "score": _finite(self.score), "bias": self.bias,
                "coverage": self.coverage, "level": self.level, "calibration": self.calibration,
                "reliability": self.reliability(), "complete": self.complete, "source": self.source,
                "cuts": [c.to_dict() for c in self.cuts]}


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
def held_out_rows(fit, test: Runs, by: str, cut: float, level: float | None = None, calibration=None, *,
                  context: tuple[Runs, np.ndarray] | None = None) -> Rows:
    """The held-out rows of one cut: what a fit below it predicts for each larger run's row, and what was seen.

    A row's extrapolation factor is the one its interval's model term grows with (beyond the range of the law's
    inputs the fit saw); a run larger in `by` may still lie inside that range in every input (a larger budget
    from a size and a token count each seen), so `beyond_cut` also records its run's scale over the cut.

    level: with a fit that has a bootstrap, also the prediction interval at this level, with `calibration`'s
    model-error term (a Calibration or None), and each observation's pit; None: points only.
    context: (rows, scored) to predict at `rows` (the held-out rows' whole runs: a curve law's features read each
    run's schedule from its start) and keep rows[scored] only; then `test` is rows[scored].
    """
    from ..fitting.data import evaluate, extrapolation
    from ..fitting.prediction import predict

    at, keep = (test, slice(None)) if context is None else context
    if context is not None:
        test = at.take(keep)
    obs = np.asarray(test[fit.target], dtype=float)
    runs = tuple(str(r) for r in np.asarray(test.run_ids, dtype=str))
    index, scale = run_scale(test, by)
    beyond = _frozen(scale[index] / cut)
    if level is None or fit.bootstrap is None:
        return Rows(run=runs, observed=_frozen(obs), prediction=_frozen(evaluate(fit, at)[keep]),
                    extrapolation=_frozen(extrapolation(fit, at)[keep]), beyond_cut=beyond)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extrapolation is the point here; its size is recorded instead
        pred = predict(fit, at, level=level, calibration=calibration,
                       observed=np.asarray(at[fit.target], dtype=float))
    return Rows(run=runs, observed=_frozen(obs), prediction=_frozen(np.asarray(pred.prediction)[keep]),
                extrapolation=_frozen(np.asarray(pred.extrapolation)[keep]), beyond_cut=beyond,
                lower=_frozen(np.asarray(pred.lower)[keep]), upper=_frozen(np.asarray(pred.upper)[keep]),
                pit=_frozen(np.asarray(pred.pit)[keep]), method=pred.method)


def score_cut(fit, test: Runs, by: str, cut: float, train_runs: int, level: float | None,
              calibration=None, *, context: tuple[Runs, np.ndarray] | None = None) -> Cut:
    """Predict the held-out rows with a fit on the rows below the cut, keep them, and summarise the errors
    (context: as for `held_out_rows`)."""
    rows = held_out_rows(fit, test, by, cut, level, calibration, context=context)
    if context is not None:
        test = context[0].take(context[1])
    obs, p = rows.observed, rows.prediction
    _, scale = run_scale(test, by)
    good = np.isfinite(p) & (p > 0)
    rel = np.where(good, np.abs(p - obs) / obs, np.inf)
    with np.errstate(all="ignore"):
        logr = np.where(good, np.log(np.where(good, p, 1.0) / obs), np.nan)
    bias = float(np.nanmean(logr)) if np.isfinite(logr).any() else None
    return Cut(cut=cut, train_runs=train_runs, test_runs=len(scale), test_rows=len(test),
               extrapolation=float(scale.max() / cut), rel_error=float(np.mean(rel)),
               median_rel_error=float(np.median(rel)), max_rel_error=float(np.max(rel)), bias=bias,
               coverage=rows.coverage(), converged=fit.converged, params=dict(fit.params),
               warnings=tuple(fit.warnings), rows=rows)


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
             max_rows: int | None = None, calibration="default", progress=None, within: bool = False,
             **option_values) -> Backtest:
    """Rollout backtest of one law: fit below each cut of `by`, score the runs above it, keep every held-out row.

    options: how every fold is fitted (fitting/options.py), as keywords or a FitOptions record, exactly as for
        `fit`; with a bootstrap, each cut also keeps every held-out row's prediction interval at the options'
        level and scores their coverage.
    calibration: the model-error term of those intervals, as for `predict`: "default", "none", a calibration
        file, or a Calibration.
    by: the column that orders runs by scale (default: flops, else params, else tokens).
    cuts: how many cuts (spread over 50-85% of the runs kept for fitting), or the cut values themselves.
    prior: a `Prior` (see priors.py) fixing some parameters at published values.
    max_rows: thin each fold's training rows to about this many (see `thin`); None keeps them all.
    progress: called as progress(cuts done, cuts) after each cut (the CLI's progress bar).
    within: cut each run's rows by their value of `by` (training curves: fit each curve up to a step, predict the
        rest of it) instead of holding out whole runs.
    """
    from ..fitting.calibration import resolve
    from ..fitting.data import bind_inputs
    from ..laws import get_law

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
    cal = resolve(calibration) if level is not None else None
    for c, train, test, n_train in all_folds:
        try:
            f = fit_fold(train, law, options=opts, inputs=inputs, target=target, prior=prior, max_rows=max_rows)
            context = _in_context(runs, test, law, binding, opts, by, c, within)
            out.append(score_cut(f, test, by, c, n_train, level, cal, context=context))
        except ScalingLawsError as exc:
            out.append(failed_cut(c, n_train, test, by, str(exc)))
        if progress is not None:
            progress(len(out), len(all_folds))
    n_params = law.n_params - (len(prior.values) if prior is not None else 0)
    label = law.name if prior is None else prior.label
    used = None if level is None else ("none" if cal is None else cal.origin)
    return Backtest(law=law.name, label=label, by=by, target=target, cuts=tuple(out), n_params=n_params,
                    level=level, source=runs.source, calibration=used)


def fit_fold(train: Runs, law, *, options: FitOptions, inputs=None, target=None, prior=None,
             max_rows: int | None = None):
    """The fit of one fold: the law fitted to the rows below the cut (thinned to about `max_rows`), as every
    backtest fits it; a fold that cannot be fitted raises ScalingLawsError."""
    from ..fitting import fit
    from .priors import fit_with_prior

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # recorded in each cut's warnings instead of repeated per fold
        kw = dict(inputs=inputs, target=target, options=options)
        train = thin(train, max_rows)
        return fit(train, law, **kw) if prior is None else fit_with_prior(train, law, prior, **kw)
