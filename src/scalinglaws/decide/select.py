"""Law selection by backtested extrapolation error: `fit --law auto`.

Every candidate law (and every candidate with parameters fixed at published values, see priors.py) is backtested by
rollout on the same cuts (backtesting.py); the one with the lowest mean held-out relative error wins and is refitted
to all the data. In-sample fit is not the criterion: a law with more parameters always fits the ladder at least as
well, and says nothing about the runs beyond it (Choshen et al. 2024 rank estimation choices the same way).

Ranking: candidates whose fit succeeded at every cut come first, by score; among those within `TOLERANCE` (relative)
of the best score the one with the fewest fitted parameters wins (parsimony, the spirit of the one-standard-error
rule of Hastie, Tibshirani & Friedman 2009 §7.10: prefer the simpler model when the evidence cannot separate them).

Cost: each candidate is fitted once per cut plus once at the end. Backtest fits use at most `BACKTEST_STARTS`
multi-start candidates (the final refit uses the usual number), so `--law auto` costs a few seconds on the bundled
datasets (benchmarks/bench_auto.py measures it).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ArgumentError, FitWarning, ScalingLawsError
from ..fitting.options import FitOptions, weights_in_rows
from ..laws import LAWS, get_law
from ..records import format_of
from ..runs import read_runs
from .backtesting import Backtest, backtest, default_axis
from .priors import Prior, fit_with_prior, published

DEFAULT_CANDIDATES = ("power", "chinchilla", "kaplan", "skaling", "overtrain", "data_constrained", "bnsl")
ALL_CANDIDATES = DEFAULT_CANDIDATES + ("farseer", "bnsl2")  # ten times the cost of the others: opt in
SELECTION_CUTS = 3
BACKTEST_STARTS = 256
BACKTEST_ROWS = 300  # backtest fits see at most about this many rows (training curves are thinned, see thin())
TOLERANCE = 0.02  # scores within 2% (relative) of the best count as a tie, broken by fewer parameters


def _applicable(law, runs, inputs, target) -> str | None:
    """Why a law cannot be fitted to these runs (None: it can)."""
    binding = dict(law.inputs)
    binding.update({k: v for k, v in (inputs or {}).items() if k in binding})
    for col in list(binding.values()) + [target or law.target]:
        if col not in runs:
            return f"needs column '{col}'"
        if law.features is None and (runs[col].dtype.kind != "f" or not np.all(np.isfinite(runs[col]))):
            return f"column '{col}' is not numeric and complete"
    return None


def _candidate_list(candidates, priors) -> list[tuple[str, Prior | None]]:
    if isinstance(candidates, str):
        candidates = ALL_CANDIDATES if candidates == "all" else [c.strip() for c in candidates.split(",") if c.strip()]
    names = list(DEFAULT_CANDIDATES if candidates is None else candidates)
    for n in names:
        get_law(n)  # unknown names fail here, with the list of laws
    if priors == "published":
        prior_list = published(names)
    elif priors is None:
        prior_list = []
    else:
        prior_list = list(priors)
    out: list[tuple[str, Prior | None]] = [(n, None) for n in names]
    out += [(p.law, p) for p in prior_list]
    return out


@dataclass(frozen=True)
class Ranking:
    """Candidate laws' backtests on the same cuts, best first, and the candidates that could not be fitted."""

    backtests: tuple[Backtest, ...]
    skipped: tuple[Mapping[str, str], ...]
    by: str
    source: str

    @property
    def best(self) -> Backtest:
        return self.backtests[0]

    def to_dict(self) -> dict:
        return {"format": format_of("ranking"), "source": self.source, "by": self.by, "best": self.best.label,
                "tolerance": TOLERANCE, "ranking": [b.to_dict() for b in self.backtests],
                "skipped": [dict(s) for s in self.skipped]}


