"""Recipe and dataset comparison: which group of runs is better at a target scale, by how much compute, and where
the two trends cross.

Each labelled group (a recipe, a dataset, an architecture) gets its own fit of the same law with a bootstrap over its
runs. Along one scale axis (compute on the compute-optimal frontier for laws of N and D, see frontier.py) this
gives every group a loss curve L_g(C) with draws, and at the target a prediction interval made as `Fit.predict`
makes one (fitting/interval.py: the draws, the group's residual scatter and the calibrated model error, which
grows with the target's distance beyond the group's runs). Against a baseline group b:

* the difference L_g(C*) - L_b(C*) at the target scale, with a confidence interval from the paired draws (the groups'
  bootstraps are independent, so pairing draw i with draw i samples the difference), and the share of draws in
  which g is better;
* the effective-compute multiplier m(C) = C_b(L_g(C)) / C: the compute the baseline needs to reach g's loss at C,
  per unit of g's compute (m = 2: g's recipe is worth a doubling of compute). This is the "compute-equivalent gain"
  used to compare recipes (e.g. Hoffmann et al. 2022 §4 compared datasets; Gadre et al. 2024 and Porian et al. 2024
  compare training setups); with unequal exponents it varies with scale, which is why it is reported as a curve;
* crossovers: scales where L_g - L_b changes sign, the "scaling law crossover" where the recipe that wins small
  loses large, with an interval from the draws that cross within the searched range.

Who leads at the target (`Lead`) puts the three together for the best group and the runner-up there: the gap with
its interval, the compute multiplier the runner-up needs to match the winner, and the crossover nearest the target.

Accuracy-like metrics (`higher_better`): every group is fitted on its error 1 - metric (the `saturating` law by
default, the form Nezhurina et al. 2025 fit to CLIP and MaMMUT), and the predictions, intervals and differences are
reported back in the metric's own units. On a dense grid of shapes (`pareto`) each group is fitted only on its
compute-Pareto front (runs/pareto.py), the runs that no cheaper run of the group beats, so that the trend is of the
best a unit of compute buys rather than of the average shape.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..errors import ArgumentError, ExtrapolationWarning, FitWarning, ScalingLawsError
from ..fitting.options import FitOptions, weights_in_rows
from ..fitting.prediction import EXTRAPOLATION_WARN
from ..records import format_of
from ..render.table import Tabular
from ..runs import read_runs
from ..runs.pareto import pareto_front
from .frontier import curve, curve_axis, inverse

DRAWS = 200  # bootstrap resamples per group when the caller gives no options: the intervals are made of them
MIN_DRAWS = 20
CURVE_POINTS = 240  # scales on the comparison grid
INVERSE_REACH = 6.0  # decades beyond the grid searched when inverting the baseline's curve


@dataclass(frozen=True)
class GroupForecast:
    label: str
    law: str
    runs: int
    params: Mapping[str, float]
    prediction: float  # at the target
    lower: float
    upper: float
    scale_range: tuple[float, float]  # the group's data along the axis
    warnings: tuple[str, ...] = ()
    curve: tuple[Mapping[str, float], ...] = ()  # the group's curve along the axis: scale, prediction, lower, upper
    method: Mapping | None = None  # how the prediction interval was made (fitting/interval.py)
    off_front: int = 0  # rows of the group left out as off its compute-Pareto front (pareto)

    def to_dict(self) -> dict:
        return {"label": self.label, "law": self.law, "runs": self.runs, "off_front": self.off_front,
                "params": dict(self.params),
                "prediction": self.prediction, "lower": self.lower, "upper": self.upper,
                "scale_range": list(self.scale_range), "warnings": list(self.warnings),
                "curve": [{k: _num(v) for k, v in c.items()} for c in self.curve],
                "interval_method": None if self.method is None else copy.deepcopy(dict(self.method))}


@dataclass(frozen=True)
class PairComparison:
    label: str
    baseline: str
    difference: float  # L_label - L_baseline at the target (< 0: label is better; higher_better: > 0 is better)
    lower: float
    upper: float
    p_better: float  # share of draws in which label has the lower loss at the target
    multiplier: float  # effective-compute multiplier of label over baseline at the target (inf: out of reach)
    multiplier_lower: float
    multiplier_upper: float
    multipliers: tuple[Mapping[str, float], ...]  # over the scale grid: scale, multiplier, lower, upper
    crossovers: tuple[Mapping[str, float], ...]  # scale, lower, upper, share (of draws crossing in range)
    verdict: str

    def to_dict(self) -> dict:
        return {"label": self.label, "baseline": self.baseline, "difference": self.difference, "lower": self.lower,
                "upper": self.upper, "p_better": self.p_better, "multiplier": _num(self.multiplier),
                "multiplier_lower": _num(self.multiplier_lower), "multiplier_upper": _num(self.multiplier_upper),
                "multipliers": [{k: _num(v) for k, v in m.items()} for m in self.multipliers],
                "crossovers": [dict(c) for c in self.crossovers], "verdict": self.verdict,
                "interval_method": PAIR_METHOD}


@dataclass(frozen=True)
class Lead:
    """Who leads at the target: the best group there against the runner-up."""

    winner: str
    runner_up: str
    scale: float  # the target on the axis
    gap: float  # how far the winner is ahead at the target, in the metric's units (> 0)
    lower: float
    upper: float
    p_winner: float  # share of the paired draws in which the winner is ahead
    multiplier: float  # compute the runner-up needs to match the winner, per unit of the target's (inf: never)
    multiplier_lower: float
    multiplier_upper: float
    crossover: Mapping[str, float] | None  # the crossing nearest the target: scale, lower, upper, share
    verdict: str

    def to_dict(self) -> dict:
        return {"winner": self.winner, "runner_up": self.runner_up, "scale": self.scale, "gap": self.gap,
                "lower": self.lower, "upper": self.upper, "p_winner": self.p_winner,
                "multiplier": _num(self.multiplier), "multiplier_lower": _num(self.multiplier_lower),
                "multiplier_upper": _num(self.multiplier_upper),
                "crossover": None if self.crossover is None else dict(self.crossover), "verdict": self.verdict,
                "interval_method": PAIR_METHOD}


@dataclass(frozen=True, repr=False)
class Comparison(Tabular):
    by: str
    axis: str
    target: float  # the target scale on the axis
    at: Mapping[str, float]
    level: float
    baseline: str
    search: tuple[float, float]  # the scale range searched for crossovers
    groups: tuple[GroupForecast, ...]
    pairs: tuple[PairComparison, ...]
    metric: str
    frontier: bool  # the curves are compute-optimal frontiers of laws of N and D (else a one-input law itself)
    extrapolation: float = 1.0  # how far the target lies beyond the groups' data along the axis (×, 1 inside)
    warnings: tuple[str, ...] = ()
    higher_better: bool = False  # the metric is accuracy-like: fitted as 1 - metric, reported as the metric
    pareto: bool = False  # each group was fitted on its compute-Pareto front only
    lead: Lead | None = None

    @property
    def best(self) -> str:
        if self.higher_better:
            return max(self.groups, key=lambda g: g.prediction).label
        return min(self.groups, key=lambda g: g.prediction).label

    def to_dict(self) -> dict:
        return {"format": format_of("comparison"), "by": self.by, "axis": self.axis, "target": self.target,
                "at": dict(self.at), "level": self.level, "metric": self.metric, "frontier": self.frontier,
                "baseline": self.baseline, "best": self.best, "search": list(self.search),
                "extrapolation": self.extrapolation, "warnings": list(self.warnings),
                "higher_better": self.higher_better, "pareto": self.pareto,
                "lead": None if self.lead is None else self.lead.to_dict(),
                "groups": [g.to_dict() for g in self.groups], "pairs": [p.to_dict() for p in self.pairs]}


# how a pair's intervals are made (`_pair`): of the difference and the multiplier, not of a new run's loss
PAIR_METHOD = {"kind": "confidence", "parameters": "the two groups' bootstrap draws over runs, draw b against draw b",
               "how": "percentile interval of the per-draw difference at the target, and of the per-draw compute "
                      "multiplier", "noise": "none: a difference of expected losses", "model": None}


def _num(v):
    v = float(v)
    return v if np.isfinite(v) else None


def _split(runs, by: str, labels: Sequence[str] | None, min_rows: int):
    if by not in runs:
        raise ArgumentError("by", f"by={by!r}: {runs.missing_message(by, 'Name the column that labels the groups')}")
    groups = runs.groups(by)
    if labels:
        unknown = [lab for lab in labels if lab not in groups]
        if unknown:
            raise ArgumentError("groups", f"groups={unknown[0]!r}: no runs have {by}={unknown[0]} in {runs.source} "
                                f"(its values: {', '.join(list(groups)[:12])})")
        groups = {lab: groups[lab] for lab in labels}
    if len(groups) < 2:
        raise ScalingLawsError(f"column '{by}' of {runs.source} has {len(groups)} value"
                               f"{'s' if len(groups) != 1 else ''} ({', '.join(groups)}): a comparison needs two or "
                               "more groups. Choose another --by column, or drop the --where that narrowed it")
    for lab, g in groups.items():
        if g.n_runs < 2:
            raise ScalingLawsError(f"group {by}={lab} has only {g.n_runs} run: a trend needs several runs per group. "
                                   f"Add runs, or leave the group out with --where '{by}!={lab}'")
        if len(g) < min_rows:
            raise ScalingLawsError(f"group {by}={lab} has {len(g)} rows but the law has {min_rows} parameters. Add "
                                   "runs, or compare with a smaller law (e.g. --law power)")
    return groups


def _default_law(runs) -> str:
    return "chinchilla" if "params" in runs and "tokens" in runs else "power"


def compare(data, by: str = "family", *, at: Mapping[str, float], law=None, groups: Sequence[str] | None = None,
            baseline: str | None = None, options: FitOptions | None = None, inputs: Mapping[str, str] | None = None,
            target: str | None = None, where: Sequence[str] = (), rename=None,
            search: tuple[float, float] | None = None, calibration="default", higher_better: bool = False,
            pareto: bool = False, **option_values) -> Comparison:
    """Compare labelled groups of runs at a target scale (see the module docstring).

    by: the column whose values label the groups. groups: which of them (default: all, in order of appearance).
    at: the target, e.g. {"flops": 1e23}; other law inputs (e.g. unique_tokens) may be given too.
    law: the law fitted to every group (default chinchilla when the table has params and tokens, else power;
        "auto" chooses per group by backtest).
    baseline: the group the others are compared with (default: the first).
    options: how every group is fitted (fitting/options.py), as keywords or a FitOptions record, as for `fit`. The
        intervals need a bootstrap: without options, each group gets DRAWS resamples.
    search: the scale range searched for crossovers (default: the data's smallest scale to 1000 times the larger
        of the target and the data's largest scale).
    calibration: the model-error term of each group's prediction interval ("default", "none", a file or a
        Calibration; fitting/calibration.py), widening with the target's distance along the axis beyond the group's
        runs. The differences between groups are intervals of the trends (paired draws), without it.
    higher_better: the target column (default `accuracy`) is accuracy-like, in [0, 1]: the law (default
        `saturating`) is fitted to the error 1 - target and everything is reported in the target's units.
    pareto: fit each group only on its compute-Pareto front along the axis (runs/pareto.py): the rows that no row
        of the group with less or equal compute beats.
    """
    from ..fitting import fit as fit_law
    from ..fitting.calibration import resolve
    from ..laws import get_law
    from .select import fit_auto

    if options is None and "bootstrap" not in option_values:
        option_values["bootstrap"] = DRAWS
    opts = FitOptions.of(options, **option_values)
    if opts.bootstrap < MIN_DRAWS:
        raise ArgumentError("bootstrap", f"bootstrap must be at least {MIN_DRAWS} for comparison intervals (got "
                            f"{opts.bootstrap})")
    level = opts.level
    cal = resolve(calibration)
    if not at:
        raise ScalingLawsError("give the target scale, e.g. --at flops=1e23")
    runs = read_runs(data, rename=rename, where=where)
    runs, opts = weights_in_rows(runs, opts)
    law_name = law or ("saturating" if higher_better else _default_law(runs))
    min_rows = 2 if law_name == "auto" else get_law(law_name).n_params
    metric = target
    if higher_better:
        metric = target or "accuracy"
        runs, target = _error_of(runs, metric)
    parts = _split(runs, by, groups, min_rows)
    off_front = {lab: 0 for lab in parts}
    if pareto:
        parts, off_front = _fronts(parts, by, law_name, inputs, target, min_rows)
    baseline = baseline or next(iter(parts))
    if baseline not in parts:
        raise ArgumentError("baseline", f"baseline={baseline!r}: not one of the groups compared ({', '.join(parts)})")

    fits = {}
    for lab, g in parts.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            kw = dict(inputs=inputs, target=target, options=opts)
            fits[lab] = fit_auto(g, **kw) if law_name == "auto" else fit_law(g, law_name, **kw)
        for w in caught:
            if issubclass(w.category, FitWarning):
                warnings.warn(f"group {by}={lab}: {w.message}", FitWarning, stacklevel=2)

    first = next(iter(fits.values()))
    axis = curve_axis(first, at)
    for lab, f in fits.items():
        if curve_axis(f, at) != axis:
            raise ScalingLawsError(f"group {lab}'s law is a curve of {curve_axis(f, at)}, the others' of {axis}: "
                                   "compare with one law (--law NAME)")
    if axis not in at:
        raise ScalingLawsError(f"the comparison runs along {axis}: give the target as --at {axis}=VALUE")
    x_target = float(at[axis])
    if not x_target > 0:
        raise ScalingLawsError(f"--at {axis}={x_target:g}: the target scale must be positive")
    fixed = {k: float(v) for k, v in at.items() if k != axis}

    ranges = {lab: _scale_range(parts[lab], axis) for lab in parts}
    lo = min(r[0] for r in ranges.values())
    hi = max(max(r[1] for r in ranges.values()), x_target)
    search = tuple(search) if search else (lo, hi * 1e3)
    if not 0 < search[0] < search[1]:
        raise ScalingLawsError(f"the crossover search range {search} must be two increasing positive scales")
    grid = np.geomspace(min(search[0], x_target), max(search[1], x_target), CURVE_POINTS)
    inv_grid = np.geomspace(grid[0] / 10 ** INVERSE_REACH, grid[-1] * 10 ** INVERSE_REACH, 3 * CURVE_POINTS)

    curves, inv_curves, at_target = {}, {}, {}
    for lab, f in fits.items():
        law_obj = f.get_law()
        theta = np.vstack([[f.params[n] for n in law_obj.param_names], f.bootstrap.array()])  # row 0: point fit
        curves[lab] = curve(f, law_obj, theta, grid, fixed)  # (1 + B, G)
        inv_curves[lab] = curve(f, law_obj, theta, inv_grid, fixed)
        at_target[lab] = curve(f, law_obj, theta, np.array([x_target]), fixed)[:, 0]  # (1 + B,)

    qlo, qhi = (1 - level) / 2, (1 + level) / 2
    out_groups = []
    for lab, f in fits.items():
        v = at_target[lab]
        made = _predictive(f, v[:, None], np.array([x_target]), ranges[lab], level, cal)
        out_groups.append(GroupForecast(
            label=lab, law=f.law if "selection" not in f.extra else f.extra["selection"]["winner"],
            runs=parts[lab].n_runs, params=dict(f.params), prediction=_unit(float(v[0]), higher_better),
            lower=_unit(float(made.upper[0] if higher_better else made.lower[0]), higher_better),
            upper=_unit(float(made.lower[0] if higher_better else made.upper[0]), higher_better),
            scale_range=ranges[lab], warnings=tuple(f.warnings),
            curve=_band(f, grid, curves[lab], ranges[lab], level, cal, higher_better), method=made.method,
            off_front=off_front[lab]))

    pairs = []
    for lab in fits:
        if lab == baseline:
            continue
        pairs.append(_pair(lab, baseline, grid, inv_grid, curves, inv_curves, at_target, x_target, qlo, qhi, axis,
                           search, level, ranges, higher_better))
    # who leads at the target: the best point prediction against the runner-up (in loss or error, lower is better)
    order = sorted(fits, key=lambda lab: at_target[lab][0])
    lead = _lead(_pair(order[0], order[1], grid, inv_grid, curves, inv_curves, at_target, x_target, qlo, qhi, axis,
                       search, level, ranges), x_target, axis, level, metric or first.target)
    factor = beyond_range(x_target, ranges)
    notes = []
    if factor > EXTRAPOLATION_WARN:
        notes.append(f"the target {axis}={x_target:.3g} lies {factor:.3g}× beyond the range of the groups' data "
                     f"along {axis}: treat the comparison there as rough")
    far = [m for p in pairs for m in p.multipliers if m["beyond"] > EXTRAPOLATION_WARN]
    if far:
        notes.append(f"the multipliers at {axis} ≥ {min(m['scale'] for m in far):.3g} lie more than "
                     f"{EXTRAPOLATION_WARN:g}× beyond the groups' data (up to {max(m['beyond'] for m in far):.3g}×): "
                     "forecasts of the laws, not measurements")
    for note in notes:
        warnings.warn(note, ExtrapolationWarning, stacklevel=2)
    return Comparison(by=by, axis=axis, target=x_target, at=dict(at), level=level, baseline=baseline,
                      search=(float(search[0]), float(search[1])), groups=tuple(out_groups), pairs=tuple(pairs),
                      metric=metric or first.target, frontier=len(set(first.inputs.values())) > 1,
                      extrapolation=factor, warnings=tuple(notes), higher_better=higher_better, pareto=pareto,
                      lead=lead)


def _error_of(runs, metric: str):
    """The runs with a column of the error 1 - metric, and its name, for an accuracy-like metric in [0, 1]."""
    if metric not in runs:
        fix = "Name the accuracy-like column with --target COLUMN"
        raise ScalingLawsError(f"higher_better: {runs.missing_message(metric, fix)}")
    values = np.asarray(runs[metric], dtype=float)
    bad = np.flatnonzero(np.isfinite(values) & ((values < 0) | (values > 1)))
    if bad.size:
        i = int(bad[0])
        raise ScalingLawsError(f"{runs.locate(i)}: column '{metric}' is {values[i]:g}, outside [0, 1] "
                               f"({bad.size} row{'s' if bad.size > 1 else ''} are). A higher-is-better metric is "
                               "fitted as the error 1 - metric: give it as a fraction (divide percentages by 100), "
                               "or leave out --higher-better for a loss")
    name = f"{metric}_error"
    return runs.with_columns(**{name: 1.0 - values}), name


def _fronts(parts, by: str, law_name: str, inputs, target, min_rows: int):
    """Every group's rows on its compute-Pareto front along the comparison's axis, and how many each leaves out."""
    from ..laws import get_law

    law_obj = None if law_name == "auto" else get_law(law_name)
    binding = {**(law_obj.inputs if law_obj else {}), **(inputs or {})}
    cols = set(binding.values())
    axis = next(iter(cols)) if len(cols) == 1 else "flops"
    value = target or (law_obj.target if law_obj else "loss")
    out, dropped = {}, {}
    for lab, g in parts.items():
        if axis not in g:
            fix = "The front is taken along compute: add a flops column, or --map flops=COLUMN"
            raise ScalingLawsError(f"pareto: {g.missing_message(axis, fix)}")
        keep = pareto_front(g[axis], g[value])
        front = g.take(keep)
        if len(front) < min_rows or front.n_runs < 2:
            raise ScalingLawsError(f"group {by}={lab} has {len(front)} row{'s' if len(front) != 1 else ''} on its "
                                   f"compute-Pareto front (of {len(g)}) but the law has {min_rows} parameters. Add "
                                   "runs at more compute, compare with a smaller law (e.g. --law power), or fit "
                                   "every run (leave out --pareto)")
        out[lab], dropped[lab] = front, len(g) - len(front)
    return out, dropped


def _unit(v: float, higher_better: bool) -> float:
    """An error back in the metric's units (1 - error) for an accuracy-like metric; a loss as it is."""
    return 1.0 - v if higher_better else v


