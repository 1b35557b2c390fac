"""Which run to train next: the rung that most narrows the target's forecast per FLOP spent.

A ladder's forecast of a large run is only as narrow as its runs allow. Given the runs so far (a fit with a
bootstrap), a target (the large run's inputs) and candidate rungs, the question is which rung to add so that the
target's interval shrinks most for the compute spent, and how many rungs it takes to get the interval as narrow as
wanted.

The fit's bootstrap draws are an ensemble of parameter vectors. Their predictions at the target t and at every
candidate c, in the fit's residual space g (log for losses), have an ensemble covariance S. Adding a run at c that
lands with the fit's run-to-run scatter σ² updates the joint covariance as a linear-Gaussian observation does (the
ensemble Kalman update; Evensen 1994): S' = S − S[:, c] S[c, :] / (S[c, c] + σ²). So without refitting anything,
each candidate's effect on the target's variance S[t, t] is known, and rungs are chosen greedily: the candidate with
the largest drop in S[t, t] per FLOP, S updated, and again, until the width wanted is reached, the budget is spent
or `max_runs` rungs are chosen (greedy choice for this variance objective is the standard sequential design;
Krause et al. 2008 on its near-optimality).

The target's forecast width here is that of the prediction interval 2·z·√(S[t, t] + σ²) in g space, expressed in
the target's units relative to its forecast; σ² is a floor no number of rungs removes, said in the record. It is an
approximation (linear in the parameters over the spread of the draws); benchmarks/bench_next.py checks it against
actual refits with the chosen rung added.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ..errors import FitWarning, ScalingLawsError
from ..fitting import space as spaces
from ..fitting.data import as_runs, evaluate
from ..fitting.interval import check_level
from ..records import format_of
from ..render.table import Tabular

FLOPS_PER_PARAM = 6.0
MIN_DRAWS = 30  # fewer draws give a covariance too rough to rank candidates on


@dataclass(frozen=True, repr=False)
class NextRuns(Tabular):
    """Rungs to add to a ladder, in the order to train them, and what each is expected to do to the forecast."""

    target: dict  # the target's inputs
    forecast: float  # the target's forecast now (point fit)
    width: float  # relative width of its prediction interval now (e.g. 0.04: ±2%)
    floor: float  # the width run-to-run scatter alone leaves (no rung removes it)
    chosen: tuple  # ({"params", "tokens", "flops", "width_after", "gain_per_flop"}, ...) in training order
    candidates: tuple  # every candidate's first-step effect: {"params", "tokens", "flops", "width_after", ...}
    spent: float  # FLOP of the chosen rungs
    budget: float | None
    until_width: float | None
    reached: bool  # the width wanted is reached by the chosen rungs (False without one)
    level: float
    draws: int
    method: str
    law: str
    warnings: tuple[str, ...] = ()
    _rows = "chosen"

    def to_dict(self) -> dict:
        out = {"format": format_of("next_runs")}
        out.update({k: getattr(self, k) for k in (
            "target", "forecast", "width", "floor", "spent", "budget", "until_width", "reached", "level", "draws",
            "method", "law")})
        out["chosen"] = [dict(r) for r in self.chosen]
        out["candidates"] = [dict(r) for r in self.candidates]
        out["warnings"] = list(self.warnings)
        return out


def default_candidates(fit, target: Mapping[str, float], count: int = 8) -> list[dict]:
    """Rungs from the smallest fitted model to a tenth of the target's size, log-spaced, each trained at the tokens
    per parameter of the fitted ranges' geometric centre (the fit keeps its ranges, not its rows)."""
    runs = fit.data.get("ranges", {})
    if "params" not in runs or "params" not in target:
        raise ScalingLawsError("give the candidate rungs (--candidates params=...,tokens=...): the fit has no "
                               "params range to make them from")
    lo = float(runs["params"][0])
    hi = max(lo * 2, float(target["params"]) / 10)
    ratio = _ratio(fit)
    return [{"params": float(n), "tokens": float(n * ratio)} for n in np.geomspace(lo, hi, count)]


def _ratio(fit) -> float:
    rng = fit.data.get("ranges", {})
    if "tokens" in rng and "params" in rng:
        return float(np.sqrt(rng["tokens"][0] * rng["tokens"][1] / (rng["params"][0] * rng["params"][1])))
    return 20.0


