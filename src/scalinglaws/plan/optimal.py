"""Compute-optimal allocation: the N and D that minimise a fitted law's loss at a FLOP budget C = 6·N·D.

For Chinchilla's law the optimum has a closed form (Hoffmann 2022, Appendix D.2):
    N* = G·(C/6)^(beta/(alpha+beta)),  D* = (C/6)/N*,  G = (alpha·A / (beta·B))^(1/(alpha+beta)).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ScalingLawsError


@dataclass(frozen=True)
class Allocation:
    flops: float
    params: float
    tokens: float
    loss: float
    tokens_per_param: float
    method: str  # "closed form" or "numerical"

    def to_dict(self) -> dict:
        return asdict(self)


def chinchilla_optimum(p: dict, flops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = p["alpha"], p["beta"]
    g = (a * p["A"] / (b * p["B"])) ** (1.0 / (a + b))
    n = g * (flops / 6.0) ** (b / (a + b))
    return n, flops / (6.0 * n)


def compute_optimal(fit, flops: float) -> Allocation:
    """The loss-minimising split of `flops` between parameters and tokens under the fit's law."""
    if not flops > 0:
        raise ScalingLawsError(f"the FLOP budget must be positive (got {flops:g})")
    if fit.law != "chinchilla":
        raise ScalingLawsError(f"compute-optimal allocation in closed form needs the chinchilla law, not "
                               f"'{fit.law}'")
    n, d = chinchilla_optimum(fit.params, np.asarray(flops, dtype=float))
    law = fit.get_law()
    loss = float(law({"N": np.atleast_1d(n), "D": np.atleast_1d(d)}, fit.params)[0])
    return Allocation(flops=float(flops), params=float(n), tokens=float(d), loss=loss,
                      tokens_per_param=float(d / n), method="closed form")
