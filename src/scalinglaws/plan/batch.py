"""Batch size for a planned run, from a fit of the `batch_size` law (laws/batch.py).

Fitting: a sweep over learning rate and batch size at several (N, D) gives, per (N, D, B), the best run over
learning rates (`best_per_batch`); the law is fitted to those rows by the one engine (`fit_batch`), with its
bootstrap for intervals.

Answers (`batch_plan`), each for the point fit and every bootstrap draw, intervals as percentiles over the draws:

- at (N, D): the critical batch B_crit(D) = b·D^γ, the loss-optimal batch B_opt and the loss there, and the steps
  D/B_opt;
- at (N, target loss L): the fewest tokens E_min (the data-efficient limit, B → 0: E + A·N^-α + G·E_min^-β = L),
  the critical batch there B_crit(E_min) and the fewest steps S_min = E_min/B_crit (the step-efficient limit,
  B → ∞); with a limit of S steps, the batch that meets it, B = E_min/(S − S_min), and the tokens S·B it costs,
  from the trade-off (S/S_min − 1)(E/E_min − 1) = 1 (McCandlish et al. 2018; Kaplan et al. 2020, §5.1).

Planning the batch at a FLOP budget: batch size costs no FLOP (C = 6·N·D at any B) but sets the steps D/B; its
accounting is registered for `plan --optimise batch_size_tokens`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ExtrapolationWarning, ScalingLawsError
from ..fitting.interval import check_level
from ..fitting.prediction import EXTRAPOLATION_WARN
from ..laws.batch import batch_for_steps, critical_batch, optimal_ratio
from ..records import format_of
from ..render.table import Tabular
from .axes import AxisCost, register_axis_cost
from .surface import FLOPS_PER_PARAM, positive

AXIS = "batch_size_tokens"
LAW = "batch_size"
# the batch terms are curvature around B_crit, seen only over the batches swept: warn sooner than for N and D
BATCH_BEYOND = 2.0

BATCH_COST = register_axis_cost(AxisCost(
    name="batch size", axis=AXIS,
    columns=lambda n, d, x: {"params": n, "tokens": d, AXIS: x},
    flops=lambda n, d, x: FLOPS_PER_PARAM * n * d * np.ones_like(x), total_params=lambda n, x: n * np.ones_like(x),
    convention="C = 6·N·D at any batch; the batch B (tokens) sets the steps D/B",
    # a batch holds at most the run's tokens: fewer than one step is not a run
    feasible=lambda n, d, x: np.asarray(d, dtype=float) >= np.asarray(x, dtype=float),
    infeasible="every batch holds more tokens than the run trains on (a run takes at least one step, B ≤ D)",
    reference="McCandlish et al. 2018, arXiv:1812.06162; Kaplan et al. 2020, arXiv:2001.08361, §5.1"))


def best_per_batch(data, *, where=(), rename=None, diverged: float | None = None) -> dict:
    """Each (params, tokens, batch_size_tokens)'s best run over the other columns (learning rates): the rows the
    `batch_size` law is fitted to. Rows whose loss is not finite, or above `diverged`, are left out first."""
    from ..runs import read_runs

    runs = read_runs(data, rename=rename, where=where, require=["params", "tokens", AXIS, "loss"],
                     purpose="a batch-size fit needs them (batch in tokens)")
    loss = runs["loss"]
    keep = np.isfinite(loss) & ((loss <= diverged) if diverged is not None else True)
    key = np.stack([runs["params"], runs["tokens"], runs[AXIS]], axis=1)[keep]
    loss = loss[keep]
    bad = np.flatnonzero(~(key > 0).all(axis=1))
    if bad.size:
        raise ScalingLawsError(f"{runs.source}: params, tokens and {AXIS} must be positive for a batch-size fit "
                               f"(row {int(bad[0]) + 1} of the kept rows is not). Drop such rows with --where")
    batches = np.unique(key[:, 2])
    if batches.size < 2:
        raise ScalingLawsError(f"{runs.source}: every run has {AXIS} = {batches[0]:g} (one batch size); a "
                               "batch-size law needs runs at two or more batch sizes, ideally five or more per "
                               "(params, tokens)" if batches.size else f"{runs.source}: no finite losses to fit")
    cells, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    best = np.full(len(cells), np.inf)
    np.minimum.at(best, inverse, loss)
    return {"params": cells[:, 0], "tokens": cells[:, 1], AXIS: cells[:, 2], "loss": best}


def fit_batch(data, *, where=(), rename=None, diverged: float | None = None, options=None, **option_values):
    """Fit the `batch_size` law to each batch size's best run (see `best_per_batch`); options as for `fit`."""
    from ..fitting import fit

    return fit(best_per_batch(data, where=where, rename=rename, diverged=diverged), LAW, options=options,
               **option_values)