def rank(results: Sequence[Backtest], tolerance: float = TOLERANCE) -> list[Backtest]:
    """Complete backtests first, by score; near-ties go to the candidate with fewer fitted parameters."""
    complete = sorted((b for b in results if b.complete and np.isfinite(b.score)), key=lambda b: b.score)
    rest = sorted((b for b in results if not (b.complete and np.isfinite(b.score))), key=lambda b: b.score)
    if complete:
        best = complete[0].score
        tied = [b for b in complete if b.score <= best * (1 + tolerance)]
        simplest = min(tied, key=lambda b: (b.n_params, b.score))
        complete.remove(simplest)
        complete.insert(0, simplest)
    return complete + rest


def compare_laws(data, *, options: FitOptions | None = None, candidates=None, priors="published",
                 by: str | None = None, cuts: int | Sequence[float] = SELECTION_CUTS,
                 inputs: Mapping[str, str] | None = None, target: str | None = None, where: Sequence[str] = (),
                 rename=None, quick: bool = True, calibration="default", progress=None, **option_values) -> Ranking:
    """Backtest every applicable candidate on the same cuts, ranked (see `rank`), with the skipped ones and why.

    options: how every backtest fit is made (fitting/options.py), as keywords or a FitOptions record, as for `fit`.
    calibration: the model-error term of the backtests' intervals (with a bootstrap), as for `backtest`.
    quick: law selection's budget: each backtest fit uses at most BACKTEST_STARTS starts and about BACKTEST_ROWS
        rows (training curves thinned, see `thin`). False fits with the options' starts and every row.
    progress: called as progress(candidates done, candidates) after each candidate (the CLI's progress bar).
    """
    opts = FitOptions.of(options, **option_values)
    runs = read_runs(data, rename=rename, where=where)
    runs, opts = weights_in_rows(runs, opts)
    tgt = target or "loss"
    if tgt not in runs:
        raise ArgumentError("target", f"target={tgt!r}: "
                            + runs.missing_message(tgt, "Name the column to fit with target=COLUMN"))
    max_rows = None
    if quick:
        opts = opts.replace(starts=min(opts.starts or BACKTEST_STARTS, BACKTEST_STARTS))
        max_rows = BACKTEST_ROWS
    by = by or default_axis(runs)
    results, skipped = [], []
    candidate_list = _candidate_list(candidates, priors)
    for done, (name, prior) in enumerate(candidate_list, start=1):
        if progress is not None:
            progress(done - 1, len(candidate_list))
        law = get_law(name)
        why = _applicable(law, runs, inputs, target)
        label = prior.label if prior else name
        if why:
            skipped.append({"label": label, "law": name, "reason": why})
            continue
        law_inputs = {k: v for k, v in (inputs or {}).items() if k in law.inputs}
        results.append(backtest(runs, law, options=opts, by=by, cuts=cuts, inputs=law_inputs, target=target,
                                prior=prior, max_rows=max_rows, calibration=calibration))
    if progress is not None:
        progress(len(candidate_list), len(candidate_list))
    if not results:
        raise ScalingLawsError(f"no candidate law can be fitted to {runs.source}: "
                               + "; ".join(f"{s['label']} {s['reason']}" for s in skipped))
    return Ranking(backtests=tuple(rank(results)), skipped=tuple(skipped), by=by, source=runs.source)


def _reason(ranked: Sequence[Backtest]) -> str:
    win = ranked[0]
    text = f"lowest backtested error: {100 * win.score:.2f}% mean relative error on held-out larger runs"
    if len(ranked) > 1 and np.isfinite(ranked[1].score):
        other = ranked[1]
        if other.score < win.score:
            text += (f"; within {100 * TOLERANCE:.0f}% of {other.label} ({100 * other.score:.2f}%) with fewer "
                     f"parameters ({win.n_params} vs {other.n_params})")
        else:
            text += f"; next best {other.label} at {100 * other.score:.2f}%"
    return text


