"""Inference-aware allocation and the over-training trade-off.

A model that will serve T tokens costs k·N·D to train and s·N·T to serve (s = 2 FLOP per parameter per token for
the forward pass). Sardana et al. (2024, "Beyond Chinchilla-Optimal", §2) pick N and D to minimise the sum at a
fixed quality: min k·N·D + s·N·T subject to L(N, D) = ℓ. As T grows the optimum moves to smaller models trained
on more tokens. Two ways to set the question:

- mode "match" (theirs): reach loss ℓ, by default the loss of the compute-optimal model of budget C, so the
  answer reads "the same quality as the Chinchilla-optimal model, for X% less total compute";
- mode "budget": a fixed total C = k·N·D + s·N·T, and the lowest loss it can buy.

In "match" mode each bootstrap draw aims at its own compute-optimal loss, so the intervals describe the plan's
shape (size, tokens, savings), not the uncertainty of the loss level itself.

The over-training table (de Vries 2023; Gadre et al. 2024) shows, for a few tokens-per-parameter ratios r at fixed
compute C, the loss one gets (N = sqrt(C/(k·r))), and the extra compute needed at that ratio to match the
compute-optimal loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from .optimal import edge_note, optimum
from .solve import minimize, root
from .surface import FLOPS_PER_PARAM, SERVE_FLOPS_PER_PARAM, as_surface, log_bounds_for_budget, positive
from .targets import cheapest

MODES = ("match", "budget")


@dataclass(frozen=True, repr=False)
class InferencePlan(Tabular):
    served_tokens: float
    mode: str
    params: float
    tokens: float
    loss: float
    tokens_per_param: float
    training_flops: float
    inference_flops: float
    total_flops: float
    baseline: dict  # the compute-optimal (Chinchilla) model of the same loss, serving the same tokens
    savings: float  # 1 - total / baseline total
    intervals: dict | None
    level: float | None
    convention: str
    extrapolation: float = 1.0
    warnings: tuple[str, ...] = ()
    interval_method: dict | None = None  # how the intervals were made (Surface.interval_method)
    assumes: str = ""  # the data the answer assumes (unlimited fresh tokens, or U unique tokens repeated)

    def to_dict(self) -> dict:
        return {"format": format_of("inference_plan"), **self.__dict__, "warnings": list(self.warnings)}

    def __repr__(self) -> str:  # what training costs, beside the model: a match plan may train past the budget
        return (f"InferencePlan(served_tokens={self.served_tokens:.4g}, mode={self.mode!r}, params={self.params:.4g}, "
                f"tokens={self.tokens:.4g}, loss={self.loss:.4g}, training_flops={self.training_flops:.4g}, "
                f"total_flops={self.total_flops:.4g}, savings={100 * self.savings:.1f}%)")


def inference_optimal(fit, inference_tokens: float, *, flops: float | None = None, loss: float | None = None,
                      mode: str = "match", level: float | None = None, flops_per_param: float = FLOPS_PER_PARAM,
                      serve_flops_per_param: float = SERVE_FLOPS_PER_PARAM, fixed=None,
                      unique_tokens: float | None = None, calibration="default") -> InferencePlan:
    """Minimise training plus serving compute for `inference_tokens` served tokens (Sardana et al. 2024).

    mode "match": reach `loss`, or else the compute-optimal loss at `flops`, at the lowest total compute.
    mode "budget": the lowest loss for a total of `flops` FLOP spent on training and serving together.
    calibration: the model-error term of the loss's prediction interval, as for `compute_optimal`.
    """
    if mode not in MODES:
        raise ScalingLawsError(f"--inference-mode must be one of {', '.join(MODES)} (got '{mode}')")
    T = positive(inference_tokens, "--inference-tokens", "1e13")
    s = positive(serve_flops_per_param, "--serve-flops-per-param", "2")
    surface = as_surface(fit, level=level, flops_per_param=flops_per_param, fixed=fixed, unique_tokens=unique_tokens,
                         calibration=calibration)
    k = surface.flops_per_param
    notes: list[str] = []
    if mode == "budget":
        if flops is None:
            raise ScalingLawsError("--inference-mode budget needs the total budget: --flops C")
        total = positive(flops, "--flops", "1e24")
        lo, hi = log_bounds_for_budget(total, k)
        hi = np.minimum(hi, np.log(total / (s * T)))  # serving alone must leave compute to train
        if not hi > lo:
            raise ScalingLawsError(f"serving {T:.3g} tokens costs more than --flops {total:.3g} leaves for any model "
                                   "in range: raise the budget or lower --inference-tokens")

        def train_tokens(n):
            return (total - s * n * T) / (k * n)

        res = minimize(lambda ln: surface.loss(np.exp(ln), train_tokens(np.exp(ln))), lo, hi, rows=surface.rows)
        n = np.exp(res.x)
        d = train_tokens(n)
        ell = res.f
        notes += edge_note(res.at_edge, f"inference-aware plan for {T:.3g} served tokens")
        target = ell
    else:
        if loss is not None:
            target = np.full(surface.rows, positive(loss, "--target-loss", "2.0"))
        elif flops is not None:
            _, _, target, _ = optimum(surface, positive(flops, "--flops", "5.76e23"))
        else:
            raise ScalingLawsError("an inference-aware plan needs the quality to match: give --flops C (match the "
                                   "compute-optimal model of that budget) or --target-loss L")
        n, d, at_edge = cheapest(surface, target[:, None], serve_cost=s * T)
        if not np.isfinite(n[0]):
            raise ScalingLawsError(f"loss {target[0]:g} is out of reach under the fitted law: choose a higher "
                                   "--target-loss")
        notes += edge_note(at_edge, f"inference-aware plan for {T:.3g} served tokens")
        ell = target
    # the compute-optimal model of the same loss, serving the same tokens
    bn, bd, _ = cheapest(surface, ell[:, None])
    train, serve = k * n * d, s * n * T
    if mode == "match" and loss is None and train[0] > 1.001 * float(flops):
        # said, not warned: serving is cheaper on a smaller model trained longer, by design
        notes.append(f"trains on {train[0]:.3g} FLOP, {train[0] / float(flops):.2f}× the {float(flops):.3g} whose "
                     "compute-optimal loss it matches: a smaller model trained longer costs less to serve; "
                     "mode='budget' caps training and serving together")
    base_total = k * bn * bd + s * bn * T
    savings = 1.0 - (train + serve) / base_total
    factor = surface.check_extrapolation(float(n[0]), float(d[0]), f"the inference-aware plan for {T:.3g} served "
                                         "tokens", notes)
    baseline = {"params": float(bn[0]), "tokens": float(bd[0]), "training_flops": float(k * bn[0] * bd[0]),
                "inference_flops": float(s * bn[0] * T), "total_flops": float(base_total[0])}
    return InferencePlan(
        served_tokens=T, mode=mode, params=float(n[0]), tokens=float(d[0]), loss=float(ell[0]),
        tokens_per_param=float(d[0] / n[0]), training_flops=float(train[0]), inference_flops=float(serve[0]),
        total_flops=float(train[0] + serve[0]), baseline=baseline, savings=float(savings[0]),
        intervals=surface.intervals(factor, params=n, tokens=d, tokens_per_param=d / n, training_flops=train,
                                    total_flops=train + serve, savings=savings,
                                    **({} if loss is not None and mode == "match" else {"loss": ell})),
        level=surface.level,
        convention=f"{surface.convention}; serving {s:g}·N FLOP per token", extrapolation=factor,
        warnings=tuple(notes), interval_method=surface.interval_method(factor), assumes=surface.data_assumption)


@dataclass(frozen=True, repr=False)
class Overtraining(Tabular):
    flops: float
    optimal_ratio: float  # the compute-optimal tokens per parameter at this budget
    optimal_loss: float
    rows: tuple[dict, ...]  # per ratio: params, tokens, loss, excess_loss, params_same_loss, compute_overhead
    intervals: tuple[dict | None, ...]
    level: float | None
    convention: str
    interval_method: tuple[dict | None, ...] = ()  # per row, how its intervals were made

    def to_dict(self) -> dict:
        return {"format": format_of("overtraining"), "flops": self.flops, "optimal_ratio": self.optimal_ratio,
                "optimal_loss": self.optimal_loss,
                "rows": list(self.rows), "intervals": list(self.intervals), "level": self.level,
                "convention": self.convention, "interval_method": list(self.interval_method)}


def overtraining(fit, flops: float, ratios: Sequence[float] = (5, 10, 20, 50, 100, 200, 500), *,
                 level: float | None = None, flops_per_param: float = FLOPS_PER_PARAM, fixed=None,
                 unique_tokens: float | None = None, calibration="default") -> Overtraining:
    """Loss against tokens per parameter at fixed compute, and the compute needed at each ratio to match the optimum
    (calibration: the model-error term of each loss's prediction interval, as for `compute_optimal`)."""
    C = positive(flops, "--flops", "5.76e23")
    rs = [positive(r, "--ratios", "20,100,500") for r in ratios]
    if not rs:
        raise ScalingLawsError("--ratios needs at least one tokens-per-parameter ratio, e.g. --ratios 20,100,500")
    surface = as_surface(fit, level=level, flops_per_param=flops_per_param, fixed=fixed, unique_tokens=unique_tokens,
                         calibration=calibration)
    k = surface.flops_per_param
    n_opt, d_opt, l_opt, _ = optimum(surface, C)
    rows, ivs, how = [], [], []
    for r in rs:
        n = np.full(surface.rows, np.sqrt(C / (k * r)))
        loss = surface.loss(n[:, None], r * n[:, None])[:, 0]
        # the model size at ratio r whose loss equals the optimum's: L(N, r·N) = L*(C), decreasing in N
        ln = root(lambda x: surface.loss(np.exp(x), r * np.exp(x)) - l_opt[:, None], np.zeros((surface.rows, 1)),
                  np.log(1e20))[:, 0]
        n_same = np.exp(ln)
        overhead = k * r * n_same ** 2 / C - 1.0
        rows.append({"ratio": float(r), "params": float(n[0]), "tokens": float(r * n[0]), "loss": float(loss[0]),
                     "excess_loss": float(loss[0] - l_opt[0]), "params_same_loss": float(n_same[0]),
                     "compute_overhead": float(overhead[0])})
        how.append(surface.interval_method(surface.extrapolation(float(n[0]), float(r * n[0]))))
        ivs.append(surface.intervals(surface.extrapolation(float(n[0]), float(r * n[0])), loss=loss,
                                     excess_loss=loss - l_opt, params_same_loss=n_same,
                                     compute_overhead=overhead))
    return Overtraining(flops=C, optimal_ratio=float(d_opt[0] / n_opt[0]), optimal_loss=float(l_opt[0]),
                        rows=tuple(rows), intervals=tuple(ivs), level=surface.level, convention=surface.convention,
                        interval_method=tuple(how))
