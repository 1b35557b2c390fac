"""Law selection by backtested extrapolation error: `fit --law auto`.

What the runs are decides which laws compete, which rows each sees and how they are backtested (datashape.py):
one run's training curve and curves of one model size get the laws of loss along a curve, backtested by cutting
every curve at a step and predicting its rest; curves of several model sizes are cut along model size; a ladder
along one scale axis gets the laws of one input, cut along that axis; a ladder in (N, D) gets the laws of both (and
the same laws with exponents fixed at published values, priors.py), cut along flops. A law of final losses fitted
to curve data sees each run's final row only. Every candidate is backtested by rollout on the same cuts
(backtesting.py); the one with the lowest mean held-out relative error wins and is refitted to all the data.
In-sample fit is not the criterion: a law with more parameters always fits at least as well, and says nothing
about the runs beyond the data (Choshen et al. 2024 rank estimation choices the same way).

Ranking: candidates whose fit succeeded at every cut come first, by score; among those within `TOLERANCE` (relative)
of the best score the one with the fewest fitted parameters wins (parsimony, the spirit of the one-standard-error
rule of Hastie, Tibshirani & Friedman 2009 §7.10: prefer the simpler model when the evidence cannot separate them).
A candidate whose forecasts run away (not finite, not positive, or over ten times the largest observation, at a
cut's held-out rows or at the data's edge and a modest extrapolation beyond it: divergence.py) is rejected, with
its reason, and ranks last; a chosen law whose final fit runs away is flagged in the record, with a FitWarning.

Not everything is bet on the winner. The candidates whose scores lie within `MIX_TOLERANCE` of the best (at most
`MIXTURE` laws, the winner first) form a law mixture: each is refitted to all the data and weighted by its
backtest score s as w ∝ exp(-s / s_best), a softmax over scores in units of the best one (a law twice as wrong as
the best weighs e^-1 ≈ 0.37 times as much). The fit's prediction intervals then include the laws' disagreement
(fitting/mixture.py); its point predictions stay the winner's.

Cost: each candidate is fitted once per cut, and the mixture's laws once more at the end. Backtest fits and the
runners-up's refits use at most `BACKTEST_STARTS` multi-start candidates and about `BACKTEST_ROWS` rows; the
winner's refit uses the usual search and every row, so `--law auto` costs a few seconds on the bundled ladders
(benchmarks/bench_auto.py measures it).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from ..errors import ArgumentError, FitWarning, ScalingLawsError
from ..fitting.mixture import Member
from ..fitting.mixture import record as mixture_record
from ..fitting.options import FitOptions, weights_in_rows
from ..laws import get_law
from ..laws.published import prior_named
from ..records import format_of
from ..render.table import Tabular
from ..runs import Runs, read_runs
from . import datashape
from .backtesting import Backtest, backtest, thin
from .divergence import Guard
from .priors import Prior, fit_with_prior, published
from .verdict import finite, selection_record

DEFAULT_CANDIDATES = datashape.POINT_LAWS  # on a ladder in (N, D); datashape.py has those of the other shapes
ALL_CANDIDATES = DEFAULT_CANDIDATES + datashape.COSTLY["points"]
SELECTION_CUTS = 3
BACKTEST_STARTS = 256
BACKTEST_ROWS = 300  # backtest fits see at most about this many rows (training curves are thinned, see thin())
TOLERANCE = 0.02  # scores within 2% (relative) of the best count as a tie, broken by fewer parameters
MIX_TOLERANCE = 0.5  # candidates scoring within 50% of the best join the law mixture of the intervals
MIXTURE = 3  # at most this many laws in the mixture, the winner included
WEIGHTING = "w ∝ exp(-score / best score) over the candidates within 50% of the best backtest score"


@dataclass(frozen=True)
class Candidate:
    """One law that competes: its label (name, or name@prior), the columns it reads, and whether it sees each
    run's final row only (a law of final losses on training curves)."""

    label: str
    law: str
    prior: Prior | None = None
    inputs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    finals: bool = False