@dataclass(frozen=True, repr=False)
class BatchPlan(Tabular):
    """The batch-size answers of a fitted `batch_size` law at one N and either D or a target loss."""

    params: float
    tokens: float | None  # D asked about (None with a target loss)
    target_loss: float | None
    critical_batch: float  # tokens: B_crit(D), or B_crit(E_min) for a target loss
    optimal_batch: float | None  # the loss-optimal batch at D
    loss_at_optimal: float | None
    steps_at_optimal: float | None
    min_tokens: float | None  # E_min to the target loss
    min_steps: float | None  # S_min to the target loss
    max_steps: float | None  # a limit on steps
    batch_for_max_steps: float | None  # the batch that reaches the target in max_steps
    tokens_for_max_steps: float | None
    batch: float | None = None  # a batch asked about at D
    loss_at_batch: float | None = None
    steps_at_batch: float | None = None
    law: dict | None = None  # the law's name, formula and parameters
    intervals: dict | None = None  # quantity -> [lo, hi] over the bootstrap draws
    level: float | None = None
    extrapolation: float = 1.0
    convention: str = ""
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": format_of("batch_plan"), **self.__dict__, "warnings": list(self.warnings)}


CONVENTION = ("B in tokens; E_min: tokens at the data-efficient limit (B → 0) without the small-batch term, "
              "S_min = E_min/B_crit(E_min); steps and tokens at a batch from (S/S_min − 1)(E/E_min − 1) = 1")