def next_runs(fit, target: Mapping[str, float], *, candidates: Sequence[Mapping[str, float]] | None = None,
              budget: float | None = None, until_width: float | None = None, max_runs: int = 10,
              level: float | None = None, flops_per_param: float = FLOPS_PER_PARAM,
              fixed: Mapping[str, float] | None = None) -> NextRuns:
    """The rungs to add, in order, that most narrow the forecast at `target` per FLOP.

    target: the large run's inputs (column -> value). candidates: rungs to choose from (rows of column -> value;
    default: `default_candidates`). budget: FLOP for the new rungs. until_width: stop once the target's prediction
    interval is this narrow (relative full width, 0.02 = 2%). fixed: other columns the law reads, for every row.
    A rung's cost is its `flops` column if it has one, else flops_per_param·params·tokens.
    """
    if fit.bootstrap is None or len(fit.bootstrap.array()) < MIN_DRAWS:
        raise ScalingLawsError(f"choosing the next run needs the fit's bootstrap (at least {MIN_DRAWS} draws): refit "
                               "with --bootstrap 200")
    if budget is None and until_width is None:
        raise ScalingLawsError("say when to stop: give a budget for the new rungs (--budget FLOP) or the width wanted "
                               "(--until-width 2%)")
    if budget is not None and not (np.isfinite(budget) and budget > 0):
        raise ScalingLawsError(f"--budget must be a positive number of FLOP (got {budget:g})")
    if until_width is not None and not (np.isfinite(until_width) and 0 < until_width < 2):
        raise ScalingLawsError(f"--until-width is a relative width such as 0.02 (2%), got {until_width:g}")
    level = check_level(fit.bootstrap.level if level is None else level)
    target = {k: float(np.ravel(v)[0]) for k, v in target.items()}
    rows = [dict(c) for c in (candidates if candidates is not None else default_candidates(fit, target))]
    if not rows:
        raise ScalingLawsError("no candidate rungs to choose from")
    space = spaces.of(fit.loss)
    cols = {}
    for row in [target] + rows:
        for key in set(row) | set(fixed or {}):
            cols.setdefault(key, [])
    table = {key: np.array([float(r.get(key, (fixed or {}).get(key, np.nan))) for r in [target] + rows])
             for key in cols}
    missing = [c for c in fit.inputs.values() if c not in table or np.isnan(table[c]).any()]
    if missing:
        raise ScalingLawsError(f"the fit's law reads column '{missing[0]}': give it for the target (--at "
                               f"{missing[0]}=VALUE) and every candidate rung (a column of --candidates)")
    cost = table["flops"][1:] if "flops" in table and not np.isnan(table["flops"][1:]).any() else (
        flops_per_param * table.get("params", np.full(len(rows) + 1, np.nan))[1:]
        * table.get("tokens", np.full(len(rows) + 1, np.nan))[1:])
    if not np.all(np.isfinite(cost) & (cost > 0)):
        raise ScalingLawsError("every candidate needs params and tokens (or flops) to cost it")

    at = as_runs(table)
    point = evaluate(fit, at)  # (1 + m,)
    draws = evaluate(fit, at, fit.bootstrap.array())  # (B, 1 + m)
    z = spaces.forward(draws, space)
    keep = np.all(np.isfinite(z), axis=1)
    if keep.sum() < MIN_DRAWS:
        raise ScalingLawsError("the fit's bootstrap draws do not predict the target and the candidates (too few "
                               "finite predictions); refit, or choose candidates inside the law's domain")
    z = z[keep]
    cov = np.cov(z, rowvar=False)  # (1 + m, 1 + m)
    resid = np.asarray(fit.residuals, dtype=float)
    noise = float(np.mean(resid[np.isfinite(resid)] ** 2)) if resid.size else 0.0
    q = float(norm.ppf(0.5 + level / 2))

    def width(var_t: float) -> float:
        # full width of the prediction interval in the target's units, relative to the forecast
        zc = float(spaces.forward(np.array([point[0]]), space)[0])
        half = q * np.sqrt(max(var_t, 0.0) + noise)
        lo, hi = spaces.inverse(np.array([zc - half, zc + half]), space)
        return float(abs(hi - lo) / abs(point[0]))

    now, floor = width(cov[0, 0]), width(0.0)
    notes: list[str] = []
    if until_width is not None and until_width <= floor:
        notes.append(f"a width of {until_width:.2%} is below the {floor:.2%} that run-to-run scatter alone leaves: "
                     "no rung reaches it")
    first = _gains(cov, noise) / cost
    cand_rows = tuple({**{k: float(v) for k, v in r.items()}, "flops": float(c),
                       "width_after": width(cov[0, 0] - g * c), "gain_per_flop": float(g)}
                      for r, c, g in zip(rows, cost, first))
    chosen, spent, s = [], 0.0, cov.copy()
    reached = until_width is not None and now <= until_width
    while not reached and len(chosen) < max_runs:
        gain = _gains(s, noise)
        score = np.where(cost <= (np.inf if budget is None else budget - spent) * (1 + 1e-12), gain / cost, -np.inf)
        j = int(np.argmax(score))
        if not np.isfinite(score[j]) or gain[j] <= 0:
            break
        s = s - np.outer(s[:, j + 1], s[j + 1, :]) / (s[j + 1, j + 1] + noise)
        spent += float(cost[j])
        after = width(s[0, 0])
        chosen.append({**{k: float(v) for k, v in rows[j].items()}, "flops": float(cost[j]), "width_after": after,
                       "gain_per_flop": float(score[j])})
        reached = until_width is not None and after <= until_width
    if not chosen:
        notes.append("no candidate fits the budget" if budget is not None and np.all(cost > budget)
                     else "no candidate narrows the forecast")
    elif until_width is not None and not reached:
        why = "the budget is spent" if budget is not None else f"{max_runs} rungs are chosen"
        notes.append(f"the forecast's width stops at {chosen[-1]['width_after']:.2%} when {why}, short of "
                     f"{until_width:.2%}: add larger candidates or more budget")
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=2)
    return NextRuns(target=target, forecast=float(point[0]), width=now, floor=floor, chosen=tuple(chosen),
                    candidates=cand_rows, spent=spent, budget=budget, until_width=until_width, reached=bool(reached),
                    level=level, draws=int(keep.sum()), law=fit.law,
                    method=(f"ensemble update of the covariance of {int(keep.sum())} bootstrap draws' predictions "
                            f"({space} space) by each rung at the fit's run-to-run scatter; greedy by variance "
                            "drop per FLOP"), warnings=tuple(notes))


def _gains(s: np.ndarray, noise: float) -> np.ndarray:
    """(m,) drop in the target's variance s[0, 0] that one run at each candidate brings."""
    c = s[0, 1:]
    v = np.diag(s)[1:] + noise
    with np.errstate(all="ignore"):
        g = np.where(v > 0, c * c / v, 0.0)
    return np.maximum(g, 0.0)