def _lead(pair: PairComparison, x_target: float, axis: str, level: float, metric: str) -> Lead:
    """The record of who leads at the target from the pair (winner against the runner-up as baseline), whose
    difference is in loss or error (negative: the winner is ahead) and whose multiplier is the runner-up's."""
    winner, runner = pair.label, pair.baseline
    near = min(pair.crossovers, key=lambda c: abs(np.log(c["scale"] / x_target)), default=None)
    gap, lo, hi = -pair.difference, -pair.upper, -pair.lower
    pct = f"{int(round(level * 100))}%"
    text = (f"{winner} leads {runner} at {axis}={x_target:.3g} by {gap:.3g} in {metric} ({pct} [{lo:.3g}, {hi:.3g}]"
            f"{'' if lo > 0 else ': not decisive'}); " + (f"{runner} needs {pair.multiplier:.3g}× the compute to "
                                                          "match" if np.isfinite(pair.multiplier) else
                                                          f"no compute lets {runner} match it"))
    if near is not None:
        side = "below" if near["scale"] < x_target else "beyond"
        text += f"; the trends cross at {axis}≈{near['scale']:.3g}, and {runner} leads {side} it"
    return Lead(winner=winner, runner_up=runner, scale=x_target, gap=gap, lower=lo, upper=hi,
                p_winner=pair.p_better, multiplier=pair.multiplier, multiplier_lower=pair.multiplier_lower,
                multiplier_upper=pair.multiplier_upper,
                crossover=None if near is None else MappingProxyType(dict(near)), verdict=text)