@dataclass(frozen=True, repr=False)
class Ranking(Tabular):
    """Candidate laws' backtests on the same cuts, best first; the candidates rejected because their forecasts
    run away (label -> why, ranked last) and those that could not be fitted at all (skipped)."""

    backtests: tuple[Backtest, ...]
    skipped: tuple[Mapping[str, str], ...]
    by: str
    source: str
    shape: datashape.DataShape | None = None
    rejected: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def best(self) -> Backtest:
        return self.backtests[0]

    def to_dict(self) -> dict:
        ranking = [{**b.to_dict(), "rejected": self.rejected.get(b.label)} for b in self.backtests]
        return finite({"format": format_of("ranking"), "source": self.source, "by": self.by,
                        "best": self.best.label, "tolerance": TOLERANCE,
                        "shape": None if self.shape is None else self.shape.to_dict(), "ranking": ranking,
                        "skipped": [dict(s) for s in self.skipped]})


def rank(results: Sequence[Backtest], tolerance: float = TOLERANCE, rejected=()) -> list[Backtest]:
    """Complete backtests first, by score; near-ties go to the candidate with fewer fitted parameters; the
    `rejected` labels (laws that run away) last."""
    def usable(b):
        return b.complete and np.isfinite(b.score) and b.label not in rejected

    complete = sorted((b for b in results if usable(b)), key=lambda b: b.score)
    rest = sorted((b for b in results if not usable(b)), key=lambda b: (b.label in rejected, b.score))
    if complete:
        best = complete[0].score
        tied = [b for b in complete if b.score <= best * (1 + tolerance)]
        simplest = min(tied, key=lambda b: (b.n_params, b.score))
        complete.remove(simplest)
        complete.insert(0, simplest)
    return complete + rest


# -- the plan: the runs' shape, the candidates and the rows each sees ----------------------------------------------
def _names(shape: datashape.DataShape, candidates) -> list[str]:
    if isinstance(candidates, str):
        candidates = (shape.candidates(more=True) if candidates == "all" else
                      [c.strip() for c in candidates.split(",") if c.strip()])
    names = list(shape.candidates() if candidates is None else candidates)
    for n in names:
        get_law(n)  # unknown names fail here, with the list of laws
    return names


def _priors(names, priors) -> list[Prior]:
    if priors == "published":
        return published(names)
    return [] if priors is None else list(priors)


def _why_not(law, shape: datashape.DataShape, rows: Runs, binding, target: str, finals: bool) -> str | None:
    """Why a law cannot be fitted to these rows (None: it can)."""
    if law.features is not None and not shape.curves:
        return "a law of training curves: it needs step and lr columns"
    if finals and shape.kind in ("run_curve", "size_curves"):
        return (f"a law of final losses sees each run's final row only, and {shape.text} leave nothing to "
                "extrapolate along")
    if finals and shape.within:
        return "a law of final losses sees each run's final row only: cuts within the runs hold none of them out"
    for col in list(binding.values()) + [target]:
        if col not in rows:
            return f"needs column '{col}'"
        if law.features is None and (rows[col].dtype.kind != "f" or not np.all(np.isfinite(rows[col]))):
            return f"column '{col}' is not numeric and complete"
    return None


@dataclass(frozen=True)
class _Plan:
    shape: datashape.DataShape
    runs: Runs  # every row (curve laws' rows)
    finals: Runs | None  # each run's final row, for laws of final losses on training curves
    target: str
    candidates: tuple[Candidate, ...]
    skipped: tuple[Mapping[str, str], ...]

    def rows(self, cand: Candidate) -> Runs:
        return self.finals if cand.finals else self.runs

    def guard(self, cand: Candidate) -> Guard:
        return Guard.of(self.rows(cand), self.target, self.shape)