def fit_auto(data, law: str = "auto", *, options: FitOptions | None = None,
             inputs: Mapping[str, str] | None = None, target: str | None = None, where: Sequence[str] = (),
             rename=None, progress: Callable[[int, int], None] | None = None, candidates=None, priors="published",
             by: str | None = None, cuts: int | Sequence[float] = SELECTION_CUTS,
             selection_progress: Callable[[int, int], None] | None = None, **option_values):
    """Choose a law by backtest and fit it to all the data: a normal `Fit`, the choice in `fit.extra['selection']`.

    Takes `scalinglaws.fit`'s arguments (so `fit --law auto` is a drop-in). The candidates are backtested with the
    same options the chosen law is then fitted with (weights, loss, early transient, seed), without the bootstrap
    (selection ranks by error, not coverage) and on law selection's budget of starts and rows (`compare_laws`).
    Further:
    candidates: law names to consider, or "all" (default: DEFAULT_CANDIDATES, those whose inputs the table has;
        "all" adds farseer and bnsl2, which cost ten times as much to backtest).
    priors: "published" (default: also the candidates with exponents fixed at published values), None, or a list
        of `Prior`s (e.g. `Prior.from_fit(fit_of_a_similar_family)`).
    by, cuts: the backtest's scale column and number of cuts.
    selection_progress: called as (candidates done, candidates) while the laws are backtested; `progress` follows
        the final fit's bootstrap, as in `fit`.
    """
    if law not in ("auto", None):
        raise ArgumentError("law", f"law must be 'auto' for fit_auto, which chooses the law itself; got {law!r}")
    opts = FitOptions.of(options, **option_values)
    if opts.space != "log":
        raise ArgumentError("space", "space applies to a named law; law selection backtests losses in log space, "
                            "so with law='auto' leave space out")
    runs = read_runs(data, rename=rename, where=where)
    runs, opts = weights_in_rows(runs, opts)
    ranking = compare_laws(runs, options=opts.replace(bootstrap=0), candidates=candidates, priors=priors, by=by,
                           cuts=cuts, inputs=inputs, target=target, progress=selection_progress)
    ranked, skipped = list(ranking.backtests), [dict(s) for s in ranking.skipped]
    win = ranked[0]
    if not np.isfinite(win.score):
        raise ScalingLawsError(f"no candidate law could be backtested on {runs.source}: "
                               + "; ".join(f"{b.label}: {b.cuts[0].error}" for b in ranked[:3]))
    prior = next((p for n, p in _candidate_list(candidates, priors) if p is not None and p.label == win.label),
                 None)
    law_obj = LAWS[win.law] if win.law in LAWS else get_law(win.law)
    law_inputs = {k: v for k, v in (inputs or {}).items() if k in law_obj.inputs}
    kw = dict(inputs=law_inputs, target=target, options=opts, progress=progress)
    if not win.complete:
        warnings.warn(f"no candidate law could be fitted at every backtest cut; {win.label} is the best of the "
                      "rest: treat the choice as weak evidence", FitWarning, stacklevel=2)
    result = fit_with_prior(runs, law_obj, prior, **kw) if prior else _fit(runs, law_obj, **kw)
    selection = {
        "method": "rollout backtest", "by": win.by, "cuts": [c.cut for c in win.cuts],
        "metric": "mean over cuts of the mean |relative error| on the held-out larger runs",
        "winner": win.label, "reason": _reason(ranked), "tolerance": TOLERANCE,
        "candidates": [{"label": b.label, "law": b.law, "n_params": b.n_params, "score": _num(b.score),
                        "bias": b.bias, "complete": b.complete,
                        "per_cut": [None if c.rel_error is None else c.rel_error for c in b.cuts]} for b in ranked],
        "skipped": skipped,  # no timing here: the same data and seed give the same record, byte for byte
    }
    extra = dict(result.extra)
    extra["selection"] = selection
    return replace(result, extra=extra)


def _fit(runs, law, **kw):
    from ..fitting import fit

    return fit(runs, law, **kw)


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None