def beyond_range(scale: float, ranges: Mapping[str, tuple[float, float]]) -> float:
    """How far a scale lies beyond every group's data along the axis (the nearest group's range): ×, 1 inside."""
    factors = [max(scale / hi, lo / scale, 1.0) for lo, hi in ranges.values()]
    return float(min(factors)) if factors else 1.0


def _predictive(f, values: np.ndarray, scale: np.ndarray, scale_range, level: float, calibration):
    """The prediction interval (fitting/interval.py) of a group's (1 + B, m) values at m scales of the axis: row 0
    the point fit, rows 1.. its bootstrap draws; the extrapolation is the scale's distance beyond the group's runs."""
    from ..fitting import space as spaces
    from ..fitting.interval import interval

    lo, hi = scale_range
    factor = np.maximum(1.0, np.maximum(scale / hi, lo / scale))
    return interval(values[1:], level=level, kind="prediction", residuals=f.residuals, space=spaces.of(f.loss),
                    seed=f.seed, point=values[0], extrapolation=factor, calibration=calibration,
                    parameters=f"bootstrap over runs ({f.bootstrap.n} draws)")


def _band(f, grid, c, scale_range, level, calibration, higher_better: bool = False,
          points: int = CURVE_POINTS // 4) -> tuple[dict, ...]:
    """A group's curve (1 + B, G) at `points` scales of the grid: the point fit and its prediction interval, so
    that a figure of the comparison can draw each group's trend with its band (in the metric's units)."""
    idx = np.unique(np.rint(np.linspace(0, len(grid) - 1, points)).astype(int))
    made = _predictive(f, c[:, idx], grid[idx], scale_range, level, calibration)
    lows, highs = (made.upper, made.lower) if higher_better else (made.lower, made.upper)
    return tuple({"scale": float(grid[j]), "prediction": _unit(float(c[0, j]), higher_better),
                  "lower": _unit(float(a), higher_better), "upper": _unit(float(b), higher_better)}
                 for j, a, b in zip(idx, lows, highs))


def _scale_range(runs, axis: str) -> tuple[float, float]:
    v = np.asarray(runs[axis], dtype=float)
    return float(np.nanmin(v)), float(np.nanmax(v))


def _multiplier(inv_grid, ref_inv, mine, scale):
    """(K, T) baseline compute reaching `mine` (K, T) losses, per unit of `scale` (T,); inf beyond reach."""
    need = inverse(inv_grid, ref_inv, mine)
    too_low = mine < np.nanmin(np.where(np.isfinite(ref_inv), ref_inv, np.inf), axis=1, keepdims=True)
    return np.where(np.isfinite(need), need / scale, np.where(too_low, np.inf, np.nan))


def _pair(lab, base, grid, inv_grid, curves, inv_curves, at_target, x_target, qlo, qhi, axis, search, level,
          ranges, higher_better: bool = False):
    """The pair's record; curves are losses or errors (lower is better). higher_better: its difference is
    reported in the metric's units, metric_label - metric_base = -(error_label - error_base)."""
    k = min(len(at_target[lab]), len(at_target[base]))
    diff = at_target[lab][:k] - at_target[base][:k]  # row 0: point estimate
    d_lo, d_hi = np.nanquantile(diff[1:], [qlo, qhi])
    p_better = float(np.mean(diff[1:] < 0))

    m_t = _multiplier(inv_grid, inv_curves[base][:k], at_target[lab][:k, None], np.array([x_target]))[:, 0]
    m_lo, m_hi = _quantiles(m_t[1:], qlo, qhi)

    # the multiplier at about one scale per decade of the grid, for the curve m(C)
    decades = np.unique(np.round(np.log10(grid)).astype(int))
    points = 10.0 ** decades[(10.0 ** decades >= grid[0]) & (10.0 ** decades <= grid[-1])]
    mine = np.stack([np.interp(np.log(points), np.log(grid), c) for c in curves[lab][:k]])
    mult = _multiplier(inv_grid, inv_curves[base][:k], mine, points)
    rows = []
    for j, s in enumerate(points):
        lo_j, hi_j = _quantiles(mult[1:, j], qlo, qhi)
        rows.append({"scale": float(s), "multiplier": float(mult[0, j]), "lower": lo_j, "upper": hi_j,
                     "beyond": beyond_range(float(s), {k: ranges[k] for k in (lab, base)})})

    cross = _crossings(grid, curves[lab][:k] - curves[base][:k], search)
    crossovers = []
    for c in cross[0]:
        # each draw's crossing nearest this one (within a factor 100), for the interval
        near = []
        for draw in cross[1:]:
            if draw:
                best = min(draw, key=lambda z: abs(np.log(z / c)))
                if abs(np.log10(best / c)) < 2:
                    near.append(best)
        share = len(near) / max(1, k - 1)
        lo_c, hi_c = (np.quantile(near, [qlo, qhi]) if near else (np.nan, np.nan))
        crossovers.append({"scale": float(c), "lower": _num(lo_c), "upper": _num(hi_c), "share": share})
    n_draw_cross = sum(1 for draw in cross[1:] if draw)

    pct = int(round(level * 100))
    if d_hi < 0:
        verdict = f"{lab} is better than {base} at {axis}={x_target:.3g} ({pct}% interval excludes no difference)"
    elif d_lo > 0:
        verdict = f"{base} is better than {lab} at {axis}={x_target:.3g} ({pct}% interval excludes no difference)"
    else:
        verdict = f"{lab} and {base} cannot be told apart at {axis}={x_target:.3g} ({pct}% interval includes 0)"
    if crossovers:
        verdict += f"; their trends cross at {axis}≈{crossovers[0]['scale']:.3g}"
    elif n_draw_cross > 0.5 * (k - 1):
        verdict += "; most bootstrap draws cross within the searched range though the point fit does not"
    sign = -1.0 if higher_better else 1.0
    d_lo, d_hi = sorted((sign * d_lo, sign * d_hi))
    return PairComparison(label=lab, baseline=base, difference=sign * float(diff[0]), lower=float(d_lo),
                          upper=float(d_hi), p_better=p_better, multiplier=float(m_t[0]), multiplier_lower=m_lo,
                          multiplier_upper=m_hi, multipliers=tuple(rows), crossovers=tuple(crossovers),
                          verdict=verdict)


def _quantiles(v, qlo, qhi) -> tuple[float, float]:
    """Quantiles that treat inf (out of reach) as a value larger than any other; NaN draws are left out."""
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    s = np.sort(v)
    lo = s[min(len(s) - 1, int(np.floor(qlo * (len(s) - 1))))]
    hi = s[min(len(s) - 1, int(np.ceil(qhi * (len(s) - 1))))]
    return float(lo), float(hi)


def _crossings(grid, diff, search) -> list[list[float]]:
    """For every row of diff (K, G): the scales within `search` where it changes sign, log-interpolated."""
    logs = np.log(grid)
    inside = (grid >= search[0] * (1 - 1e-12)) & (grid <= search[1] * (1 + 1e-12))
    out = []
    for row in diff:
        found = []
        ok = np.isfinite(row) & inside
        idx = np.flatnonzero(ok[:-1] & ok[1:] & (np.sign(row[:-1]) * np.sign(row[1:]) < 0))
        for i in idx:
            t = row[i] / (row[i] - row[i + 1])
            found.append(float(np.exp(logs[i] + t * (logs[i + 1] - logs[i]))))
        out.append(found)
    return out
