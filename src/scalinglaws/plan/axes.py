"""Choosing an extra input of a law at a fixed FLOP budget: vocabulary, experts, parallel streams, batch size, ...

`plan` splits a budget C between parameters N and tokens D. A law that reads another input x (a vocabulary size,
a number of experts, a count of parallel streams) asks a third question: which x, with which split? The answer
depends on what x costs, so every axis comes with an `AxisCost`:

- `columns(n, d, x)`: every column the law reads at planned size n (what the fit's `params` column counts), tokens
  d and axis value x (the vocabulary law reads the vocabulary parameters V·d_model, not V);
- `flops(n, d, x)`: the training FLOP of that run, linear in d (FLOP per token times tokens), so the budget fixes
  d = C / flops(n, 1, x);
- `total_params(n, x)`: the parameters held in memory, for a limit on them (experts cost memory, not FLOP).

An input with no accounting registered is free: C = k·N·D whatever its value (a learning rate, a data mixture).

The search: for every candidate x, the compute-optimal n along the budget line (solve.minimize, over the point fit
and every bootstrap draw at once); the best x per draw. A grid of values is searched as given; a range is searched
on a log grid and refined by a parabola through the best cell's neighbours in log x (whole-valued axes stay on the
grid). Each planned quantity's interval is the percentile interval over the draws, the loss's a prediction interval
from the one interval maker (surface.py), as for every other plan.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ExtrapolationWarning, FitWarning, ScalingLawsError
from ..fitting import space as spaces
from ..fitting.calibration import resolve
from ..fitting.data import extrapolation
from ..fitting.prediction import EXTRAPOLATION_WARN
from ..records import format_of
from ..render.table import Tabular
from .solve import minimize
from .surface import FLOPS_PER_PARAM, Surface, draws, log_bounds_for_budget, positive

RANGE_POINTS = 33  # log grid of a continuous range before refinement


@dataclass(frozen=True)
class AxisCost:
    """What an extra input of a law costs when the planner chooses it at a fixed FLOP budget."""

    name: str  # e.g. "vocabulary"
    axis: str  # the runs-table column the planner chooses, e.g. "vocab_size"
    columns: Callable  # (n, d, x) -> {column: array}: every law input column at size n, tokens d, axis value x
    flops: Callable  # (n, d, x) -> training FLOP, linear in d
    total_params: Callable | None = None  # (n, x) -> parameters held in memory (for a limit on them)
    convention: str = ""  # how FLOP and parameters are counted
    reference: str = ""
    integer: bool = False  # the axis takes whole values (experts, streams)
    size: str = "parameters N"  # what the planned size n counts, in words
    feasible: Callable | None = None  # (n, d, x) -> bool: where value x can be run at that split (None: always)
    infeasible: str = ""  # why a value cannot be run, in words, for the error when none can


AXIS_COSTS: dict[str, AxisCost] = {}
# modules of this package that register the costs of the axes their laws read (imported on first lookup, so that
# `import scalinglaws.plan` stays light)
BUILTIN: tuple[str, ...] = ("batch", "vocabulary", "axis_costs")


def register_axis_cost(cost: AxisCost) -> AxisCost:
    """Make `cost` the accounting of its axis column (the planner looks it up by that column)."""
    AXIS_COSTS[cost.axis] = cost
    return cost


def cost_of(axis: str, flops_per_param: float = FLOPS_PER_PARAM) -> AxisCost:
    """The registered cost of an axis column, else that of a free input."""
    from importlib import import_module

    for name in BUILTIN:
        import_module(f"{__package__}.{name}")
    return AXIS_COSTS.get(axis) or free(axis, flops_per_param)


def free(axis: str, flops_per_param: float = FLOPS_PER_PARAM) -> AxisCost:
    """An input that costs nothing: C = k·N·D whatever its value."""
    k = float(flops_per_param)
    return AxisCost(name="free", axis=axis,
                      columns=lambda n, d, x: {"params": n, "tokens": d, axis: x},
                      flops=lambda n, d, x: k * n * d, total_params=lambda n, x: n,
                      convention=f"C = {k:g}·N·D ({axis} costs no FLOP)")


@dataclass(frozen=True, repr=False)
class AxisPlan(Tabular):
    """The best value of one extra input at a budget, the split of the budget that goes with it, and the table of
    every value searched."""

    axis: str
    flops: float
    value: float  # the best axis value (point fit)
    params: float
    tokens: float
    loss: float
    total_params: float | None
    table: tuple  # ({"value", "params", "tokens", "loss", "total_params"}, ...) per value searched (point fit)
    search: str  # "grid" or "range (log grid refined by a parabola)"
    law: str
    accounting: str
    convention: str
    intervals: dict | None = None  # value, params, tokens, loss -> [lo, hi] over the draws
    level: float | None = None
    interval_method: dict | None = None
    extrapolation: float = 1.0
    max_params: float | None = None
    at_edge: bool = False
    warnings: tuple[str, ...] = ()
    size: str = "parameters N"  # what `params` counts (the accounting's planned size)

    def to_dict(self) -> dict:
        out = {"format": format_of("axis_plan")}
        out.update({k: getattr(self, k) for k in (
            "axis", "flops", "value", "params", "tokens", "loss", "total_params", "search", "law", "accounting",
            "convention", "intervals", "level", "interval_method", "extrapolation", "max_params", "at_edge", "size")})
        out["table"] = [dict(row) for row in self.table]
        out["warnings"] = list(self.warnings)
        return out


def optimise_axis(fit, flops: float, axis: str, *, values: Sequence[float] | None = None,
                  bounds: tuple[float, float] | None = None, cost: AxisCost | None = None,
                  fixed: Mapping[str, float] | None = None, level: float | None = None,
                  max_params: float | None = None, flops_per_param: float = FLOPS_PER_PARAM,
                  calibration="default") -> AxisPlan:
    """The value of input column `axis` (and the N, D that go with it) that minimises the fit's loss at `flops`.

    values: a grid to search; bounds: (lo, hi) to search continuously; neither: the fitted data's range of the
    axis. cost: what the axis costs (default: the one registered for `axis`, else a free input). fixed: other
    columns the law reads, held at these values. max_params: a limit on the parameters held in memory.
    """
    flops = positive(flops, "--flops", "5.76e23")
    law = fit.get_law()
    if law.features is not None:
        raise ScalingLawsError(f"law '{law.name}' derives its inputs from whole training curves; planning needs a "
                               "law of final loss")
    acc = cost or cost_of(axis, flops_per_param)
    read = dict(fit.inputs)  # law symbol -> column
    probe = acc.columns(np.ones(1), np.ones(1), np.ones(1))
    held = dict(fixed or {})
    missing = [c for c in read.values() if c not in probe and c not in held]
    if acc.name == "free" and axis not in read.values():
        raise ScalingLawsError(f"--optimise {axis}: the fit's law '{law.name}' does not read column '{axis}' (it "
                               f"reads {', '.join(read.values())}). Choose one of those, or fit a law of {axis}")
    if missing:
        raise ScalingLawsError(f"law '{law.name}' also reads column '{missing[0]}', which the {acc.name} accounting "
                               f"does not set: give its value, e.g. --at {missing[0]}=VALUE")
    unused = [c for c in held if c not in read.values()]
    if unused:
        raise ScalingLawsError(f"--at {unused[0]}: the fit's law does not read that column (it reads "
                               f"{', '.join(read.values())})")
    if max_params is not None:
        max_params = positive(max_params, "--max-params", "7e9")
        if acc.total_params is None:
            raise ScalingLawsError(f"--max-params: the {acc.name} accounting does not count the parameters held")
    grid, search = _candidates(fit, axis, values, bounds, acc.integer)
    _check_affordable(fit, flops, axis, acc, grid)

    theta, used_level = draws(fit, level)
    rows = theta.shape[0]
    p = law.unpack(theta)

    def loss(n, d, x):  # (K, m) arrays -> (K, m)
        cols = acc.columns(n, d, x)
        inputs = {sym: np.asarray(cols[col] if col in cols else held[col], dtype=float) for sym, col in read.items()}
        with np.errstate(all="ignore"):
            out = np.asarray(law.fn(inputs, p), dtype=float)
        if max_params is not None:
            out = np.where(acc.total_params(n, x) > max_params * (1 + 1e-9), np.inf, out)
        if acc.feasible is not None:
            out = np.where(acc.feasible(n, d, x), out, np.inf)
        return np.broadcast_to(out, np.broadcast_shapes(out.shape, (rows, 1)))

    lo, hi = log_bounds_for_budget(flops, FLOPS_PER_PARAM)

    def best_split(x):  # x (K,) -> n, d, loss, at_edge, each (K,)
        xs = np.asarray(x, dtype=float)[:, None]

        def along(logn):
            n = np.exp(logn)
            return loss(n, flops / acc.flops(n, 1.0, xs), xs)

        res = minimize(along, lo, hi, rows=rows)
        n = np.exp(res.x)
        return n, flops / np.asarray(acc.flops(n, 1.0, xs[:, 0]), dtype=float), res.f, res.at_edge

    per = [best_split(np.full(rows, v)) for v in grid]  # one split per candidate
    losses = np.stack([s[2] for s in per], axis=1)  # (K, G)
    losses = np.where(np.isfinite(losses), losses, np.inf)
    if not np.isfinite(losses[0]).any():
        if acc.feasible is not None:
            at = [(float(s[0][0]), float(s[1][0])) for s in per]  # the split each value was searched at
            if not any(np.all(acc.feasible(np.array([n]), np.array([d]), np.array([v]))) for (n, d), v in
                       zip(at, grid) if np.isfinite(n) and np.isfinite(d)):
                raise ScalingLawsError(f"--optimise {axis}: no value searched ({_span(grid)}) can be run at "
                                       f"{flops:.3g} FLOP: {acc.infeasible}. Search smaller values, or raise "
                                       "--flops")
        why = f" within --max-params {max_params:.3g}" if max_params is not None else ""
        raise ScalingLawsError(f"the budget of {flops:.3g} FLOP cannot afford any {axis} searched ({_span(grid)})"
                               f"{why}: raise --flops, or search smaller values")
    best = np.argmin(losses, axis=1)  # (K,)
    edge = (best == 0) | (best == len(grid) - 1)
    x_best = np.asarray(grid, dtype=float)[best]
    if search.startswith("range"):
        x_best = _refine(np.log(grid), losses, best)
    n, d, f, n_edge = best_split(x_best)
    notes: list[str] = []
    if edge[0] and len(grid) > 2:
        notes.append(f"the best {axis} at {flops:.3g} FLOP sits at the end of the values searched ({_span(grid)}): "
                     "widen the range")
    if rows > 1 and edge[1:].mean() > 0.05:
        notes.append(f"{int(edge[1:].sum())} of {rows - 1} bootstrap draws put the best {axis} at the end of the "
                     "values searched: its interval is cut by the range")
    if n_edge[0]:
        notes.append(f"at the best {axis} the split of the budget has no interior optimum: check the fit")
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=2)
    factor = _extrapolation(fit, acc.columns(n[:1, None], d[:1, None], x_best[:1, None]))
    if factor > EXTRAPOLATION_WARN:
        note = (f"the plan for {axis} at {flops:.3g} FLOP lies {factor:.3g}× beyond the range of the fitted runs: "
                "treat it as a rough extrapolation")
        notes.append(note)
        warnings.warn(note, ExtrapolationWarning, stacklevel=2)
    total = None if acc.total_params is None else np.asarray(acc.total_params(n, x_best), dtype=float)
    surface = Surface(law=law, theta=theta, roles={}, fixed={}, level=used_level, residuals=tuple(fit.residuals),
                      space=spaces.of(fit.loss), seed=int(fit.seed), calibration=resolve(calibration))
    quantities = {"value": x_best, "params": n, "tokens": d, "loss": f}
    if total is not None:
        quantities["total_params"] = total
    table = tuple({"value": float(v), "params": float(s[0][0]), "tokens": float(s[1][0]), "loss": _finite(s[2][0]),
                   "total_params": None if acc.total_params is None else float(acc.total_params(s[0][:1], v)[0])}
                  for v, s in zip(grid, per))
    return AxisPlan(axis=axis, flops=flops, value=float(x_best[0]), params=float(n[0]), tokens=float(d[0]),
                    loss=float(f[0]), total_params=None if total is None else float(total[0]), table=table,
                    search=search, law=law.name, accounting=acc.name, convention=acc.convention,
                    intervals=surface.intervals(factor, **quantities), level=used_level,
                    interval_method=surface.interval_method(factor), extrapolation=factor, max_params=max_params,
                    at_edge=bool(edge[0]), warnings=tuple(notes), size=acc.size)


def _candidates(fit, axis: str, values, bounds, integer: bool) -> tuple[np.ndarray, str]:
    """The values searched and how: a grid as given, or a log range."""
    if values is not None:
        grid = np.unique(np.asarray([positive(v, f"--optimise {axis}", f"{axis}=V1,V2") for v in values]))
        if grid.size < 2:
            raise ScalingLawsError(f"--optimise {axis}: a grid needs at least two values to choose from (got "
                                   f"{_span(grid)}), e.g. --optimise {axis}=V1,V2,V3")
        return grid, "grid"
    if bounds is None:
        rng = fit.data.get("ranges", {}).get(axis)
        if rng is None:
            raise ScalingLawsError(f"--optimise {axis}: give the values to search, e.g. --optimise {axis}=LO:HI or "
                                   f"{axis}=V1,V2,V3")
        bounds = tuple(rng)
    lo, hi = (positive(b, f"--optimise {axis}", f"{axis}=LO:HI") for b in bounds)
    if not hi > lo:
        raise ScalingLawsError(f"--optimise {axis}={lo:g}:{hi:g}: the upper end must exceed the lower one")
    grid = np.geomspace(lo, hi, RANGE_POINTS)
    if integer:
        grid = np.unique(np.round(grid))
        grid = grid[grid >= 1]
        if grid.size < 2:
            raise ScalingLawsError(f"--optimise {axis}={lo:g}:{hi:g} holds fewer than two whole values")
        return grid, "grid of whole values"
    return grid, "range (log grid refined by a parabola)"


def _check_affordable(fit, flops: float, axis: str, acc: AxisCost, grid: np.ndarray) -> None:
    """Refuse a budget below the cost of the smallest fitted model on the fewest fitted tokens at the cheapest
    value searched: there is nothing to plan beneath the ladder the fit was made from (its smallest run already
    costs more), and the law's answer there is an extrapolation downwards by orders of magnitude. Checked where
    the accounting's planned size and tokens are fitted columns (probed: the columns equal to n and to d)."""
    ranges = fit.data.get("ranges", {}) if isinstance(fit.data, Mapping) else {}
    probe = acc.columns(np.array([2.0]), np.array([3.0]), np.array([float(grid[0])]))
    size = next((c for c, v in probe.items() if np.ndim(v) and float(np.ravel(v)[0]) == 2.0 and c in ranges), None)
    tokens = next((c for c, v in probe.items() if np.ndim(v) and float(np.ravel(v)[0]) == 3.0 and c in ranges),
                  None)
    if size is None or tokens is None:
        return
    n_lo, d_lo = float(ranges[size][0]), float(ranges[tokens][0])
    if not (n_lo > 0 and d_lo > 0):
        return
    with np.errstate(all="ignore"):
        costs = np.asarray(acc.flops(np.full(grid.shape, n_lo), d_lo, grid), dtype=float)
    cheapest = float(np.nanmin(costs)) if np.isfinite(costs).any() else np.nan
    if np.isfinite(cheapest) and flops < cheapest:
        raise ScalingLawsError(f"--flops {flops:.3g} cannot afford the smallest option: the smallest fitted "
                               f"model ({size} {n_lo:.3g}) on the fewest fitted tokens ({d_lo:.3g}) costs "
                               f"{cheapest:.3g} FLOP at the cheapest {axis} searched. Give --flops of at least "
                               f"{cheapest:.3g}")