def batch_plan(fit, params: float, *, tokens: float | None = None, target_loss: float | None = None,
               max_steps: float | None = None, batch: float | None = None, level: float | None = None) -> BatchPlan:
    """B_crit, B_opt and the loss at (N, D), or the fewest tokens and steps (and the batch for a step limit) to a
    target loss at N, from a fit of the `batch_size` law."""
    if fit.law != LAW:
        raise ScalingLawsError(f"the fit uses law '{fit.law}'; batch answers need a fit of law '{LAW}' (fit it with "
                               f"`scalinglaws batch --sweep SWEEP.csv` or fit_batch)")
    if (tokens is None) == (target_loss is None):
        raise ScalingLawsError("give exactly one of --tokens (the batch at a data budget) or --target-loss (the "
                               "fewest steps and tokens to a loss)")
    n = positive(params, "--params", "1e9")
    law = fit.get_law()
    theta = np.array([[fit.params[k] for k in law.param_names]], dtype=float)
    used = None
    if fit.bootstrap is not None:
        theta = np.vstack([theta, fit.bootstrap.array()])
        used = check_level(fit.bootstrap.level if level is None else level)
    p = law.unpack(theta)  # {name: (K, 1)}
    out: dict = {"params": n, "tokens": None, "target_loss": None, "optimal_batch": None, "loss_at_optimal": None,
                 "steps_at_optimal": None, "min_tokens": None, "min_steps": None, "max_steps": None,
                 "batch_for_max_steps": None, "tokens_for_max_steps": None}
    q: dict[str, np.ndarray] = {}  # quantity -> (K,) over point and draws
    notes: list[str] = []
    with np.errstate(all="ignore"):
        if tokens is not None:
            d = positive(tokens, "--tokens", "2e10")
            out["tokens"] = d
            q["critical_batch"] = critical_batch(np.array([d]), p)[:, 0]
            q["optimal_batch"] = optimal_ratio(np.array([d]), p)[:, 0] * q["critical_batch"]
            q["loss_at_optimal"] = law.fn({"N": np.array([n]), "D": np.array([d]),
                                           "B": q["optimal_batch"][:, None]}, p)[:, 0]
            q["steps_at_optimal"] = d / q["optimal_batch"]
            if batch is not None:
                b = positive(batch, "--batch", "1e6")
                out["batch"] = b
                q["loss_at_batch"] = law.fn({"N": np.array([n]), "D": np.array([d]), "B": np.array([b])}, p)[:, 0]
                q["steps_at_batch"] = np.full(theta.shape[0], d / b)
            planned = {"params": n, "tokens": d, AXIS: batch if batch is not None else float(q["optimal_batch"][0])}
        else:
            target = positive(target_loss, "--target-loss", "2.3")
            out["target_loss"] = target
            reducible = target - p["E"][:, 0] - p["A"][:, 0] * n ** -p["alpha"][:, 0]
            if not reducible[0] > 0:
                floor = float(target - reducible[0])
                raise ScalingLawsError(f"--target-loss {target:g} is below what N = {n:.3g} can reach at any data "
                                       f"or batch ({floor:.4g} by the fit): ask for a larger loss or a larger --params")
            e_min = np.where(reducible > 0, (p["G"][:, 0] / reducible) ** (1 / p["beta"][:, 0]), np.nan)
            q["min_tokens"] = e_min
            q["critical_batch"] = critical_batch(e_min[:, None], p)[:, 0]
            q["min_steps"] = e_min / q["critical_batch"]
            if max_steps is not None:
                s = positive(max_steps, "--max-steps", "1e5")
                out["max_steps"] = s
                if not s > q["min_steps"][0]:
                    raise ScalingLawsError(f"--max-steps {s:.4g}: loss {target:g} at N = {n:.3g} needs at least "
                                           f"{q['min_steps'][0]:.4g} steps at any batch (S_min): allow more steps, "
                                           "or ask for a larger loss")
                q["batch_for_max_steps"] = batch_for_steps(s, q["min_steps"], e_min)
                q["tokens_for_max_steps"] = s * q["batch_for_max_steps"]
            planned = {"params": n, "tokens": float(e_min[0]),
                       AXIS: float(q["batch_for_max_steps"][0]) if max_steps is not None else float(
                           q["critical_batch"][0])}
    for key, v in q.items():
        out[key] = float(v[0]) if np.isfinite(v[0]) else None
    intervals = None
    if used is not None:
        lo_hi = [(1 - used) / 2, (1 + used) / 2]
        intervals = {}
        for key, v in q.items():
            good = v[1:][np.isfinite(v[1:])]
            if good.size:
                intervals[key] = [float(x) for x in np.quantile(good, lo_hi)]
    factor = 1.0
    for col, (lo, hi) in fit.data.get("ranges", {}).items():
        v = planned.get(col)
        if v is not None and lo and hi and np.isfinite(v) and v > 0:
            if col == AXIS and (v > hi * BATCH_BEYOND or v < lo / BATCH_BEYOND):
                notes.append(f"batch {v:.3g} tokens lies outside the fitted batch sizes ({lo:.3g} to {hi:.3g}): "
                             "the law's batch terms are extrapolated; run a short sweep near it")
            factor = max(factor, v / hi, lo / v)
    if factor > EXTRAPOLATION_WARN and not notes:
        notes.append(f"the plan lies {factor:.3g}× beyond the range of the fitted runs: treat it as a rough "
                     "extrapolation")
    for note in notes:
        warnings.warn(note, ExtrapolationWarning, stacklevel=2)
    return BatchPlan(**out, law={"name": fit.law, "formula": fit.formula, "params": dict(fit.params)},
                     intervals=intervals, level=used, extrapolation=float(factor), convention=CONVENTION,
                     warnings=tuple(notes))


__all__ = ["AXIS", "BATCH_COST", "BatchPlan", "batch_plan", "best_per_batch", "fit_batch"]