def _plan(runs: Runs, candidates, priors, by, inputs, target) -> _Plan:
    tgt = target or "loss"
    if tgt not in runs:
        raise ArgumentError("target", f"target={tgt!r}: "
                            + runs.missing_message(tgt, "Name the column to fit with target=COLUMN"))
    runs = datashape.one_run(runs)
    shape = datashape.describe(runs, by)
    finals = datashape.finals(runs) if shape.curves else None
    names = _names(shape, candidates)
    chosen, skipped, seen = [], [], set()
    named = [prior_named(n) if "@" in n else n for n in names]  # a label names its prior: chinchilla@besiroglu2024
    pairs = [(n.law, n) if isinstance(n, Prior) else (n, None) for n in named]
    for name, prior in pairs + [(p.law, p) for p in _priors(names, priors)]:
        law = get_law(name)
        label = prior.label if prior else name
        if label in seen:  # 'chinchilla@besiroglu2024' named and also among the published priors
            continue
        seen.add(label)
        binding = shape.binding(law)
        binding.update({k: v for k, v in (inputs or {}).items() if k in law.inputs})
        on_finals = shape.curves and law.features is None
        why = _why_not(law, shape, finals if on_finals else runs, binding, tgt, on_finals)
        if why:
            skipped.append({"label": label, "law": name, "reason": why})
            continue
        chosen.append(Candidate(label=label, law=name, prior=prior, inputs=MappingProxyType(binding),
                                finals=on_finals))
    if not chosen:
        raise ScalingLawsError(f"no candidate law can be fitted to {runs.source} ({shape.text}): "
                               + "; ".join(f"{s['label']} {s['reason']}" for s in skipped))
    return _Plan(shape=shape, runs=runs, finals=finals, target=tgt, candidates=tuple(chosen),
                 skipped=tuple(skipped))


def _quick(opts: FitOptions, quick: bool) -> tuple[FitOptions, int | None]:
    """Law selection's budget: at most BACKTEST_STARTS starts and about BACKTEST_ROWS rows per backtest fit."""
    if not quick:
        return opts, None
    return opts.replace(starts=min(opts.starts or BACKTEST_STARTS, BACKTEST_STARTS)), BACKTEST_ROWS


def _rank_plan(plan: _Plan, opts: FitOptions, cuts, max_rows, progress, calibration="default") -> Ranking:
    results, rejected = [], {}
    n = len(plan.candidates)
    for done, cand in enumerate(plan.candidates):
        if progress is not None:
            progress(done, n)
        bt = backtest(plan.rows(cand), get_law(cand.law), options=opts, by=plan.shape.by, cuts=cuts,
                      inputs=dict(cand.inputs), target=plan.target, prior=cand.prior, max_rows=max_rows,
                      within=plan.shape.within, calibration=calibration)
        why = plan.guard(cand).check_backtest(bt, get_law(cand.law), cand.inputs)
        if why:
            rejected[cand.label] = why
        results.append(bt)
    if progress is not None:
        progress(n, n)
    return Ranking(backtests=tuple(rank(results, rejected=rejected)), skipped=plan.skipped, by=plan.shape.by,
                   source=plan.runs.source, shape=plan.shape, rejected=MappingProxyType(rejected))


