"""The compute-optimal frontier: the best model size N*(C) and token count D*(C) at each compute budget.

The allocations come from scalinglaws.plan (closed form for Chinchilla's law, Hoffmann et al. 2022, Appendix D.2;
numerical along the budget line for other laws of N and D), with percentile intervals over the fit's bootstrap
draws. This module only asks the planner for a range of budgets and draws its `Frontier` record beside the runs
the fit saw.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ScalingLawsError
from .fitdata import fit_data, label
from .registry import figure_kind
from .spec import Figure, Panel, Series, band, si

POINTS = 41  # budgets along the drawn frontier
SYMBOLS = {"params": "N*", "tokens": "D*"}


def frontier_arrays(front) -> dict:
    """A plan.Frontier as arrays: flops, params, tokens, and their (2, m) bands when the fit had a bootstrap."""
    allocs = front.allocations
    out = {"flops": np.array([a.flops for a in allocs])}
    for col in SYMBOLS:
        out[col] = np.array([getattr(a, col) for a in allocs])
        if all(a.intervals and col in a.intervals for a in allocs):
            out[f"{col}_band"] = np.array([a.intervals[col] for a in allocs], dtype=float).T
    return out


def frontier_panels(front, runs=None, budgets=(), span=None) -> tuple[Panel, ...]:
    cur = frontier_arrays(front)
    level = f"{int(round(front.level * 100))}% " if front.level else ""
    panels = []
    for col, sym in SYMBOLS.items():
        series = [Series("span", span, label="range of the fit's data")] if span else []
        if f"{col}_band" in cur:
            series.append(band(cur["flops"], *cur[f"{col}_band"], label=f"{level}bootstrap band", group="frontier"))
        series.append(Series("line", cur["flops"], cur[col], label=f"{sym}(C)", group="frontier"))
        if runs is not None and "flops" in runs and col in runs:
            series.append(Series("points", runs["flops"], runs[col], label="runs of the fit",
                                 text=runs.run_ids.astype(str)))
        if budgets:
            series.append(Series("star", [a.flops for a in budgets], [getattr(a, col) for a in budgets],
                                 label="planned budget", group="target",
                                 text=[f"C={si(a.flops)}: N*={si(a.params)}, D*={si(a.tokens)}" for a in budgets]))
        exp = front.exponents.get(col)
        iv = (front.intervals or {}).get(col)
        note = f"{sym} ∝ C^{exp:.3f}" + (f" [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "") if exp is not None else ""
        if col == "tokens":
            ratio = cur["tokens"] / cur["params"]
            note += f"; D*/N* from {ratio[0]:.3g} to {ratio[-1]:.3g}"
        panels.append(Panel(f"compute-optimal {label(col)}", label("flops"), f"{sym} ({label(col)})",
                            tuple(series), notes=(note,) if note else ()))
    return tuple(panels)


@figure_kind("frontier", accepts="scalinglaws.plan.optimal:Frontier",
             title="compute-optimal model size and tokens against compute, from a planned frontier", default=True)
def frontier_record_figure(front, **_) -> Figure:
    return Figure("frontier", f"Compute-optimal frontier ({front.method})", frontier_panels(front),
                  "The loss-minimising split of each budget between parameters and tokens.")


def _law_of_n_and_d(fit) -> bool:
    return {"params", "tokens"} <= set(fit.inputs.values()) and fit.get_law().features is None


@figure_kind("frontier", accepts="scalinglaws.fitting.record:Fit",
             title="compute-optimal model size and tokens against compute (laws of N and D)", default=True,
             applies=_law_of_n_and_d)
def frontier_figure(fit, *, data=None, budget=None, near=None, calibration="default", **_) -> Figure:
    from ..plan import compute_optimal, frontier

    cols = set(fit.inputs.values())
    if not {"params", "tokens"} <= cols:
        raise ScalingLawsError(f"the compute-optimal frontier needs a law of params and tokens; '{fit.law}' reads "
                               f"{', '.join(sorted(cols))}")
    fd = fit_data(fit, data, required=False, near=near)
    budgets = [float(b) for b in np.atleast_1d(budget if budget is not None else [])]
    runs = fd.runs if fd is not None else None
    if runs is not None and "flops" in runs:
        lo, hi = float(runs["flops"].min()), float(runs["flops"].max())
    else:
        r = fit.data["ranges"]
        lo, hi = 6 * r["params"][0] * r["tokens"][0], 6 * r["params"][1] * r["tokens"][1]
    grid = np.geomspace(lo, max([hi * 1e3] + [b * 2 for b in budgets]), POINTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the curve runs far past the data on purpose; planned budgets warn below
        front = frontier(fit, grid, calibration=calibration)
    planned = [compute_optimal(fit, b, calibration=calibration) for b in budgets]
    panels = frontier_panels(front, runs, planned, [lo, hi])
    caption = ("The loss-minimising split of each compute budget C = 6·N·D between parameters and tokens under the "
               f"fitted law ({front.method})" + (", with the spread of the bootstrap refits." if front.level else "."))
    warns = tuple(w for a in planned for w in a.warnings) + ((fd.warning,) if fd is not None and fd.warning else ())
    meta = {"allocations": [a.to_dict() for a in planned], "exponents": front.exponents}
    return Figure("frontier", f"Compute-optimal frontier of {fit.law} fit to {fit.data.get('source')}", panels,
                  caption, warns, meta)
