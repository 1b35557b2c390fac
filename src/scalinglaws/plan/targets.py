"""Targets: what it takes to reach a given loss.

- tokens (and compute k·N·D) a model of N parameters needs to reach loss ℓ: the root of L(N, D) = ℓ in D;
- the cheapest way to reach ℓ: min over N of k·N·D(N), which is the compute-optimal model whose optimal loss is ℓ
  (the inverse of the compute-optimal frontier);
- the smallest model that can reach ℓ at all: the root of L(N, D_max) = ℓ in N, with D_max the token budget if
  one is given, else unlimited data (for Chinchilla's law N_min = (A / (ℓ - E))^(1/alpha)).

A target at or below what the law can reach (E, or the loss with unlimited data at the given N) is unreachable:
the record says so and by how many bootstrap draws, rather than returning an infinite number.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import FitWarning, ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from .solve import minimize, root
from .surface import FLOPS_PER_PARAM, Surface, as_surface, positive

D_LIMIT = 1e30  # "unlimited data": more tokens than any run will see
N_LIMIT = 1e20
SEARCH_DECADES = 8.0  # the cheapest model is searched from the smallest feasible one up to 10^8 times larger


def tokens_for_loss(surface: Surface, target, n) -> np.ndarray:
    """D with L(N = n, D) = target for every row; n and target broadcast against (K, m); nan where unreachable."""
    n = np.broadcast_to(np.asarray(n, dtype=float), np.broadcast_shapes(np.shape(n), (surface.rows, 1)))
    logd = root(lambda ld: surface.loss(n, np.exp(ld)) - target, np.zeros(n.shape), np.log(D_LIMIT))
    return np.exp(logd)


def smallest_params(surface: Surface, target, max_tokens: float = D_LIMIT) -> np.ndarray:
    """(K,) the smallest N with L(N, max_tokens) <= target (nan where no model size reaches it)."""
    shape = (surface.rows, 1)
    logn = root(lambda ln: surface.loss(np.exp(ln), max_tokens) - target, np.zeros(shape), np.log(N_LIMIT))
    return np.exp(logn[:, 0])


def cheapest(surface: Surface, target, serve_cost: float = 0.0):
    """(N, D) per row minimising k·N·D + serve_cost·N subject to L(N, D) = target; nan rows where unreachable.

    serve_cost = s·T adds the cost of serving T tokens at s FLOP per parameter (Sardana et al. 2024)."""
    k = surface.flops_per_param
    n_min = smallest_params(surface, target)
    lo = np.log(np.where(np.isfinite(n_min), n_min, 1.0))
    hi = lo + SEARCH_DECADES * np.log(10.0)

    def log_cost(logn):
        n = np.exp(logn)
        return np.log(k * n * tokens_for_loss(surface, target, n) + serve_cost * n)

    res = minimize(log_cost, lo, hi, rows=surface.rows)
    n = np.where(np.isfinite(n_min), np.exp(res.x), np.nan)
    d = tokens_for_loss(surface, target, n[:, None])[:, 0]
    return n, d, res.at_edge & np.isfinite(n_min)


@dataclass(frozen=True, repr=False)
class TargetPlan(Tabular):
    loss: float  # the target
    params: float | None  # the cheapest (compute-optimal) model that reaches it
    tokens: float | None
    flops: float | None
    tokens_per_param: float | None
    smallest_params: float | None  # the smallest model that can reach it at all (with max_tokens, or unlimited)
    max_tokens: float | None
    given_params: float | None  # a model size the caller asked about ...
    given_tokens: float | None  # ... the tokens it needs ...
    given_flops: float | None  # ... and their compute
    reachable: float | None  # fraction of bootstrap draws in which the target is reachable at all
    intervals: dict | None
    level: float | None
    convention: str = f"C = {FLOPS_PER_PARAM:g}·N·D"
    extrapolation: float = 1.0
    warnings: tuple[str, ...] = ()
    interval_method: dict | None = None  # how the intervals were made (Surface.interval_method)
    assumes: str = ""  # the data the answers assume (unlimited fresh tokens, or U unique tokens repeated)

    def to_dict(self) -> dict:
        return {"format": format_of("target_plan"), **self.__dict__, "warnings": list(self.warnings)}


def _f(v) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


def reach_target(fit, loss: float, *, params: float | None = None, max_tokens: float | None = None,
                 level: float | None = None, flops_per_param: float = FLOPS_PER_PARAM, fixed=None,
                 unique_tokens: float | None = None) -> TargetPlan:
    """Tokens, compute and model size needed to reach `loss` under the fit's law, with bootstrap intervals."""
    target = positive(loss, "--target-loss", "2.0")
    surface = as_surface(fit, level=level, flops_per_param=flops_per_param, fixed=fixed, unique_tokens=unique_tokens)
    k = surface.flops_per_param
    notes: list[str] = []
    n, d, at_edge = cheapest(surface, target)
    if not np.isfinite(n[0]):
        floor = float(surface.loss(np.array([[N_LIMIT]]), np.array([[D_LIMIT]]))[0, 0])
        raise ScalingLawsError(f"--target-loss {target:g} is out of reach: the fitted law never goes below {floor:.4g} "
                               "(its irreducible loss). Choose a higher target")
    if at_edge[0]:
        notes.append(f"the cheapest model for loss {target:g} sits at the edge of the search: check the fit")
    n_small = smallest_params(surface, target, D_LIMIT if max_tokens is None
                              else positive(max_tokens, "--max-tokens", "1e13"))
    given = (None, None)
    gd = None
    if params is not None:
        gn = positive(params, "--params", "7e10")
        gd = tokens_for_loss(surface, target, np.full((surface.rows, 1), gn))[:, 0]
        given = (gn, gd)
        if not np.isfinite(gd[0]):
            notes.append(f"a model of {gn:.3g} parameters never reaches loss {target:g} under the fitted law, "
                         f"however long it trains: the smallest that can is {n_small[0]:.3g}")
    reach = float(np.isfinite(n[1:]).mean()) if surface.has_draws else None
    if reach is not None and reach < 1:
        notes.append(f"the target is out of reach in {1 - reach:.0%} of bootstrap draws: intervals use the rest")
    factor = surface.check_extrapolation(float(n[0]), float(d[0]), f"the cheapest model for loss {target:g}", notes)
    for note in notes:
        if "beyond the range" not in note:
            warnings.warn(note, FitWarning, stacklevel=2)
    quantities = {"params": n, "tokens": d, "flops": k * n * d, "tokens_per_param": d / n,
                  "smallest_params": n_small}
    if gd is not None:
        quantities.update(given_tokens=gd, given_flops=k * given[0] * gd)
    return TargetPlan(
        loss=target, params=_f(n[0]), tokens=_f(d[0]), flops=_f(k * n[0] * d[0]), tokens_per_param=_f(d[0] / n[0]),
        smallest_params=_f(n_small[0]), max_tokens=max_tokens, given_params=given[0],
        given_tokens=None if gd is None else _f(gd[0]),
        given_flops=None if gd is None else _f(k * given[0] * gd[0]), reachable=reach,
        intervals=surface.intervals(**quantities), level=surface.level, convention=surface.convention,
        extrapolation=factor, warnings=tuple(notes), interval_method=surface.interval_method(),
        assumes=surface.data_assumption)