def compare_laws(data, *, options: FitOptions | None = None, candidates=None, priors="published",
                 by: str | None = None, cuts: int | Sequence[float] = SELECTION_CUTS,
                 inputs: Mapping[str, str] | None = None, target: str | None = None, where: Sequence[str] = (),
                 rename=None, quick: bool = True, calibration="default", progress=None, **option_values) -> Ranking:
    """Backtest every applicable candidate on the same cuts, ranked (see `rank`), with the skipped ones and why
    and the rejected ones (forecasts that run away) and why.

    The runs' shape (datashape.py) decides the default candidates, the rows each sees and the cuts: for training
    curves of one model size the cuts are steps within every curve (by = step).
    options: how every backtest fit is made (fitting/options.py), as keywords or a FitOptions record, as for `fit`.
    candidates: law names, "all" (adds the costly ones: farseer and bnsl2 on a ladder), or None (the shape's).
    calibration: the model-error term of the backtests' intervals (with a bootstrap), as for `backtest`.
    quick: law selection's budget: each backtest fit uses at most BACKTEST_STARTS starts and about BACKTEST_ROWS
        rows (training curves thinned, see `thin`). False fits with the options' starts and every row.
    progress: called as progress(candidates done, candidates) after each candidate (the CLI's progress bar).
    """
    opts = FitOptions.of(options, **option_values)
    runs = read_runs(data, rename=rename, where=where)
    runs, opts = weights_in_rows(runs, opts)
    plan = _plan(runs, candidates, priors, by, inputs, target)
    opts, max_rows = _quick(opts, quick)
    return _rank_plan(plan, opts, cuts, max_rows, progress, calibration)


# -- fit_auto -----------------------------------------------------------------------------------------------------
def fit_auto(data, law: str = "auto", *, options: FitOptions | None = None,
             inputs: Mapping[str, str] | None = None, target: str | None = None, where: Sequence[str] = (),
             rename=None, constants=None, progress: Callable[[int, int], None] | None = None, candidates=None,
             priors="published",
             by: str | None = None, cuts: int | Sequence[float] = SELECTION_CUTS,
             selection_progress: Callable[[int, int], None] | None = None, **option_values):
    """Choose a law by backtest and fit it to all the data: a normal `Fit`, the choice in `fit.extra['selection']`
    (its `headline` says which law was chosen for what data and why; its `mixture` holds the runners-up behind the
    prediction intervals).

    Takes `scalinglaws.fit`'s arguments (so `fit --law auto` is a drop-in). The candidates are backtested with the
    same options the chosen law is then fitted with (weights, loss, early transient, seed), without the bootstrap
    (selection ranks by error, not coverage) and on law selection's budget of starts and rows (`compare_laws`).
    Further:
    candidates: law names to consider, or "all" (default: those of the runs' shape, datashape.py, whose inputs the
        table has; "all" adds farseer and bnsl2, which cost ten times as much to backtest).
    priors: "published" (default: also the candidates with exponents fixed at published values), None, or a list
        of `Prior`s (e.g. `Prior.from_fit(fit_of_a_similar_family)`).
    by, cuts: the backtest's cut column (for curves of one model size the step column the curves are cut at) and
        number of cuts.
    selection_progress: called as (candidates done, candidates) while the laws are backtested; `progress` follows
        the final fit's bootstrap, as in `fit`.
    """
    if law not in ("auto", None):
        raise ArgumentError("law", f"law must be 'auto' for fit_auto, which chooses the law itself; got {law!r}")
    opts = FitOptions.of(options, **option_values)
    if opts.space != "log":
        raise ArgumentError("space", "space applies to a named law; law selection backtests losses in log space, "
                            "so with law='auto' leave space out")
    runs = read_runs(data, rename=rename, where=where, constants=constants)
    runs, opts = weights_in_rows(runs, opts)
    plan = _plan(runs, candidates, priors, by, inputs, target)
    quick, max_rows = _quick(opts.replace(bootstrap=0), True)
    ranking = _rank_plan(plan, quick, cuts, max_rows, selection_progress)
    ranked = list(ranking.backtests)
    win = ranked[0]
    if not np.isfinite(win.score):
        raise ScalingLawsError(f"no candidate law could be backtested on {plan.runs.source}: "
                               + "; ".join(f"{b.label}: {b.cuts[0].error}" for b in ranked[:3]))
    by_label = {c.label: c for c in plan.candidates}
    if win.label in ranking.rejected:
        warnings.warn(f"every candidate law runs away in its backtest; {win.label}, the best of them, "
                      f"{ranking.rejected[win.label]}: do not trust its forecasts", FitWarning, stacklevel=2)
    elif not win.complete:
        warnings.warn(f"no candidate law could be fitted at every backtest cut; {win.label} is the best of the "
                      "rest: treat the choice as weak evidence", FitWarning, stacklevel=2)
    cand = by_label[win.label]
    result = _fit(plan, cand, opts, progress)
    diverged = plan.guard(cand).check(result.get_law(), result.inputs, result.params)
    if diverged:
        warnings.warn(f"the chosen law {win.label}, fitted to all the data, {diverged}: its forecasts run away; "
                      "choose another law or add runs", FitWarning, stacklevel=2)
    members, refused = _mixture(plan, ranking, cand, result, quick)
    selection = selection_record(plan, ranking, win, cand, diverged=diverged, refused=refused,
                                 mixture=mixture_record(members, WEIGHTING) if len(members) > 1 else None,
                                 tolerance=TOLERANCE, mix_tolerance=MIX_TOLERANCE, bootstrap=opts.bootstrap > 0)
    return replace(result, extra={**result.extra, "selection": selection})


