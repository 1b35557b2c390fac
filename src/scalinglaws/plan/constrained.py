"""Data-constrained planning: the best model size and number of epochs when only U unique tokens exist.

Muennighoff et al. (2023) model repeated data as worth less than fresh data: D tokens drawn from U unique ones
count as D' = U + U·R_D·(1 - exp(-(D/U - 1)/R_D)) effective tokens, and parameters beyond what U can feed decay
likewise with R_N (eqs. 5-7; `data_constrained` in the law library). Given a FLOP budget C and U, the plan is the
(N, D) on C = k·N·D with the lowest loss under that law; D/U is the number of epochs.

The surface comes from either
- a fit of the `data_constrained` law (R_D and R_N fitted, with their bootstrap draws), or
- any law of N and D (e.g. Chinchilla's) evaluated at the effective (N', D'), with R_D, R_N from Muennighoff et
  al.'s own fit (15.4 and 5.3) unless given: their decay constants were fitted with the same construction.

The record compares the plan with the unconstrained one (as if fresh data were unlimited), so the cost of the
data wall is explicit: the loss given up, and how the optimum moves toward larger models and fewer epochs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..errors import FitWarning
from ..records import format_of
from ..render.table import Tabular
from .optimal import edge_note, optimum
from .solve import root
from .surface import FLOPS_PER_PARAM, Surface, as_surface, effective_data, positive, unconstrained

SATURATION = 1e-3  # nats: a budget that buys less than this over a smaller one is past the data wall


@dataclass(frozen=True, repr=False)
class ConstrainedPlan(Tabular):
    flops: float
    unique_tokens: float
    params: float
    tokens: float
    epochs: float  # D / U
    loss: float
    tokens_per_param: float
    effective_tokens: float  # D' (Muennighoff 2023 eq. 5)
    effective_params: float  # N'
    repetition: dict  # R_D, R_N and where they came from
    unconstrained: dict  # params, tokens, loss, epochs of the plan with unlimited fresh data
    loss_penalty: float  # loss - unconstrained loss
    useful_flops: float  # the smallest budget within SATURATION nats of this plan's loss under the same U
    intervals: dict | None
    level: float | None
    convention: str
    extrapolation: float = 1.0
    warnings: tuple[str, ...] = ()
    interval_method: dict | None = None  # how the intervals were made (Surface.interval_method)

    def to_dict(self) -> dict:
        return {"format": format_of("constrained_plan"), **self.__dict__, "warnings": list(self.warnings)}


def _decay_constants(surface: Surface) -> tuple[np.ndarray, np.ndarray, dict]:
    """(K,) R_D, R_N of each row and a description of their origin."""
    if surface.repetition is not None:
        rep = surface.repetition
        ones = np.ones(surface.rows)
        return rep["R_D"] * ones, rep["R_N"] * ones, {"R_D": rep["R_D"], "R_N": rep["R_N"], "source": rep["source"]}
    r_d, r_n = surface.param("R_D"), surface.param("R_N")
    return r_d, r_n, {"R_D": float(r_d[0]), "R_N": float(r_n[0]), "source": "fitted (law data_constrained)"}


def data_constrained(fit, flops: float, unique_tokens: float, *, repetition: dict | None = None,
                     level: float | None = None, flops_per_param: float = FLOPS_PER_PARAM,
                     fixed=None, calibration="default") -> ConstrainedPlan:
    """The loss-minimising N, D and epochs at budget `flops` with `unique_tokens` unique tokens available
    (calibration: the model-error term of the loss's prediction interval, as for `compute_optimal`)."""
    from ..errors import ScalingLawsError

    C = positive(flops, "--flops", "5.76e23")
    U = positive(unique_tokens, "--unique-tokens", "1e12")
    if repetition:
        unknown = set(repetition) - {"R_D", "R_N"}
        if unknown:
            raise ScalingLawsError(f"repetition constants are R_D and R_N, not {', '.join(sorted(unknown))}")
        for key, value in repetition.items():
            positive(value, f"--{key.lower().replace('_', '-')}", "15.4")
    surface = as_surface(fit, level=level, flops_per_param=flops_per_param, fixed=fixed, unique_tokens=U,
                         repetition=repetition, calibration=calibration)
    if repetition and surface.repetition is None:
        raise ScalingLawsError("the fit's law (data_constrained) fits its own R_D and R_N: drop --r-d / --r-n, or fit "
                               "a law of N and D (e.g. chinchilla) to supply them")
    free = unconstrained(surface)
    k = surface.flops_per_param
    n, d, loss, at_edge = optimum(surface, C)
    notes = edge_note(at_edge, f"data-constrained plan at C = {C:.3g}")
    n0, d0, l0, _ = optimum(free, C)
    r_d, r_n, origin = _decay_constants(surface)
    n_eff, d_eff = effective_data(n, d, U, r_d, r_n)
    factor = surface.check_extrapolation(float(n[0]), float(d[0]), f"the data-constrained plan at C = {C:.3g}", notes)
    epochs = d / U
    # the data wall: the smallest budget whose constrained optimum is within SATURATION of this one's
    point = replace(surface, theta=surface.theta[:1])  # the point fit alone: this is a note, not an interval
    useful = np.exp(root(lambda lc: np.stack([optimum(point, float(np.exp(v)))[2][0] for v in lc.ravel()]
                                             ).reshape(lc.shape) - (loss[0] + SATURATION),
                         np.log(C) - np.log(1e6), np.log(C), iters=40))
    useful = float(useful) if np.isfinite(useful) else C
    if useful < 0.5 * C:
        notes.append(f"{U:.3g} unique tokens cannot use this budget: {useful:.3g} FLOP already gets within "
                     f"{SATURATION:g} nats of the plan's loss, and the optimum is flat beyond it (the model size and "
                     "epochs above are one point of a plateau). Spend the rest on more unique data")
        warnings.warn(notes[-1], FitWarning, stacklevel=2)
    return ConstrainedPlan(
        flops=C, unique_tokens=U, params=float(n[0]), tokens=float(d[0]), epochs=float(epochs[0]),
        loss=float(loss[0]), tokens_per_param=float(d[0] / n[0]), effective_tokens=float(d_eff[0]),
        effective_params=float(n_eff[0]), repetition=origin,
        unconstrained={"params": float(n0[0]), "tokens": float(d0[0]), "loss": float(l0[0]),
                       "epochs": float(d0[0] / U)},
        loss_penalty=float(loss[0] - l0[0]), useful_flops=useful,
        intervals=surface.intervals(factor, params=n, tokens=d, epochs=epochs, loss=loss, tokens_per_param=d / n,
                                    loss_penalty=loss - l0),
        level=surface.level, convention=f"C = {k:g}·N·D (N as counted in the fitted data)", extrapolation=factor,
        warnings=tuple(notes), interval_method=surface.interval_method(factor))