def _refine(log_grid: np.ndarray, losses: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Per row, the vertex of the parabola through the best grid value and its neighbours, in log x (the grid
    value itself at an end or where the parabola is not convex)."""
    g = log_grid.size
    i = np.clip(best, 1, g - 2)
    rows = np.arange(losses.shape[0])
    x0, x1, x2 = log_grid[i - 1], log_grid[i], log_grid[i + 1]
    y0, y1, y2 = losses[rows, i - 1], losses[rows, i], losses[rows, i + 1]
    with np.errstate(all="ignore"):
        num = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
        den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
        vertex = x1 - 0.5 * num / den
    ok = (best > 0) & (best < g - 1) & np.isfinite(vertex) & (den != 0) & (vertex >= x0) & (vertex <= x2)
    return np.exp(np.where(ok, vertex, log_grid[best]))


def _extrapolation(fit, cols: Mapping[str, np.ndarray]) -> float:
    """How far the planned run lies beyond the fitted data, by the one definition (fitting/data.py)."""
    return float(extrapolation(fit, {c: np.ravel(v)[:1] for c, v in cols.items()})[0])


def _span(grid) -> str:
    g = np.asarray(grid, dtype=float)
    return f"{g[0]:g}" if g.size == 1 else f"{g[0]:g} to {g[-1]:g}"


def _finite(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None