def _fit(plan: _Plan, cand: Candidate, opts: FitOptions, progress=None, max_rows: int | None = None):
    from ..fitting import fit

    kw = dict(inputs=dict(cand.inputs), target=plan.target, options=opts, progress=progress)
    law = get_law(cand.law)
    rows = thin(plan.rows(cand), max_rows)
    return fit_with_prior(rows, law, cand.prior, **kw) if cand.prior else fit(rows, law, **kw)


def weights(scores: Sequence[float]) -> np.ndarray:
    """The law mixture's weights from backtest scores (mean held-out relative errors): w ∝ exp(-s / s_best)."""
    s = np.asarray(scores, dtype=float)
    w = np.exp(-s / max(float(s.min()), 1e-12))
    return w / w.sum()


def _mixture(plan: _Plan, ranking: Ranking, cand: Candidate, result, quick: FitOptions):
    """(members, the runners-up refused and why): the winner and the runners-up within MIX_TOLERANCE of the best
    score that see the same rows and read only the winner's columns, each refitted to all of them on law
    selection's budget (its starts, and about BACKTEST_ROWS rows), weighted by `weights`."""
    by_label = {c.label: c for c in plan.candidates}
    win = ranking.best
    columns = set(cand.inputs.values())

    def fits_beside(b):  # a member is evaluated wherever the winner is: it may read no column the winner does not
        other = by_label[b.label]
        return other.finals == cand.finals and set(other.inputs.values()) <= columns

    usable = [b for b in ranking.backtests if b.complete and np.isfinite(b.score) and b.label not in ranking.rejected
              and fits_beside(b)]
    if win not in usable:
        return [], []
    best = min(b.score for b in usable)
    near = [b for b in sorted(usable, key=lambda b: b.score) if b is not win and b.score <= best * (1 + MIX_TOLERANCE)]
    chosen, fits, refused = [win], [result], []
    for b in near[:MIXTURE - 1]:
        other = by_label[b.label]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a runner-up's own fit warnings would drown the winner's
                f = _fit(plan, other, quick, max_rows=BACKTEST_ROWS)
        except ScalingLawsError as exc:
            refused.append({"label": b.label, "reason": f"could not be refitted to all the data: {exc}"})
            continue
        why = plan.guard(other).check(f.get_law(), f.inputs, f.params)
        if why:
            refused.append({"label": b.label, "reason": f"fitted to all the data, {why}"})
            continue
        chosen.append(b)
        fits.append(f)
    w = weights([b.score for b in chosen])
    members = [Member(label=b.label, law=f.law, inputs=dict(f.inputs), params=dict(f.params), weight=float(wk),
                      law_source=f.law_source) for b, f, wk in zip(chosen, fits, w)]
    return members, refused

