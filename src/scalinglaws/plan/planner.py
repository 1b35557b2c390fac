"""`plan`: one call that answers the questions asked of a fit before a big run, and says which answer to follow.

Each option adds a section: a FLOP budget gives the compute-optimal allocation (and, on request, the frontier and
the over-training table); unique tokens give the data-constrained plan; served tokens give the inference-aware
plan; a target loss gives what it takes to reach it. The recommended run (the top-level params, tokens, loss and
their intervals) is the most specific answer: inference-aware, else data-constrained, else compute-optimal, else
the cheapest run to the target. Each section keeps its own record, intervals and warnings.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from .axes import AxisPlan, optimise_axis
from .constrained import ConstrainedPlan, data_constrained
from .inference import InferencePlan, Overtraining, inference_optimal, overtraining
from .optimal import Allocation, Frontier, compute_optimal, frontier
from .surface import FLOPS_PER_PARAM, SERVE_FLOPS_PER_PARAM, as_surface, positive
from .targets import TargetPlan, reach_target


@dataclass(frozen=True, repr=False)
class Plan(Tabular):
    objective: str  # "inference-aware", "data-constrained", "compute-optimal" or "target"
    flops: float | None  # training FLOP of the recommended run
    params: float | None
    tokens: float | None
    loss: float | None
    tokens_per_param: float | None
    intervals: dict | None
    level: float | None
    extrapolation: float
    law: str
    convention: str
    compute_optimal: Allocation | None = None
    constrained: ConstrainedPlan | None = None
    inference: InferencePlan | None = None
    target: TargetPlan | None = None
    frontier: Frontier | None = None
    overtraining: Overtraining | None = None
    warnings: tuple[str, ...] = ()
    interval_method: dict | None = None  # how the intervals were made (those of the section recommended)
    budget: float | None = None  # the training budget asked for (flops=), when one was
    axis: AxisPlan | None = None  # the best value of an extra input at the budget (optimise=)

    @property
    def over_budget(self) -> float | None:
        """How many times the budget the recommended run trains on, when that is more than the budget."""
        if self.budget is None or self.flops is None or not self.flops > self.budget * (1 + 1e-6):
            return None
        return self.flops / self.budget

    def headline(self) -> str:
        """One line: what is recommended and, where it trains on more than the budget asked, by how much."""
        head = f"Recommended run ({self.objective})"
        over = self.over_budget
        if over is None:
            return head
        saved = ""
        if self.inference is not None:
            saved = f" at {self.inference.savings:.0%} less training-plus-serving compute"
        return (f"{head}: trains on {self.flops:.3g} FLOP, {over:.2f}× OVER the budget of {self.budget:.3g}, to "
                f"reach the loss of that budget's compute-optimal model{saved}")

    def to_dict(self) -> dict:
        out = {"format": format_of("plan")}
        out.update({k: getattr(self, k) for k in ("objective", "flops", "params", "tokens", "loss", "tokens_per_param",
                                             "intervals", "interval_method", "level", "extrapolation", "law",
                                             "convention")})
        for key in ("compute_optimal", "constrained", "inference", "target", "frontier", "overtraining", "axis"):
            section = getattr(self, key)
            out[key] = None if section is None else section.to_dict()
        out["warnings"] = list(self.warnings)
        out["budget"] = self.budget
        out["headline"] = self.headline()
        return out


def plan(fit, *, flops: float | None = None, inference_tokens: float | None = None,
         unique_tokens: float | None = None, target_loss: float | None = None, params: float | None = None,
         max_tokens: float | None = None, frontier_flops: Sequence[float] | None = None,
         ratios: Sequence[float] | None = None, inference_mode: str = "match", level: float | None = None,
         flops_per_param: float = FLOPS_PER_PARAM, serve_flops_per_param: float = SERVE_FLOPS_PER_PARAM,
         fixed: Mapping[str, float] | None = None, repetition: Mapping[str, float] | None = None,
         calibration="default", optimise: str | None = None, optimise_values: Sequence[float] | None = None,
         optimise_bounds: tuple[float, float] | None = None, max_params: float | None = None) -> Plan:
    """Every planning answer the options ask for, and the recommended run among them.

    optimise: an extra input column of the law to choose at the budget (axes.py), over `optimise_values` (a grid)
    or `optimise_bounds` (a range), within `max_params` parameters held; the plan is then that choice.

    calibration: the model-error term of every planned loss's prediction interval ("default", "none", a file or a
    Calibration; fitting/calibration.py), resolved once for every section.
    """
    if flops is None and target_loss is None:
        raise ScalingLawsError("a plan needs a budget or a goal: give --flops C (FLOP) or --target-loss L")
    if ratios and flops is None:
        raise ScalingLawsError("--ratios compares tokens-per-parameter ratios at a fixed budget: give --flops too")
    if params is not None and target_loss is None:
        raise ScalingLawsError("--params asks how many tokens a model of that size needs to reach a loss: give "
                               "--target-loss too")
    if repetition and unique_tokens is None:
        raise ScalingLawsError("--r-d and --r-n set how repeated data decays: give --unique-tokens too")
    budget = None if flops is None else positive(flops, "--flops", "5.76e23")
    if optimise is not None:
        return _axis_plan(fit, budget, optimise, optimise_values, optimise_bounds, max_params, level=level,
                          flops_per_param=flops_per_param, fixed=fixed, calibration=calibration,
                          others={"--inference-tokens": inference_tokens, "--unique-tokens": unique_tokens,
                                  "--target-loss": target_loss, "--frontier": frontier_flops, "--ratios": ratios})
    if max_params is not None:
        raise ScalingLawsError("--max-params limits the parameters of an --optimise plan: give --optimise COL too")
    common = {"level": level, "flops_per_param": flops_per_param, "fixed": fixed}
    # validates the law and the options once, before any section runs; the sections that forecast a loss share
    # its calibration (a target plan has no loss to forecast: it is given)
    surface = as_surface(fit, calibration=calibration, **common)
    cal = {"calibration": surface.calibration}
    sections: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if flops is not None:
            sections["compute_optimal"] = compute_optimal(fit, flops, **common, **cal)
            if frontier_flops:
                sections["frontier"] = frontier(fit, frontier_flops, **common, **cal)
            if ratios:
                sections["overtraining"] = overtraining(fit, flops, ratios, **common, **cal)
            if unique_tokens is not None:
                sections["constrained"] = data_constrained(fit, flops, unique_tokens, repetition=repetition,
                                                           **common, **cal)
        if target_loss is not None:
            sections["target"] = reach_target(fit, target_loss, params=params, max_tokens=max_tokens,
                                              unique_tokens=unique_tokens, **common)
        if inference_tokens is not None:
            sections["inference"] = inference_optimal(
                fit, inference_tokens, flops=flops, loss=target_loss, mode=inference_mode,
                serve_flops_per_param=serve_flops_per_param, unique_tokens=unique_tokens, **common, **cal)
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in {str(w.message): w for w in caught}.values():  # passed on once each, and kept in the record
        warnings.warn(str(w.message), w.category, stacklevel=2)

    if "inference" in sections:
        s = sections["inference"]
        objective, c = "inference-aware", s.training_flops
        iv_keys = ("params", "tokens", "loss", "tokens_per_param")
    elif "constrained" in sections:
        s = sections["constrained"]
        objective, c = "data-constrained", s.flops
        iv_keys = ("params", "tokens", "loss", "tokens_per_param", "epochs")
    elif "compute_optimal" in sections:
        s = sections["compute_optimal"]
        objective, c = "compute-optimal", s.flops
        iv_keys = ("params", "tokens", "loss", "tokens_per_param")
    else:
        s = sections["target"]
        objective, c = "target", s.flops
        iv_keys = ("params", "tokens", "flops", "tokens_per_param")
    intervals = None if s.intervals is None else {k: s.intervals.get(k) for k in iv_keys if k in s.intervals}
    if budget is not None and objective == "inference-aware" and inference_mode == "match" and c > budget * 1.000001:
        notes.append(f"the inference-aware run trains on {c:.3g} FLOP, {c / budget:.2f}× the budget of {budget:.3g}: "
                     "it matches the loss of that budget's compute-optimal model at the least training-plus-serving "
                     "compute. To keep training and serving within the budget, plan with inference_mode='budget'")
    return Plan(budget=budget, objective=objective, flops=c, params=s.params, tokens=s.tokens, loss=s.loss,
                tokens_per_param=s.tokens_per_param, intervals=intervals, level=s.level,
                extrapolation=max(getattr(v, "extrapolation", 1.0) for v in sections.values()),
                law=surface.law.name, convention=surface.convention, warnings=tuple(notes),
                interval_method=s.interval_method, **sections)


def _axis_plan(fit, budget, axis, values, bounds, max_params, *, others, **common) -> Plan:
    """The plan that chooses an extra input at the budget: the axis section, recommended."""
    if budget is None:
        raise ScalingLawsError(f"--optimise {axis} chooses it at a FLOP budget: give --flops C too")
    given = [name for name, v in others.items() if v]
    if given:
        raise ScalingLawsError(f"--optimise plans one budget's choice of {axis}; it does not combine with "
                               f"{given[0]}: run that plan separately")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = optimise_axis(fit, budget, axis, values=values, bounds=bounds, max_params=max_params, **common)
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in {str(w.message): w for w in caught}.values():
        warnings.warn(str(w.message), w.category, stacklevel=3)
    iv = None if a.intervals is None else {k: a.intervals.get(k) for k in ("params", "tokens", "loss", "value")}
    if iv is not None:
        iv[axis] = iv.pop("value")
    return Plan(budget=budget, objective=f"compute-optimal {axis}", flops=budget, params=a.params, tokens=a.tokens,
                loss=a.loss, tokens_per_param=a.tokens / a.params, intervals=iv, level=a.level,
                extrapolation=a.extrapolation, law=a.law, convention=a.convention, warnings=tuple(notes),
                interval_method=a.interval_method, axis=a)
